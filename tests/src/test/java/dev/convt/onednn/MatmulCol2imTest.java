package dev.convt.onednn;

import dev.convt.Backends;
import dev.convt.CompiledConvTranspose;
import dev.convt.ConvTransposeLayer;
import dev.convt.Layout;
import dev.convt.Tensor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static dev.convt.TestSupport.collected;
import static dev.convt.TestSupport.random;
import static dev.convt.TestSupport.steadyStateAllocatedBytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The col2im pass of route {@code matmul-col2im} where {@link OneDnnRoutesTest}'s small layers do not reach: output
 * planes split into bands (slices, rows, parts of a row), channels-last channel groups, batch chunks, and passes large
 * enough to be shared with the helper threads: against the reference, bit-identical from call to call, and without
 * allocating in the steady state.
 */
class MatmulCol2imTest {

    private static final String ROUTE = "matmul-col2im";

    @BeforeEach
    void requireOneDnn() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Backends.onednn().isAvailable(), "no oneDNN natives here");
    }

    private static ConvTransposeLayer.Builder layer(int rank, int cin, int cout) {
        return ConvTransposeLayer.builder(rank).inChannels(cin).outChannels(cout);
    }

    /** Layers whose output planes exceed one band, each in both layouts, heap and direct. */
    @Test
    void bandsMatchTheReference() {
        List<Object[]> cases = new ArrayList<>();
        // rows of one plane per band (the plane is 139 x 139), split by phase
        cases.add(new Object[] {layer(2, 2, 3).kernelSize(3).stride(2).padding(1).build(), new long[] {2, 2, 70, 70}});
        // the same with one tap per output position, kept in output order (the 200 x 200 plane of a 2x upsampling)
        cases.add(new Object[] {layer(2, 3, 2).kernelSize(2).stride(2).build(), new long[] {1, 3, 100, 100}});
        // parts of one output row (about 15,000 positions), dilation and output padding
        cases.add(new Object[] {layer(1, 3, 2).kernelSize(5).stride(3).padding(2).dilation(2).outputPadding(1).build(),
            new long[] {2, 3, 5000}});
        // the same with four taps per output position, split by phase
        cases.add(new Object[] {layer(1, 2, 3).kernelSize(8).stride(2).padding(1).build(), new long[] {1, 2, 6000}});
        // several o0 slices per band, stride 1 on one axis
        cases.add(new Object[] {layer(3, 2, 2).kernelSize(3, 3, 2).stride(2, 1, 2).padding(1, 0, 0).build(),
            new long[] {1, 2, 6, 20, 20}});
        // more channels-last channels than one group carries
        cases.add(new Object[] {layer(2, 3, 40).kernelSize(4).stride(2).padding(1).build(), new long[] {2, 3, 9, 7}});
        // a stride far beyond the output (one position per phase), and beyond the kernel
        cases.add(new Object[] {layer(1, 2, 3).kernelSize(2).stride(50).build(), new long[] {2, 2, 1}});
        cases.add(new Object[] {layer(2, 4, 5).kernelSize(2).stride(3).build(), new long[] {1, 4, 30, 40}});
        // asymmetric padding, one side negative (the output grows there)
        cases.add(new Object[] {layer(2, 2, 3).kernelSize(3).stride(2).padBegin(2, -1).padEnd(0, 1).build(),
            new long[] {1, 2, 60, 70}});
        Random rnd = new Random(41);
        for (Object[] c : cases) {
            for (Layout layout : Layout.values()) {
                for (boolean direct : new boolean[] {false, true}) {
                    assertTrue(OneDnnRoutesTest.check(ROUTE, (ConvTransposeLayer) c[0], (long[]) c[1], layout, direct,
                        rnd), c[0] + " should run on " + ROUTE);
                }
            }
        }
    }

    /** A pass shared with the helpers, and batches run in chunks: the reference, and the same bits every call. */
    @Test
    void sharedPassesAndChunksAreDeterministic() {
        List<Object[]> cases = new ArrayList<>();
        cases.add(new Object[] {layer(2, 8, 8).kernelSize(4).stride(2).padding(1).build(), new long[] {4, 8, 32, 32}});
        // 4M column floats per image: chunks of 4 images and a tail of 1
        cases.add(new Object[] {layer(2, 2, 16).kernelSize(4).build(), new long[] {5, 2, 128, 128}});
        Random rnd = new Random(42);
        for (Object[] c : cases) {
            ConvTransposeLayer l = (ConvTransposeLayer) c[0];
            long[] in = (long[]) c[1];
            for (Layout layout : Layout.values()) {
                assertTrue(OneDnnRoutesTest.check(ROUTE, l, in, layout, true, rnd));
                Tensor w = random(rnd, l.weightShape());
                Tensor b = random(rnd, l.outChannels());
                Tensor x = random(rnd, layout == Layout.CHANNELS_LAST
                    ? Layout.CHANNELS_FIRST.convert(Tensor.zeros(in), layout, l.rank()).shape() : in);
                try (CompiledConvTranspose op = OneDnnBackend.INSTANCE.compile(l, w, b, layout, ROUTE)) {
                    float[] first = op.forward(x).toArray();
                    for (int i = 0; i < 20; i++) {
                        assertArrayEquals(first, op.forward(x).toArray(), "call " + i + " on " + l + " " + layout);
                    }
                }
            }
        }
    }

    /**
     * The col2im pass writes a heap output in place (no staging buffer): one op alternating between two heap outputs
     * and a direct one, each call's result is the one its input gives.
     */
    @Test
    void heapOutputsAreWrittenInPlace() {
        ConvTransposeLayer l = layer(2, 8, 8).kernelSize(4).stride(2).padding(1).build();
        long[] in = {4, 8, 32, 32};
        Random rnd = new Random(44);
        for (Layout layout : Layout.values()) {
            long[] shape = layout == Layout.CHANNELS_LAST
                ? Layout.CHANNELS_FIRST.convert(Tensor.zeros(in), layout, l.rank()).shape() : in;
            try (CompiledConvTranspose op = OneDnnBackend.INSTANCE.compile(l, random(rnd, l.weightShape()),
                random(rnd, 8), layout, ROUTE)) {
                Tensor x1 = random(rnd, shape);
                Tensor x2 = random(rnd, shape);
                float[] r1 = op.forward(x1).toArray();
                float[] r2 = op.forward(x2).toArray();
                assertTrue(!Arrays.equals(r1, r2), "two inputs should give two outputs");
                long[] outShape = op.outputShape(x1);
                float[] a1 = new float[r1.length];
                float[] a2 = new float[r1.length];
                Tensor y1 = Tensor.wrap(a1, outShape);
                Tensor y2 = Tensor.wrap(a2, outShape);
                Tensor y3 = Tensor.allocateDirect(outShape);
                for (int round = 0; round < 3; round++) {
                    op.forward(x1, y1);
                    op.forward(x2, y2);
                    op.forward(x2, y3);
                    assertArrayEquals(r1, a1, "heap output 1, round " + round + ", " + layout);
                    assertArrayEquals(r2, a2, "heap output 2, round " + round + ", " + layout);
                    assertArrayEquals(r2, y3.toArray(), "direct output, round " + round + ", " + layout);
                    Arrays.fill(a1, Float.NaN); // every element is written again next round
                    Arrays.fill(a2, Float.NaN);
                }
            }
        }
    }

    /**
     * A heap input larger than {@link MatmulCol2imRoute#MAX_INPUT_CHUNK_FLOATS} is copied and multiplied a chunk of
     * images at a time (here 2, 2 and a tail of 1): the reference's values, the bits a direct input gives, two heap
     * inputs alternating through the one staging buffer, no steady-state allocation, and the caller's input array is
     * not kept alive.
     */
    @Test
    void heapInputsAreCopiedChunkByChunk() throws InterruptedException {
        ConvTransposeLayer l = layer(2, 8, 4).kernelSize(4).stride(2).padding(1).build();
        long[] in = {5, 8, 150, 150}; // 180,000 floats an image: 2 images a chunk
        Random rnd = new Random(45);
        assertTrue(OneDnnRoutesTest.check(ROUTE, l, in, Layout.CHANNELS_FIRST, false, rnd));
        try (CompiledConvTranspose op = OneDnnBackend.INSTANCE.compile(l, random(rnd, l.weightShape()),
            random(rnd, 4), Layout.CHANNELS_FIRST, ROUTE)) {
            Tensor x1 = random(rnd, in);
            Tensor x2 = random(rnd, in);
            Tensor d1 = Tensor.allocateDirect(in).copyFrom(x1.toArray());
            Tensor d2 = Tensor.allocateDirect(in).copyFrom(x2.toArray());
            long[] outShape = op.outputShape(x1);
            Tensor yd = Tensor.allocateDirect(outShape);
            op.forward(d1, yd);
            float[] r1 = yd.toArray();
            op.forward(d2, yd);
            float[] r2 = yd.toArray();
            assertTrue(op.implementation().contains("in chunks of 2 images"), op.implementation());
            Tensor y = Tensor.zeros(outShape);
            for (int round = 0; round < 3; round++) {
                op.forward(x1, y);
                assertArrayEquals(r1, y.toArray(), "heap input 1, round " + round);
                op.forward(x2, y);
                assertArrayEquals(r2, y.toArray(), "heap input 2, round " + round);
            }
            long allocated = steadyStateAllocatedBytes(op, x1, y);
            assertTrue(allocated < 1024, "the chunked heap path allocated " + allocated + " bytes in 100 calls");
            assertTrue(collected(forwardFrom(op, in, outShape, rnd)), "the op keeps the caller's input array alive");
        }
    }

    private static WeakReference<float[]> forwardFrom(CompiledConvTranspose op, long[] in, long[] outShape,
                                                      Random rnd) {
        float[] x = random(rnd, in).toArray();
        op.forward(Tensor.wrap(x, in), Tensor.zeros(outShape));
        return new WeakReference<>(x);
    }

    /**
     * The shared pass allocates nothing in the steady state, on the calling thread or on the helpers, with direct
     * tensors and with heap ones (whose output it writes in place).
     */
    @Test
    void sharedPassAllocatesNothing() {
        for (boolean direct : new boolean[] {true, false}) {
            sharedPassAllocatesNothing(direct);
        }
    }

    private void sharedPassAllocatesNothing(boolean direct) {
        ConvTransposeLayer l = layer(2, 8, 8).kernelSize(4).stride(2).padding(1).build();
        long[] in = {4, 8, 32, 32};
        Random rnd = new Random(43);
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (Layout layout : Layout.values()) {
            long[] shape = layout == Layout.CHANNELS_LAST
                ? Layout.CHANNELS_FIRST.convert(Tensor.zeros(in), layout, l.rank()).shape() : in;
            try (CompiledConvTranspose op = OneDnnBackend.INSTANCE.compile(l,
                random(rnd, l.weightShape()), random(rnd, 8), layout,
                ROUTE)) {
                Tensor x = direct ? Tensor.allocateDirect(shape) : Tensor.zeros(shape);
                x.copyFrom(random(rnd, shape).toArray());
                Tensor y = direct ? Tensor.allocateDirect(op.outputShape(x)) : Tensor.zeros(op.outputShape(x));
                for (int i = 0; i < 2_000; i++) { // past JIT compilation
                    op.forward(x, y);
                }
                List<Thread> helpers = new ArrayList<>();
                for (Thread t : Thread.getAllStackTraces().keySet()) {
                    if (t.getName().startsWith("convt-col2im-")) {
                        helpers.add(t);
                    }
                }
                long[] threads = new long[helpers.size() + 1];
                threads[0] = Thread.currentThread().getId();
                for (int i = 0; i < helpers.size(); i++) {
                    threads[i + 1] = helpers.get(i).getId();
                }
                long[] before = mx.getThreadAllocatedBytes(threads);
                for (int i = 0; i < 1_000; i++) {
                    op.forward(x, y);
                }
                long[] after = mx.getThreadAllocatedBytes(threads);
                for (int i = 0; i < threads.length; i++) {
                    long allocated = after[i] - before[i];
                    String who = i == 0 ? "the calling thread" : helpers.get(i - 1).getName();
                    // getThreadAllocatedBytes itself may allocate a little; one object per call would be >= 16 KB
                    assertTrue(allocated < 4096, op.implementation() + " (" + layout + (direct ? ", direct" : ", heap")
                        + "): " + who + " allocated "
                        + allocated + " bytes in 1,000 steady-state calls");
                }
            }
        }
    }
}
