package dev.convt;

import dev.convt.onednn.OneDnnBackend;
import dev.convt.purejava.JavaBackend;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every backend against the reference, lz4-java style: one suite, every implementation.
 *
 * <p>Tolerance ({@link Tolerance}): {@code max|got - ref| <= rtol * max(max|ref|, 1)} with
 * {@code rtol = max(1e-6, 4 * L * 2^-24)}, {@code L = inChannels/groups * prod(kernelSize)}.
 */
class CrossBackendTest {

    static final int CASES = 600;

    /**
     * Every available backend; for the Java backend, each of its kernels that loads (the plain one always, the Vector
     * API one when the JVM has {@code jdk.incubator.vector}), whichever {@code auto} picked.
     */
    static List<Backend> available() {
        TestSupport.assertOneDnnAvailableWhereRequired();
        List<Backend> out = new ArrayList<>();
        for (Backend b : Backends.all()) {
            if (b.isAvailable()) {
                out.add(b);
            }
            if (b instanceof JavaBackend) {
                for (String kernel : new String[] {"plain", "vector"}) {
                    JavaBackend k = ((JavaBackend) b).withKernel(kernel);
                    if (k.isAvailable() && !kernel.equals(((JavaBackend) b).kernel())) {
                        out.add(k);
                    }
                }
            }
        }
        return out;
    }

    @Test
    @Tag("java-kernels")
    void generatedConfigurations() {
        List<Backend> backends = available();
        RandomLayers gen = new RandomLayers(0xC0FFEEL, 7);
        Random rnd = new Random(42);
        int[] seen = new int[4];
        int depthwise = 0;
        int strideOneNegativePadEnd = 0;
        int stridedNegativePadEnd = 0;
        for (int c = 0; c < CASES; c++) {
            RandomLayers.Case cs = gen.next();
            checkCase(backends, cs.layer(), cs.inputShape(), rnd, c % 2 == 0,
                c % 3 == 0 ? Layout.CHANNELS_LAST : Layout.CHANNELS_FIRST);
            seen[cs.layer().rank()]++;
            if (cs.layer().groups() > 1 && cs.layer().groups() == cs.layer().inChannels()) {
                depthwise++;
            }
            boolean strideOne = false;
            boolean strided = false;
            for (int i = 0; i < cs.layer().rank(); i++) {
                if (cs.layer().padEnd(i) < 0) {
                    strideOne |= cs.layer().stride(i) == 1;
                    strided |= cs.layer().stride(i) > 1;
                }
            }
            strideOneNegativePadEnd += strideOne ? 1 : 0;
            stridedNegativePadEnd += strided && !strideOne ? 1 : 0;
        }
        // the generator must actually cover what the issue lists
        assertTrue(seen[1] > 100 && seen[2] > 100 && seen[3] > 100, "ranks covered");
        assertTrue(depthwise > 50, "depthwise covered: " + depthwise);
        assertTrue(strideOneNegativePadEnd > 10, "stride 1 with output_padding > padding: " + strideOneNegativePadEnd);
        // oneDNN takes these natively, with a negative padding_r: checked here against the reference
        assertTrue(stridedNegativePadEnd > 50, "stride > 1 with output_padding > padding: " + stridedNegativePadEnd);
    }

