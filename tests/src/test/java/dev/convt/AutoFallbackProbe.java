package dev.convt;

import java.util.Arrays;

/**
 * Run in a child JVM by {@link NativeAbsentTest}: selects and runs {@code auto} twice, as a server compiling two
 * layers would, and prints what ran.
 */
public final class AutoFallbackProbe {
    public static void main(String[] args) {
        ConvTransposeLayer layer = ConvTransposeLayer.builder(1).inChannels(1).outChannels(1).kernelSize(3)
            .bias(false).build();
        for (int i = 0; i < 2; i++) {
            Backends.Selection s = Backends.select("auto", layer);
            try (CompiledConvTranspose op = s.backend().compile(layer, Tensor.of(new float[] {1, 2, 3}, 1, 1, 3),
                null)) {
                Tensor y = op.forward(Tensor.of(new float[] {1, 0, 1, 1, 0, 1, 0}, 1, 1, 7));
                System.out.println(s.backend().id() + " " + Arrays.toString(y.toArray()));
            }
        }
    }
}
