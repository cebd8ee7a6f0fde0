package dev.convt.cli;

import dev.convt.Backend;
import dev.convt.Backends;
import dev.convt.CompiledConvTranspose;
import dev.convt.ConvTransposeLayer;
import dev.convt.Tensor;
import dev.convt.Version;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "info", mixinStandardHelpOptions = true, versionProvider = ConvtCli.VersionProvider.class,
    description = "Version, backends with their availability (and the cause when unavailable).",
    footerHeading = "%nExample:%n",
    footer = {"  convt info        # which backend auto takes, and oneDNN's kernel"})
final class InfoCommand implements Callable<Integer> {
    /** The DCGAN-style layer that {@code info} asks each backend about. */
    static final ConvTransposeLayer SAMPLE_LAYER = ConvTransposeLayer.builder(2).inChannels(512).outChannels(256)
        .kernelSize(4).stride(2).padding(1).build();
    static final long[] SAMPLE_INPUT = {8, 512, 4, 4};

    static String sampleImplementation(Backend b) {
        String why = b.unsupportedReason(SAMPLE_LAYER);
        if (why != null) {
            return "nothing: " + why;
        }
        try (CompiledConvTranspose op = b.compile(SAMPLE_LAYER, Tensor.zeros(SAMPLE_LAYER.weightShape()),
            Tensor.zeros(SAMPLE_LAYER.outChannels()))) {
            return op.prepare(SAMPLE_INPUT);
        }
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        out.println("convt " + Version.get());
        out.println("java " + System.getProperty("java.version") + " on " + System.getProperty("os.name") + " "
            + System.getProperty("os.arch"));
        out.println("backend selection: " + Backends.configured() + " (-D" + Backends.PROPERTY + " or "
            + Backends.ENV + ")");
        List<Backend> all = Backends.all();
        for (Backend b : all) {
            if (b.isAvailable()) {
                out.println(String.format("  %-9s available   %s", b.id(), b.describe()));
                out.println(String.format("  %-9s %s on input %s runs %s", "", SAMPLE_LAYER,
                    Arrays.toString(SAMPLE_INPUT), sampleImplementation(b)));
            } else {
                out.println(String.format("  %-9s unavailable: %s", b.id(), b.unavailabilityCause()));
            }
        }
        return 0;
    }
}
