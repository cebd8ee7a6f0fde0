package dev.convt;

import dev.convt.purejava.JavaBackend;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fast Java backend beyond what the cross-backend suite checks: bitwise determinism across thread counts and
 * call orders, agreement of its two kernels, one op used from several threads, the scratch-memory bound on a
 * huge-kernel layer, allocation-free steady state, and its configuration.
 */
@Tag("java-kernels") // also run with the Vector API kernel (tests/pom.xml, execution java-vector-kernel)
class JavaBackendTest {

    /** Set by the surefire execution that runs with {@code --add-modules jdk.incubator.vector}. */
    static final boolean EXPECT_VECTOR = Boolean.getBoolean("convt.test.expectVector");

    static JavaBackend java() {
        return (JavaBackend) Backends.java();
    }

    /** The benchmark shapes at batch 1, the two heaviest made smaller, plus corners the list lacks. */
    static List<ShapeList.Shape> shapes() {
        List<ShapeList.Shape> out = new ArrayList<>();
        for (ShapeList.Shape s : ShapeList.builtIn().all()) {
            ShapeList.Shape b1 = s.withBatch(1);
            if (b1.flops() <= 3e8) {
                out.add(b1);
            }
        }
        out.add(new ShapeList.Shape("hifigan_small", ConvTransposeLayer.builder(1).inChannels(128).outChannels(64)
            .kernelSize(16).stride(8).padding(4).build(), new long[] {2, 128, 300}));
        out.add(new ShapeList.Shape("unet_small", ConvTransposeLayer.builder(2).inChannels(300).outChannels(270)
            .kernelSize(2).stride(2).build(), new long[] {1, 300, 9, 11}));
        out.add(new ShapeList.Shape("dilated_grouped_3d", ConvTransposeLayer.builder(3).inChannels(12).outChannels(18)
            .kernelSize(3, 2, 3).stride(2, 1, 3).dilation(2, 3, 1).padding(1, 0, 2).outputPadding(1, 2, 0).groups(3)
            .build(), new long[] {3, 12, 5, 6, 7}));
        return out;
    }

    static Tensor run(Backend backend, ShapeList.Shape s, Tensor w, Tensor b, Tensor x, Layout layout, boolean direct) {
        try (CompiledConvTranspose op = backend.compile(s.layer(), w, b, layout)) {
            Tensor in = Layout.CHANNELS_FIRST.convert(x, layout, s.layer().rank());
            return op.forward(direct ? TestSupport.direct(in) : in);
        }
    }

    static Tensor[] parameters(ShapeList.Shape s, Random rnd) {
        ConvTransposeLayer l = s.layer();
        return new Tensor[] {TestSupport.random(rnd, l.weightShape()),
            l.bias() ? TestSupport.random(rnd, l.outChannels()) : null, TestSupport.random(rnd, s.inputShape())};
    }

    @Test
    void identicalBitsWithOneTwoAndSevenThreads() {
        Random rnd = new Random(11);
        int parallel = 0;
        for (ShapeList.Shape s : shapes()) {
            Tensor[] p = parameters(s, rnd);
            for (Layout layout : Layout.values()) {
                boolean direct = layout == Layout.CHANNELS_LAST;
                float[] one = run(java().withThreads(1), s, p[0], p[1], p[2], layout, direct).toArray();
                for (int threads : new int[] {2, 7}) {
                    float[] many = run(java().withThreads(threads), s, p[0], p[1], p[2], layout, !direct).toArray();
                    assertArrayEquals(one, many, s + " " + layout + ": " + threads + " threads vs 1");
                }
            }
            parallel += s.flops() / 2 >= (1 << 20) ? 1 : 0;
        }
        assertTrue(parallel >= 8, "shapes big enough to be split across threads: " + parallel);
    }