    /** The corner oneDNN refuses natively: stride 1, output padding above padding (allowed by dilation). */
    @Test
    @Tag("java-kernels")
    void strideOneOutputPaddingAbovePadding() {
        List<Backend> backends = available();
        Random rnd = new Random(1);
        if (Backends.onednn().isAvailable()) {
            ConvTransposeLayer l = ConvTransposeLayer.builder(1).inChannels(2).outChannels(3).kernelSize(3)
                .dilation(3).outputPadding(2).build();
            try (CompiledConvTranspose op = OneDnnBackend.INSTANCE.compile(l, Tensor.zeros(l.weightShape()),
                Tensor.zeros(3), Layout.CHANNELS_FIRST, "deconv-any")) {
                String impl = op.prepare(2, 2, 5);
                assertTrue(impl.endsWith("(+ bias outside the computed region)"), "the padding_r = 0 route: " + impl);
            }
            ConvTransposeLayer empty = ConvTransposeLayer.builder(3).inChannels(1).outChannels(1).kernelSize(1)
                .dilation(3).padding(1).outputPadding(2).build();
            try (CompiledConvTranspose op = OneDnnBackend.INSTANCE.compile(empty, Tensor.zeros(1, 1, 1, 1, 1),
                Tensor.of(new float[] {0.5f}, 1), Layout.CHANNELS_FIRST, "deconv-any")) {
                assertTrue(op.prepare(1, 1, 1, 1, 1).startsWith("deconv-any: bias-only"), op.implementation());
                TestSupport.assertExactly(new float[] {0.5f}, op.forward(Tensor.of(new float[] {7f}, 1, 1, 1, 1, 1)));
            }
        }
        checkCase(backends, ConvTransposeLayer.builder(1).inChannels(2).outChannels(3).kernelSize(3).dilation(3)
            .outputPadding(2).build(), new long[] {2, 2, 5}, rnd, true);
        checkCase(backends, ConvTransposeLayer.builder(2).inChannels(2).outChannels(2).kernelSize(2).dilation(2, 3)
            .padding(0, 1).outputPadding(1, 2).groups(2).build(), new long[] {1, 2, 4, 3}, rnd, false);
        checkCase(backends, ConvTransposeLayer.builder(3).inChannels(1).outChannels(1).kernelSize(1).dilation(3)
            .padding(1).outputPadding(2).bias(true).build(), new long[] {1, 1, 1, 1, 1}, rnd, true);
    }

    @Test
    @Tag("java-kernels")
    void dcganLayer() {
        List<Backend> backends = available();
        checkCase(backends, ConvTransposeLayer.builder(2).inChannels(512).outChannels(256).kernelSize(4).stride(2)
            .padding(1).build(), new long[] {8, 512, 4, 4}, new Random(8), true);
    }

    /**
     * Every shape of the benchmark list at batch 1, on every backend in both layouts (one reference run per shape:
     * the double-precision oracle needs seconds for the largest).
     */
    @Test
    void benchmarkShapesAtBatchOne() {
        List<Backend> backends = available();
        Random rnd = new Random(6);
        for (ShapeList.Shape s : ShapeList.builtIn().all()) {
            checkCase(backends, s.layer(), s.withBatch(1).inputShape(), rnd, true, Layout.values());
        }
    }

    static void checkCase(List<Backend> backends, ConvTransposeLayer layer, long[] inputShape, Random rnd,
                          boolean direct) {
        checkCase(backends, layer, inputShape, rnd, direct, Layout.CHANNELS_FIRST);
    }

    /**
     * The reference (channels-first) against every backend compiled for {@code layout}, fed the same values in
     * that layout.
     */
    static void checkCase(List<Backend> backends, ConvTransposeLayer layer, long[] inputShape, Random rnd,
                          boolean direct, Layout... layouts) {
        Tensor x = TestSupport.random(rnd, inputShape);
        Tensor w = TestSupport.random(rnd, layer.weightShape());
        Tensor b = layer.bias() ? TestSupport.random(rnd, layer.outChannels()) : null;
        Tensor ref;
        try (CompiledConvTranspose op = Backends.reference().compile(layer, w, b)) {
            ref = op.forward(x);
        }
        int rank = layer.rank();
        for (Layout layout : layouts) {
            Tensor xIn = Layout.CHANNELS_FIRST.convert(x, layout, rank);
            for (Backend backend : backends) {
                try (CompiledConvTranspose op = backend.compile(layer, w, b, layout)) {
                    Tensor got = layout.convert(op.forward(direct ? TestSupport.direct(xIn) : xIn),
                        Layout.CHANNELS_FIRST, rank);
                    TestSupport.assertClose(layer, ref, got, backend.id() + " (" + op.implementation() + ", " + layout
                        + ") on input " + java.util.Arrays.toString(inputShape));
                }
            }
        }
    }
}
