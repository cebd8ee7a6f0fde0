package dev.convt.cli;

import dev.convt.ConvTransposeLayer;
import dev.convt.Npy;
import dev.convt.Tensor;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

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

    /** Reads the files and builds the layer; every problem becomes an IllegalArgumentException or IOException. */
    ConvTransposeLayer load() throws IOException {
        inputTensor = Npy.read(input);
        weightTensor = Npy.read(weight);
        biasTensor = bias == null ? null : Npy.read(bias);
        int rank = weightTensor.rank() - 2;
        if (rank < 1 || rank > 3) {
            throw new IllegalArgumentException("weight must have 3, 4 or 5 dimensions ([in_channels, "
                + "out_channels/groups, *kernel_size]), but got weight of size "
                + Arrays.toString(weightTensor.shape()));
        }
        if (outputPadding != null && outputSize != null) {
            throw new IllegalArgumentException("--output-padding and --output-size are mutually exclusive");
        }
        int[] kernel = new int[rank];
        for (int i = 0; i < rank; i++) {
            kernel[i] = toInt("kernel_size", weightTensor.dim(2 + i));
        }
        ConvTransposeLayer layer = ConvTransposeLayer.builder(rank)
            .inChannels(toInt("in_channels", weightTensor.dim(0)))
            .outChannels(toInt("out_channels", weightTensor.dim(1) * groups))
            .kernelSize(kernel)
            .stride(ints("--stride", stride))
            .padding(ints("--padding", padding))
            .outputPadding(ints("--output-padding", outputPadding == null ? "0" : outputPadding))
            .dilation(ints("--dilation", dilation))
            .groups(groups)
            .bias(biasTensor != null)
            .build();
        if (outputSize != null) {
            layer = layer.withOutputPadding(layer.outputPaddingFor(inputTensor.shape(), longs("--output-size", outputSize)));
        }
        layer.outputShape(inputTensor.shape()); // validates the input before any backend sees it
        return layer;
    }

    private static int toInt(String name, long v) {
        if (v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(name + " " + v + " is too large");
        }
        return (int) v;
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
