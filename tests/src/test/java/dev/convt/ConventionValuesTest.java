package dev.convt;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Values of converted layers: hand-computed vectors for pads PyTorch cannot express, every converted layer on every
 * backend against the reference, and an ONNX case and a Keras case equal to the PyTorch layer they should equal.
 */
class ConventionValuesTest {

    private static long[] s(long... v) {
        return v;
    }

    @Test
    void handComputedSameUpperGrowingAtTheStart() {
        // x = [1, 2], w = [1, 1] (k 2), stride 3, bias 10. natural = 3*1 + 2 = 5, SAME_UPPER target 6, total -1:
        // begin -1, end 0. Tap t of input x lands at o = 3x + 1 + t: x0 -> 1, 2; x1 -> 4, 5 (position 0 and 3: bias)
        ConvertedLayer spec = Onnx.convTranspose(new Onnx.Attributes().strides(3).autoPad("SAME_UPPER"), s(1, 1, 2),
            s(1, 1, 2), s(1));
        // ONNX Runtime: total clamped to 0, natural size 5, o = 3x + t
        ConvertedLayer ort = Onnx.convTranspose(new Onnx.Attributes().strides(3).autoPad("SAME_UPPER").ortCompat(true),
            s(1, 1, 2), s(1, 1, 2), s(1));
        Tensor x = Tensor.of(new float[] {1, 2}, 1, 1, 2);
        Tensor w = Tensor.of(new float[] {1, 1}, 1, 1, 2);
        Tensor b = Tensor.of(new float[] {10}, 1);
        for (Backend backend : runnable(spec.layer())) {
            try (CompiledConvTranspose op = spec.compile(backend, w, b)) {
                TestSupport.assertExactly(new float[] {10, 11, 11, 10, 12, 12}, op.forward(x));
            }
        }
        for (Backend backend : runnable(ort.layer())) {
            try (CompiledConvTranspose op = ort.compile(backend, w, b)) {
                TestSupport.assertExactly(new float[] {11, 11, 10, 12, 12}, op.forward(x));
            }
        }
    }

    @Test
    void handComputedKerasSameOddTotal() {
        // Conv1DTranspose(1, 3, strides=2, padding="same") on x = [1, 2, 3], kernel [1, 2, 3] (shape [3, 1, 1]):
        // out 6; natural (3-1)*2 + 3 = 7, TF SAME begin 0, end 1: o = 2x + t
        // x0: 0,1,2 += 1,2,3; x1: 2,3,4 += 2,4,6; x2: 4,5 += 3,6 (o = 6 is cropped)
        ConvertedLayer c = Keras.convTranspose(new Keras.Attributes().strides(2).padding("same"), s(1, 3, 1),
            s(3, 1, 1), null);
        for (Backend backend : runnable(c.layer())) {
            try (CompiledConvTranspose op = c.compile(backend, Tensor.of(new float[] {1, 2, 3}, 3, 1, 1), null)) {
                Tensor y = op.forward(Tensor.of(new float[] {1, 2, 3}, 1, 3, 1));
                assertArrayEquals(s(1, 6, 1), y.shape());
                TestSupport.assertExactly(new float[] {1, 2, 5, 4, 9, 6}, y);
            }
        }
    }

