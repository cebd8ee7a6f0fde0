package dev.convt.onednn;

import dev.convt.Backends;
import dev.convt.CompiledConvTranspose;
import dev.convt.ConvTransposeLayer;
import dev.convt.Layout;
import dev.convt.Tensor;
import dev.convt.Tolerance;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static dev.convt.TestSupport.random;
import static dev.convt.TestSupport.direct;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Opaque tensors ({@link OneDnnTensor}) and the oneDNN op's keep-layout calls: chains of ops without reorders, the
 * explicit conversions, validation, life cycle, native memory.
 */
class OneDnnTensorTest {

    /** DCGAN-like: ConvTranspose2d(32, 16, 4, stride=2, padding=1), then (16, 8, 4, 2, 1): channels in blocks of 8. */
    static final ConvTransposeLayer G1 = ConvTransposeLayer.builder(2).inChannels(32).outChannels(16).kernelSize(4)
        .stride(2).padding(1).build();
    static final ConvTransposeLayer G2 = ConvTransposeLayer.builder(2).inChannels(16).outChannels(8).kernelSize(4)
        .stride(2).padding(1).build();

    @BeforeEach
    void requireOneDnn() {
        boolean linuxX64 = System.getProperty("os.name").toLowerCase().contains("linux")
            && System.getProperty("os.arch").equals("amd64");
        assertTrue(!linuxX64 || Backends.onednn().isAvailable(), "oneDNN must load on linux-x86_64");
        org.junit.jupiter.api.Assumptions.assumeTrue(Backends.onednn().isAvailable(), "no oneDNN natives here");
    }

    private static OneDnnOp compile(ConvTransposeLayer layer, Random rnd, Layout layout, String route) {
        return OneDnnBackend.INSTANCE.compile(layer, random(rnd, layer.weightShape()),
            layer.bias() ? random(rnd, layer.outChannels()) : null, layout, route);
    }

    /** Bitwise equality, element by element, with the first difference in the message. */
    private static void assertSameValues(Tensor expected, Tensor got, String what) {
        assertArrayEquals(expected.shape(), got.shape(), what + ": shape");
        for (int i = 0; i < expected.elementCount(); i++) {
            if (Float.floatToIntBits(expected.get(i)) != Float.floatToIntBits(got.get(i))) {
                assertEquals(expected.get(i), got.get(i), what + ": element " + i);
            }
        }
    }

    private static void assertWithinTolerance(ConvTransposeLayer layer, Tensor ref, Tensor got, String what) {
        Tolerance.Report r = Tolerance.forLayer(layer).compare(ref, got);
        assertTrue(r.ok(), () -> what + ": max abs diff " + r.maxAbs() + " > " + r.allowedAbs());
    }

    // ---- chains ----

