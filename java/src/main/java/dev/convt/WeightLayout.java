package dev.convt;

import java.util.Arrays;
import java.util.Objects;

/**
 * How a framework stores a transposed convolution's weight, and the one place that converts it to the internal
 * layout every backend takes, PyTorch's {@code [inChannels, outChannels/groups, *kernel]}.
 *
 * <ul>
 *   <li>{@link #PYTORCH}: {@code [Cin, Cout/groups, *k]}, also ONNX {@code ConvTranspose}'s {@code W}
 *       ({@code [C, M/group, k1, ...]}). Nothing to convert.</li>
 *   <li>{@link #KERAS}: TensorFlow/Keras {@code Conv{1,2,3}DTranspose}'s kernel {@code [*k, Cout, Cin]} (TensorFlow's
 *       {@code conv_transpose} filter {@code [*k, output_channels, in_channels]}). Keras has no groups. The taps are
 *       not flipped: output position {@code x*stride - padBegin + t*dilation} receives {@code kernel[t, co, ci]}, as
 *       PyTorch's receives {@code weight[ci, co, t]}, so the conversion is a pure transpose.</li>
 * </ul>
 *
 * <p>(oneDNN's own weight order is the oneDNN backend's business, converted inside that backend.)
 */
public enum WeightLayout {
    /** PyTorch's (and ONNX's) {@code [in_channels, out_channels/groups, *kernel_size]}: the internal layout. */
    PYTORCH("[in_channels, out_channels/groups, *kernel_size]"),
    /** TensorFlow/Keras's {@code [*kernel_size, filters, input_channels]}, without groups. */
    KERAS("[*kernel_size, filters, input_channels]");

    private final String pattern;

    WeightLayout(String pattern) {
        this.pattern = pattern;
    }

    /** {@return the dimension order, e.g. {@code [*kernel_size, filters, input_channels]}} */
    public String pattern() {
        return pattern;
    }

    /**
     * The kernel (spatial) sizes of a weight of {@code shape} in this layout.
     *
     * @param shape a weight shape in this layout
     * @return its kernel sizes, one per spatial dimension (a new array)
     */
    public long[] kernelSize(long[] shape) {
        Objects.requireNonNull(shape, "shape");
        return this == PYTORCH ? Arrays.copyOfRange(shape, 2, shape.length) : Arrays.copyOfRange(shape, 0, shape.length - 2);
    }

    /**
     * The internal shape {@code [Cin, Cout/groups, *k]} of a weight of {@code shape} in this layout.
     *
     * @param shape a weight shape in this layout, of rank 3, 4 or 5
     * @return the internal shape {@code [Cin, Cout/groups, *k]} (a new array)
     * @throws IllegalArgumentException when the rank is not 3, 4 or 5
     */
    public long[] toInternalShape(long[] shape) {
        Objects.requireNonNull(shape, "shape");
        checkRank(shape);
        if (this == PYTORCH) {
            return shape.clone();
        }
        int r = shape.length - 2;
        long[] out = new long[shape.length];
        out[0] = shape[r + 1];
        out[1] = shape[r];
        System.arraycopy(shape, 0, out, 2, r);
        return out;
    }

    /**
     * {@code weight} (in this layout) as a new heap tensor in the internal layout {@code [Cin, Cout/groups, *k]}.
     *
     * @param weight a weight in this layout, of rank 3, 4 or 5
     * @return a new heap tensor holding it as {@code [Cin, Cout/groups, *k]} (a copy even for {@link #PYTORCH})
     * @throws IllegalArgumentException when the rank is not 3, 4 or 5
     */
    public Tensor toInternal(Tensor weight) {
        Objects.requireNonNull(weight, "weight");
        if (this == PYTORCH) {
            return Tensor.of(weight.toArray(), weight.shape());
        }
        long[] shape = weight.shape();
        checkRank(shape);
        int r = shape.length - 2;
        int cout = (int) shape[r];
        int cin = (int) shape[r + 1];
        int taps = (int) (Tensor.elementCount(shape) / ((long) cout * cin));
        float[] src = weight.toArray();
        float[] dst = new float[src.length];
        for (int t = 0; t < taps; t++) {
            for (int co = 0; co < cout; co++) {
                for (int ci = 0; ci < cin; ci++) {
                    dst[(ci * cout + co) * taps + t] = src[(t * cout + co) * cin + ci];
                }
            }
        }
        return Tensor.wrap(dst, toInternalShape(shape));
    }

    /**
     * The inverse of {@link #toInternal}: an internal {@code [Cin, Cout, *k]} weight (groups 1) in this layout.
     *
     * @param weight an internal weight {@code [Cin, Cout, *k]} (groups 1), of rank 3, 4 or 5
     * @return a new heap tensor holding it in this layout (a copy even for {@link #PYTORCH})
     * @throws IllegalArgumentException when the rank is not 3, 4 or 5
     */
    public Tensor fromInternal(Tensor weight) {
        Objects.requireNonNull(weight, "weight");
        if (this == PYTORCH) {
            return Tensor.of(weight.toArray(), weight.shape());
        }
        long[] shape = weight.shape();
        checkRank(shape);
        int r = shape.length - 2;
        int cin = (int) shape[0];
        int cout = (int) shape[1];
        int taps = (int) (Tensor.elementCount(shape) / ((long) cout * cin));
        float[] src = weight.toArray();
        float[] dst = new float[src.length];
        for (int t = 0; t < taps; t++) {
            for (int co = 0; co < cout; co++) {
                for (int ci = 0; ci < cin; ci++) {
                    dst[(t * cout + co) * cin + ci] = src[(ci * cout + co) * taps + t];
                }
            }
        }
        long[] out = new long[shape.length];
        System.arraycopy(shape, 2, out, 0, r);
        out[r] = cout;
        out[r + 1] = cin;
        return Tensor.wrap(dst, out);
    }

    private void checkRank(long[] shape) {
        if (shape.length < 3 || shape.length > 5) {
            throw new IllegalArgumentException("a weight " + pattern + " has rank 3, 4 or 5, but got shape "
                + Arrays.toString(shape));
        }
    }
}
