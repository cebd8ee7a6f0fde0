package dev.convt.cli;

import dev.convt.Backend;
import dev.convt.Backends;
import dev.convt.CompiledConvTranspose;
import dev.convt.ConvTransposeLayer;
import dev.convt.ConvertedLayer;
import dev.convt.Tensor;
import dev.convt.Tolerance;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "check", mixinStandardHelpOptions = true, versionProvider = ConvtCli.VersionProvider.class,
    description = "Run every available backend on the inputs and compare each with the reference; exit 1 if any "
        + "difference exceeds the tolerance, a backend fails, or no backend besides the reference could run.",
    footerHeading = "%nExample (exit code 0 when every backend agrees with the reference):%n",
    footer = {"  convt check --input x.npy --weight w.npy --bias b.npy --stride 2 \\",
              "      --padding 1"},
    exitCodeListHeading = ConvtCli.EXIT_CODES_HEADING,
    exitCodeList = {ConvtCli.EXIT_CODE_0, ConvtCli.EXIT_CODE_1, ConvtCli.EXIT_CODE_2, ConvtCli.EXIT_CODE_3})
final class CheckCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    LayerOptions options;

    @Option(names = {"-v", "--verbose"}, description = "Print the stack trace of a failing backend.")
    boolean verbose;

    /** The backends compared with the reference (all of them; tests substitute failing ones). */
    List<Backend> backends = Backends.all();

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        ConvertedLayer converted = options.load();
        ConvTransposeLayer layer = converted.layer();
        Backend oracle = Backends.reference();
        Tensor reference;
        String oracleImplementation;
        try (CompiledConvTranspose ref = oracle.compile(layer, options.weightTensor, options.biasTensor,
                options.layout)) {
            reference = Progress.around(spec.commandLine().getErr(), "running the reference",
                () -> ref.forward(options.inputTensor));
            oracleImplementation = ref.implementation();
        }
        Tolerance tol = Tolerance.forLayer(layer);
        out.println("layer: " + layer + "  input " + Arrays.toString(options.inputTensor.shape()) + " -> output "
            + Arrays.toString(reference.shape()));
        out.println("tolerance: " + tol);
        boolean allOk = true;
        int compared = 0;
        List<String> notRun = new ArrayList<>();
        for (Backend backend : backends) {
            if (backend.id().equals(oracle.id())) {
                out.println(String.format("%-9s the oracle every other row is compared with  (%s)", backend.id(),
                    oracleImplementation));
                continue;
            }
            if (!backend.isAvailable()) {
                out.println(String.format("%-9s not available: %s", backend.id(), backend.unavailabilityCause()));
                notRun.add(backend.id() + " is not available (" + backend.unavailabilityCause() + ")");
                continue;
            }
            String why = backend.unsupportedReason(layer);
            if (why != null) {
                out.println(String.format("%-9s cannot run this layer: %s", backend.id(), why));
                notRun.add(backend.id() + " cannot run this layer (" + why + ")");
                continue;
            }
            try (CompiledConvTranspose op = backend.compile(layer, options.weightTensor, options.biasTensor,
                    options.layout)) {
                Tensor got = Progress.around(spec.commandLine().getErr(), "running " + backend.id(),
                    () -> op.forward(options.inputTensor));
                Tolerance.Report r = tol.compare(reference, got);
                allOk &= r.ok();
                compared++;
                out.println(String.format("%-9s max abs diff %.3e  max rel diff %.3e  %s  (%s)", backend.id(),
                    r.maxAbs(), r.maxRel(), r.ok() ? "OK" : "EXCEEDS TOLERANCE", op.implementation()));
            } catch (RuntimeException | Error e) { // one failing backend is a verdict on it, not the end of the table
                allOk = false;
                compared++;
                out.println(String.format("%-9s FAILED: %s%s", backend.id(), e.getClass().getName(),
                    e.getMessage() == null ? "" : ": " + ConvtCli.firstLine(e.getMessage())));
                if (verbose) {
                    e.printStackTrace(spec.commandLine().getErr());
                }
            }
        }
        if (compared == 0) {
            out.println("no backend besides the reference could run: "
                + (notRun.isEmpty() ? "there is none" : String.join("; ", notRun)));
            return ConvtCli.EXIT_MISMATCH;
        }
        return allOk ? 0 : ConvtCli.EXIT_MISMATCH;
    }
}
