package dev.convt;

import java.util.Objects;

/**
 * The memory order of an op's input and output tensors. The weight is always PyTorch's
 * {@code [inChannels, outChannels/groups, *kernelSize]} whatever the layout; conventions that store it otherwise
 * (Keras) convert it once when the layer is built.
 *
 * <ul>
 *   <li>{@link #CHANNELS_FIRST}: {@code [N, C, *spatial]} (PyTorch's and ONNX's {@code NCW/NCHW/NCDHW}), unbatched
 *       {@code [C, *spatial]}. The default.</li>
 *   <li>{@link #CHANNELS_LAST}: {@code [N, *spatial, C]} ({@code NWC/NHWC/NDHWC}, Keras's default and oneDNN's
 *       preferred plain order for many kernels), unbatched {@code [*spatial, C]}.</li>
 * </ul>
 *
 * <p>A tensor's shape is always given in its layout's order (a channels-last tensor of 8 images of 32x32 with 3
 * channels has shape {@code [8, 32, 32, 3]}). Validation and error messages work on the channels-first form, which
 * is what {@link ConvTransposeLayer#outputShape} takes; this class is the one place that converts between the two.
 *
 * <pre>{@code
 * try (CompiledConvTranspose op = Backends.select(layer).backend().compile(layer, weight, bias, Layout.CHANNELS_LAST)) {
 *     Tensor y = op.forward(xNhwc);                                   // [N, H, W, C] in, [N, H', W', C'] out
 * }
 * }</pre>
 */
public enum Layout {
    /** {@code [N, C, *spatial]}: PyTorch's and ONNX's order, the default. */
    CHANNELS_FIRST,
    /** {@code [N, *spatial, C]}: Keras's default. */
    CHANNELS_LAST;

    /**
     * {@code shape} (in this layout) as channels-first. A shape whose length is neither {@code rank + 1} nor
     * {@code rank + 2} is returned unchanged, so that {@link ConvTransposeLayer#outputShape} reports it.
     *
     * @param shape a shape in this layout
     * @param rank the number of spatial dimensions
     * @return the channels-first shape (a new array)
     */
    public long[] toChannelsFirst(long[] shape, int rank) {
        Objects.requireNonNull(shape, "shape");
        if (this == CHANNELS_FIRST || !fits(shape, rank)) {
            return shape.clone();
        }
        int first = shape.length - rank - 1; // index of the channel dim in channels-first order
        long[] out = new long[shape.length];
        System.arraycopy(shape, 0, out, 0, first);
        out[first] = shape[shape.length - 1];
        System.arraycopy(shape, first, out, first + 1, rank);
        return out;
    }

    /**
     * The inverse of {@link #toChannelsFirst}.
     *
     * @param shape a channels-first shape
     * @param rank the number of spatial dimensions
     * @return the shape in this layout's order (a new array)
     */
    public long[] fromChannelsFirst(long[] shape, int rank) {
        Objects.requireNonNull(shape, "shape");
        if (this == CHANNELS_FIRST || !fits(shape, rank)) {
            return shape.clone();
        }
        int first = shape.length - rank - 1;
        long[] out = new long[shape.length];
        System.arraycopy(shape, 0, out, 0, first);
        System.arraycopy(shape, first + 1, out, first, rank);
        out[shape.length - 1] = shape[first];
        return out;
    }

    /**
     * A new heap tensor holding {@code t} (in this layout, {@code rank} spatial dimensions, batched or not) in
     * {@code target}'s order: the explicit conversion between layouts.
     *
     * @param t a tensor in this layout
     * @param target the layout wanted
     * @param rank the number of spatial dimensions
     * @return a new heap tensor in {@code target}'s layout
     * @throws IllegalArgumentException when the tensor's rank does not fit {@code rank}
     */
    public Tensor convert(Tensor t, Layout target, int rank) {
        Objects.requireNonNull(t, "t");
        Objects.requireNonNull(target, "target");
        long[] shape = t.shape();
        if (!fits(shape, rank)) {
            throw new IllegalArgumentException("a tensor with " + rank + " spatial dimensions has rank " + (rank + 1)
                + " or " + (rank + 2) + ", but got shape " + java.util.Arrays.toString(shape));
        }
        long[] cf = toChannelsFirst(shape, rank);
        Tensor out = Tensor.zeros(target.fromChannelsFirst(cf, rank));
        if (target == this) {
            out.copyFrom(t.toArray());
            return out;
        }
        int channelDim = cf.length - rank - 1;
        int batch = channelDim == 1 ? (int) cf[0] : 1;
        int channels = (int) cf[channelDim];
        int volume = (int) (Tensor.elementCount(cf) / ((long) batch * channels));
        for (int n = 0; n < batch; n++) {
            for (int c = 0; c < channels; c++) {
                for (int v = 0; v < volume; v++) {
                    int first = (n * channels + c) * volume + v;
                    int last = (n * volume + v) * channels + c;
                    if (this == CHANNELS_FIRST) {
                        out.set(last, t.get(first));
                    } else {
                        out.set(first, t.get(last));
                    }
                }
            }
        }
        return out;
    }

    private static boolean fits(long[] shape, int rank) {
        return shape.length == rank + 1 || shape.length == rank + 2;
    }

    /**
     * @param rank the number of spatial dimensions
     * @return the {@code NCHW}-style name: {@code NCW, NCHW, NCDHW} or {@code NWC, NHWC, NDHWC}
     */
    public String formatName(int rank) {
        String spatial = rank == 1 ? "W" : rank == 2 ? "HW" : "DHW";
        return this == CHANNELS_FIRST ? "NC" + spatial : "N" + spatial + "C";
    }
}
