package dev.convt.cli;

import dev.convt.Backend;
import dev.convt.Backends;
import dev.convt.CompiledConvTranspose;
import dev.convt.ConvTransposeLayer;
import dev.convt.DirectConvolution;
import dev.convt.Floats;
import dev.convt.Tensor;
import dev.convt.Version;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.concurrent.Callable;

@Command(name = "demo", mixinStandardHelpOptions = true, versionProvider = ConvtCli.VersionProvider.class,
    description = "The seed example: conv1d and conv_transpose1d of [1,0,1,1,0,1,0] on every available backend.",
    footerHeading = "%nExample:%n",
    footer = {"  convt demo        # the same as plain `convt`"})
final class DemoCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        return print(spec.commandLine().getOut());
    }

    int print(PrintWriter out) {
        float[] x = {1, 0, 1, 1, 0, 1, 0};
        Tensor input = Tensor.of(x, 1, 1, 7);
        out.println("convt " + Version.get() + ": transposed convolution with PyTorch semantics");
        out.println("input x = " + Floats.format(x) + "  shape [1, 1, 7]");
        out.println();

        Tensor w123 = Tensor.of(new float[] {1, 2, 3}, 1, 1, 3);
        Tensor conv = DirectConvolution.conv(input, w123, new int[] {1}, new int[] {0}, new int[] {1}, 1, null);
        out.println("[java conv1d]  F.conv1d(x, [1, 2, 3]) = " + Floats.format(conv.toArray())
            + "  shape " + Arrays.toString(conv.shape()));

        ConvTransposeLayer functional = ConvTransposeLayer.builder(1).inChannels(1).outChannels(1).kernelSize(3)
            .bias(false).build();
        ConvTransposeLayer module = ConvTransposeLayer.builder(1).inChannels(1).outChannels(1).kernelSize(3)
            .build();
        Tensor w121 = Tensor.of(new float[] {1, 2, 1}, 1, 1, 3);
        Tensor zeroBias = Tensor.zeros(1);
        for (Backend backend : Backends.all()) {
            if (!backend.isAvailable()) {
                out.println("[" + backend.id() + "]  not available: " + backend.unavailabilityCause());
                continue;
            }
            try (CompiledConvTranspose f = backend.compile(functional, w123, null);
                 CompiledConvTranspose m = backend.compile(module, w121, zeroBias)) {
                Tensor y1 = f.forward(input);
                out.println("[" + backend.id() + "]  F.conv_transpose1d(x, [1, 2, 3]) = "
                    + Floats.format(y1.toArray()) + "  shape " + Arrays.toString(y1.shape()));
                Tensor y2 = m.forward(input);
                out.println("[" + backend.id() + "]  ConvTranspose1d(1, 1, 3) with weight [1, 2, 1], bias 0 = "
                    + Floats.format(y2.toArray()) + "  shape " + Arrays.toString(y2.shape()));
            }
        }
        out.flush();
        return 0;
    }
}
