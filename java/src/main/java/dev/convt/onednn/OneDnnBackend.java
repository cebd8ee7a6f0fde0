package dev.convt.onednn;

import dev.convt.Backend;
import dev.convt.CompiledConvTranspose;
import dev.convt.ConvTransposeLayer;
import dev.convt.Layout;
import dev.convt.Tensor;

/**
 * Transposed convolution on oneDNN's CPU deconvolution primitives, through the JavaCPP Presets for oneDNN.
 *
 * <p>f32 forward inference for rank 1, 2 and 3 with every hyperparameter the reference supports. A compiled op builds
 * its primitive once per input shape and keeps it; see {@link OneDnnOp}. This class touches no native code itself:
 * availability is decided by {@link OneDnn}.
 *
 * <pre>{@code
 * // -Dconvt.backend=onednn does the same for Backends.compile; either way an unavailable oneDNN throws with the cause
 * Backends.Selection s = Backends.select(OneDnnBackend.ID, layer);
 * }</pre>
 */
public final class OneDnnBackend implements Backend {

    /** This backend's id. */
    public static final String ID = "onednn";
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
        return null; // every valid layer maps onto a deconvolution primitive (see OneDnnOp for output padding)
    }

    @Override
    public CompiledConvTranspose compile(ConvTransposeLayer layer, Tensor weight, Tensor bias, Layout layout) {
        ensureAvailability();
        return OneDnnOp.create(layer, weight, bias, layout);
    }
}