    @Test
    void identicalBitsWhateverTheCallOrder() {
        Random rnd = new Random(12);
        List<ShapeList.Shape> shapes = shapes();
        List<Tensor[]> params = new ArrayList<>();
        List<float[]> first = new ArrayList<>();
        List<CompiledConvTranspose> ops = new ArrayList<>();
        try {
            for (ShapeList.Shape s : shapes) {
                Tensor[] p = parameters(s, rnd);
                params.add(p);
                CompiledConvTranspose op = java().withThreads(3).compile(s.layer(), p[0], p[1]);
                ops.add(op);
                first.add(op.forward(p[2]).toArray());
            }
            // the same ops, the other way round, each twice and with another batch size in between
            for (int i = shapes.size() - 1; i >= 0; i--) {
                CompiledConvTranspose op = ops.get(i);
                Tensor x = params.get(i)[2];
                long[] other = x.shape();
                other[0] += 1;
                op.forward(TestSupport.random(rnd, other));
                assertArrayEquals(first.get(i), op.forward(x).toArray(), shapes.get(i).toString());
                assertArrayEquals(first.get(i), op.forward(TestSupport.direct(x)).toArray(), shapes.get(i).toString());
            }
        } finally {
            ops.forEach(CompiledConvTranspose::close);
        }
    }

    /** Both kernels compute bias, then one fused multiply-add per (tap, channel) in the same order: same bits. */
    @Test
    void plainAndVectorKernelsAgreeBitForBit() {
        JavaBackend plain = java().withKernel("plain");
        JavaBackend vector = java().withKernel("vector");
        assertTrue(plain.isAvailable());
        assertEquals("plain", plain.kernel());
        if (EXPECT_VECTOR) {
            assertTrue(vector.isAvailable(), () -> "vector kernel: " + vector.unavailabilityCause());
        }
        if (!vector.isAvailable()) {
            assertTrue(vector.unavailabilityCause().getMessage().contains("jdk.incubator.vector"),
                vector.unavailabilityCause().getMessage());
            return;
        }
        assertEquals("vector", vector.kernel());
        assertTrue(plain.describe().contains("fma"), "the plain kernel uses hardware FMA here: " + plain.describe());
        Random rnd = new Random(13);
        for (ShapeList.Shape s : shapes()) {
            Tensor[] p = parameters(s, rnd);
            for (Layout layout : Layout.values()) {
                float[] a = run(plain, s, p[0], p[1], p[2], layout, false).toArray();
                float[] b = run(vector, s, p[0], p[1], p[2], layout, true).toArray();
                assertArrayEquals(a, b, s + " " + layout);
            }
        }
    }

