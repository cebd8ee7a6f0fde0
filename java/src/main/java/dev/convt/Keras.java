package dev.convt;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * TensorFlow/Keras {@code Conv1DTranspose}, {@code Conv2DTranspose} and {@code Conv3DTranspose} onto the internal
 * form, as Keras computes them on TensorFlow.
 *
 * <p>Input {@code [N, *spatial, Cin]} ({@code data_format="channels_last"}, the default) or {@code [N, Cin, *spatial]}
 * ({@code channels_first}); kernel {@code [*kernel_size, filters, Cin]} (converted once by {@link WeightLayout#KERAS});
 * bias {@code [filters]}; output {@code [N, *out, filters]} or {@code [N, filters, *out]}. Per spatial axis, with the
 * dilated kernel {@code kd = (k-1)*dilation_rate + 1}:
 * <ul>
 *   <li>{@code output_padding=None} (absent, which is not 0): {@code valid} gives {@code in*stride + max(kd - stride,
 *       0)}, {@code same} gives {@code in*stride};</li>
 *   <li>with {@code output_padding}: {@code (in-1)*stride + kd - 2*pad + output_padding}, {@code pad = kd//2} for
 *       {@code same} and 0 for {@code valid}.</li>
 * </ul>
 * Keras hands that length to TensorFlow's {@code conv_transpose}, which places the taps by its own padding rule:
 * {@code valid} crops nothing at the start, {@code same} crops {@code max((in-1)*stride + kd - out, 0)//2} (the odd
 * extra at the end). So {@code padBegin} is that, and {@code padEnd = (in-1)*stride + kd - out - padBegin} (negative
 * when the output extends past the last tap; those positions get only the bias).
 *
 * <p>Refused with Keras's wording, as Keras refuses them: {@code output_padding >= strides}; {@code strides > 1}
 * together with {@code dilation_rate > 1}; malformed tuples. Refused with TensorFlow's wording, as its op refuses it:
 * for {@code same}, an output length whose {@code ceil(out/stride)} is not {@code in} (an even {@code kd} with
 * {@code output_padding=0} breaks Keras's own formula that way). TensorFlow's CPU kernels refuse any dilation above 1
 * for this op; convt runs those layers (stride 1 with dilation is valid Keras).
 */
public final class Keras {

    private Keras() {}

    /** The layer's arguments; {@code null} means Keras's default ({@code output_padding}: None). */
    public static final class Attributes {
        int[] strides;
        String padding;
        int[] outputPadding;
        int[] dilationRate;
        String dataFormat;

        /**
         * One value (used for every axis) or one per spatial axis; default 1.
         *
         * @param v {@code strides}, each positive
         * @return this
         */
        public Attributes strides(int... v) { strides = copy(v); return this; }
        /**
         * {@code "valid"} (default) or {@code "same"}, any case (Keras lower-cases it).
         *
         * @param v {@code padding}
         * @return this
         */
        public Attributes padding(String v) { padding = v; return this; }
        /**
         * {@code null} is None (the length is inferred), which differs from 0.
         *
         * @param v {@code output_padding}: one value (used for every axis) or one per spatial axis, each non-negative
         *     and below the stride; or {@code null}
         * @return this
         */
        public Attributes outputPadding(int... v) { outputPadding = copy(v); return this; }
        /**
         * One value (used for every axis) or one per spatial axis; default 1.
         *
         * @param v {@code dilation_rate}, each positive; above 1 only with strides of 1, as Keras requires
         * @return this
         */
        public Attributes dilationRate(int... v) { dilationRate = copy(v); return this; }
        /**
         * {@code "channels_last"} (default) or {@code "channels_first"}.
         *
         * @param v {@code data_format}
         * @return this
         */
        public Attributes dataFormat(String v) { dataFormat = v; return this; }

        private static int[] copy(int[] v) {
            return v == null ? null : v.clone();
        }
    }

    /**
     * Converts one layer for an input of {@code inputShape}, a kernel of {@code kernelShape}
     * ({@code [*kernel_size, filters, Cin]}) and a bias of {@code biasShape} ({@code null} for {@code use_bias=False}).
     * The result's {@link ConvertedLayer#weight} converts the kernel.
     *
     * @param a the layer's arguments
     * @param inputShape the input's shape, {@code [N, *spatial, Cin]} for {@code channels_last} or
     *     {@code [N, Cin, *spatial]} for {@code channels_first}
     * @param kernelShape the kernel's shape, {@code [*kernel_size, filters, Cin]}: it gives the spatial rank
     * @param biasShape the bias's shape, {@code [filters]}, or {@code null} for {@code use_bias=False}
     * @return the converted layer: in the {@link Layout} of {@code data_format}, weight in {@link WeightLayout#KERAS}
     * @throws IllegalArgumentException with Keras's (or TensorFlow's) wording, naming the argument
     */
    public static ConvertedLayer convTranspose(Attributes a, long[] inputShape, long[] kernelShape, long[] biasShape) {
        Objects.requireNonNull(a, "attributes");
        Objects.requireNonNull(inputShape, "inputShape");
        Objects.requireNonNull(kernelShape, "kernelShape");
        int r = kernelShape.length - 2;
        if (r < 1 || r > 3) {
            throw new IllegalArgumentException("Keras ConvTranspose: the kernel must be [*kernel_size, filters, "
                + "input_channels] of rank 3, 4 or 5 (Conv1DTranspose, Conv2DTranspose, Conv3DTranspose), but has shape "
                + py(kernelShape));
        }
        String cls = "Conv" + r + "DTranspose";
        String layerName = "conv" + r + "d_transpose";
        for (long d : kernelShape) {
            if (d < 1 || d > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(cls + ": the kernel's dimensions must be between 1 and "
                    + Integer.MAX_VALUE + ", but the kernel has shape " + py(kernelShape));
            }
        }
        String dataFormat = a.dataFormat == null ? "channels_last" : a.dataFormat.toLowerCase(Locale.ROOT);
        if (!dataFormat.equals("channels_last") && !dataFormat.equals("channels_first")) {
            throw new IllegalArgumentException("The `data_format` argument must be one of \"channels_first\", "
                + "\"channels_last\". Received: data_format=" + a.dataFormat);
        }
        String padding = a.padding == null ? "valid" : a.padding.toLowerCase(Locale.ROOT);
        if (!padding.equals("valid") && !padding.equals("same")) {
            throw new IllegalArgumentException("The `padding` argument must be one of \"valid\", \"same\". "
                + "Received: padding=" + a.padding);
        }
        int[] strides = normalizeTuple("strides", a.strides == null ? new int[] {1} : a.strides, r, false);
        int[] dilation = normalizeTuple("dilation_rate", a.dilationRate == null ? new int[] {1} : a.dilationRate, r,
            false);
        int[] outputPadding = a.outputPadding == null ? null : normalizeTuple("output_padding", a.outputPadding, r, true);
        if (outputPadding != null) {
            for (int i = 0; i < r; i++) {
                if (outputPadding[i] >= strides[i]) {
                    throw new IllegalArgumentException("Strides must be greater than output padding. Received strides="
                        + py(strides) + ", output_padding=" + py(outputPadding) + ".");
                }
            }
        }
        if (Arrays.stream(strides).max().getAsInt() > 1 && Arrays.stream(dilation).max().getAsInt() > 1) {
            throw new IllegalArgumentException("`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                + "Received: strides=" + py(strides) + " and dilation_rate=" + py(dilation));
        }

        boolean last = dataFormat.equals("channels_last");
        if (inputShape.length != r + 2) {
            throw new IllegalArgumentException("Input 0 of layer \"" + layerName + "\" is incompatible with the layer: "
                + "expected ndim=" + (r + 2) + ", found ndim=" + inputShape.length + ". Full shape received: "
                + py(inputShape));
        }
        int channelAxis = last ? r + 1 : 1;
        int firstSpatial = last ? 1 : 2;
        long filters = kernelShape[r];
        long inputDim = kernelShape[r + 1];
        for (long d : inputShape) {
            if (d < 0 || d > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("Input 0 of layer \"" + layerName + "\": dimensions must be between "
                    + "0 and " + Integer.MAX_VALUE + ", but got input with shape " + py(inputShape));
            }
        }
        if (inputShape[channelAxis] != inputDim) {
            throw new IllegalArgumentException("Input 0 of layer \"" + layerName + "\" is incompatible with the layer: "
                + "expected axis " + (last ? -1 : 1) + " of input shape to have value " + inputDim
                + " (the kernel's input_channels, kernel shape " + py(kernelShape) + "), but received input with shape "
                + py(inputShape));
        }
        for (int i = 0; i < r; i++) {
            if (inputShape[firstSpatial + i] < 1) {
                throw new IllegalArgumentException("Input 0 of layer \"" + layerName + "\": spatial sizes must be "
                    + "positive, but got input with shape " + py(inputShape));
            }
        }
        if (biasShape != null && (biasShape.length != 1 || biasShape[0] != filters)) {
            throw new IllegalArgumentException(cls + ": the bias must have shape (filters,) = (" + filters + ",), "
                + "but got shape " + py(biasShape));
        }

        int[] k = new int[r];
        int[] padBegin = new int[r];
        int[] padEnd = new int[r];
        List<String> derivation = new ArrayList<>();
        for (int i = 0; i < r; i++) {
            k[i] = (int) kernelShape[i];
            long in = inputShape[firstSpatial + i];
            long s = strides[i];
            long kd = (long) (k[i] - 1) * dilation[i] + 1;
            long out;
            String lengthText;
            if (outputPadding == null) {
                out = padding.equals("valid") ? in * s + Math.max(kd - s, 0) : in * s;
                lengthText = padding.equals("valid") ? "valid, output_padding None: in*stride + max(kd - stride, 0) = "
                    + in + "*" + s + " + max(" + kd + " - " + s + ", 0) = " + out
                    : "same, output_padding None: in*stride = " + in + "*" + s + " = " + out;
            } else {
                long pad = padding.equals("same") ? kd / 2 : 0;
                out = (in - 1) * s + kd - 2 * pad + outputPadding[i];
                lengthText = padding + ", output_padding " + outputPadding[i] + ": (in-1)*stride + kd - 2*pad + "
                    + "output_padding = (" + in + "-1)*" + s + " + " + kd + " - 2*" + pad + " + " + outputPadding[i]
                    + " = " + out;
            }
            if (padding.equals("same") && ceilDiv(out, s) != in) {
                String op = r == 3 ? "Conv3DBackpropInputOpV2" : "Conv2DBackpropInput";
                throw new IllegalArgumentException(op + ": Size of out_backprop doesn't match computed: actual = " + in
                    + ", computed = " + ceilDiv(out, s) + " spatial_dim: " + (firstSpatial + i) + " input: " + out
                    + " filter: " + k[i] + " output: " + in + " stride: " + s + " dilation: " + dilation[i]
                    + " (TensorFlow's padding=\"same\" needs ceil(out/stride) == in; Keras's length with output_padding="
                    + py(outputPadding) + " and the even dilated kernel " + kd + " is " + out + ")");
            }
            long natural = (in - 1) * s + kd;
            long begin = padding.equals("same") ? Math.max(natural - out, 0) / 2 : 0;
            long end = natural - out - begin;
            padBegin[i] = toInt(cls, "the derived begin pad", begin);
            padEnd[i] = toInt(cls, "the derived end pad", end);
            derivation.add("axis " + i + ": kd = (" + k[i] + "-1)*" + dilation[i] + " + 1 = " + kd + "; " + lengthText
                + "; TensorFlow " + padding.toUpperCase(Locale.ROOT) + " padding"
                + (padding.equals("same") ? ": total max((in-1)*stride + kd - out, 0) = " + Math.max(natural - out, 0)
                    + ", begin total//2" : ": begin 0") + " -> padBegin " + begin + ", padEnd " + end);
        }

        Map<String, String> given = new LinkedHashMap<>();
        if (a.strides != null) {
            given.put("strides", py(a.strides));
        }
        if (a.padding != null) {
            given.put("padding", "\"" + a.padding + "\"");
        }
        if (a.outputPadding != null) {
            given.put("output_padding", py(a.outputPadding));
        }
        if (a.dilationRate != null) {
            given.put("dilation_rate", py(a.dilationRate));
        }
        if (a.dataFormat != null) {
            given.put("data_format", "\"" + a.dataFormat + "\"");
        }
        Layout layout = last ? Layout.CHANNELS_LAST : Layout.CHANNELS_FIRST;
        ConvTransposeLayer probe = ConvTransposeLayer.builder(r)
            .inChannels((int) inputDim).outChannels((int) filters).kernelSize(k).stride(strides).dilation(dilation)
            .bias(biasShape != null).padBegin(padBegin).padEnd(padEnd).build();
        long[] outShape = layout.fromChannelsFirst(probe.outputShape(layout.toChannelsFirst(inputShape, r)), r);
        LayerOrigin origin = new LayerOrigin("keras " + cls + " (on TensorFlow)", given, derivation,
            outputPadding == null ? "None (the output length is inferred)" : py(outputPadding), inputShape, outShape,
            layout);
        return new ConvertedLayer(probe.withOrigin(origin), layout, WeightLayout.KERAS, inputShape, kernelShape);
    }

    /** Keras's {@code normalize_tuple}: one value for every axis or exactly {@code n}, each > 0 (or >= 0). */
    private static int[] normalizeTuple(String name, int[] value, int n, boolean allowZero) {
        int[] t;
        if (value.length == 1) {
            t = new int[n];
            Arrays.fill(t, value[0]);
        } else if (value.length == n) {
            t = value.clone();
        } else {
            throw new IllegalArgumentException("The `" + name + "` argument must be a tuple of " + n + " integers. "
                + "Received " + name + "=" + given(value));
        }
        Set<Integer> badValues = new LinkedHashSet<>();
        for (int v : t) {
            if (allowZero ? v < 0 : v <= 0) {
                badValues.add(v);
            }
        }
        if (!badValues.isEmpty()) {
            String set = badValues.toString();
            throw new IllegalArgumentException("The `" + name + "` argument must be a tuple of " + n + " integers. "
                + "Received " + name + "=" + given(value) + ", including values {" + set.substring(1, set.length() - 1)
                + "} that do not satisfy `value " + (allowZero ? ">= 0" : "> 0") + "`");
        }
        return t;
    }

    /** A value as the user passed it: an int, or a tuple. */
    private static String given(int[] v) {
        return v.length == 1 ? String.valueOf(v[0]) : py(v);
    }

    private static long ceilDiv(long a, long b) {
        return -Math.floorDiv(-a, b);
    }

    private static int toInt(String cls, String name, long v) {
        if (v > Integer.MAX_VALUE || v < Integer.MIN_VALUE) {
            throw new IllegalArgumentException(cls + ": " + name + " " + v + " is out of the supported range");
        }
        return (int) v;
    }

    /** Python's tuple syntax, as Keras prints values: {@code (2,)} and {@code (2, 2)}. */
    static String py(int[] v) {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < v.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(v[i]);
        }
        return sb.append(v.length == 1 ? ",)" : ")").toString();
    }

    static String py(long[] v) {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < v.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(v[i]);
        }
        return sb.append(v.length == 1 ? ",)" : ")").toString();
    }
}
