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
 * reduces to one asymmetric padding form ({@link #padBegin(int)}, {@link #padEnd(int)}) that backends consume.
 *
 * <pre>{@code
 * ConvTransposeLayer layer = ConvTransposeLayer.builder(2)
 *     .inChannels(512).outChannels(256).kernelSize(4).stride(2).padding(1)
 *     .build();
 * long[] out = layer.outputShape(8, 512, 4, 4);   // [8, 256, 8, 8]
 * }</pre>
 */
public final class ConvTransposeLayer {

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

    private ConvTransposeLayer(Builder b) {
        this.rank = b.rank;
        this.inChannels = b.inChannels;
        this.outChannels = b.outChannels;
        this.groups = b.groups;
        this.bias = b.bias;
        // PyTorch's order: the module's constructor judges groups and channels and creates the weight
        // [in, out/groups, *kernel]; its forward then expands stride, padding, dilation, output_padding (in that
        // order) and checks them (F.conv_transposeNd)
        checkModuleArguments(groups, inChannels, outChannels);
        this.kernelSize = broadcast("kernel_size", b.kernelSize, b.rank);
        checkCreatable(weightShape());
        this.stride = broadcast("stride", b.stride, b.rank);
        this.padding = broadcast("padding", b.padding, b.rank);
        this.dilation = broadcast("dilation", b.dilation, b.rank);
        this.outputPadding = broadcast("output_padding", b.outputPadding, b.rank);
        validate();
    }

    /** Starts a builder for a layer with {@code rank} spatial dimensions (1, 2 or 3). */
    public static Builder builder(int rank) {
        if (rank < 1 || rank > 3) {
            throw new IllegalArgumentException("spatial rank must be 1, 2 or 3, but got " + rank);
        }
        return new Builder(rank);
    }

    /** A builder pre-filled with this layer's values, to derive a variant. */
    public Builder toBuilder() {
        return new Builder(rank).inChannels(inChannels).outChannels(outChannels).kernelSize(kernelSize)
            .stride(stride).padding(padding).outputPadding(outputPadding).dilation(dilation)
            .groups(groups).bias(bias);
    }

    /** This layer with another output padding (for example the one {@link #outputPaddingFor} derived). */
    public ConvTransposeLayer withOutputPadding(int... outputPadding) {
        return toBuilder().outputPadding(outputPadding).build();
    }

    /** PyTorch's {@code expand_param_if_needed}: one value for every dimension, or one per dimension. */
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
            throw new IllegalArgumentException("expected " + name + " to be a single integer value or a list of "
                + rank + " values to match the convolution dimensions, but got " + name + "="
                + Arrays.toString(values));
        }
        return values.clone();
    }

    // ---------------------------------------------------------------------------------------------
    // Validation: the one place where a spec, an input shape, a weight or a bias is judged.
    // ---------------------------------------------------------------------------------------------

    /*
     * Every message starts with the text PyTorch 2.7 gives for the same mistake, word for word, quirks included
     * (PyTorch runs a 1d layer through its 2d path, so its 1d messages name a height of 1). The texts come from
     * torch/nn/modules/conv.py (the module's constructor), aten/src/ATen/native/Convolution.cpp (_convolution,
     * check_shape_forward, batchify) and NaiveConvolutionTranspose{2,3}d.cpp (the shape checks of the CPU path PyTorch
     * takes for a small batch-1 input); tests/src/test/resources/pytorch/errors.tsv holds what libtorch 2.7.1 really
     * says for each case. Detail of ours may follow PyTorch's text, never replace it.
     */

    private void validate() {
        long[] weight = weightShape();
        checkParameters(rank, weight, groups, stride, padding, outputPadding, dilation);
        checkReferencePath(rank, weight, stride, outputPadding, dilation);
    }

    /** nn.ConvTransposeNd.__init__: groups, then the channels' divisibility by it. */
    private static void checkModuleArguments(int groups, int inChannels, int outChannels) {
        if (groups <= 0) {
            throw new IllegalArgumentException("groups must be a positive integer, but got groups=" + groups);
        }
        if (inChannels % groups != 0) {
            throw new IllegalArgumentException("in_channels must be divisible by groups, but got in_channels="
                + inChannels + " groups=" + groups);
        }
        if (outChannels % groups != 0) {
            throw new IllegalArgumentException("out_channels must be divisible by groups, but got out_channels="
                + outChannels + " groups=" + groups);
        }
    }

    /** torch.empty, which the module's constructor calls for its weight. */
    private static void checkCreatable(long[] weightShape) {
        for (long d : weightShape) {
            if (d < 0) {
                throw new IllegalArgumentException("Trying to create tensor with negative dimension " + d + ": "
                    + Arrays.toString(weightShape));
            }
        }
    }

    /** check_shape_forward's judgement of the hyperparameters and of the weight against groups. */
    private static void checkParameters(int rank, long[] weight, int groups, int[] stride, int[] padding,
                                        int[] outputPadding, int[] dilation) {
        if (anyBelow(padding, 0)) {
            throw new IllegalArgumentException("negative padding is not supported, but got padding="
                + Arrays.toString(padding));
        }
        if (anyBelow(outputPadding, 0)) {
            throw new IllegalArgumentException("negative output_padding is not supported, but got output_padding="
                + Arrays.toString(outputPadding));
        }
        if (anyBelow(stride, 1)) {
            throw new IllegalArgumentException("non-positive stride is not supported, but got stride="
                + Arrays.toString(stride));
        }
        if (anyBelow(dilation, 0)) {
            throw new IllegalArgumentException(dilationMessage(rank, dilation));
        }
        if (weight[0] < groups) {
            throw new IllegalArgumentException("Given groups=" + groups + ", expected weight to be at least " + groups
                + " at dimension 0, but got weight of size " + Arrays.toString(weight) + " instead");
        }
        if (weight[0] % groups != 0) {
            // sic: PyTorch prints these sizes in double brackets
            throw new IllegalArgumentException("Given groups=" + groups + ", expected weight to be divisible by "
                + groups + " at dimension 0, but got weight of size [" + Arrays.toString(weight) + "] instead");
        }
    }

    /**
     * slow_conv_transpose{2,3}d_shape_check, which PyTorch's CPU path runs before computing: kernel (2d path only),
     * dilation, output padding, and a non-empty weight.
     */
    private static void checkReferencePath(int rank, long[] weight, int[] stride, int[] outputPadding,
                                           int[] dilation) {
        if (rank < 3) {
            long[] k = as2d(Arrays.copyOfRange(weight, 2, weight.length), 1);
            if (k[0] <= 0 || k[1] <= 0) {
                throw new IllegalArgumentException("kernel size should be greater than zero, but got kernel_height: "
                    + k[0] + " kernel_width: " + k[1]);
            }
        }
        if (anyBelow(dilation, 1)) {
            throw new IllegalArgumentException(dilationMessage(rank, dilation));
        }
        for (int i = 0; i < rank; i++) {
            if (outputPadding[i] >= stride[i] && outputPadding[i] >= dilation[i]) {
                throw new IllegalArgumentException("output padding must be smaller than either stride or dilation, "
                    + "but got " + perDim(rank, "output_padding", outputPadding, 0) + " "
                    + perDim(rank, "stride", stride, 1) + " " + perDim(rank, "dilation", dilation, 1));
            }
        }
        if (Tensor.elementCount(weight) == 0) {
            if (rank < 3) {
                long[] w4 = {weight[0], weight[1], 0, 0};
                System.arraycopy(as2d(Arrays.copyOfRange(weight, 2, weight.length), 1), 0, w4, 2, 2);
                throw new IllegalArgumentException("non-empty 2D or 4D weight tensor expected, but got: "
                    + Arrays.toString(w4));
            }
            throw new IllegalArgumentException("non-empty 5D (n_output_plane x n_input_plane x kernel_depth x "
                + "kernel_height x kernel_width) tensor expected for weight, but got: " + Arrays.toString(weight));
        }
    }

    private static String dilationMessage(int rank, int[] dilation) {
        if (rank == 3) {
            return "dilation should be greater than zero, but got dilation_depth: " + dilation[0]
                + ", dilation_height: " + dilation[1] + ", dilation_width: " + dilation[2];
        }
        long[] d = as2d(toLongs(dilation), 1);
        return "dilation should be greater than zero, but got dilation_height: " + d[0] + ", dilation_width: " + d[1];
    }

    private static boolean anyBelow(int[] values, int min) {
        for (int v : values) {
            if (v < min) {
                return true;
            }
        }
        return false;
    }

    private static long[] toLongs(int[] values) {
        long[] out = new long[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }

    /** A 1d value list as PyTorch's 2d path sees it (a leading height of {@code fill}); 2d and 3d unchanged. */
    private static long[] as2d(long[] values, long fill) {
        return values.length == 1 ? new long[] {fill, values[0]} : values;
    }

    /** {@code prefix_height: a prefix_width: b} (with depth for 3d; a 1d layer as PyTorch's 2d path names it). */
    private static String perDim(int rank, String prefix, int[] values, long fill) {
        long[] v = rank == 3 ? toLongs(values) : as2d(toLongs(values), fill);
        String[] names = v.length == 3 ? new String[] {"depth", "height", "width"} : new String[] {"height", "width"};
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < v.length; i++) {
            if (i > 0) {
                sb.append(' ');
            }
            sb.append(prefix).append('_').append(names[i]).append(": ").append(v[i]);
        }
        return sb.toString();
    }

    /**
     * Checks an input shape, {@code [N, inChannels, *spatial]} or unbatched {@code [inChannels, *spatial]}, and
     * returns the output shape in the same form. Throws {@link IllegalArgumentException} with PyTorch's message when
     * the input does not fit the layer or the output would be empty. An empty batch gives an empty output, as in
     * PyTorch.
     */
    public long[] outputShape(long... inputShape) {
        Objects.requireNonNull(inputShape, "inputShape");
        boolean batched = checkInputRank(rank, inputShape);
        long[] in = batched ? inputShape : prepend(1, inputShape); // PyTorch judges the batched form
        checkInputChannels(weightShape(), in);
        long[] out = outputShapeOfBatched(in);
        if (!batched) {
            out = Arrays.copyOfRange(out, 1, out.length);
        }
        long elements = Tensor.elementCount(out);
        if (elements > Tensor.MAX_ELEMENTS) {
            throw new IllegalArgumentException("output of size " + Arrays.toString(out) + " has " + elements
                + " elements, more than the " + Tensor.MAX_ELEMENTS + " a tensor can hold");
        }
        return out;
    }

    /** The output of a batched input whose rank and channels were checked: PyTorch's empty-input rules, then size. */
    private long[] outputShapeOfBatched(long[] in) {
        long[] out = new long[in.length];
        out[0] = in[0];
        out[1] = outChannels;
        boolean empty = in[0] == 0; // PyTorch returns an empty batch without running the size checks below
        if (!empty && Tensor.elementCount(in) == 0) {
            throw new IllegalArgumentException("Only zero batch or zero channel inputs are supported, but got input "
                + "shape: " + Arrays.toString(in));
        }
        boolean tooSmall = false;
        for (int i = 0; i < rank; i++) {
            out[2 + i] = outputSize(i, in[2 + i]);
            tooSmall |= out[2 + i] < (empty ? 0 : 1);
        }
        if (tooSmall) {
            long[] inSpatial = rank == 3 ? Arrays.copyOfRange(in, 2, 5) : as2d(Arrays.copyOfRange(in, 2, in.length), 1);
            long[] outSpatial = rank == 3 ? Arrays.copyOfRange(out, 2, 5)
                : as2d(Arrays.copyOfRange(out, 2, out.length), 1);
            throw new IllegalArgumentException("Given input size per channel: (" + join(inSpatial)
                + "). Calculated output size per channel: (" + join(outSpatial) + "). Output size is too small");
        }
        return out;
    }

    /**
     * The one shape formula: output length along spatial dimension {@code dim} for an input of length {@code in}.
     * Saturates at {@link Long#MAX_VALUE} instead of overflowing, so an absurd input is refused for its size.
     */
    public long outputSize(int dim, long in) {
        try {
            long scattered = Math.multiplyExact(in - 1, (long) stride[dim]);
            return Math.addExact(scattered - padBegin(dim) - padEnd(dim),
                (long) dilation[dim] * (kernelSize[dim] - 1) + 1);
        } catch (ArithmeticException overflow) {
            return in > 0 ? Long.MAX_VALUE : Long.MIN_VALUE;
        }
    }

    /** batchify (Convolution.cpp): the input has rank + 1 (unbatched) or rank + 2 dimensions; returns whether batched. */
    private static boolean checkInputRank(int rank, long[] inputShape) {
        if (inputShape.length != rank + 1 && inputShape.length != rank + 2) {
            throw new IllegalArgumentException("Expected " + (rank + 1) + "D (unbatched) or " + (rank + 2)
                + "D (batched) input to conv_transpose" + rank + "d, but got input of size: "
                + Arrays.toString(inputShape));
        }
        for (long d : inputShape) {
            if (d < 0) { // a PyTorch tensor cannot have such a size, so PyTorch has no message for it
                throw new IllegalArgumentException("input size must be non-negative, but got input of size: "
                    + Arrays.toString(inputShape));
            }
        }
        return inputShape.length == rank + 2;
    }

    /** check_shape_forward: the batched input's channels against the weight. */
    private static void checkInputChannels(long[] weight, long[] batchedInput) {
        if (batchedInput[1] != weight[0]) {
            throw new IllegalArgumentException("Given transposed=1, weight of size " + Arrays.toString(weight)
                + ", expected input" + Arrays.toString(batchedInput) + " to have " + weight[0]
                + " channels, but got " + batchedInput[1] + " channels instead");
        }
    }

    /** check_shape_forward: a bias must be {@code [weight[1] * groups]}. */
    private static void checkBias(long[] weight, int groups, long[] bias) {
        if (bias.length != 1 || bias[0] != weight[1] * groups) {
            throw new IllegalArgumentException("Given transposed=1, weight of size " + Arrays.toString(weight)
                + ", expected bias to be 1-dimensional with " + weight[1] * groups + " elements, but got bias of size "
                + Arrays.toString(bias) + " instead");
        }
    }

    /** Checks a weight shape against {@link #weightShape()}. */
    public void checkWeightShape(long... shape) {
        Objects.requireNonNull(shape, "weight shape");
        if (!Arrays.equals(shape, weightShape())) {
            throw new IllegalArgumentException("weight should be of size " + Arrays.toString(weightShape())
                + " ([in_channels, out_channels/groups, *kernel_size] for in_channels=" + inChannels
                + ", out_channels=" + outChannels + ", groups=" + groups + ", kernel_size="
                + Arrays.toString(kernelSize) + "), but got weight of size " + Arrays.toString(shape));
        }
    }

    /** Checks a bias shape (or its absence, {@code null}) against this layer. */
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
        checkBias(weightShape(), groups, shape);
    }

    /**
     * PyTorch's {@code forward(input, output_size=...)} rule: the output padding that makes the output exactly
     * {@code requestedOutputSize}, which is either the spatial sizes or the full {@code [N, C, *spatial]} shape.
     * This layer's own output padding is ignored, as PyTorch does. Use {@link #withOutputPadding} with the result.
     */
    public int[] outputPaddingFor(long[] inputShape, long... requestedOutputSize) {
        Objects.requireNonNull(inputShape, "inputShape");
        Objects.requireNonNull(requestedOutputSize, "requestedOutputSize");
        boolean batched = checkInputRank(rank, inputShape);
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
        for (int i = 0; i < rank; i++) {
            long natural = outputSize(i, inputShape[first + i]);
            min[i] = natural == Long.MAX_VALUE ? natural : natural - outputPadding[i]; // PyTorch ignores it here
            max[i] = min[i] > Long.MAX_VALUE - stride[i] ? Long.MAX_VALUE : min[i] + stride[i] - 1;
        }
        for (int i = 0; i < rank; i++) {
            if (requested[i] < min[i] || requested[i] > max[i]) {
                // sic: PyTorch prints input.size()[2:], whether or not the input is batched
                long[] shown = inputShape.length > 2 ? Arrays.copyOfRange(inputShape, 2, inputShape.length)
                    : new long[0];
                throw new IllegalArgumentException("requested an output size of " + Arrays.toString(requested)
                    + ", but valid sizes range from " + Arrays.toString(min) + " to " + Arrays.toString(max)
                    + " (for an input of torch.Size(" + Arrays.toString(shown) + "))");
            }
        }
        int[] result = new int[rank];
        for (int i = 0; i < rank; i++) {
            result[i] = (int) (requested[i] - min[i]);
        }
        return result;
    }

    /**
     * The layer PyTorch's functional form describes, {@code F.conv_transpose{1,2,3}d(input, weight, bias, stride,
     * padding, output_padding, groups, dilation)}, judged in PyTorch's order with its messages: the spatial rank
     * comes from the weight {@code [in_channels, out_channels/groups, *kernel_size]}, {@code biasShape} is
     * {@code null} for no bias, and each hyperparameter is one value or one per spatial dimension. Everything but the
     * output's size is judged here; {@link #outputShape} judges that last, as PyTorch does, after an
     * {@code output_size} has been turned into an output padding ({@link #outputPaddingFor}).
     */
    public static ConvTransposeLayer functional(long[] inputShape, long[] weightShape, long[] biasShape, int[] stride,
                                                int[] padding, int[] outputPadding, int groups, int[] dilation) {
        Objects.requireNonNull(inputShape, "inputShape");
        Objects.requireNonNull(weightShape, "weightShape");
        if (weightShape.length < 3) {
            throw new IllegalArgumentException("weight should have at least three dimensions, but got weight of size "
                + Arrays.toString(weightShape));
        }
        if (weightShape.length > 5) {
            throw new IllegalArgumentException("weight should have 3, 4 or 5 dimensions ([in_channels, "
                + "out_channels/groups, *kernel_size] of a 1d, 2d or 3d layer), but got weight of size "
                + Arrays.toString(weightShape));
        }
        int rank = weightShape.length - 2;
        for (long d : weightShape) {
            if (d < 0) {
                throw new IllegalArgumentException("Trying to create tensor with negative dimension " + d + ": "
                    + Arrays.toString(weightShape));
            }
        }
        boolean batched = checkInputRank(rank, inputShape);
        long[] in = batched ? inputShape : prepend(1, inputShape);
        if (groups <= 0) {
            throw new IllegalArgumentException("non-positive groups is not supported, but got groups=" + groups);
        }
        int[] s = broadcast("stride", stride, rank);
        int[] p = broadcast("padding", padding, rank);
        int[] d = broadcast("dilation", dilation, rank);
        int[] op = broadcast("output_padding", outputPadding, rank);
        checkParameters(rank, weightShape, groups, s, p, op, d);
        checkInputChannels(weightShape, in);
        if (biasShape != null) {
            checkBias(weightShape, groups, biasShape);
        }
        boolean empty = in[0] == 0;
        if (!empty && Tensor.elementCount(in) == 0) {
            throw new IllegalArgumentException("Only zero batch or zero channel inputs are supported, but got input "
                + "shape: " + Arrays.toString(in));
        }
        checkReferencePath(rank, weightShape, s, op, d);
        int[] kernel = new int[rank];
        for (int i = 0; i < rank; i++) {
            kernel[i] = toInt("kernel_size", weightShape[2 + i]);
        }
        ConvTransposeLayer layer = builder(rank)
            .inChannels(toInt("in_channels", weightShape[0]))
            .outChannels(toInt("out_channels", weightShape[1] * groups))
            .kernelSize(kernel).stride(s).padding(p).outputPadding(op).dilation(d).groups(groups)
            .bias(biasShape != null)
            .build();
        return layer;
    }

    private static int toInt(String name, long v) {
        if (v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(name + " " + v + " is larger than " + Integer.MAX_VALUE);
        }
        return (int) v;
    }

    private static long[] prepend(long first, long[] rest) {
        long[] out = new long[rest.length + 1];
        out[0] = first;
        System.arraycopy(rest, 0, out, 1, rest.length);
        return out;
    }

    private static String join(long[] values) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < values.length; i++) {
            if (i > 0) {
                sb.append(" x ");
            }
            sb.append(values[i]);
        }
        return sb.toString();
    }

    // ---------------------------------------------------------------------------------------------
    // Accessors
    // ---------------------------------------------------------------------------------------------

    /** Number of spatial dimensions: 1, 2 or 3. */
    public int rank() { return rank; }
    public int inChannels() { return inChannels; }
    public int outChannels() { return outChannels; }
    public int groups() { return groups; }
    /** Whether the layer has a bias of {@code [outChannels]}. */
    public boolean bias() { return bias; }
    public int[] kernelSize() { return kernelSize.clone(); }
    public int[] stride() { return stride.clone(); }
    public int[] padding() { return padding.clone(); }
    public int[] outputPadding() { return outputPadding.clone(); }
    public int[] dilation() { return dilation.clone(); }
    public int kernelSize(int dim) { return kernelSize[dim]; }
    public int stride(int dim) { return stride[dim]; }
    public int padding(int dim) { return padding[dim]; }
    public int outputPadding(int dim) { return outputPadding[dim]; }
    public int dilation(int dim) { return dilation[dim]; }

    /** Output positions cropped at the start of dimension {@code dim}: PyTorch's {@code padding}. */
    public int padBegin(int dim) { return padding[dim]; }

    /**
     * Output positions cropped at the end of dimension {@code dim}: {@code padding - outputPadding}. Negative when the
     * output padding exceeds the padding, meaning the output grows at the end.
     */
    public int padEnd(int dim) { return padding[dim] - outputPadding[dim]; }

    /** The weight shape {@code [inChannels, outChannels/groups, *kernelSize]}. */
    public long[] weightShape() {
        long[] shape = new long[rank + 2];
        shape[0] = inChannels;
        shape[1] = outChannels / groups;
        for (int i = 0; i < rank; i++) {
            shape[2 + i] = kernelSize[i];
        }
        return shape;
    }

    /** Multiply-adds per output element: the reduction length that numerical tolerances scale with. */
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
            && Arrays.equals(padding, l.padding) && Arrays.equals(outputPadding, l.outputPadding)
            && Arrays.equals(dilation, l.dilation);
    }

    @Override
    public int hashCode() {
        return Objects.hash(rank, inChannels, outChannels, groups, bias, Arrays.hashCode(kernelSize),
            Arrays.hashCode(stride), Arrays.hashCode(padding), Arrays.hashCode(outputPadding),
            Arrays.hashCode(dilation));
    }

    /** PyTorch's module repr, e.g. {@code ConvTranspose2d(512, 256, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1))}. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("ConvTranspose").append(rank).append("d(")
            .append(inChannels).append(", ").append(outChannels)
            .append(", kernel_size=").append(tuple(kernelSize))
            .append(", stride=").append(tuple(stride));
        if (anyNonZero(padding)) {
            sb.append(", padding=").append(tuple(padding));
        }
        if (anyNonZero(outputPadding)) {
            sb.append(", output_padding=").append(tuple(outputPadding));
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

        private Builder(int rank) {
            this.rank = rank;
        }

        public Builder inChannels(int inChannels) { this.inChannels = inChannels; inSet = true; return this; }
        public Builder outChannels(int outChannels) { this.outChannels = outChannels; outSet = true; return this; }
        /** One value for every spatial dimension, or one per dimension. */
        public Builder kernelSize(int... kernelSize) { this.kernelSize = copy(kernelSize); return this; }
        public Builder stride(int... stride) { this.stride = copy(stride); return this; }
        public Builder padding(int... padding) { this.padding = copy(padding); return this; }
        public Builder outputPadding(int... outputPadding) { this.outputPadding = copy(outputPadding); return this; }
        public Builder dilation(int... dilation) { this.dilation = copy(dilation); return this; }
        public Builder groups(int groups) { this.groups = groups; return this; }
        public Builder bias(boolean bias) { this.bias = bias; return this; }

        private static int[] copy(int[] v) {
            return v == null ? null : v.clone();
        }

        /** Validates and builds; throws {@link IllegalArgumentException} naming the offending parameter. */
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
            return new ConvTransposeLayer(this);
        }
    }
}
