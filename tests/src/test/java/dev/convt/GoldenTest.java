package dev.convt;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** The seed vectors from PyTorch, exactly, on every backend. */
@Tag("java-kernels") // also run with the Vector API kernel (tests/pom.xml, execution java-vector-kernel)
class GoldenTest {

    static final float[] X = {1, 0, 1, 1, 0, 1, 0};

    @Test
    void conv1dOfTheSeedInput() {
        Tensor y = DirectConvolution.conv(Tensor.of(X, 1, 1, 7), Tensor.of(new float[] {1, 2, 3}, 1, 1, 3),
            new int[] {1}, new int[] {0}, new int[] {1}, 1, null);
        assertArrayEquals(new long[] {1, 1, 5}, y.shape());
        TestSupport.assertExactly(new float[] {4, 5, 3, 4, 2}, y);
    }

    @Test
    void seedVectorsOnEveryBackend() {
        TestSupport.assertOneDnnAvailableWhereRequired();
        ConvTransposeLayer functional = ConvTransposeLayer.builder(1).inChannels(1).outChannels(1).kernelSize(3)
            .bias(false).build();
        ConvTransposeLayer module = ConvTransposeLayer.builder(1).inChannels(1).outChannels(1).kernelSize(3).build();
        for (Backend b : Backends.all()) {
            if (!b.isAvailable()) {
                continue;
            }
            for (boolean direct : new boolean[] {false, true}) {
                Tensor x = Tensor.of(X, 1, 1, 7);
                if (direct) {
                    x = TestSupport.direct(x);
                }
                try (CompiledConvTranspose f = b.compile(functional, Tensor.of(new float[] {1, 2, 3}, 1, 1, 3), null);
                     CompiledConvTranspose m = b.compile(module, Tensor.of(new float[] {1, 2, 1}, 1, 1, 3),
                         Tensor.zeros(1))) {
                    Tensor y1 = f.forward(x);
                    assertArrayEquals(new long[] {1, 1, 9}, y1.shape(), b.id());
                    TestSupport.assertExactly(new float[] {1, 2, 4, 3, 5, 4, 2, 3, 0}, y1);
                    Tensor y2 = m.forward(x);
                    assertArrayEquals(new long[] {1, 1, 9}, y2.shape(), b.id());
                    TestSupport.assertExactly(new float[] {1, 2, 2, 3, 3, 2, 2, 1, 0}, y2);
                }
            }
        }
    }

    @Test
    void unbatchedInputGivesUnbatchedOutput() {
        ConvTransposeLayer layer = ConvTransposeLayer.builder(1).inChannels(1).outChannels(1).kernelSize(3)
            .bias(false).build();
        for (Backend b : Backends.all()) {
            if (!b.isAvailable()) {
                continue;
            }
            try (CompiledConvTranspose op = b.compile(layer, Tensor.of(new float[] {1, 2, 3}, 1, 1, 3), null)) {
                Tensor y = op.forward(Tensor.of(X, 1, 7));
                assertArrayEquals(new long[] {1, 9}, y.shape(), b.id());
                TestSupport.assertExactly(new float[] {1, 2, 4, 3, 5, 4, 2, 3, 0}, y);
            }
        }
    }
}
