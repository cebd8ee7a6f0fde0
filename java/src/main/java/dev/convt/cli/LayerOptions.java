package dev.convt.cli;

import dev.convt.ConvTransposeLayer;
import dev.convt.Npy;
import dev.convt.Tensor;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;

/** Options shared by {@code run} and {@code check}: the inputs and the hyperparameters. */
final class LayerOptions {
    @Option(names = "--input", required = true, paramLabel = "X.npy",
        description = "Input [N, Cin, *spatial] or unbatched [Cin, *spatial] (.npy, <f4 or <f8).")
    Path input;

    @Option(names = "--weight", required = true, paramLabel = "W.npy",
        description = "Weight [Cin, Cout/groups, *kernel] (PyTorch's ConvTranspose layout).")
    Path weight;

    @Option(names = "--bias", paramLabel = "B.npy", description = "Bias [Cout] (optional).")
    Path bias;

    @Option(names = "--stride", paramLabel = "s", description = "int or comma list (default 1).")
    String stride = "1";

    @Option(names = "--padding", paramLabel = "p", description = "int or comma list (default 0).")
    String padding = "0";

    @Option(names = "--output-padding", paramLabel = "op", description = "int or comma list (default 0).")
    String outputPadding;

    @Option(names = "--dilation", paramLabel = "d", description = "int or comma list (default 1).")
    String dilation = "1";

    @Option(names = "--groups", paramLabel = "g", description = "Number of groups (default 1).")
    int groups = 1;

    @Option(names = "--output-size", paramLabel = "size",
        description = "Requested spatial output size (comma list), as PyTorch's forward(output_size=...).")
    String outputSize;

    Tensor inputTensor;
    Tensor weightTensor;
    Tensor biasTensor;

    /**
     * Reads the files and builds the layer as PyTorch's {@code F.conv_transpose{1,2,3}d} judges its arguments (and
     * the module's {@code forward(output_size=...)} for {@code --output-size}); every problem becomes an
     * IllegalArgumentException or IOException.
     */
    ConvTransposeLayer load() throws IOException {
        inputTensor = Npy.read(input);
        weightTensor = Npy.read(weight);
        biasTensor = bias == null ? null : Npy.read(bias);
        if (outputPadding != null && outputSize != null) {
            throw new IllegalArgumentException("--output-padding and --output-size are mutually exclusive");
        }
        ConvTransposeLayer layer = ConvTransposeLayer.functional(inputTensor.shape(), weightTensor.shape(),
            biasTensor == null ? null : biasTensor.shape(), ints("--stride", stride), ints("--padding", padding),
            ints("--output-padding", outputPadding == null ? "0" : outputPadding), groups,
            ints("--dilation", dilation));
        if (outputSize != null) {
            layer = layer.withOutputPadding(layer.outputPaddingFor(inputTensor.shape(), longs("--output-size", outputSize)));
        }
        layer.outputShape(inputTensor.shape()); // the output's size, judged last as PyTorch does
        return layer;
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