    /** Every converted case of the convention tests, on every backend that runs it, against the reference. */
    @Test
    void everyConvertedLayerOnEveryBackend() {
        Onnx.Attributes o = new Onnx.Attributes();
        List<ConvertedLayer> cases = List.of(
            Onnx.convTranspose(new Onnx.Attributes().strides(2).autoPad("SAME_UPPER"), s(2, 2, 5), s(2, 3, 3), s(3)),
            Onnx.convTranspose(new Onnx.Attributes().strides(2).autoPad("SAME_LOWER"), s(2, 2, 5), s(2, 3, 3), s(3)),
            Onnx.convTranspose(new Onnx.Attributes().strides(3).autoPad("SAME_UPPER"), s(1, 3, 4), s(3, 2, 2), s(2)),
            Onnx.convTranspose(new Onnx.Attributes().strides(3).autoPad("SAME_LOWER").ortCompat(true), s(1, 3, 4),
                s(3, 2, 2), null),
            Onnx.convTranspose(new Onnx.Attributes().strides(2, 2).outputShape(9, 12), s(2, 4, 3, 4), s(4, 1, 3, 3),
                s(1)),
            Onnx.convTranspose(new Onnx.Attributes().strides(2, 2).outputShape(9, 12).ortCompat(true), s(2, 4, 3, 4),
                s(4, 1, 3, 3), s(1)),
            Onnx.convTranspose(new Onnx.Attributes().strides(2).outputShape(9).autoPad("SAME_UPPER"), s(1, 2, 5),
                s(2, 2, 4), s(2)),
            Onnx.convTranspose(new Onnx.Attributes().strides(3).autoPad("VALID"), s(1, 2, 4), s(2, 2, 2), null),
            Onnx.convTranspose(new Onnx.Attributes().strides(1, 2).dilations(2, 1).outputPadding(1, 1).pads(1, 0, 2, 1),
                s(1, 2, 4, 5), s(2, 2, 3, 2), s(2)),
            Onnx.convTranspose(new Onnx.Attributes().strides(2, 2, 2).group(2).autoPad("SAME_UPPER"), s(1, 4, 3, 4, 5),
                s(4, 2, 2, 3, 4), s(4)),
            Onnx.convTranspose(o, s(1, 3, 6), s(3, 2, 3), s(2)),
            Keras.convTranspose(new Keras.Attributes().strides(2).padding("same"), s(2, 4, 4, 3), s(4, 4, 5, 3), s(5)),
            Keras.convTranspose(new Keras.Attributes().strides(2).padding("same").outputPadding(1), s(1, 4, 2),
                s(3, 3, 2), s(3)),
            Keras.convTranspose(new Keras.Attributes().strides(3), s(1, 4, 2), s(2, 3, 2), null),
            Keras.convTranspose(new Keras.Attributes().padding("same").dilationRate(2), s(1, 5, 5, 2), s(3, 3, 2, 2),
                s(2)),
            Keras.convTranspose(new Keras.Attributes().strides(1, 2, 3).dataFormat("channels_first"), s(2, 3, 3, 4, 5),
                s(2, 3, 1, 2, 3), s(2)),
            PyTorch.convTranspose(new PyTorch.Attributes().stride(2).padding(1).outputSize(10), s(2, 3, 5), s(3, 2, 3),
                s(2)));
        Random rnd = new Random(8);
        for (ConvertedLayer c : cases) {
            ConvTransposeLayer layer = c.layer();
            Tensor x = TestSupport.random(rnd, c.inputShape());
            Tensor w = TestSupport.random(rnd, c.weightShape());
            Tensor b = layer.bias() ? TestSupport.random(rnd, layer.outChannels()) : null;
            Tensor ref;
            try (CompiledConvTranspose op = c.compile(Backends.reference(), w, b)) {
                ref = op.forward(x);
            }
            assertArrayEquals(c.outputShape(), ref.shape(), c.toString());
            for (Backend backend : runnable(layer)) {
                try (CompiledConvTranspose op = c.compile(backend, w, b)) {
                    TestSupport.assertClose(layer, ref, op.forward(x), backend.id() + " on " + c);
                    TestSupport.assertClose(layer, ref, op.forward(TestSupport.direct(x)), backend.id() + " direct on " + c);
                }
            }
        }
    }

    @Test
    void onnxCaseEqualsThePyTorchLayer() {
        // ONNX SAME_LOWER, k 3, s 2, group 2 on in 5 (total 1 -> begin 1, end 0) is ConvTranspose1d(4, 6, 3,
        // stride=2, padding=1, output_padding=1, groups=2): the same layer, the same numbers on every backend.
        ConvertedLayer onnx = Onnx.convTranspose(new Onnx.Attributes().strides(2).group(2).autoPad("SAME_LOWER"),
            s(2, 4, 5), s(4, 3, 3), s(6));
        ConvTransposeLayer pt = ConvTransposeLayer.builder(1).inChannels(4).outChannels(6).kernelSize(3).stride(2)
            .padding(1).outputPadding(1).groups(2).build();
        assertEquals(pt, onnx.layer());
        Random rnd = new Random(3);
        Tensor x = TestSupport.random(rnd, 2, 4, 5);
        Tensor w = TestSupport.random(rnd, 4, 3, 3);
        Tensor b = TestSupport.random(rnd, 6);
        Tensor expected;
        try (CompiledConvTranspose op = Backends.reference().compile(pt, w, b)) {
            expected = op.forward(x);
        }
        assertArrayEquals(s(2, 6, 10), expected.shape());
        for (Backend backend : runnable(onnx.layer())) {
            try (CompiledConvTranspose op = onnx.compile(backend, w, b)) {
                TestSupport.assertClose(pt, expected, op.forward(x), backend.id());
            }
        }
    }

