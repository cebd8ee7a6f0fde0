package dev.convt;

import java.util.Arrays;
import java.util.Objects;

/**
 * Immutable description of a transposed convolution with PyTorch's {@code ConvTranspose{1,2,3}d} semantics.
 *
 * <p>Tensors are {@code [N, C, *spatial]} (or unbatched {@code [C, *spatial]}); the weight is
 * {@code [inChannels, outChannels/groups, *kernelSize]} and the bias {@code [outChannels]}. Per spatial dimension:
 *
 * <pre>
 *   out = (in - 1)*stride - 2*padding + dilation*(kernelSize - 1) + outputPadding + 1
 * </pre>
 *
 * <p>Every parameter is validated once, in {@link #validate}, with PyTorch's error messages where PyTorch has one.
 * An invalid spec never reaches a backend: the builder throws {@link IllegalArgumentException}. Internally the layer
 * reduces to one asymmetric padding form ({@link #padBegin(int)}, {@link #padEnd(int)}) that backends consume, with
 * the one shape formula {@code out = (in - 1)*stride - padBegin - padEnd + dilation*(kernelSize - 1) + 1}.
 *
 * <p>Other conventions build that form directly ({@link Builder#padBegin}/{@link Builder#padEnd}, any values, negative
 * ones growing the output): {@link Onnx} and {@link Keras} derive it from their attributes and record how in the
 * layer's {@link #origin()}, which {@link #describe()} prints. Equality is over what the layer computes, so such a
 * layer equals the PyTorch layer it reproduces ({@link #hasPyTorchForm()}).
 *
 * <pre>{@code
 * ConvTransposeLayer layer = ConvTransposeLayer.builder(2)
 *     .inChannels(512).outChannels(256).kernelSize(4).stride(2).padding(1)
 *     .build();
 * long[] out = layer.outputShape(8, 512, 4, 4);   // [8, 256, 8, 8]
 * }</pre>
 */
public final class ConvTransposeLayer {

    /** Names PyTorch uses for spatial dimensions in its messages, indexed by rank then dimension. */
    private static final String[][] DIM_NAMES = {
        {}, {"width"}, {"height", "width"}, {"depth", "height", "width"}
    };

    private final int rank;
    private final int inChannels;
    private final int outChannels;
    private final int[] kernelSize;
    private final int[] stride;
    private final int[] padding;
    private final int[] outputPadding;
    private final int[] dilation;
    private final int groups;
    private final boolean bias;
    /**
     * The internal form every backend consumes: output positions cropped at the start and at the end of each
     * dimension (negative: the output grows there, and those positions get only the bias).
     */
    private final int[] padBegin;
    private final int[] padEnd;
    /** Built from {@code padBegin/padEnd} (another convention), not from PyTorch's padding/output_padding. */
    private final boolean explicitPads;
    private final LayerOrigin origin;

    private ConvTransposeLayer(Builder b) {
        this.rank = b.rank;
        this.inChannels = b.inChannels;
        this.outChannels = b.outChannels;
        this.kernelSize = broadcast("kernel_size", b.kernelSize, b.rank);
        this.stride = broadcast("stride", b.stride, b.rank);
        this.padding = broadcast("padding", b.padding, b.rank);
        this.outputPadding = broadcast("output_padding", b.outputPadding, b.rank);
        this.dilation = broadcast("dilation", b.dilation, b.rank);
        this.groups = b.groups;
        this.bias = b.bias;
        this.origin = b.origin;
        this.explicitPads = b.padBegin != null;
        validate();
        if (explicitPads) {
            this.padBegin = broadcast("padBegin", b.padBegin, b.rank);
            this.padEnd = broadcast("padEnd", b.padEnd, b.rank);
        } else {
            this.padBegin = padding.clone();
            this.padEnd = new int[rank];
            for (int i = 0; i < rank; i++) {
                padEnd[i] = padding[i] - outputPadding[i];
            }
        }
    }

    /**
     * Starts a builder.
     *
     * @param rank the number of spatial dimensions: 1, 2 or 3 ({@code ConvTranspose1d}, {@code 2d}, {@code 3d})
     * @return a builder with PyTorch's defaults for everything optional
     * @throws IllegalArgumentException for another rank
     */
    public static Builder builder(int rank) {
        if (rank < 1 || rank > 3) {
            throw new IllegalArgumentException("spatial rank must be 1, 2 or 3, but got " + rank);
        }
        return new Builder(rank);
    }

