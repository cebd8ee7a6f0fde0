package dev.convt.cli;

import dev.convt.Backend;
import dev.convt.Backends;
import dev.convt.CompiledConvTranspose;
import dev.convt.ConvTransposeLayer;
import dev.convt.ConvertedLayer;
import dev.convt.Npy;
import dev.convt.Tensor;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;

@Command(name = "run", mixinStandardHelpOptions = true, versionProvider = ConvtCli.VersionProvider.class,
    description = "Run a transposed convolution on .npy files and write the result as .npy.",
    footerHeading = "%nExample (ConvTranspose2d(512, 256, 4, stride=2, padding=1) on oneDNN):%n",
    footer = {"  convt run --input x.npy --weight w.npy --bias b.npy --stride 2 --padding 1 \\",
              "      --backend onednn --verbose --output y.npy"},
    exitCodeListHeading = ConvtCli.EXIT_CODES_HEADING,
    exitCodeList = {ConvtCli.EXIT_CODE_0, ConvtCli.EXIT_CODE_2, ConvtCli.EXIT_CODE_3})
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

    @Option(names = {"-v", "--verbose"}, description = "Print the layer, the backend, why it was chosen, and its "
        + "implementation; on an unexpected failure, the stack trace.")
    boolean verbose;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        checkOutput();
        ConvertedLayer converted = options.load();
        ConvTransposeLayer layer = converted.layer();
        Backends.Selection selection = Backends.select(backend == null ? Backends.configured() : backend, layer);
        Tensor result;
        try (CompiledConvTranspose op = selection.backend().compile(layer, options.weightTensor, options.biasTensor,
                options.layout)) {
            result = Progress.around(spec.commandLine().getErr(), "running " + layer + " on " + op.backendId(),
                () -> op.forward(options.inputTensor));
            if (verbose) {
                out.println(layer.describe());
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

    /** Before any work: the output must be a file we may replace, and none of the inputs. */
    private void checkOutput() throws IOException {
        Npy.checkWritable(output);
        if (!Files.exists(output)) {
            return;
        }
        for (Path in : new Path[] {options.input, options.weight, options.bias}) {
            if (in != null && Files.exists(in) && Files.isSameFile(in, output)) {
                throw new IllegalArgumentException("--output " + output + " is the input file " + in
                    + "; name another file");
            }
        }
    }
}
