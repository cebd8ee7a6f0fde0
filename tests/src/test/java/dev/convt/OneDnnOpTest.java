package dev.convt;

import dev.convt.onednn.OneDnnBackend;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The oneDNN op's life: reuse across inputs and shapes, threads, close, native memory, allocation. */
class OneDnnOpTest {

    static final ConvTransposeLayer LAYER = ConvTransposeLayer.builder(2).inChannels(6).outChannels(4).kernelSize(3)
        .stride(2).padding(1).outputPadding(1).build();

    @BeforeEach
    void requireOneDnn() {
        TestSupport.assertOneDnnAvailableWhereRequired();
        org.junit.jupiter.api.Assumptions.assumeTrue(Backends.onednn().isAvailable(),
            "oneDNN natives are not shipped for this platform");
    }

    private static Tensor reference(Tensor w, Tensor b, Tensor x) {
        try (CompiledConvTranspose ref = Backends.reference().compile(LAYER, w, b)) {
            return ref.forward(x);
        }
    }

    @Test
    void reusedWithNewInputsAndBatchSizes() {
        Random rnd = new Random(21);
        Tensor w = TestSupport.random(rnd, LAYER.weightShape());
        Tensor b = TestSupport.random(rnd, 4);
        try (CompiledConvTranspose op = Backends.onednn().compile(LAYER, w, b)) {
            for (long[] shape : new long[][] {{1, 6, 5, 5}, {3, 6, 5, 5}, {1, 6, 5, 5}, {2, 6, 7, 4}, {6, 5, 5},
                {3, 6, 5, 5}}) {
                for (int repeat = 0; repeat < 3; repeat++) {
                    Tensor x = TestSupport.random(rnd, shape);
                    TestSupport.assertClose(LAYER, reference(w, b, x), op.forward(x), "heap " + repeat);
                    Tensor xd = TestSupport.direct(x);
                    Tensor out = Tensor.allocateDirect(op.outputShape(xd));
                    op.forward(xd, out);
                    TestSupport.assertClose(LAYER, reference(w, b, x), out, "direct " + repeat);
                }
            }
            assertFalse(op.implementation().isEmpty());
        }
    }

    @Test
    void moreShapesThanTheCacheHolds() {
        Random rnd = new Random(22);
        Tensor w = TestSupport.random(rnd, LAYER.weightShape());
        Tensor b = TestSupport.random(rnd, 4);
        try (CompiledConvTranspose op = Backends.onednn().compile(LAYER, w, b)) {
            for (int round = 0; round < 2; round++) {
                for (int size = 1; size <= 24; size++) { // 24 shapes against a cache of 16
                    Tensor x = TestSupport.random(rnd, 1, 6, size, 3);
                    TestSupport.assertClose(LAYER, reference(w, b, x), op.forward(x), "input width " + size);
                }
            }
        }
    }

