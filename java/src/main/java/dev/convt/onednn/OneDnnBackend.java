package dev.convt.onednn;

import dev.convt.Backend;
import dev.convt.CompiledConvTranspose;
import dev.convt.ConvTransposeLayer;
import dev.convt.Layout;
import dev.convt.Tensor;

import java.util.Arrays;

/**
 * Transposed convolution on oneDNN's CPU deconvolution primitives, through the JavaCPP Presets for oneDNN.
 *
 * <p>f32 forward inference for rank 1, 2 and 3 with every hyperparameter the reference supports. A compiled op builds
 * its primitive once per input shape and keeps it; see {@link OneDnnOp}. This class touches no native code itself:
 * availability is decided by {@link OneDnn}.
 */
public final class OneDnnBackend implements Backend {

    public static final String ID = "onednn";
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
        for (int i = 0; i < layer.rank(); i++) {
            if (layer.padBegin(i) < 0) {
                // oneDNN 3.8 refuses every deconvolution with a negative padding_l (measured on ranks 1-3, strides
                // 1-2, dilation 1-2, kernels 1-3); ONNX SAME_* and output_shape above the natural size produce them.
                return "oneDNN refuses a negative padding_l, and this layer's output grows at the start (padBegin "
                    + Arrays.toString(layer.padBegin()) + ")";
            }
        }
        return null; // every other valid layer maps onto a deconvolution primitive (see OneDnnOp for output padding)
    }

    @Override
    public CompiledConvTranspose compile(ConvTransposeLayer layer, Tensor weight, Tensor bias, Layout layout) {
        ensureAvailability();
        return OneDnnOp.create(layer, weight, bias, layout);
    }
}