    @Test
    void aChainOfTwoDeconvAnyOpsReadsTheIntermediateInPlace() {
        Random rnd = new Random(1);
        Tensor w1 = random(rnd, G1.weightShape());
        Tensor b1 = random(rnd, 16);
        Tensor w2 = random(rnd, G2.weightShape());
        Tensor b2 = random(rnd, 8);
        Tensor x = random(rnd, 2, 32, 4, 4);
        try (OneDnnOp first = OneDnnBackend.INSTANCE.compile(G1, w1, b1, Layout.CHANNELS_FIRST, "deconv-any");
             OneDnnOp second = OneDnnBackend.INSTANCE.compile(G2, w2, b2, Layout.CHANNELS_FIRST, "deconv-any");
             OneDnnOp secondPlain = OneDnnBackend.INSTANCE.compile(G2, w2, b2, Layout.CHANNELS_FIRST, "deconv-plain");
             CompiledConvTranspose ref1 = Backends.reference().compile(G1, w1, b1);
             CompiledConvTranspose ref2 = Backends.reference().compile(G2, w2, b2)) {
            // the plain chain, through Tensors: reorders around each primitive
            Tensor hPlain = first.forward(x);
            Tensor yPlain = second.forward(hPlain);

            try (OneDnnTensor h = first.forwardKeepLayout(x)) {
                assertArrayEquals(new long[] {2, 16, 8, 8}, h.shape());
                assertEquals(Layout.CHANNELS_FIRST, h.layout());
                // not NCHW: oneDNN's strided deconvolution writes nhwc with AVX2 (blocked layouts elsewhere)
                assertFalse(h.isPlain(), "deconv-any's output layout: " + h.layoutDescription());
                assertNotEquals("nchw", h.layoutDescription());
                assertSameValues(hPlain, h.toTensor(), "intermediate");
                assertWithinTolerance(G1, ref1.forward(x), h.toTensor(), "intermediate vs reference");

                // the second op reads the first's layout in place: no source reorder ran
                assertFalse(second.reordersInput(h), "second op wants " + h.layoutDescription());
                long before = second.inputReorders();
                Tensor y = Tensor.allocateDirect(second.outputShape(h.shape()));
                second.forward(h, y);
                Tensor yHeap = Tensor.zeros(y.shape());
                second.forward(h, yHeap);
                assertEquals(before, second.inputReorders(), "source reorders by the second op");
                assertSameValues(yPlain, y, "chained output (direct)");
                assertSameValues(yPlain, yHeap, "chained output (heap)");
                assertWithinTolerance(G2, ref2.forward(h.toTensor()), y, "chained output vs reference");

                // both keep-layout: the output stays blocked too
                try (OneDnnTensor y2 = second.forwardKeepLayout(h)) {
                    assertEquals(before, second.inputReorders());
                    assertFalse(y2.isPlain(), y2.layoutDescription());
                    assertSameValues(yPlain, y2.toTensor(), "both kept");
                }

                // a plain-layout route reorders the blocked input once, into its own buffer
                assertTrue(secondPlain.reordersInput(h));
                long plainBefore = secondPlain.inputReorders();
                Tensor yp = secondPlain.forward(h);
                assertEquals(plainBefore + 1, secondPlain.inputReorders(), "source reorders by deconv-plain");
                assertSameValues(secondPlain.forward(hPlain), yp, "deconv-plain from the opaque input");
                assertWithinTolerance(G2, ref2.forward(h.toTensor()), yp, "deconv-plain vs reference");
                try (OneDnnTensor kept = secondPlain.forwardKeepLayout(h)) {
                    assertEquals(plainBefore + 2, secondPlain.inputReorders());
                    assertTrue(kept.isPlain(), "deconv-plain writes the plain layout: " + kept.layoutDescription());
                    assertEquals("nchw", kept.layoutDescription());
                    assertSameValues(yp, kept.toTensor(), "deconv-plain kept");
                }
            }
        }
    }

    /** Stride 1, 3x3 (a refinement layer): oneDNN's direct kernels keep the channels in blocks, 2d and 3d. */
    @Test
    void aBlockedIntermediateIsReadInPlace() {
        Random rnd = new Random(16);
        boolean x64 = System.getProperty("os.arch").equals("amd64");
        for (int rank = 2; rank <= 3; rank++) {
            ConvTransposeLayer a = ConvTransposeLayer.builder(rank).inChannels(16).outChannels(16).kernelSize(3)
                .padding(1).build();
            ConvTransposeLayer b = ConvTransposeLayer.builder(rank).inChannels(16).outChannels(8).kernelSize(3)
                .padding(1).build();
            long[] shape = rank == 2 ? new long[] {2, 16, 8, 8} : new long[] {2, 16, 4, 4, 4};
            Tensor x = random(rnd, shape);
            Tensor wb = random(rnd, b.weightShape());
            Tensor bb = random(rnd, 8);
            try (OneDnnOp first = compile(a, rnd, Layout.CHANNELS_FIRST, "deconv-any");
                 OneDnnOp second = OneDnnBackend.INSTANCE.compile(b, wb, bb, Layout.CHANNELS_FIRST, "deconv-any");
                 OneDnnOp third = OneDnnBackend.INSTANCE.compile(b, wb, bb, Layout.CHANNELS_LAST, "deconv-any");
                 OneDnnTensor h = first.forwardKeepLayout(x)) {
                String format = h.layoutDescription();
                if (x64) { // nChw8c with AVX2, nChw16c with AVX-512
                    assertTrue(format.matches(rank == 2 ? "nChw(8|16)c" : "nCdhw(8|16)c"), format);
                }
                assertFalse(h.isPlain(), format);
                assertFalse(second.reordersInput(h), format);
                long before = second.inputReorders();
                Tensor y = second.forward(h);
                try (OneDnnTensor kept = second.forwardKeepLayout(h)) {
                    assertEquals(before, second.inputReorders(), "source reorders of " + format);
                    assertSameValues(y, kept.toTensor(), "kept " + format);
                }
                assertSameValues(second.forward(first.forward(x)), y, "plain chain " + format);
                // a channels-last op of the same layer reads the same blocked layout in place
                assertFalse(third.reordersInput(h), format);
                Tensor yLast = third.forward(h);
                assertSameValues(Layout.CHANNELS_FIRST.convert(y, Layout.CHANNELS_LAST, rank), yLast,
                    "channels-last op from " + format);
            }
        }
    }