    @Test
    void oneOpFromSeveralThreadsEqualsSingleThreaded() throws Exception {
        Random rnd = new Random(14);
        ConvTransposeLayer layer = ConvTransposeLayer.builder(2).inChannels(64).outChannels(40).kernelSize(4)
            .stride(2).padding(1).build();
        Tensor w = TestSupport.random(rnd, layer.weightShape());
        Tensor b = TestSupport.random(rnd, layer.outChannels());
        int callers = 4;
        int calls = 8;
        Tensor[][] inputs = new Tensor[callers][calls];
        float[][][] expected = new float[callers][calls][];
        try (CompiledConvTranspose single = java().withThreads(1).compile(layer, w, b)) {
            for (int t = 0; t < callers; t++) {
                for (int c = 0; c < calls; c++) {
                    inputs[t][c] = TestSupport.random(rnd, 1 + c % 3, 64, 6 + t, 7);
                    expected[t][c] = single.forward(inputs[t][c]).toArray();
                }
            }
        }
        ExecutorService pool = Executors.newFixedThreadPool(callers);
        try (CompiledConvTranspose op = java().withThreads(2).compile(layer, w, b)) {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < callers; t++) {
                int caller = t;
                done.add(pool.submit(() -> {
                    go.await();
                    for (int round = 0; round < 3; round++) {
                        for (int c = 0; c < calls; c++) {
                            Tensor x = round % 2 == 0 ? inputs[caller][c] : TestSupport.direct(inputs[caller][c]);
                            Tensor y = x.isDirect() ? Tensor.allocateDirect(op.outputShape(x))
                                : Tensor.zeros(op.outputShape(x));
                            op.forward(x, y);
                            assertArrayEquals(expected[caller][c], y.toArray(), "caller " + caller + " call " + c);
                        }
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * The inverse-STFT shape: Cin 513, kernel 1024, stride 256, 4000 frames. A col2im buffer would hold
     * {@code Cout * 1024 * 4000} floats (16 MB for one output channel, and a naive one per input channel too); the
     * Java backend must stay within its stated per-thread bound, and allocate nothing once warm.
     */
    @Test
    void hugeKernelRunsWithinTheScratchBound() throws Exception {
        ConvTransposeLayer layer = ConvTransposeLayer.builder(1).inChannels(513).outChannels(1).kernelSize(1024)
            .stride(256).build();
        Random rnd = new Random(15);
        Tensor w = TestSupport.random(rnd, layer.weightShape());
        Tensor b = Tensor.of(new float[] {0.25f}, 1);
        Tensor x = TestSupport.direct(TestSupport.random(rnd, 1, 513, 4000));
        long col2im = 4L * layer.outChannels() * 1024 * 4000;
        assertTrue(JavaBackend.SCRATCH_BYTES_PER_THREAD < col2im / 16, "the bound is far below a column buffer");

        long[] allocated = new long[2];
        Tensor[] result = new Tensor[1];
        Throwable[] failure = new Throwable[1];
        try (CompiledConvTranspose op = java().withThreads(1).compile(layer, w, b)) {
            // Warm the op (classes loaded, code compiled) on short inputs first: the interpreter's and the JIT's own
            // transient allocations are not the op's, and they make per-thread byte counts unreliable.
            Tensor shortX = Tensor.allocateDirect(1, 513, 8);
            Tensor shortY = Tensor.allocateDirect(op.outputShape(shortX));
            for (int i = 0; i < 200; i++) {
                op.forward(shortX, shortY);
            }
            // then a fresh thread, so that its scratch is created (and counted) by its first call
            Thread t = new Thread(() -> {
                try {
                    Tensor y = Tensor.allocateDirect(op.outputShape(x));
                    for (int i = 0; i < 2; i++) {
                        long before = threadAllocatedBytes();
                        op.forward(x, y);
                        allocated[i] = threadAllocatedBytes() - before;
                    }
                    result[0] = y;
                } catch (Throwable e) {
                    failure[0] = e;
                }
            }, "istft-probe");
            t.start();
            t.join();
        }
        if (failure[0] != null) {
            throw new AssertionError(failure[0]);
        }
        // the first call also builds the shape's plan: a few arrays per phase (256 phases here)
        long planAllowance = 64 * 1024;
        assertTrue(allocated[0] <= JavaBackend.SCRATCH_BYTES_PER_THREAD + planAllowance,
            "calls allocated " + Arrays.toString(allocated) + " bytes; bound " + JavaBackend.SCRATCH_BYTES_PER_THREAD);
        assertTrue(allocated[0] > JavaBackend.SCRATCH_BYTES_PER_THREAD / 2, "the first call creates the thread's "
            + "scratch: " + allocated[0] + " bytes");
        assertTrue(allocated[1] < 4096, "the second call allocated " + allocated[1] + " bytes");

        // spot-check outputs against the definition, in double
        Tensor y = result[0];
        assertArrayEquals(new long[] {1, 1, 3999L * 256 + 1024}, y.shape());
        double rtol = Tolerance.forLayer(layer).rtol();
        float[] wv = w.toArray();
        int outLen = (int) y.dim(2);
        for (int o : new int[] {0, 1, 255, 256, 257, 1023, 1024, 500_000, 777_777, outLen - 1025, outLen - 2, outLen - 1}) {
            double sum = 0.25;
            for (int tap = o % 256; tap < 1024; tap += 256) {
                int pos = (o - tap) / 256;
                if (o - tap < 0 || pos >= 4000) {
                    continue;
                }
                for (int ci = 0; ci < 513; ci++) {
                    sum += (double) x.get(ci * 4000 + pos) * wv[ci * 1024 + tap];
                }
            }
            assertEquals(sum, y.get(o), rtol * Math.max(1, Math.abs(sum)) * 4, "output " + o);
        }
    }

    static long threadAllocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    /** Steady state on direct tensors, on the calling thread alone and with the pool in play: nothing allocated. */
    @Test
    void warmCallsAllocateNothing() {
        Random rnd = new Random(16);
        ConvTransposeLayer layer = ConvTransposeLayer.builder(2).inChannels(16).outChannels(24).kernelSize(4)
            .stride(2).padding(1).build();
        Tensor w = TestSupport.random(rnd, layer.weightShape());
        Tensor b = TestSupport.random(rnd, 24);
        // 1 thread: on the caller; 2 threads: 16 x 16 x 16 x 24 x 16 multiply-adds, enough to use the pool
        for (int threads : new int[] {1, 2}) {
            try (CompiledConvTranspose op = java().withThreads(threads).compile(layer, w, b)) {
                Tensor x = TestSupport.direct(TestSupport.random(rnd, 1, 16, 16, 16));
                Tensor y = Tensor.allocateDirect(op.outputShape(x));
                for (int i = 0; i < 3000; i++) { // past JIT compilation
                    op.forward(x, y);
                }
                long before = threadAllocatedBytes();
                for (int i = 0; i < 2000; i++) {
                    op.forward(x, y);
                }
                long allocated = threadAllocatedBytes() - before;
                // one object per call would be at least 32 KB here; a few bytes come from the JIT's first calls
                assertTrue(allocated < 4096, threads + " threads: bytes allocated by 2,000 warm calls: " + allocated);
            }
        }
    }

    @Test
    void configuration() {
        JavaBackend b = java();
        assertEquals("java", b.id());
        assertTrue(b.isAvailable());
        assertNull(b.unavailabilityCause());
        assertNull(b.unsupportedReason(BackendSelectionTest.LAYER));
        assertEquals(b.threads() == 1 ? "1 thread" : b.threads() + " threads",
            b.describe().substring(b.describe().lastIndexOf(", ") + 2));
        if (EXPECT_VECTOR) {
            assertEquals("vector", b.kernel(), "auto takes the vector kernel when the module is present");
        }
        assertEquals(4, b.withThreads(4).threads());
        assertEquals(b.withThreads(4), b.withThreads(4), "one backend (and pool) per parallelism");

        try (CompiledConvTranspose op = b.compile(BackendSelectionTest.LAYER,
            Tensor.zeros(BackendSelectionTest.LAYER.weightShape()), Tensor.zeros(4))) {
            assertEquals("java", op.backendId());
            assertTrue(op.implementation().contains(b.kernel() + " kernel"), op.implementation());
            assertEquals(op.implementation(), op.prepare(2, 4, 5, 5));
        }

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.withThreads(0));
        assertEquals("threads must be at least 1, but got 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> b.withKernel("avx"));
        assertEquals("unknown Java kernel 'avx'; expected auto, plain or vector", e.getMessage());

        boolean module = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        JavaBackend vector = b.withKernel("vector");
        assertEquals(module, vector.isAvailable());
        if (!module) {
            UnsupportedOperationException u = assertThrows(UnsupportedOperationException.class,
                () -> vector.compile(BackendSelectionTest.LAYER, Tensor.zeros(BackendSelectionTest.LAYER.weightShape()),
                    Tensor.zeros(4)));
            assertTrue(u.getMessage().startsWith("backend 'java' is not available: "), u.getMessage());
            assertNotNull(vector.unsupportedReason(BackendSelectionTest.LAYER));
        }
    }

    @Test
    void closedOpRefusesWork() {
        CompiledConvTranspose op = java().compile(BackendSelectionTest.LAYER,
            Tensor.zeros(BackendSelectionTest.LAYER.weightShape()), Tensor.zeros(4));
        op.close();
        op.close();
        assertTrue(op.isClosed());
        assertThrows(IllegalStateException.class, () -> op.forward(Tensor.zeros(1, 4, 5, 5)));
    }

    /** Output positions no tap reaches get the bias alone (stride above the kernel, output padding past the end). */
    @Test
    void positionsNoTapReachesGetTheBias() {
        ConvTransposeLayer layer = ConvTransposeLayer.builder(1).inChannels(2).outChannels(2).kernelSize(2)
            .stride(4).outputPadding(3).build();
        Tensor w = Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 2, 2, 2);
        Tensor b = Tensor.of(new float[] {0.5f, -1}, 2);
        try (CompiledConvTranspose op = java().compile(layer, w, b)) {
            Tensor y = op.forward(Tensor.of(new float[] {1, 10, 100, 1000}, 1, 2, 2));
            // out = (2-1)*4 + 1 + 3 + 1 = 9; taps reach positions 0,1 and 4,5 only
            assertArrayEquals(new float[] {
                0.5f + 1 + 500, 0.5f + 2 + 600, 0.5f, 0.5f, 0.5f + 10 + 5000, 0.5f + 20 + 6000, 0.5f, 0.5f, 0.5f,
                -1 + 3 + 700, -1 + 4 + 800, -1, -1, -1 + 30 + 7000, -1 + 40 + 8000, -1, -1, -1}, y.toArray());
        }
    }
}
