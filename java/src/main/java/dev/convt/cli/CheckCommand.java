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

import java.io.IOException;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.concurrent.Callable;

@Command(name = "check", mixinStandardHelpOptions = true, versionProvider = ConvtCli.VersionProvider.class,
    description = "Run every available backend on the inputs and compare each with the Java reference; "
        + "exit 1 if any difference exceeds the tolerance.",
    footerHeading = "%nExample (exit code 0 when every backend agrees with the reference):%n",
    footer = {"  convt check --input x.npy --weight w.npy --bias b.npy --stride 2 \\",
              "      --padding 1"})
final class CheckCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    LayerOptions options;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        ConvertedLayer converted = options.load();
        ConvTransposeLayer layer = converted.layer();
        Tensor reference;
        try (CompiledConvTranspose ref = Backends.reference().compile(layer, options.weightTensor, options.biasTensor,
                options.layout)) {
            reference = ref.forward(options.inputTensor);
        }
        Tolerance tol = Tolerance.forLayer(layer);
        out.println("layer: " + layer + "  input " + Arrays.toString(options.inputTensor.shape()) + " -> output "
            + Arrays.toString(reference.shape()));
        out.println("tolerance: " + tol);
        boolean allOk = true;
        for (Backend backend : Backends.all()) {
            if (!backend.isAvailable()) {
                out.println(String.format("%-8s not available: %s", backend.id(), backend.unavailabilityCause()));
                continue;
            }
            String why = backend.unsupportedReason(layer);
            if (why != null) {
                out.println(String.format("%-8s cannot run this layer: %s", backend.id(), why));
                continue;
            }
            try (CompiledConvTranspose op = backend.compile(layer, options.weightTensor, options.biasTensor,
                    options.layout)) {
                Tensor got = op.forward(options.inputTensor);
                Tolerance.Report r = tol.compare(reference, got);
                allOk &= r.ok();
                out.println(String.format("%-8s max abs diff %.3e  max rel diff %.3e  %s  (%s)", backend.id(),
                    r.maxAbs(), r.maxRel(), r.ok() ? "OK" : "EXCEEDS TOLERANCE", op.implementation()));
            }
        }
        return allOk ? 0 : ConvtCli.EXIT_MISMATCH;
    }
}
