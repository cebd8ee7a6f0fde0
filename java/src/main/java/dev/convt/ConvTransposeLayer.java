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
        this.groups = b.groups;
        this.bias = b.bias;
        this.origin = b.origin;
        this.explicitPads = b.padBegin != null;
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
     *
     * @param inputShape {@code [N, inChannels, *spatial]} or {@code [inChannels, *spatial]}
     * @return the output shape, {@code [N, outChannels, *out]} or {@code [outChannels, *out]}
     * @throws IllegalArgumentException when the input does not fit the layer
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
     * Saturates at {@link Long#MAX_VALUE} instead of overflowing, so an absurd input is refused for its size. Not
     * validated otherwise: it may be below 1.
     *
     * @param dim the spatial dimension, {@code 0 <= dim < rank()}
     * @param in the input length along it
     * @return {@code (in - 1)*stride - padBegin - padEnd + dilation*(kernelSize - 1) + 1}
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
        checkBias(weightShape(), groups, shape);
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
     *
     * @param inputShape the input, {@code [N, in_channels, *spatial]} or unbatched {@code [in_channels, *spatial]}
     * @param weightShape the weight, {@code [in_channels, out_channels/groups, *kernel_size]}
     * @param biasShape the bias, {@code [out_channels]}, or {@code null} for none
     * @param stride {@code stride}: one value, or one per spatial dimension
     * @param padding {@code padding}: one value, or one per spatial dimension
     * @param outputPadding {@code output_padding}: one value, or one per spatial dimension
     * @param groups {@code groups}
     * @param dilation {@code dilation}: one value, or one per spatial dimension
     * @return the layer
     * @throws IllegalArgumentException with PyTorch's message when PyTorch would refuse the arguments
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
