package dev.convt;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * PyTorch's convention, {@code torch.nn.ConvTranspose{1,2,3}d(in, out, kernel_size, stride, padding, output_padding,
 * groups, bias, dilation)} and {@code forward(input, output_size=...)}, as one entry point that takes the attributes
 * and the tensor shapes like the other conventions ({@link Onnx}, {@link Keras}).
 *
 * <p>It is the builder ({@link ConvTransposeLayer#builder}) plus PyTorch's {@code output_size} rule
 * ({@link ConvTransposeLayer#outputPaddingFor}, the single place for it): {@code padBegin = padding},
 * {@code padEnd = padding - output_padding}. Each list attribute is one value (broadcast, as PyTorch does) or one per
 * spatial dimension. Messages are PyTorch's.
 */
public final class PyTorch {

    private PyTorch() {}

    /** The module's hyperparameters; {@code null} means PyTorch's default. Setters return {@code this}. */
    public static final class Attributes {
        int[] stride;
        int[] padding;
        int[] outputPadding;
        int[] dilation;
        Integer groups;
        long[] outputSize;

        /**
         * @param v {@code stride}: one value for every spatial dimension or one per dimension (default 1)
         * @return this
         */
        public Attributes stride(int... v) { stride = copy(v); return this; }
        /**
         * @param v {@code padding}: one value for every spatial dimension or one per dimension (default 0)
         * @return this
         */
        public Attributes padding(int... v) { padding = copy(v); return this; }
        /**
         * @param v {@code output_padding}: one value for every spatial dimension or one per dimension (default 0);
         *     not together with {@link #outputSize}, which derives it
         * @return this
         */
        public Attributes outputPadding(int... v) { outputPadding = copy(v); return this; }
        /**
         * @param v {@code dilation}: one value for every spatial dimension or one per dimension (default 1)
         * @return this
         */
        public Attributes dilation(int... v) { dilation = copy(v); return this; }
        /**
         * @param v {@code groups} (default 1); the weight's second dimension times it gives {@code out_channels}
         * @return this
         */
        public Attributes groups(int v) { groups = v; return this; }
        /**
         * {@code forward(output_size=...)}: the spatial sizes, or the full output shape.
         *
         * @param v the requested output size, or {@code null} for none; not together with {@link #outputPadding}
         * @return this
         */
        public Attributes outputSize(long... v) { outputSize = v == null ? null : v.clone(); return this; }

        private static int[] copy(int[] v) {
            return v == null ? null : v.clone();
        }
    }

    /**
     * The layer for weight {@code [Cin, Cout/groups, *k]}, input {@code [N, Cin, *spatial]} (or unbatched
     * {@code [Cin, *spatial]}) and bias {@code [Cout]} ({@code biasShape} {@code null} for none).
     *
     * @param attrs the module's hyperparameters and {@code output_size}
     * @param inputShape the input's shape, {@code [N, Cin, *spatial]} or {@code [Cin, *spatial]}
     * @param weightShape the weight's shape, {@code [Cin, Cout/groups, *k]}: it gives {@code in_channels}, the
     *     spatial rank and {@code kernel_size}
     * @param biasShape the bias's shape, {@code [Cout]}, or {@code null} for {@code bias=False}
     * @return the converted layer: channels-first, weight in {@link WeightLayout#PYTORCH} (nothing to convert)
     * @throws IllegalArgumentException with PyTorch's message when an attribute or a shape is invalid
     */
    public static ConvertedLayer convTranspose(Attributes attrs, long[] inputShape, long[] weightShape,
                                               long[] biasShape) {
        Objects.requireNonNull(attrs, "attrs");
        Objects.requireNonNull(inputShape, "inputShape");
        Objects.requireNonNull(weightShape, "weightShape");
        int rank = weightShape.length - 2;
        if (rank < 1 || rank > 3) {
            throw new IllegalArgumentException("weight must have 3, 4 or 5 dimensions ([in_channels, "
                + "out_channels/groups, *kernel_size]), but got weight of size " + Arrays.toString(weightShape));
        }
        if (attrs.outputPadding != null && attrs.outputSize != null) {
            throw new IllegalArgumentException("output_padding and output_size are mutually exclusive: output_size "
                + "derives the output padding");
        }
        int groups = attrs.groups == null ? 1 : attrs.groups;
        Map<String, String> given = new LinkedHashMap<>();
        if (attrs.stride != null) {
            given.put("stride", Arrays.toString(attrs.stride));
        }
        if (attrs.padding != null) {
            given.put("padding", Arrays.toString(attrs.padding));
        }
        if (attrs.outputPadding != null) {
            given.put("output_padding", Arrays.toString(attrs.outputPadding));
        }
        if (attrs.dilation != null) {
            given.put("dilation", Arrays.toString(attrs.dilation));
        }
        if (attrs.groups != null) {
            given.put("groups", String.valueOf(groups));
        }
        // judged as F.conv_transposeNd judges its arguments, in its order and with its messages
        ConvTransposeLayer layer = ConvTransposeLayer.functional(inputShape, weightShape, biasShape,
            attrs.stride == null ? new int[] {1} : attrs.stride, attrs.padding == null ? new int[] {0} : attrs.padding,
            attrs.outputPadding == null ? new int[] {0} : attrs.outputPadding, groups,
            attrs.dilation == null ? new int[] {1} : attrs.dilation);
        String derivation;
        if (attrs.outputSize != null) {
            given.put("output_size", Arrays.toString(attrs.outputSize));
            int[] op = layer.outputPaddingFor(inputShape, attrs.outputSize);
            layer = layer.withOutputPadding(op);
            derivation = "output_size " + Arrays.toString(attrs.outputSize) + " -> output_padding "
                + Arrays.toString(op) + " (PyTorch's forward(output_size=...) rule)";
        } else {
            derivation = "padBegin = padding, padEnd = padding - output_padding";
        }
        layer.checkWeightShape(weightShape);
        layer.checkBiasShape(biasShape);
        long[] out = layer.outputShape(inputShape);
        LayerOrigin origin = new LayerOrigin("pytorch ConvTranspose" + rank + "d", given, List.of(derivation),
            Arrays.toString(layer.outputPadding()), inputShape, out, Layout.CHANNELS_FIRST);
        return new ConvertedLayer(layer.withOrigin(origin), Layout.CHANNELS_FIRST, WeightLayout.PYTORCH, inputShape,
            weightShape);
    }

    private static int toInt(String name, long v) {
        if (v > Integer.MAX_VALUE || v < Integer.MIN_VALUE) {
            throw new IllegalArgumentException(name + " " + v + " is too large");
        }
        return (int) v;
    }
}