    @Test
    void aPlainOpaqueTensorFeedsAPlainRouteInPlace() {
        Random rnd = new Random(2);
        ConvTransposeLayer l3 = ConvTransposeLayer.builder(2).inChannels(8).outChannels(4).kernelSize(3).build();
        try (OneDnnOp plain = compile(G2, rnd, Layout.CHANNELS_FIRST, "deconv-plain");
             OneDnnOp col2im = compile(l3, rnd, Layout.CHANNELS_FIRST, "matmul-col2im");
             OneDnnOp any = compile(l3, rnd, Layout.CHANNELS_FIRST, "deconv-any")) {
            Tensor x = random(rnd, 2, 16, 5, 5);
            try (OneDnnTensor h = plain.forwardKeepLayout(x)) {
                assertTrue(h.isPlain());
                assertFalse(col2im.reordersInput(h));
                long before = col2im.inputReorders();
                Tensor y = col2im.forward(h);
                assertEquals(before, col2im.inputReorders(), "a plain input is read in place by a plain route");
                assertSameValues(col2im.forward(h.toTensor()), y, "col2im from a plain opaque tensor");
                // deconv-any reorders it when oneDNN prefers another layout, and says so
                long anyBefore = any.inputReorders();
                boolean reorders = any.reordersInput(h);
                assertSameValues(any.forward(h.toTensor()), any.forward(h), "deconv-any from a plain opaque tensor");
                assertEquals(anyBefore + (reorders ? 1 : 0), any.inputReorders());
            }
        }
    }

    @Test
    void aChannelsLastOutputFeedsAChannelsFirstOp() {
        Random rnd = new Random(3);
        Tensor w1 = random(rnd, G1.weightShape());
        Tensor w2 = random(rnd, G2.weightShape());
        Tensor x = random(rnd, 1, 4, 4, 32); // NHWC
        try (OneDnnOp first = OneDnnBackend.INSTANCE.compile(G1, w1, random(rnd, 16), Layout.CHANNELS_LAST,
                 "deconv-any");
             OneDnnOp second = OneDnnBackend.INSTANCE.compile(G2, w2, random(rnd, 8), Layout.CHANNELS_FIRST,
                 "deconv-any");
             OneDnnTensor h = first.forwardKeepLayout(x)) {
            assertArrayEquals(new long[] {1, 8, 8, 16}, h.shape());
            Tensor hFirst = Layout.CHANNELS_LAST.convert(first.forward(x), Layout.CHANNELS_FIRST, 2);
            assertArrayEquals(new long[] {1, 8, 16, 16}, second.outputShape(hFirst));
            assertSameValues(second.forward(hFirst), second.forward(h), "channels-last into channels-first");
        }
    }

    // ---- explicit conversions ----

