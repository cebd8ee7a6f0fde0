package dev.convt.onednn;

import dev.convt.ConvTransposeLayer;

import java.lang.System.Logger.Level;
import java.util.Arrays;
import java.util.List;

/**
 * oneDNN's implementation names ({@code impl_info_str}) and which of them are its slow reference implementations.
 *
 * <p>oneDNN builds an f32 deconvolution out of a convolution: {@code ref_deconvolution_fwd_t} names itself
 * {@code "conv:any+"} followed by the name of the convolution it wraps, and the brgemm deconvolution
 * {@code "brg_deconv:<isa>+"} likewise. A slow reference therefore shows up <em>inside</em> the name
 * ({@code conv:any+ref:any}), never only at its start. The reference names are those of {@code ref_convolution.hpp}
 * ({@code "ref:any"}), the int8 references ({@code "ref_int8:any"}, the two names benchdnn's own reference filter
 * skips, {@code tests/benchdnn/utils/impl_filter.cpp}) and the portable GEMM that convolutions fall back to on
 * platforms without a JIT GEMM ({@code GEMM_IMPL_STR "gemm:ref"}, {@code src/cpu/gemm/gemm.hpp}).
 */
public final class ImplementationNames {

    private static final System.Logger LOG = System.getLogger(ImplementationNames.class.getName());

    /** Substrings that mark a reference implementation anywhere in a (possibly composed) name. */
    private static final List<String> REFERENCE_MARKERS = List.of("ref:any", "ref_int8:any", "gemm:ref");

    private ImplementationNames() {}

    /**
     * Whether {@code implementation} (an {@code impl_info_str}, possibly composed with {@code +} and followed by a
     * note of ours in parentheses) is or wraps one of oneDNN's reference implementations.
     *
     * @param implementation an implementation name, e.g. {@code conv:any+ref:any}; {@code null} is none
     * @return whether it names one of oneDNN's (slow) reference implementations
     */
    public static boolean isReference(String implementation) {
        if (implementation == null) {
            return false;
        }
        for (String marker : REFERENCE_MARKERS) {
            if (implementation.contains(marker)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Logs a warning when oneDNN chose a reference implementation for {@code layer} on input {@code inDims}: it is
     * correct but orders of magnitude slower than the JIT ones, and oneDNN falls back to it silently.
     *
     * @return whether it warned
     */
    static boolean warnIfReference(String implementation, ConvTransposeLayer layer, long[] inDims) {
        if (!isReference(implementation)) {
            return false;
        }
        LOG.log(Level.WARNING, () -> "oneDNN chose its reference implementation '" + implementation + "' for " + layer
            + " with input " + Arrays.toString(inDims) + ": expect it to be orders of magnitude slower");
        return true;
    }
}