    @Test
    void sameResultsFromFourThreads() throws Exception {
        Random rnd = new Random(4);
        Tensor w = TestSupport.random(rnd, LAYER.weightShape());
        Tensor b = TestSupport.random(rnd, 4);
        int perThread = 50;
        List<Tensor> inputs = new ArrayList<>();
        for (int i = 0; i < 4 * perThread; i++) {
            inputs.add(TestSupport.random(rnd, 1 + i % 3, 6, 5, 4 + i % 2));
        }
        try (CompiledConvTranspose op = Backends.onednn().compile(LAYER, w, b)) {
            List<float[]> single = new ArrayList<>();
            for (Tensor x : inputs) {
                single.add(op.forward(x).toArray());
            }
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<Void>> futures = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    int thread = t;
                    futures.add(pool.submit(() -> {
                        for (int round = 0; round < 5; round++) {
                            for (int i = thread; i < inputs.size(); i += 4) {
                                Tensor x = inputs.get(i);
                                Tensor in = (i + round) % 2 == 0 ? x : TestSupport.direct(x);
                                assertArrayEquals(single.get(i), op.forward(in).toArray(),
                                    "thread " + thread + " input " + i);
                            }
                        }
                        return null;
                    }));
                }
                for (Future<Void> f : futures) {
                    f.get();
                }
            } finally {
                pool.shutdown();
            }
        }
    }

    @Test
    void closeIsIdempotentAndForwardAfterCloseThrows() {
        CompiledConvTranspose op = Backends.onednn().compile(LAYER, Tensor.zeros(LAYER.weightShape()),
            Tensor.zeros(4));
        op.forward(Tensor.zeros(1, 6, 3, 3));
        op.close();
        op.close();
        assertTrue(op.isClosed());
        assertThrows(IllegalStateException.class, () -> op.forward(Tensor.zeros(1, 6, 3, 3)));
        assertThrows(IllegalStateException.class,
            () -> op.forward(Tensor.zeros(1, 6, 3, 3), Tensor.zeros(op.layer().outputShape(1, 6, 3, 3))));
    }

    /** Every route, forced, and auto's choice: direct tensors and caller arrays, 10,000 calls after warm-up. */
    @Test
    void steadyStateForwardAllocatesNothingOnEveryRoute() {
        ConvTransposeLayer oneByOne = ConvTransposeLayer.builder(2).inChannels(6).outChannels(4).kernelSize(4).build();
        ConvTransposeLayer blocks = ConvTransposeLayer.builder(2).inChannels(6).outChannels(4).kernelSize(2).stride(2)
            .build();
        ConvTransposeLayer tail = ConvTransposeLayer.builder(2).inChannels(3).outChannels(2).kernelSize(3)
            .dilation(3).outputPadding(2, 1).build();
        for (boolean direct : new boolean[] {true, false}) {
            for (String route : List.of("deconv-any", "deconv-plain", "matmul-col2im", "auto")) {
                assertNoAllocationInSteadyState(LAYER, new long[] {2, 6, 8, 8}, route, direct);
            }
            assertNoAllocationInSteadyState(oneByOne, new long[] {2, 6, 1, 1}, "matmul-1x1", direct);
            assertNoAllocationInSteadyState(blocks, new long[] {2, 6, 5, 5}, "matmul-shuffle", direct);
            // a sub-region computed by oneDNN, the bias written around it from Java
            String impl = assertNoAllocationInSteadyState(tail, new long[] {2, 3, 6, 5}, "deconv-any", direct);
            assertTrue(impl.endsWith("(+ bias outside the computed region)"), impl);
        }
    }

    private static String assertNoAllocationInSteadyState(ConvTransposeLayer layer, long[] inputShape, String route,
                                                          boolean direct) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Random rnd = new Random(10);
        try (CompiledConvTranspose op = OneDnnBackend.INSTANCE.compile(layer,
            TestSupport.random(rnd, layer.weightShape()), TestSupport.random(rnd, layer.outChannels()),
            Layout.CHANNELS_FIRST, route)) {
            Tensor x = TestSupport.random(rnd, inputShape);
            Tensor y = Tensor.wrap(new float[(int) Tensor.elementCount(op.outputShape(x))], op.outputShape(x));
            if (direct) {
                x = TestSupport.direct(x);
                y = Tensor.allocateDirect(op.outputShape(x));
            }
            String impl = op.prepare(inputShape);
            if (!route.equals("auto")) {
                assertTrue(impl.startsWith(route + ": "), impl);
            }
            for (int i = 0; i < 5_000; i++) { // past JIT compilation
                op.forward(x, y);
            }
            long tid = Thread.currentThread().getId();
            long before = mx.getThreadAllocatedBytes(tid);
            for (int i = 0; i < 2_000; i++) {
                op.forward(x, y);
            }
            long allocated = mx.getThreadAllocatedBytes(tid) - before;
            // getThreadAllocatedBytes itself may allocate a little; one object per call would be >= 32 KB here
            assertTrue(allocated < 4096, op.implementation() + (direct ? " (direct)" : " (caller arrays)")
                + ": bytes allocated by 2,000 steady-state calls: " + allocated);
            return impl;
        }
    }

    @Test
    void reportsTheImplementation() {
        try (CompiledConvTranspose op = Backends.onednn().compile(LAYER, Tensor.zeros(LAYER.weightShape()),
            Tensor.zeros(4))) {
            String impl = op.prepare(8, 6, 16, 16);
            assertEquals(impl, op.implementation());
            assertFalse(impl.startsWith("not built"), impl);
            assertTrue(impl.contains(":"), "oneDNN implementation names look like brg_deconv:avx2, got " + impl);
        }
    }
}