    @Test
    void kerasCaseEqualsThePyTorchLayer() {
        // Keras Conv2DTranspose(5, 4, strides=2, padding="same"), channels_last, kernel [4, 4, 5, 3], is
        // ConvTranspose2d(3, 5, 4, stride=2, padding=1) on the transposed tensors.
        ConvertedLayer keras = Keras.convTranspose(new Keras.Attributes().strides(2).padding("same"), s(2, 4, 3, 3),
            s(4, 4, 5, 3), s(5));
        ConvTransposeLayer pt = ConvTransposeLayer.builder(2).inChannels(3).outChannels(5).kernelSize(4).stride(2)
            .padding(1).build();
        assertEquals(pt, keras.layer());
        Random rnd = new Random(4);
        Tensor xNhwc = TestSupport.random(rnd, 2, 4, 3, 3);
        Tensor kernel = TestSupport.random(rnd, 4, 4, 5, 3);
        Tensor b = TestSupport.random(rnd, 5);
        // the PyTorch side, with the layouts converted by hand here (independently of WeightLayout)
        float[] wPt = new float[3 * 5 * 4 * 4];
        for (int kh = 0; kh < 4; kh++) {
            for (int kw = 0; kw < 4; kw++) {
                for (int co = 0; co < 5; co++) {
                    for (int ci = 0; ci < 3; ci++) {
                        wPt[((ci * 5 + co) * 4 + kh) * 4 + kw] = kernel.get(((kh * 4 + kw) * 5 + co) * 3 + ci);
                    }
                }
            }
        }
        Tensor xNchw = Layout.CHANNELS_LAST.convert(xNhwc, Layout.CHANNELS_FIRST, 2);
        Tensor expectedNchw;
        try (CompiledConvTranspose op = Backends.reference().compile(pt, Tensor.wrap(wPt, 3, 5, 4, 4), b)) {
            expectedNchw = op.forward(xNchw);
        }
        Tensor expected = Layout.CHANNELS_FIRST.convert(expectedNchw, Layout.CHANNELS_LAST, 2);
        assertArrayEquals(s(2, 8, 6, 5), expected.shape());
        for (Backend backend : runnable(keras.layer())) {
            try (CompiledConvTranspose op = keras.compile(backend, kernel, b)) {
                TestSupport.assertClose(pt, expected, op.forward(xNhwc), backend.id());
            }
        }
    }

    /**
     * oneDNN refuses a negative padding_l (an ONNX output growing at the start): its deconvolution routes compute the
     * natural extent shifted inside the output with the bias around it, and col2im takes the shift as it is.
     */
    @Test
    void oneDnnRunsAnOutputGrowingAtTheStartOnEveryRoute() {
        ConvTransposeLayer grows = Onnx.convTranspose(new Onnx.Attributes().strides(3).autoPad("SAME_UPPER"),
            s(1, 1, 4), s(1, 1, 2), s(1)).layer();
        assertEquals(-1, grows.padBegin(0));
        if (!Backends.onednn().isAvailable()) {
            return;
        }
        assertEquals(null, Backends.onednn().unsupportedReason(grows));
        Random rnd = new Random(3);
        Tensor w = TestSupport.random(rnd, grows.weightShape());
        Tensor bias = TestSupport.random(rnd, grows.outChannels()); // the positions no tap reaches get only B
        Tensor x = TestSupport.random(rnd, 2, 1, 4);
        Tensor expected;
        try (CompiledConvTranspose op = Backends.reference().compile(grows, w, bias)) {
            expected = op.forward(x);
        }
        for (String route : List.of("deconv-any", "deconv-plain", "matmul-col2im", "auto")) {
            try (CompiledConvTranspose op = dev.convt.onednn.OneDnnBackend.INSTANCE.compile(grows, w, bias,
                Layout.CHANNELS_FIRST, route)) {
                TestSupport.assertClose(grows, expected, op.forward(x), route + ": " + op.implementation());
            }
        }
    }

    /** The available backends; every one of them must run every valid layer. */
    static List<Backend> runnable(ConvTransposeLayer layer) {
        List<Backend> out = new java.util.ArrayList<>();
        for (Backend b : CrossBackendTest.available()) {
            String why = b.unsupportedReason(layer);
            assertEquals(null, why, b.id() + " declined " + layer);
            out.add(b);
        }
        assertNotNull(out);
        assertTrue(out.contains(Backends.reference()));
        return out;
    }
}