    /**
     * A builder pre-filled with this layer's values, to derive a variant: with {@code padding/outputPadding} for a
     * layer built from them, with {@code padBegin/padEnd} otherwise. The origin is not carried over (a variant is a
     * new layer).
     *
     * @return a new builder holding every parameter of this layer but its origin
     */
    public Builder toBuilder() {
        Builder b = new Builder(rank).inChannels(inChannels).outChannels(outChannels).kernelSize(kernelSize)
            .stride(stride).dilation(dilation).groups(groups).bias(bias);
        return explicitPads ? b.padBegin(padBegin).padEnd(padEnd) : b.padding(padding).outputPadding(outputPadding);
    }

    /**
     * This layer with {@code origin} recorded (for {@link #describe()}); equality ignores the origin.
     *
     * @param origin where the layer came from, or {@code null} for none
     * @return a new layer computing the same as this one, carrying {@code origin}
     */
    public ConvTransposeLayer withOrigin(LayerOrigin origin) {
        return toBuilder().origin(origin).build();
    }

    /**
     * Derives this layer with another output padding (for example the one {@link #outputPaddingFor} derived).
     *
     * @param outputPadding one value for every spatial dimension, or one per dimension
     * @return the new layer
     * @throws IllegalArgumentException when the output padding is invalid for this layer
     */
    public ConvTransposeLayer withOutputPadding(int... outputPadding) {
        return toBuilder().outputPadding(outputPadding).build();
    }

    private static int[] broadcast(String name, int[] values, int rank) {
        if (values == null) {
            throw new IllegalArgumentException(name + " must be set");
        }
        if (values.length == 1) {
            int[] out = new int[rank];
            Arrays.fill(out, values[0]);
            return out;
        }
        if (values.length != rank) {
            throw new IllegalArgumentException(name + " must have 1 or " + rank + " elements for a "
                + rank + "d layer, but got " + values.length + ": " + Arrays.toString(values));
        }
        return values.clone();
    }

    // ---------------------------------------------------------------------------------------------
    // Validation: the one place where a spec, an input shape, a weight or a bias is judged.
    // ---------------------------------------------------------------------------------------------

    private void validate() {
        // groups first: callers often derive out_channels from it (weight.size(1) * groups)
        if (groups <= 0) {
            throw new IllegalArgumentException("groups must be a positive integer, but got groups=" + groups);
        }
        if (inChannels <= 0) {
            throw new IllegalArgumentException("in_channels must be positive, but got in_channels=" + inChannels);
        }
        if (outChannels <= 0) {
            throw new IllegalArgumentException("out_channels must be positive, but got out_channels=" + outChannels);
        }
        if (inChannels % groups != 0) {
            throw new IllegalArgumentException("in_channels must be divisible by groups, but got in_channels="
                + inChannels + " groups=" + groups);
        }
        if (outChannels % groups != 0) {
            throw new IllegalArgumentException("out_channels must be divisible by groups, but got out_channels="
                + outChannels + " groups=" + groups);
        }
        for (int i = 0; i < rank; i++) {
            if (kernelSize[i] <= 0) {
                throw new IllegalArgumentException("kernel size should be greater than zero, but got "
                    + perDim("kernel", kernelSize));
            }
        }
        for (int i = 0; i < rank; i++) {
            if (stride[i] <= 0) {
                throw new IllegalArgumentException("non-positive stride is not supported, but got stride="
                    + Arrays.toString(stride));
            }
        }
        for (int i = 0; i < rank; i++) {
            if (padding[i] < 0) {
                throw new IllegalArgumentException("negative padding is not supported, but got padding="
                    + Arrays.toString(padding));
            }
        }
        for (int i = 0; i < rank; i++) {
            if (outputPadding[i] < 0) {
                throw new IllegalArgumentException("negative output_padding is not supported, but got output_padding="
                    + Arrays.toString(outputPadding));
            }
        }
        for (int i = 0; i < rank; i++) {
            if (dilation[i] <= 0) {
                throw new IllegalArgumentException("dilation should be greater than zero, but got dilation="
                    + Arrays.toString(dilation));
            }
        }
        for (int i = 0; i < rank; i++) {
            if (outputPadding[i] >= Math.max(stride[i], dilation[i])) {
                throw new IllegalArgumentException("output padding must be smaller than either stride or dilation, but got "
                    + perDim("output_padding", outputPadding) + " " + perDim("stride", stride) + " "
                    + perDim("dilation", dilation));
            }
        }
    }

