package dev.convt;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every backend, in both layouts, heap and direct, against outputs real PyTorch computed (libtorch 2.7.1 through
 * the JavaCPP Presets; cases.tsv and the .npy files next to it, written by pytorch-golden's generator).
 */
class PyTorchGoldenTest {

    @Test
    void everyBackendMatchesPyTorch() {
        TestSupport.assertOneDnnAvailableWhereRequired();
        List<String[]> cases = PyTorchFiles.rows("cases.tsv");
        assertTrue(cases.size() >= 10, cases.size() + " cases");
        List<ConvTransposeLayer> layers = new ArrayList<>();
        int compared = 0;
        for (String[] c : cases) {
            String name = c[0];
            Tensor x = PyTorchFiles.read(name + ".x.npy");
            Tensor w = PyTorchFiles.read(name + ".w.npy");
            Tensor b = PyTorchFiles.read(name + ".b.npy");
            Tensor y = PyTorchFiles.read(name + ".y.npy");
            ConvTransposeLayer layer = ConvTransposeLayer.functional(x.shape(), w.shape(), b == null ? null : b.shape(),
                PyTorchFiles.ints(c[1]), PyTorchFiles.ints(c[2]), PyTorchFiles.ints(c[3]), Integer.parseInt(c[4]),
                PyTorchFiles.ints(c[5]));
            layers.add(layer);
            assertArrayEquals(y.shape(), layer.outputShape(x.shape()), name + ": PyTorch's output shape");
            int rank = layer.rank();
            for (Backend backend : CrossBackendTest.available()) {
                for (Layout layout : Layout.values()) {
                    Tensor xIn = Layout.CHANNELS_FIRST.convert(x, layout, rank);
                    for (boolean direct : new boolean[] {false, true}) {
                        try (CompiledConvTranspose op = backend.compile(layer, w, b, layout)) {
                            Tensor got = op.forward(direct ? TestSupport.direct(xIn) : xIn);
                            Tensor gotFirst = layout.convert(got, Layout.CHANNELS_FIRST, rank);
                            TestSupport.assertClose(layer, y, gotFirst, name + " on " + backend.id() + " ("
                                + op.implementation() + ", " + layout + (direct ? ", direct" : ", heap") + ")");
                            compared++;
                        }
                    }
                }
            }
        }
        assertEquals(cases.size() * CrossBackendTest.available().size() * 4, compared);
        // what the golden set covers
        assertTrue(layers.stream().anyMatch(l -> l.rank() == 2) && layers.stream().anyMatch(l -> l.rank() == 3));
        assertTrue(layers.stream().anyMatch(l -> Arrays.stream(l.stride()).anyMatch(s -> s > 1)), "stride");
        assertTrue(layers.stream().anyMatch(l -> Arrays.stream(l.padding()).anyMatch(p -> p > 0)), "padding");
        assertTrue(layers.stream().anyMatch(l -> Arrays.stream(l.outputPadding()).anyMatch(p -> p > 0)),
            "output padding");
        assertTrue(layers.stream().anyMatch(l -> Arrays.stream(l.dilation()).anyMatch(d -> d > 1)), "dilation");
        assertTrue(layers.stream().anyMatch(l -> l.groups() > 1 && l.rank() == 3), "groups in 3d");
        assertTrue(layers.stream().anyMatch(ConvTransposeLayer::bias)
            && layers.stream().anyMatch(l -> !l.bias()), "with and without bias");
        assertTrue(layers.stream().anyMatch(l -> {
            for (int i = 0; i < l.rank(); i++) {
                if (l.padEnd(i) < 0) {
                    return true;
                }
            }
            return false;
        }), "output padding beyond the padding (oneDNN's negative padding_r)");
    }
}
