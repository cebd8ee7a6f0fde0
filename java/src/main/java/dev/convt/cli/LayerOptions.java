package dev.convt.cli;

import dev.convt.ConvertedLayer;
import dev.convt.Keras;
import dev.convt.Layout;
import dev.convt.Npy;
import dev.convt.Onnx;
import dev.convt.PyTorch;
import dev.convt.Tensor;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Options shared by {@code run} and {@code check}: the inputs, the convention, and that convention's attributes under
 * the framework's own names. A flag of another convention is refused, naming it.
 */
final class LayerOptions {
    @Option(names = "--input", required = true, paramLabel = "X.npy",
        description = "Input (.npy, <f4 or <f8): pytorch [N, Cin, *spatial] or [Cin, *spatial]; onnx [N, C, *spatial]; "
            + "keras [N, *spatial, Cin] (channels_last) or [N, Cin, *spatial] (channels_first).")
    Path input;

    @Option(names = "--weight", required = true, paramLabel = "W.npy",
        description = "Weight: pytorch/onnx [Cin, Cout/groups, *kernel]; keras kernel [*kernel, Cout, Cin].")
    Path weight;

    @Option(names = "--bias", paramLabel = "B.npy", description = "Bias [Cout] (optional).")
    Path bias;

    @Option(names = "--convention", paramLabel = "pytorch|onnx|keras",
        description = "Whose attributes and layouts the other flags follow (default pytorch).")
    String convention = "pytorch";

    // pytorch
    @Option(names = "--stride", paramLabel = "s", description = "pytorch: int or comma list (default 1).")
    String stride;

    @Option(names = "--padding", paramLabel = "p",
        description = "pytorch: int or comma list (default 0). keras: valid|same (default valid).")
    String padding;

    @Option(names = "--output-padding", paramLabel = "op",
        description = "pytorch/keras: int or comma list (pytorch default 0; keras default None). onnx: one value per "
            + "spatial axis (default 0s).")
    String outputPadding;

    @Option(names = "--dilation", paramLabel = "d", description = "pytorch: int or comma list (default 1).")
    String dilation;

    @Option(names = "--groups", paramLabel = "g", description = "pytorch: number of groups (default 1).")
    String groups;

    @Option(names = "--output-size", paramLabel = "size",
        description = "pytorch: requested spatial output size (comma list), as forward(output_size=...).")
    String outputSize;

    // onnx (and keras: --strides)
    @Option(names = "--strides", paramLabel = "s",
        description = "onnx: one per spatial axis (default 1s). keras: int or comma list (default 1).")
    String strides;

    @Option(names = "--dilations", paramLabel = "d", description = "onnx: one per spatial axis (default 1s).")
    String dilations;

    @Option(names = "--group", paramLabel = "g", description = "onnx: number of groups (default 1).")
    String group;

    @Option(names = "--kernel-shape", paramLabel = "k", description = "onnx: one per spatial axis; must match W.")
    String kernelShape;

    @Option(names = "--pads", paramLabel = "p", description = "onnx: 2 x rank values, begins then ends (default 0s).")
    String pads;

    @Option(names = "--output-shape", paramLabel = "size",
        description = "onnx: rank values (spatial) or rank+2 (full shape, N and M must match).")
    String outputShape;

    @Option(names = "--auto-pad", paramLabel = "NOTSET|SAME_UPPER|SAME_LOWER|VALID",
        description = "onnx: auto_pad (default NOTSET), exact upper case.")
    String autoPad;

    @Option(names = "--ort-compat",
        description = "onnx: reproduce ONNX Runtime (a negative total padding is clamped to 0) instead of the spec.")
    boolean ortCompat;

    @Option(names = "--channels-last",
        description = "pytorch/onnx: input and output channels-last ([N, *spatial, C]) instead of [N, C, *spatial] "
            + "(keras: use --data-format).")
    boolean channelsLast;

    // keras
    @Option(names = "--dilation-rate", paramLabel = "d", description = "keras: int or comma list (default 1).")
    String dilationRate;

    @Option(names = "--data-format", paramLabel = "channels_last|channels_first",
        description = "keras: data_format (default channels_last).")
    String dataFormat;

    /** The attribute flags each convention takes; anything else given with it is refused. */
    private static final Map<String, List<String>> FLAGS = Map.of(
        "pytorch", List.of("--stride", "--padding", "--output-padding", "--dilation", "--groups", "--output-size"),
        "onnx", List.of("--strides", "--dilations", "--group", "--kernel-shape", "--pads", "--output-padding",
            "--output-shape", "--auto-pad", "--ort-compat"),
        "keras", List.of("--strides", "--padding", "--output-padding", "--dilation-rate", "--data-format"));

    Tensor inputTensor;
    /** The layout of the input and output files. */
    Layout layout;
    /** The weight in the internal layout [Cin, Cout/groups, *k], whatever the convention. */
    Tensor weightTensor;
    Tensor biasTensor;

