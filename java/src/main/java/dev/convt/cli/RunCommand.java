package dev.convt.cli;

import dev.convt.Backend;
import dev.convt.Backends;
import dev.convt.CompiledConvTranspose;
import dev.convt.ConvTransposeLayer;
import dev.convt.Npy;
import dev.convt.Tensor;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;

@Command(name = "run", mixinStandardHelpOptions = true,
    description = "Run a transposed convolution on .npy files and write the result as .npy.")
final class RunCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    LayerOptions options;

    @Option(names = "--backend", paramLabel = "auto|reference|java|onednn",
        description = "Backend (default: -Dconvt.backend, else CONVT_BACKEND, else auto).")
    String backend;

    @Option(names = "--output", required = true, paramLabel = "Y.npy", description = "Where to write the output.")
    Path output;

    @Option(names = {"-v", "--verbose"}, description = "Print the layer, the backend, why it was chosen, and its implementation.")
    boolean verbose;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        ConvTransposeLayer layer = options.load();
        Backends.Selection selection = Backends.select(backend == null ? Backends.configured() : backend, layer);
        Tensor result;
        try (CompiledConvTranspose op = selection.backend().compile(layer, options.weightTensor, options.biasTensor)) {
            result = op.forward(options.inputTensor);
            if (verbose) {
                out.println("layer: " + layer);
                out.println("backend: " + selection);
                out.println("implementation: " + op.implementation());
            }
        }
        Npy.write(output, result);
        if (verbose) {
            out.println("wrote " + output + " " + Arrays.toString(result.shape()));
        }
        return 0;
    }
}