    private String perDim(String prefix, int[] values) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < rank; i++) {
            if (i > 0) {
                sb.append(' ');
            }
            sb.append(prefix).append('_').append(DIM_NAMES[rank][i]).append(": ").append(values[i]);
        }
        return sb.toString();
    }

    /**
     * Checks an input shape, {@code [N, inChannels, *spatial]} or unbatched {@code [inChannels, *spatial]}, and
     * returns the output shape in the same form. Throws {@link IllegalArgumentException} with PyTorch's message when
     * the input does not fit the layer or the output would be empty.
     *
     * @param inputShape {@code [N, inChannels, *spatial]} or {@code [inChannels, *spatial]}
     * @return the output shape, {@code [N, outChannels, *out]} or {@code [outChannels, *out]}
     * @throws IllegalArgumentException when the input does not fit the layer
     */
    public long[] outputShape(long... inputShape) {
        Objects.requireNonNull(inputShape, "inputShape");
        boolean batched = checkInputShape(inputShape);
        int first = batched ? 2 : 1;
        long[] out = new long[inputShape.length];
        if (batched) {
            out[0] = inputShape[0];
        }
        out[first - 1] = outChannels;
        boolean tooSmall = false;
        for (int i = 0; i < rank; i++) {
            out[first + i] = outputSize(i, inputShape[first + i]);
            tooSmall |= out[first + i] < 1;
        }
        if (tooSmall) {
            throw new IllegalArgumentException("Given input size per channel: (" + joinSpatial(inputShape, first)
                + "). Calculated output size per channel: (" + joinSpatial(out, first) + "). Output size is too small");
        }
        long elements = Tensor.elementCount(out);
        if (elements > Tensor.MAX_ELEMENTS) {
            throw new IllegalArgumentException("output of size " + Arrays.toString(out) + " has " + elements
                + " elements, more than the " + Tensor.MAX_ELEMENTS + " a tensor can hold");
        }
        return out;
    }

    /**
     * The one shape formula: the output length along one spatial dimension. Not validated: it may be below 1.
     *
     * @param dim the spatial dimension, {@code 0 <= dim < rank()}
     * @param in the input length along it
     * @return {@code (in - 1)*stride - padBegin - padEnd + dilation*(kernelSize - 1) + 1}
     */
    public long outputSize(int dim, long in) {
        return (in - 1) * stride[dim] - padBegin(dim) - padEnd(dim) + (long) dilation[dim] * (kernelSize[dim] - 1) + 1;
    }

    /** Validates an input shape; returns whether it is batched. */
    private boolean checkInputShape(long[] inputShape) {
        if (inputShape.length != rank + 1 && inputShape.length != rank + 2) {
            throw new IllegalArgumentException("Expected " + (rank + 1) + "D (unbatched) or " + (rank + 2)
                + "D (batched) input to conv_transpose" + rank + "d, but got input of size: "
                + Arrays.toString(inputShape));
        }
        boolean batched = inputShape.length == rank + 2;
        int first = batched ? 2 : 1;
        for (long d : inputShape) {
            if (d < 0) {
                throw new IllegalArgumentException("input size must be non-negative, but got input of size: "
                    + Arrays.toString(inputShape));
            }
        }
        if (inputShape[first - 1] != inChannels) {
            throw new IllegalArgumentException("Given transposed=1, weight of size " + Arrays.toString(weightShape())
                + ", expected input" + Arrays.toString(inputShape) + " to have " + inChannels
                + " channels, but got " + inputShape[first - 1] + " channels instead");
        }
        for (int i = 0; i < rank; i++) {
            if (inputShape[first + i] < 1) {
                throw new IllegalArgumentException("Expected input's spatial sizes to be positive, but got input of size: "
                    + Arrays.toString(inputShape));
            }
        }
        return batched;
    }

    /**
     * Checks a weight shape against {@link #weightShape()}.
     *
     * @param shape the weight's shape
     * @throws IllegalArgumentException when it differs, naming both shapes
     */
    public void checkWeightShape(long... shape) {
        Objects.requireNonNull(shape, "weight shape");
        if (!Arrays.equals(shape, weightShape())) {
            throw new IllegalArgumentException("weight should be of size " + Arrays.toString(weightShape())
                + " ([in_channels, out_channels/groups, *kernel_size] for in_channels=" + inChannels
                + ", out_channels=" + outChannels + ", groups=" + groups + ", kernel_size="
                + Arrays.toString(kernelSize) + "), but got weight of size " + Arrays.toString(shape));
        }
    }

    /**
     * Checks a bias shape (or its absence) against this layer.
     *
     * @param shape the bias's shape, or {@code null} for no bias
     * @throws IllegalArgumentException when it does not fit {@link #bias()} and {@link #outChannels()}
     */
    public void checkBiasShape(long[] shape) {
        if (!bias) {
            if (shape != null) {
                throw new IllegalArgumentException("the layer was built with bias=false, but a bias of size "
                    + Arrays.toString(shape) + " was given");
            }
            return;
        }
        if (shape == null) {
            throw new IllegalArgumentException("the layer was built with bias=true, so a bias of size ["
                + outChannels + "] is required, but none was given");
        }
        if (shape.length != 1 || shape[0] != outChannels) {
            throw new IllegalArgumentException("Given weight of size " + Arrays.toString(weightShape())
                + ", expected bias to be 1-dimensional with " + outChannels + " elements, but got bias of size "
                + Arrays.toString(shape) + " instead");
        }
    }

    /**
     * PyTorch's {@code forward(input, output_size=...)} rule: the output padding that makes the output exactly
     * {@code requestedOutputSize}, which is either the spatial sizes or the full {@code [N, C, *spatial]} shape.
     * This layer's own output padding is ignored, as PyTorch does. Use {@link #withOutputPadding} with the result.
     *
     * @param inputShape {@code [N, inChannels, *spatial]} or {@code [inChannels, *spatial]}
     * @param requestedOutputSize the output's spatial sizes, or its full shape
     * @return the output padding, one value per spatial dimension
     * @throws IllegalArgumentException when no output padding gives that size
     */
    public int[] outputPaddingFor(long[] inputShape, long... requestedOutputSize) {
        if (explicitPads) {
            throw new IllegalStateException("output_size (PyTorch's forward(output_size=...)) applies to layers built "
                + "from padding/output_padding, but " + this + " was built from padBegin/padEnd");
        }
        Objects.requireNonNull(inputShape, "inputShape");
        Objects.requireNonNull(requestedOutputSize, "requestedOutputSize");
        boolean batched = checkInputShape(inputShape);
        int first = batched ? 2 : 1;
        int nonSpatial = inputShape.length - rank;
        long[] requested = requestedOutputSize;
        if (requested.length == rank + nonSpatial) {
            requested = Arrays.copyOfRange(requested, nonSpatial, requested.length);
        }
        if (requested.length != rank) {
            throw new IllegalArgumentException("ConvTranspose" + rank + "D: for " + inputShape.length
                + "D input, output_size must have " + rank + " or " + (rank + nonSpatial) + " elements (got "
                + requestedOutputSize.length + ")");
        }
        long[] min = new long[rank];
        long[] max = new long[rank];
        long[] in = Arrays.copyOfRange(inputShape, first, inputShape.length);
        for (int i = 0; i < rank; i++) {
            min[i] = outputSize(i, in[i]) - outputPadding[i]; // PyTorch ignores the layer's own output padding here
            max[i] = min[i] + stride[i] - 1;
        }
        for (int i = 0; i < rank; i++) {
            if (requested[i] < min[i] || requested[i] > max[i]) {
                throw new IllegalArgumentException("requested an output size of " + Arrays.toString(requested)
                    + ", but valid sizes range from " + Arrays.toString(min) + " to " + Arrays.toString(max)
                    + " (for an input of " + Arrays.toString(in) + ")");
            }
        }
        int[] result = new int[rank];
        for (int i = 0; i < rank; i++) {
            result[i] = (int) (requested[i] - min[i]);
        }
        return result;
    }

    private static String joinSpatial(long[] shape, int first) {
        StringBuilder sb = new StringBuilder();
        for (int i = first; i < shape.length; i++) {
            if (i > first) {
                sb.append(" x ");
            }
            sb.append(shape[i]);
        }
        return sb.toString();
    }

    // ---------------------------------------------------------------------------------------------
    // Accessors
    // ---------------------------------------------------------------------------------------------

    /** {@return the number of spatial dimensions: 1, 2 or 3} */
    public int rank() { return rank; }
    /** {@return the input channels, PyTorch's {@code in_channels}} */
    public int inChannels() { return inChannels; }
    /** {@return the output channels, PyTorch's {@code out_channels}} */
    public int outChannels() { return outChannels; }
    /** {@return the number of groups; both channel counts are multiples of it} */
    public int groups() { return groups; }
    /** {@return whether the layer has a bias of {@code [outChannels]}} */
    public boolean bias() { return bias; }
    /** {@return the kernel size, one value per spatial dimension (a copy)} */
    public int[] kernelSize() { return kernelSize.clone(); }
    /** {@return the stride, one value per spatial dimension (a copy)} */
    public int[] stride() { return stride.clone(); }
    /**
     * PyTorch's {@code padding}: for a layer built from padBegin/padEnd, the value that reproduces it
     * ({@code padBegin}) when {@link #hasPyTorchForm()}, else {@link IllegalStateException}.
     *
     * @return the padding, one value per spatial dimension (a copy)
     * @throws IllegalStateException when no PyTorch padding reproduces this layer ({@link #hasPyTorchForm()} false)
     */
    public int[] padding() {
        requirePyTorchForm("padding");
        return padBegin.clone();
    }
    /**
     * PyTorch's {@code output_padding}: for a layer built from padBegin/padEnd, the value that reproduces it
     * ({@code padBegin - padEnd}) when {@link #hasPyTorchForm()}, else {@link IllegalStateException}.
     *
     * @return the output padding, one value per spatial dimension (a new array)
     * @throws IllegalStateException when no PyTorch output padding reproduces this layer ({@link #hasPyTorchForm()}
     *     false)
     */
    public int[] outputPadding() {
        requirePyTorchForm("output_padding");
        int[] op = new int[rank];
        for (int i = 0; i < rank; i++) {
            op[i] = padBegin[i] - padEnd[i];
        }
        return op;
    }
    /** {@return the dilation, one value per spatial dimension (a copy)} */
    public int[] dilation() { return dilation.clone(); }
    /**
     * @param dim a spatial dimension, from 0
     * @return the kernel size along it
     */
    public int kernelSize(int dim) { return kernelSize[dim]; }
    /**
     * @param dim a spatial dimension, from 0
     * @return the stride along it
     */
    public int stride(int dim) { return stride[dim]; }
    /**
     * {@link #padding()} along one dimension.
     *
     * @param dim a spatial dimension, from 0
     * @return PyTorch's {@code padding} along it
     * @throws IllegalStateException when no PyTorch padding reproduces this layer ({@link #hasPyTorchForm()} false)
     */
    public int padding(int dim) {
        requirePyTorchForm("padding");
        return padBegin[dim];
    }
    /**
     * {@link #outputPadding()} along one dimension.
     *
     * @param dim a spatial dimension, from 0
     * @return PyTorch's {@code output_padding} along it
     * @throws IllegalStateException when no PyTorch output padding reproduces this layer ({@link #hasPyTorchForm()}
     *     false)
     */
    public int outputPadding(int dim) {
        requirePyTorchForm("output_padding");
        return padBegin[dim] - padEnd[dim];
    }
    /**
     * @param dim a spatial dimension, from 0
     * @return the dilation along it
     */
    public int dilation(int dim) { return dilation[dim]; }

    /**
     * Output positions cropped at the start of dimension {@code dim}: PyTorch's {@code padding}, or the value another
     * convention derived. Negative (other conventions only) when the output grows at the start.
     *
     * @param dim a spatial dimension, from 0
     * @return the output positions cropped at the start of it (negative: added there)
     */
    public int padBegin(int dim) { return padBegin[dim]; }

    /**
     * Output positions cropped at the end of dimension {@code dim}: {@code padding - outputPadding} for PyTorch, or the
     * value another convention derived. Negative when the output grows at the end (those positions get only the bias).
     *
     * @param dim a spatial dimension, from 0
     * @return the output positions cropped at the end of it (negative: added there)
     */
    public int padEnd(int dim) { return padEnd[dim]; }

    /** {@return {@link #padBegin(int)} for every spatial dimension (a copy)} */
    public int[] padBegin() { return padBegin.clone(); }

    /** {@return {@link #padEnd(int)} for every spatial dimension (a copy)} */
    public int[] padEnd() { return padEnd.clone(); }

    /**
     * Whether some {@code ConvTranspose{1,2,3}d(padding, output_padding)} computes exactly this layer:
     * {@code padBegin >= 0} and {@code 0 <= padBegin - padEnd < max(stride, dilation)} on every dimension. Always true
     * for a layer built from padding/output_padding; ONNX's SAME_UPPER with an odd total, for example, has none.
     *
     * @return whether {@link #padding()} and {@link #outputPadding()} exist for this layer
     */
    public boolean hasPyTorchForm() {
        return pyTorchForm();
    }

    /**
     * {@return whether this layer was built from {@code padBegin/padEnd} (another convention) rather than PyTorch's
     * padding}
     */
    public boolean hasExplicitPads() {
        return explicitPads;
    }

    /**
     * {@return where the layer came from (convention, attributes, derivation), or {@code null} for a plain builder
     * layer}
     */
    public LayerOrigin origin() {
        return origin;
    }

    private void requirePyTorchForm(String what) {
        if (!pyTorchForm()) {
            throw new IllegalStateException("no PyTorch " + what + " reproduces padBegin=" + Arrays.toString(padBegin)
                + " padEnd=" + Arrays.toString(padEnd) + " (stride=" + Arrays.toString(stride) + ", dilation="
                + Arrays.toString(dilation) + "); read padBegin()/padEnd() instead");
        }
    }

    private boolean pyTorchForm() {
        for (int i = 0; i < rank; i++) {
            int op = padBegin[i] - padEnd[i];
            if (padBegin[i] < 0 || op < 0 || op >= Math.max(stride[i], dilation[i])) {
                return false;
            }
        }
        return true;
    }

    /** {@return the weight shape {@code [inChannels, outChannels/groups, *kernelSize]}} */
    public long[] weightShape() {
        long[] shape = new long[rank + 2];
        shape[0] = inChannels;
        shape[1] = outChannels / groups;
        for (int i = 0; i < rank; i++) {
            shape[2 + i] = kernelSize[i];
        }
        return shape;
    }

    /** {@return the multiply-adds per output element: the reduction length that numerical tolerances scale with} */
    public long reductionLength() {
        long r = inChannels / groups;
        for (int k : kernelSize) {
            r *= k;
        }
        return r;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof ConvTransposeLayer)) {
            return false;
        }
        ConvTransposeLayer l = (ConvTransposeLayer) o;
        return rank == l.rank && inChannels == l.inChannels && outChannels == l.outChannels && groups == l.groups
            && bias == l.bias && Arrays.equals(kernelSize, l.kernelSize) && Arrays.equals(stride, l.stride)
            && Arrays.equals(padBegin, l.padBegin) && Arrays.equals(padEnd, l.padEnd)
            && Arrays.equals(dilation, l.dilation);
    }

    // Equality is over what the layer computes: padBegin/padEnd determine PyTorch's padding/output_padding one to
    // one, so an ONNX or Keras layer equals the PyTorch layer it reproduces. The origin is documentation only.
    @Override
    public int hashCode() {
        return Objects.hash(rank, inChannels, outChannels, groups, bias, Arrays.hashCode(kernelSize),
            Arrays.hashCode(stride), Arrays.hashCode(padBegin), Arrays.hashCode(padEnd),
            Arrays.hashCode(dilation));
    }

    /**
     * PyTorch's module repr, e.g. {@code ConvTranspose2d(512, 256, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1))};
     * for a layer PyTorch cannot express ({@link #hasPyTorchForm()} false), the same with {@code pad_begin=(..)} and
     * {@code pad_end=(..)} in place of padding and output_padding.
     */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("ConvTranspose").append(rank).append("d(")
            .append(inChannels).append(", ").append(outChannels)
            .append(", kernel_size=").append(tuple(kernelSize))
            .append(", stride=").append(tuple(stride));
        if (pyTorchForm()) {
            int[] p = padding();
            int[] op = outputPadding();
            if (anyNonZero(p)) {
                sb.append(", padding=").append(tuple(p));
            }
            if (anyNonZero(op)) {
                sb.append(", output_padding=").append(tuple(op));
            }
        } else {
            sb.append(", pad_begin=").append(tuple(padBegin)).append(", pad_end=").append(tuple(padEnd));
        }
        if (Arrays.stream(dilation).anyMatch(d -> d != 1)) {
            sb.append(", dilation=").append(tuple(dilation));
        }
        if (groups != 1) {
            sb.append(", groups=").append(groups);
        }
        if (!bias) {
            sb.append(", bias=False");
        }
        return sb.append(')').toString();
    }

    /**
     * A few lines for people: the convention the layer came from and the attributes given, the derived
     * {@code padBegin/padEnd}, the output padding, and the output shape (when the layer was converted for an input
     * shape; see {@link #describe(long...)} otherwise). {@code convt run --verbose} prints it.
     *
     * @return the description, lines separated by {@code '\n'}, the last one ({@code layer: }, then
     *     {@link #toString()}) without a line break
     */
    public String describe() {
        return origin != null ? describe(origin.inputShape()) : describe((long[]) null);
    }

    /**
     * As {@link #describe()}, with the output shape for {@code inputShape} (channels-first, or in the origin's layout
     * for a converted layer); {@code null} leaves the output shape out.
     *
     * @param inputShape the input shape to report the output shape for, or {@code null} for none
     * @return the description, as {@link #describe()} formats it
     * @throws IllegalArgumentException when {@code inputShape} does not fit the layer (see {@link #outputShape})
     */
    public String describe(long... inputShape) {
        StringBuilder sb = new StringBuilder();
        if (origin != null) {
            sb.append("convention: ").append(origin.convention()).append('\n');
            sb.append("attributes: ").append(origin.attributesText()).append('\n');
            for (String line : origin.derivation()) {
                sb.append("derived: ").append(line).append('\n');
            }
        } else {
            sb.append("convention: pytorch\n");
            sb.append("attributes: ");
            if (explicitPads) {
                sb.append("padBegin=").append(Arrays.toString(padBegin)).append(" padEnd=").append(Arrays.toString(padEnd));
            } else {
                sb.append("padding=").append(Arrays.toString(padding)).append(" output_padding=")
                    .append(Arrays.toString(outputPadding));
            }
            sb.append(" stride=").append(Arrays.toString(stride)).append(" dilation=").append(Arrays.toString(dilation))
                .append(" groups=").append(groups).append(" kernel_size=").append(Arrays.toString(kernelSize))
                .append('\n');
        }
        sb.append("padBegin: ").append(Arrays.toString(padBegin)).append("  padEnd: ").append(Arrays.toString(padEnd))
            .append('\n');
        sb.append("output padding: ");
        if (origin != null) {
            sb.append(origin.outputPadding());
        } else if (explicitPads) {
            sb.append(pyTorchForm() ? Arrays.toString(outputPadding()) + " (PyTorch equivalent)" : "none (no PyTorch form)");
        } else {
            sb.append(Arrays.toString(outputPadding));
        }
        sb.append('\n');
        Layout layout = origin != null ? origin.layout() : Layout.CHANNELS_FIRST;
        if (inputShape != null) {
            long[] out = layout.fromChannelsFirst(outputShape(layout.toChannelsFirst(inputShape, rank)), rank);
            sb.append("output shape: ").append(Arrays.toString(out)).append(" for input ")
                .append(Arrays.toString(inputShape)).append(" (").append(layout.formatName(rank)).append(")\n");
        } else {
            sb.append("output shape: per input, (in-1)*stride - padBegin - padEnd + dilation*(kernel-1) + 1\n");
        }
        sb.append("layer: ").append(this);
        return sb.toString();
    }

    private static boolean anyNonZero(int[] v) {
        return Arrays.stream(v).anyMatch(x -> x != 0);
    }

    private static String tuple(int[] v) {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < v.length; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(v[i]);
        }
        return sb.append(v.length == 1 ? ",)" : ")").toString();
    }

    /** Builder; {@code inChannels}, {@code outChannels} and {@code kernelSize} are required. */
    public static final class Builder {
        private final int rank;
        private int inChannels;
        private int outChannels;
        private int[] kernelSize;
        private int[] stride = {1};
        private int[] padding = {0};
        private int[] outputPadding = {0};
        private int[] dilation = {1};
        private int groups = 1;
        private boolean bias = true;
        private boolean inSet;
        private boolean outSet;
        private boolean paddingSet;
        private int[] padBegin;
        private int[] padEnd;
        private LayerOrigin origin;

        private Builder(int rank) {
            this.rank = rank;
        }

        // Array-valued parameters take one value for every spatial dimension, or one per dimension.

        /**
         * @param inChannels PyTorch's {@code in_channels} (required)
         * @return this builder
         */
        public Builder inChannels(int inChannels) { this.inChannels = inChannels; inSet = true; return this; }
        /**
         * @param outChannels PyTorch's {@code out_channels} (required)
         * @return this builder
         */
        public Builder outChannels(int outChannels) { this.outChannels = outChannels; outSet = true; return this; }
        /**
         * @param kernelSize PyTorch's {@code kernel_size} (required)
         * @return this builder
         */
        public Builder kernelSize(int... kernelSize) { this.kernelSize = copy(kernelSize); return this; }
        /**
         * @param stride PyTorch's {@code stride} (default 1)
         * @return this builder
         */
        public Builder stride(int... stride) { this.stride = copy(stride); return this; }
        /**
         * @param padding PyTorch's {@code padding} (default 0): output positions cropped at both ends of each
         *     dimension; not together with {@link #padBegin}/{@link #padEnd}
         * @return this builder
         */
        public Builder padding(int... padding) { this.padding = copy(padding); paddingSet = true; return this; }
        /**
         * @param outputPadding PyTorch's {@code output_padding} (default 0): output positions added back at the end
         *     of each dimension, below {@code max(stride, dilation)}; not together with {@link #padBegin}/{@link #padEnd}
         * @return this builder
         */
        public Builder outputPadding(int... outputPadding) {
            this.outputPadding = copy(outputPadding);
            paddingSet = true;
            return this;
        }
        /**
         * The internal form directly, for conventions other than PyTorch's: output positions cropped at the start of
         * each dimension (negative grows the output there). One value for every dimension, or one per dimension.
         * Set together with {@link #padEnd}, instead of {@link #padding}/{@link #outputPadding}.
         *
         * @param padBegin output positions cropped at the start of each dimension (negative: added there)
         * @return this builder
         */
        public Builder padBegin(int... padBegin) { this.padBegin = copy(padBegin); return this; }
        /**
         * Output positions cropped at the end of each dimension (negative grows the output); see {@link #padBegin}.
         *
         * @param padEnd output positions cropped at the end of each dimension (negative: added there)
         * @return this builder
         */
        public Builder padEnd(int... padEnd) { this.padEnd = copy(padEnd); return this; }
        /**
         * Records where the layer came from, for {@link #describe()}.
         *
         * @param origin where the layer came from, or {@code null} for none (the default)
         * @return this builder
         */
        public Builder origin(LayerOrigin origin) { this.origin = origin; return this; }
        /**
         * @param dilation PyTorch's {@code dilation} (default 1)
         * @return this builder
         */
        public Builder dilation(int... dilation) { this.dilation = copy(dilation); return this; }
        /**
         * @param groups PyTorch's {@code groups} (default 1)
         * @return this builder
         */
        public Builder groups(int groups) { this.groups = groups; return this; }
        /**
         * @param bias PyTorch's {@code bias} (default true)
         * @return this builder
         */
        public Builder bias(boolean bias) { this.bias = bias; return this; }

        private static int[] copy(int[] v) {
            return v == null ? null : v.clone();
        }

        /**
         * Validates and builds.
         *
         * @return the layer
         * @throws IllegalArgumentException naming the offending parameter and its value
         */
        public ConvTransposeLayer build() {
            if (!inSet) {
                throw new IllegalArgumentException("in_channels must be set");
            }
            if (!outSet) {
                throw new IllegalArgumentException("out_channels must be set");
            }
            if (kernelSize == null) {
                throw new IllegalArgumentException("kernel_size must be set");
            }
            if ((padBegin == null) != (padEnd == null)) {
                throw new IllegalArgumentException(padBegin == null ? "padBegin must be set together with padEnd"
                    : "padEnd must be set together with padBegin");
            }
            if (padBegin != null && paddingSet) {
                throw new IllegalArgumentException("padding/output_padding (PyTorch) and padBegin/padEnd (the internal "
                    + "form) are two ways to give the same thing: set one of them");
            }
            return new ConvTransposeLayer(this);
        }
    }
}
