package dev.convt.onednn;

import dev.convt.Backend;
import dev.convt.ConvTransposeLayer;
import dev.convt.Layout;
import dev.convt.Tensor;

import java.util.List;

/**
 * Transposed convolution on oneDNN's CPU deconvolution primitives, through the JavaCPP Presets for oneDNN.
 *
 * <p>f32 forward inference for rank 1, 2 and 3 with every hyperparameter the reference supports. A compiled op builds
 * its primitive once per input shape and keeps it; see {@link OneDnnOp}, which also chains ops without reorders
 * through {@link OneDnnTensor}. This class touches no native code itself: availability is decided by {@link OneDnn}.
 *
 * <pre>{@code
 * // -Dconvt.backend=onednn does the same for Backends.compile; either way an unavailable oneDNN throws with the cause
 * Backends.Selection s = Backends.select(OneDnnBackend.ID, layer);
 * }</pre>
 */
public final class OneDnnBackend implements Backend {

    /** This backend's id. */
    public static final String ID = "onednn";
    /** System property with the default route policy for ops compiled without one: {@code auto}, {@code rule} or a route id. */
    public static final String ROUTE_PROPERTY = "convt.onednn.route";
    /** The one instance; {@link dev.convt.Backends#onednn()} returns it. */
    public static final OneDnnBackend INSTANCE = new OneDnnBackend();

    private OneDnnBackend() {}

    @Override public String id() { return ID; }
    @Override public boolean isAvailable() { return OneDnn.isAvailable(); }
    @Override public Throwable unavailabilityCause() { return OneDnn.unavailabilityCause(); }
    @Override public String describe() { return OneDnn.describe(); }
    @Override public void ensureAvailability() { OneDnn.ensureAvailability(); }

    @Override
    public String unsupportedReason(ConvTransposeLayer layer) {
        if (!OneDnn.isAvailable()) {
            return "oneDNN is not available: " + OneDnn.unavailabilityCause();
        }
        // every valid layer runs: oneDNN refuses a negative padding_l (ONNX SAME_* or output_shape above the natural
        // size) and, at stride 1, a negative padding_r; DeconvRoute then computes the natural extent inside the output
        // and writes the bias around it
        return null;
    }

    /**
     * {@inheritDoc}
     *
     * <p>The op is a {@link OneDnnOp}, whose keep-layout methods chain ops without reorders ({@link OneDnnTensor}).
     */
    @Override
    public OneDnnOp compile(ConvTransposeLayer layer, Tensor weight, Tensor bias, Layout layout) {
        return compile(layer, weight, bias, layout, System.getProperty(ROUTE_PROPERTY, "auto"));
    }

    /**
     * Compiles with an explicit route policy: {@code auto} (time the applicable routes once per input shape and keep
     * the fastest), {@code rule} (no timing: the first applicable of matmul-1x1, matmul-shuffle, deconv-any) or one
     * of {@link #routeIds()}, which makes an input shape the route cannot run fail with
     * {@link UnsupportedOperationException}.
     *
     * @param layer the layer
     * @param weight its weight, {@code [inChannels, outChannels/groups, *kernelSize]}
     * @param bias its bias, {@code [outChannels]}, or {@code null}
     * @param layout the layout of the op's input and output tensors
     * @param route the route policy: {@code auto}, {@code rule} or a route id, in any case; {@code null} or blank for
     *     {@code auto}
     * @return the compiled op
     * @throws IllegalArgumentException for an unknown route, or when the weight or bias does not fit the layer
     * @throws UnsupportedOperationException when oneDNN is not available
     */
    public OneDnnOp compile(ConvTransposeLayer layer, Tensor weight, Tensor bias, Layout layout, String route) {
        ensureAvailability();
        return OneDnnOp.create(layer, weight, bias, layout, route);
    }

    /** {@return the route ids, in the order {@code auto} considers them} */
    public static List<String> routeIds() {
        return Routes.ids();
    }
}
