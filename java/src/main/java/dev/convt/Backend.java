package dev.convt;

/**
 * One implementation of transposed convolution. Implementations are interchangeable: every one is checked against
 * {@link ReferenceBackend} by the same test suite. Obtain them from {@link Backends}.
 *
 * <pre>{@code
 * Backend onednn = Backends.onednn();
 * if (onednn.isAvailable() && onednn.unsupportedReason(layer) == null) {
 *     try (CompiledConvTranspose op = onednn.compile(layer, weight, bias)) {
 *         Tensor y = op.forward(x);
 *     }
 * }
 * }</pre>
 */
public interface Backend {

    /** {@return the short identifier used by {@code -Dconvt.backend}, {@code CONVT_BACKEND} and the CLI, e.g. {@code onednn}} */
    String id();

    /** {@return whether this backend can run in this process (its native code loaded, for example)} Computed once. */
    boolean isAvailable();

    /** {@return why {@link #isAvailable()} is false, or {@code null} when it is available} */
    Throwable unavailabilityCause();

    /** {@return one line about the implementation (library version, instruction set), for {@code convt info}} */
    default String describe() {
        return "";
    }

    /** Throws {@link UnsupportedOperationException} with the cause when this backend is not available. */
    default void ensureAvailability() {
        if (!isAvailable()) {
            throw new UnsupportedOperationException("backend '" + id() + "' is not available: "
                + unavailabilityCause(), unavailabilityCause());
        }
    }

    /**
     * Whether this backend can run {@code layer}. An unavailable backend supports nothing.
     *
     * @param layer the layer to run
     * @return {@code null} when this backend can run {@code layer}, otherwise a sentence saying why not
     */
    String unsupportedReason(ConvTransposeLayer layer);

    /**
     * Prepares {@code layer} with its weight ({@code [inChannels, outChannels/groups, *kernelSize]}) and bias
     * ({@code [outChannels]}, or {@code null} for a layer without bias). The weight and bias are copied, so the
     * caller may reuse their tensors. The result must be closed.
     *
     * @param layer the layer
     * @param weight its weight, {@code [inChannels, outChannels/groups, *kernelSize]}
     * @param bias its bias, {@code [outChannels]}, or {@code null}
     * @return the compiled op, for channels-first tensors
     * @throws IllegalArgumentException when the weight or bias does not fit the layer
     * @throws UnsupportedOperationException when this backend is unavailable or cannot run the layer
     */
    default CompiledConvTranspose compile(ConvTransposeLayer layer, Tensor weight, Tensor bias) {
        return compile(layer, weight, bias, Layout.CHANNELS_FIRST);
    }

    /**
     * As {@link #compile(ConvTransposeLayer, Tensor, Tensor)}, for input and output tensors in {@code layout}
     * (the weight stays {@code [inChannels, outChannels/groups, *kernelSize]}).
     *
     * @param layer the layer
     * @param weight its weight, {@code [inChannels, outChannels/groups, *kernelSize]}
     * @param bias its bias, {@code [outChannels]}, or {@code null}
     * @param layout the layout of the op's input and output tensors
     * @return the compiled op
     * @throws IllegalArgumentException when the weight or bias does not fit the layer
     * @throws UnsupportedOperationException when this backend is unavailable or cannot run the layer
     */
    CompiledConvTranspose compile(ConvTransposeLayer layer, Tensor weight, Tensor bias, Layout layout);
}