    /** Reads the files and converts the layer; every problem becomes an IllegalArgumentException or IOException. */
    ConvertedLayer load() throws IOException {
        String conv = convention.toLowerCase(Locale.ROOT);
        if (!FLAGS.containsKey(conv)) {
            throw new IllegalArgumentException("--convention must be pytorch, onnx or keras, but got '" + convention
                + "'");
        }
        checkFlagsBelongTo(conv);
        if (channelsLast && conv.equals("keras")) {
            throw new IllegalArgumentException("--channels-last is not a flag of --convention keras (use --data-format)");
        }
        inputTensor = Npy.read(input);
        Tensor rawWeight = Npy.read(weight);
        biasTensor = bias == null ? null : Npy.read(bias);
        long[] biasShape = biasTensor == null ? null : biasTensor.shape();
        // the converters read channels-first input shapes; a channels-last file is the same layer
        long[] inputShape = channelsLast
            ? Layout.CHANNELS_LAST.toChannelsFirst(inputTensor.shape(), rawWeight.rank() - 2)
            : inputTensor.shape();
        ConvertedLayer converted;
        switch (conv) {
            case "onnx": {
                Onnx.Attributes a = new Onnx.Attributes().ortCompat(ortCompat);
                if (strides != null) a.strides(longs("--strides", strides));
                if (dilations != null) a.dilations(longs("--dilations", dilations));
                if (group != null) a.group(single("--group", group));
                if (kernelShape != null) a.kernelShape(longs("--kernel-shape", kernelShape));
                if (pads != null) a.pads(longs("--pads", pads));
                if (outputPadding != null) a.outputPadding(longs("--output-padding", outputPadding));
                if (outputShape != null) a.outputShape(longs("--output-shape", outputShape));
                if (autoPad != null) a.autoPad(autoPad);
                converted = Onnx.convTranspose(a, inputShape, rawWeight.shape(), biasShape);
                break;
            }
            case "keras": {
                Keras.Attributes a = new Keras.Attributes();
                if (strides != null) a.strides(ints("--strides", strides));
                if (padding != null) a.padding(padding);
                if (outputPadding != null) a.outputPadding(ints("--output-padding", outputPadding));
                if (dilationRate != null) a.dilationRate(ints("--dilation-rate", dilationRate));
                if (dataFormat != null) a.dataFormat(dataFormat);
                converted = Keras.convTranspose(a, inputTensor.shape(), rawWeight.shape(), biasShape);
                break;
            }
            default: {
                PyTorch.Attributes a = new PyTorch.Attributes();
                if (stride != null) a.stride(ints("--stride", stride));
                if (padding != null) a.padding(ints("--padding", padding));
                if (outputPadding != null) a.outputPadding(ints("--output-padding", outputPadding));
                if (dilation != null) a.dilation(ints("--dilation", dilation));
                if (groups != null) a.groups(ints("--groups", String.valueOf(single("--groups", groups)))[0]);
                if (outputSize != null) a.outputSize(longs("--output-size", outputSize));
                converted = PyTorch.convTranspose(a, inputShape, rawWeight.shape(), biasShape);
            }
        }
        weightTensor = converted.weight(rawWeight);
        layout = channelsLast ? Layout.CHANNELS_LAST : converted.layout();
        return converted;
    }

    private void checkFlagsBelongTo(String conv) {
        Map<String, Object> given = new LinkedHashMap<>();
        given.put("--stride", stride);
        given.put("--padding", padding);
        given.put("--output-padding", outputPadding);
        given.put("--dilation", dilation);
        given.put("--groups", groups);
        given.put("--output-size", outputSize);
        given.put("--strides", strides);
        given.put("--dilations", dilations);
        given.put("--group", group);
        given.put("--kernel-shape", kernelShape);
        given.put("--pads", pads);
        given.put("--output-shape", outputShape);
        given.put("--auto-pad", autoPad);
        given.put("--ort-compat", ortCompat ? Boolean.TRUE : null);
        given.put("--dilation-rate", dilationRate);
        given.put("--data-format", dataFormat);
        List<String> allowed = FLAGS.get(conv);
        for (Map.Entry<String, Object> e : given.entrySet()) {
            if (e.getValue() != null && !allowed.contains(e.getKey())) {
                String owners = FLAGS.entrySet().stream().filter(f -> f.getValue().contains(e.getKey()))
                    .map(f -> f.getKey() + "'s").sorted().collect(Collectors.joining(" and "));
                throw new IllegalArgumentException(e.getKey() + " is not a flag of --convention " + conv + " (it is "
                    + owners + "); its attribute flags are " + String.join(", ", allowed));
            }
        }
    }

    private static long single(String option, String text) {
        long[] v = longs(option, text);
        if (v.length != 1) {
            throw new IllegalArgumentException(option + " expects one int, but got '" + text + "'");
        }
        return v[0];
    }

    static int[] ints(String option, String text) {
        long[] v = longs(option, text);
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            if (v[i] > Integer.MAX_VALUE || v[i] < Integer.MIN_VALUE) {
                throw new IllegalArgumentException(option + ": " + v[i] + " is out of range");
            }
            out[i] = (int) v[i];
        }
        return out;
    }

    static long[] longs(String option, String text) {
        String[] parts = text.split(",", -1);
        long[] out = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Long.parseLong(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(option + " expects an int or a comma list of ints, but got '"
                    + text + "'");
            }
        }
        return out;
    }
}