    @Test
    void toTensorAndCopyToEqualForwardOnEveryRouteRankAndLayout() {
        Random rnd = new Random(4);
        List<ConvTransposeLayer> layers = List.of(
            ConvTransposeLayer.builder(1).inChannels(8).outChannels(16).kernelSize(4).stride(2).padding(1).build(),
            ConvTransposeLayer.builder(2).inChannels(16).outChannels(8).kernelSize(3).stride(2).padding(1)
                .outputPadding(1).build(),
            ConvTransposeLayer.builder(3).inChannels(8).outChannels(8).kernelSize(2).stride(2).build(),
            // 1x1 input, kernel == stride, dilation: the matrix-product routes
            ConvTransposeLayer.builder(2).inChannels(6).outChannels(5).kernelSize(2).stride(2).bias(false).build(),
            ConvTransposeLayer.builder(1).inChannels(3).outChannels(4).kernelSize(3).dilation(2).build(),
            // output padding past the padding at stride 1: oneDNN refuses it, deconv computes a sub-box
            ConvTransposeLayer.builder(2).inChannels(8).outChannels(8).kernelSize(3).dilation(2).outputPadding(1)
                .build());
        int[] checked = new int[1];
        int[] boxes = new int[1];
        List<String> routes = new ArrayList<>(OneDnnBackend.routeIds());
        routes.add("auto");
        for (ConvTransposeLayer layer : layers) {
            int r = layer.rank();
            long[] cf = new long[r + 2];
            cf[0] = 2;
            cf[1] = layer.inChannels();
            for (int i = 0; i < r; i++) {
                cf[2 + i] = 3 + i;
            }
            for (Layout layout : Layout.values()) {
                for (String route : routes) {
                    for (long[] shape : new long[][] {layout.fromChannelsFirst(cf, r),
                        Arrays.copyOfRange(layout.fromChannelsFirst(cf, r), 1, r + 2)}) { // batched, unbatched
                        try (OneDnnOp op = compile(layer, rnd, layout, route)) {
                            Tensor x = random(rnd, shape);
                            Tensor expected;
                            try {
                                expected = op.forward(x);
                            } catch (UnsupportedOperationException notApplicable) {
                                continue;
                            }
                            String what = route + " " + layout + " " + layer + " " + Arrays.toString(shape);
                            try (OneDnnTensor h = op.forwardKeepLayout(direct(x))) {
                                assertArrayEquals(expected.shape(), h.shape(), what);
                                assertSameValues(expected, h.toTensor(), what + " toTensor");
                                Tensor heap = Tensor.zeros(expected.shape());
                                h.copyTo(heap);
                                assertSameValues(expected, heap, what + " copyTo heap");
                                Tensor dir = Tensor.allocateDirect(expected.shape());
                                h.copyTo(dir);
                                assertSameValues(expected, dir, what + " copyTo direct");
                                if (!op.implementation().startsWith("deconv")
                                    || op.implementation().contains("bias outside the computed region")) {
                                    // plain routes, and deconvolution computing a sub-box: a plain output
                                    assertTrue(h.isPlain(), what + ": " + h.layoutDescription());
                                }
                                boxes[0] += op.implementation().contains("bias outside") ? 1 : 0;
                                checked[0]++;
                            }
                            try (OneDnnTensor h = op.forwardKeepLayout(x)) { // heap input
                                assertSameValues(expected, h.toTensor(), what + " from heap");
                            }
                        }
                    }
                }
            }
        }
        assertTrue(checked[0] >= 100, "cases checked: " + checked[0]);
        assertTrue(boxes[0] >= 4, "sub-box cases: " + boxes[0]);
    }

    @Test
    void anEmptyBatchGivesAnEmptyTensor() {
        Random rnd = new Random(5);
        try (OneDnnOp op = compile(G1, rnd, Layout.CHANNELS_FIRST, "deconv-any");
             OneDnnTensor h = op.forwardKeepLayout(Tensor.zeros(0, 32, 4, 4))) {
            assertArrayEquals(new long[] {0, 16, 8, 8}, h.shape());
            assertEquals(0, h.toTensor().elementCount());
            try (OneDnnOp next = compile(G2, rnd, Layout.CHANNELS_FIRST, "deconv-any");
                 OneDnnTensor y = next.forwardKeepLayout(h)) {
                assertArrayEquals(new long[] {0, 8, 16, 16}, y.shape());
                assertFalse(next.reordersInput(h));
                assertEquals(0, next.forward(h).elementCount());
            }
        }
    }

    @Test
    void theOutputOutlivesItsOp() {
        Random rnd = new Random(6);
        Tensor x = random(rnd, 1, 32, 4, 4);
        OneDnnOp op = compile(G1, rnd, Layout.CHANNELS_FIRST, "deconv-any");
        Tensor expected = op.forward(x);
        try (OneDnnTensor h = op.forwardKeepLayout(x)) {
            op.close();
            assertSameValues(expected, h.toTensor(), "after the op closed");
        }
    }

    @Test
    void severalThreadsReadOneTensor() throws Exception {
        Random rnd = new Random(7);
        try (OneDnnOp first = compile(G1, rnd, Layout.CHANNELS_FIRST, "deconv-any");
             OneDnnOp second = compile(G2, rnd, Layout.CHANNELS_FIRST, "deconv-any");
             OneDnnOp plain = compile(G2, rnd, Layout.CHANNELS_FIRST, "deconv-plain");
             OneDnnTensor h = first.forwardKeepLayout(random(rnd, 2, 32, 4, 4))) {
            Tensor expected = second.forward(h);
            Tensor expectedPlain = plain.forward(h);
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> runs = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    runs.add(pool.submit(() -> {
                        for (int i = 0; i < 20; i++) {
                            assertSameValues(expected, second.forward(h), "thread");
                            assertSameValues(expectedPlain, plain.forward(h), "thread, reordered");
                            try (OneDnnTensor y = second.forwardKeepLayout(h)) {
                                assertSameValues(expected, y.toTensor(), "thread, kept");
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : runs) {
                    f.get();
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    // ---- validation and life cycle ----

    @Test
    void aTensorOfTheWrongShapeIsRefusedWithForwardsMessage() {
        Random rnd = new Random(8);
        try (OneDnnOp first = compile(G1, rnd, Layout.CHANNELS_FIRST, "deconv-any");
             OneDnnOp sameAsFirst = compile(G1, rnd, Layout.CHANNELS_FIRST, "deconv-any");
             OneDnnTensor h = first.forwardKeepLayout(random(rnd, 1, 32, 4, 4))) {
            // G1 takes 32 channels, h has 16: the text forward(Tensor) gives for a tensor of h's shape
            String expected = assertThrows(IllegalArgumentException.class,
                () -> sameAsFirst.forward(Tensor.zeros(h.shape()))).getMessage();
            for (Executable call : List.<Executable>of(() -> sameAsFirst.forward(h),
                () -> sameAsFirst.forward(h, Tensor.zeros(1, 16, 16, 16)), () -> sameAsFirst.forwardKeepLayout(h),
                () -> sameAsFirst.reordersInput(h))) {
                assertEquals(expected, assertThrows(IllegalArgumentException.class, call).getMessage());
            }
            ConvTransposeLayer oneD = ConvTransposeLayer.builder(1).inChannels(16).outChannels(4).kernelSize(3).build();
            try (OneDnnOp op1d = compile(oneD, rnd, Layout.CHANNELS_FIRST, "deconv-any")) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> op1d.forward(h));
                assertTrue(e.getMessage().contains("is the output of a 2d op, but ConvTranspose1d"), e.getMessage());
            }
        }
    }

    @Test
    void aWrongOutputIsRefused() {
        Random rnd = new Random(9);
        try (OneDnnOp first = compile(G1, rnd, Layout.CHANNELS_FIRST, "deconv-any");
             OneDnnOp second = compile(G2, rnd, Layout.CHANNELS_FIRST, "deconv-any");
             OneDnnTensor h = first.forwardKeepLayout(random(rnd, 1, 32, 4, 4))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> second.forward(h, Tensor.zeros(1, 8, 16, 15)));
            assertEquals("output should be of size [1, 8, 16, 16] for input of size [1, 16, 8, 8], but got output of "
                + "size [1, 8, 16, 15]", e.getMessage());
            Tensor readOnly = Tensor.wrap(java.nio.FloatBuffer.wrap(new float[8 * 256]).asReadOnlyBuffer(), 1, 8, 16, 16);
            assertEquals("output tensor is read-only", assertThrows(IllegalArgumentException.class,
                () -> second.forward(h, readOnly)).getMessage());
            assertEquals("dst should be of size [1, 16, 8, 8] (this OneDnnTensor's shape, NCHW), but got dst of size "
                + "[1, 8, 8, 16]", assertThrows(IllegalArgumentException.class,
                () -> h.copyTo(Tensor.zeros(1, 8, 8, 16))).getMessage());
            assertEquals("dst tensor is read-only", assertThrows(IllegalArgumentException.class,
                () -> h.copyTo(Tensor.wrap(java.nio.FloatBuffer.wrap(new float[1024]).asReadOnlyBuffer(),
                    1, 16, 8, 8))).getMessage());
        }
    }

    @Test
    void nullsAreRefusedByName() {
        Random rnd = new Random(10);
        try (OneDnnOp op = compile(G2, rnd, Layout.CHANNELS_FIRST, "deconv-any");
             OneDnnOp first = compile(G1, rnd, Layout.CHANNELS_FIRST, "deconv-any");
             OneDnnTensor h = first.forwardKeepLayout(random(rnd, 1, 32, 4, 4))) {
            assertEquals("input", assertThrows(NullPointerException.class,
                () -> op.forwardKeepLayout((Tensor) null)).getMessage());
            assertEquals("input", assertThrows(NullPointerException.class,
                () -> op.forwardKeepLayout((OneDnnTensor) null)).getMessage());
            assertEquals("input", assertThrows(NullPointerException.class,
                () -> op.forward((OneDnnTensor) null)).getMessage());
            assertEquals("input", assertThrows(NullPointerException.class,
                () -> op.forward((OneDnnTensor) null, Tensor.zeros(1, 8, 16, 16))).getMessage());
            assertEquals("output", assertThrows(NullPointerException.class,
                () -> op.forward(h, null)).getMessage());
            assertEquals("input", assertThrows(NullPointerException.class,
                () -> op.reordersInput(null)).getMessage());
            assertEquals("dst", assertThrows(NullPointerException.class, () -> h.copyTo(null)).getMessage());
        }
    }

    @Test
    void aClosedTensorThrowsOnEveryCallAndClosesOnce() {
        Random rnd = new Random(11);
        try (OneDnnOp first = compile(G1, rnd, Layout.CHANNELS_FIRST, "deconv-any");
             OneDnnOp second = compile(G2, rnd, Layout.CHANNELS_FIRST, "deconv-any")) {
            OneDnnTensor h = first.forwardKeepLayout(random(rnd, 1, 32, 4, 4));
            assertFalse(h.isClosed());
            h.close();
            h.close(); // idempotent
            assertTrue(h.isClosed());
            assertTrue(h.toString().endsWith("(closed)"), h.toString());
            List<Executable> calls = List.of(h::shape, h::layout, h::layoutDescription, h::isPlain, h::toTensor,
                () -> h.copyTo(Tensor.zeros(1, 16, 8, 8)), () -> second.forward(h), () -> second.forwardKeepLayout(h),
                () -> second.forward(h, Tensor.zeros(1, 8, 16, 16)), () -> second.reordersInput(h),
                () -> second.forwardKeepLayout(h, null), () -> first.forwardKeepLayout(random(rnd, 1, 32, 4, 4), h));
            for (Executable call : calls) {
                IllegalStateException e = assertThrows(IllegalStateException.class, call);
                assertEquals("OneDnnTensor[1, 16, 8, 8] (NCHW) is closed", e.getMessage());
            }
            second.forward(Tensor.zeros(1, 16, 8, 8)); // the ops are unaffected
        }
    }

    @Test
    void aClosedOpThrowsOnEveryKeepLayoutCall() {
        Random rnd = new Random(12);
        try (OneDnnOp first = compile(G1, rnd, Layout.CHANNELS_FIRST, "deconv-any");
             OneDnnTensor h = first.forwardKeepLayout(random(rnd, 1, 32, 4, 4))) {
            OneDnnOp second = compile(G2, rnd, Layout.CHANNELS_FIRST, "deconv-any");
            second.forward(h);
            OneDnnTensor out = second.forwardKeepLayout(h);
            second.close();
            second.close();
            List<Executable> calls = List.of(() -> second.forward(h), () -> second.forwardKeepLayout(h),
                () -> second.forwardKeepLayout(Tensor.zeros(1, 16, 8, 8)),
                () -> second.forwardKeepLayout(h, out), () -> second.forwardKeepLayout(Tensor.zeros(1, 16, 8, 8), out),
                () -> second.forward(h, Tensor.zeros(1, 8, 16, 16)), () -> second.reordersInput(h));
            for (Executable call : calls) {
                IllegalStateException e = assertThrows(IllegalStateException.class, call);
                assertTrue(e.getMessage().endsWith("on onednn is closed"), e.getMessage());
            }
            assertFalse(h.isClosed()); // the input is the caller's
            h.toTensor();
            assertFalse(out.isClosed()); // and so is the output
            out.close();
        }
    }

    @Test
    void closeWaitsForReadersInFlight() throws Exception {
        Random rnd = new Random(13);
        for (int round = 0; round < 20; round++) {
            try (OneDnnOp first = compile(G1, rnd, Layout.CHANNELS_FIRST, "deconv-any");
                 OneDnnOp second = compile(G2, rnd, Layout.CHANNELS_FIRST, "deconv-plain")) {
                OneDnnTensor h = first.forwardKeepLayout(random(rnd, 4, 32, 8, 8));
                Tensor expected = second.forward(h);
                Thread reader = new Thread(() -> {
                    try {
                        while (true) {
                            assertSameValues(expected, second.forward(h), "read racing close");
                        }
                    } catch (IllegalStateException closed) {
                        assertTrue(closed.getMessage().endsWith("is closed"), closed.getMessage());
                    }
                });
                reader.start();
                Thread.sleep(round % 5);
                h.close();
                reader.join(30_000);
                assertFalse(reader.isAlive());
            }
        }
    }

    // ---- reusing an output ----

    /** forwardKeepLayout(input, output) overwrites the caller's tensor: a chain that reuses both buffers. */
    @Test
    void anExistingOutputIsOverwrittenInPlace() {
        Random rnd = new Random(20);
        for (String route : List.of("deconv-any", "deconv-plain", "matmul-col2im")) {
            try (OneDnnOp first = compile(G1, rnd, Layout.CHANNELS_FIRST, "deconv-any");
                 OneDnnOp second = compile(G2, rnd, Layout.CHANNELS_FIRST, route)) {
                Tensor x1 = random(rnd, 2, 32, 4, 4);
                Tensor x2 = random(rnd, 2, 32, 4, 4);
                Tensor expected1 = second.forward(first.forward(x1));
                Tensor expected2 = second.forward(first.forward(x2));
                try (OneDnnTensor h = first.forwardKeepLayout(x1); OneDnnTensor y = second.forwardKeepLayout(h)) {
                    for (int round = 0; round < 3; round++) {
                        first.forwardKeepLayout(direct(x2), h);
                        second.forwardKeepLayout(h, y);
                        assertSameValues(expected2, y.toTensor(), route + ", second input, round " + round);
                        first.forwardKeepLayout(x1, h);
                        second.forwardKeepLayout(h, y);
                        assertSameValues(expected1, y.toTensor(), route + ", first input, round " + round);
                    }
                }
            }
        }
    }

    /** Reusing outputs, a steady-state chain holds no more JavaCPP-tracked native memory than its first call. */
    @Test
    void aReusedOutputAllocatesNoNativeBuffer() {
        Random rnd = new Random(21);
        try (OneDnnOp first = compile(G1, rnd, Layout.CHANNELS_FIRST, "deconv-any");
             OneDnnOp second = compile(G2, rnd, Layout.CHANNELS_FIRST, "deconv-any")) {
            Tensor x = direct(random(rnd, 2, 32, 4, 4));
            try (OneDnnTensor h = first.forwardKeepLayout(x); OneDnnTensor y = second.forwardKeepLayout(h)) {
                first.forwardKeepLayout(x, h);
                second.forwardKeepLayout(h, y);
                long held = Pointer.totalBytes();
                for (int i = 0; i < 100; i++) {
                    first.forwardKeepLayout(x, h);
                    second.forwardKeepLayout(h, y);
                }
                assertEquals(held, Pointer.totalBytes(), "JavaCPP-tracked native bytes after 100 reusing calls");
            }
        }
    }

    /** A wrong output is refused before anything is written to it, with a message that names what is wrong. */
    @Test
    void aWrongKeptOutputIsRefusedAndLeftUnchanged() {
        Random rnd = new Random(22);
        try (OneDnnOp any = compile(G1, rnd, Layout.CHANNELS_FIRST, "deconv-any");
             OneDnnOp plain = compile(G1, rnd, Layout.CHANNELS_FIRST, "deconv-plain");
             OneDnnOp second = compile(G2, rnd, Layout.CHANNELS_FIRST, "deconv-any")) {
            Tensor x = random(rnd, 1, 32, 4, 4);
            try (OneDnnTensor blocked = any.forwardKeepLayout(x); OneDnnTensor flat = plain.forwardKeepLayout(x);
                 OneDnnTensor other = second.forwardKeepLayout(blocked)) {
                assertFalse(blocked.isPlain(), blocked.layoutDescription());
                Tensor before = blocked.toTensor();
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> plain.forwardKeepLayout(x, blocked));
                assertTrue(e.getMessage().startsWith("output " + blocked + " is not in the layout this op writes for "
                    + "this input shape (nchw)"), e.getMessage());
                assertSameValues(before, blocked.toTensor(), "the refused output");
                assertThrows(IllegalArgumentException.class, () -> any.forwardKeepLayout(x, flat));

                assertEquals("output should be of size [1, 16, 8, 8] for input of size [1, 32, 4, 4], but got output "
                    + "of size [1, 8, 16, 16]", assertThrows(IllegalArgumentException.class,
                    () -> any.forwardKeepLayout(x, other)).getMessage());
                assertEquals("output should be of size [2, 16, 8, 8] for input of size [2, 32, 4, 4], but got output "
                    + "of size [1, 16, 8, 8]", assertThrows(IllegalArgumentException.class,
                    () -> any.forwardKeepLayout(random(rnd, 2, 32, 4, 4), blocked)).getMessage());
                ConvTransposeLayer same = ConvTransposeLayer.builder(2).inChannels(16).outChannels(16).kernelSize(3)
                    .padding(1).build(); // output shape = input shape
                try (OneDnnOp refine = compile(same, rnd, Layout.CHANNELS_FIRST, "deconv-any");
                     OneDnnTensor h = refine.forwardKeepLayout(blocked)) {
                    assertEquals("output must not be the input tensor (in-place is not supported)",
                        assertThrows(IllegalArgumentException.class,
                            () -> refine.forwardKeepLayout(h, h)).getMessage());
                }
                assertEquals("output", assertThrows(NullPointerException.class,
                    () -> any.forwardKeepLayout(x, null)).getMessage());
                assertEquals("output", assertThrows(NullPointerException.class,
                    () -> second.forwardKeepLayout(blocked, null)).getMessage());
                assertEquals("input", assertThrows(NullPointerException.class,
                    () -> any.forwardKeepLayout((Tensor) null, blocked)).getMessage());
                assertSameValues(before, blocked.toTensor(), "the refused output");
            }
            OneDnnTensor closed = any.forwardKeepLayout(x);
            closed.close();
            assertEquals("OneDnnTensor[1, 16, 8, 8] (NCHW) is closed", assertThrows(IllegalStateException.class,
                () -> any.forwardKeepLayout(x, closed)).getMessage());
            any.forward(x); // the op is unaffected
        }
    }

    // ---- native memory ----

    @Test
    void closingTensorsAndOpsReturnsTheNativeBytes() {
        Random rnd = new Random(14);
        Tensor x = random(rnd, 2, 32, 4, 4);
        try (OneDnnOp warm = compile(G1, rnd, Layout.CHANNELS_FIRST, "deconv-any")) {
            warm.forward(x); // the process-wide engine stays: create it before the baseline
        }
        long baseline = Pointer.totalBytes();
        for (int i = 0; i < 50; i++) {
            try (OneDnnOp first = compile(G1, rnd, Layout.CHANNELS_FIRST, "deconv-any");
                 OneDnnOp second = compile(G2, rnd, Layout.CHANNELS_FIRST, "deconv-any");
                 OneDnnOp plain = compile(G2, rnd, Layout.CHANNELS_LAST, "matmul-col2im")) {
                long beforeTensor = Pointer.totalBytes();
                OneDnnTensor h = first.forwardKeepLayout(x);
                long held = Pointer.totalBytes() - beforeTensor;
                assertTrue(held >= 2 * 16 * 8 * 8 * Float.BYTES, "the buffer is JavaCPP-tracked: " + held);
                try (OneDnnTensor y = second.forwardKeepLayout(h); OneDnnTensor z = plain.forwardKeepLayout(h)) {
                    second.forward(h);
                    y.toTensor();
                    z.copyTo(Tensor.zeros(z.shape()));
                    h.toTensor();
                }
                h.close();
                assertNotEquals(0, held);
            }
            assertEquals(baseline, Pointer.totalBytes(), "JavaCPP-tracked native bytes after cycle " + i);
        }
    }

    @Test
    void theCompileResultIsTheOneDnnOp() {
        Random rnd = new Random(15);
        try (CompiledConvTranspose op = Backends.onednn().compile(G1, random(rnd, G1.weightShape()),
            random(rnd, 16))) {
            assertSame(OneDnnOp.class, op.getClass());
        }
    }
}
