package dev.convt.onednn;

import dev.convt.Backends;
import dev.convt.CompiledConvTranspose;
import dev.convt.ConvTransposeLayer;
import dev.convt.Layout;
import dev.convt.Tensor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.ref.WeakReference;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static dev.convt.TestSupport.collected;
import static dev.convt.TestSupport.random;
import static dev.convt.TestSupport.steadyStateAllocatedBytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The heap path on tensors of millions of elements: on every route, a heap call gives the very bits a direct call
 * gives (the same primitives on the same data, through the staging buffers or, on {@code matmul-col2im}, straight
 * into the caller's output array), and the reference's values within {@link dev.convt.Tolerance}; the steady state
 * allocates nothing; and an output array is not kept alive once the call has returned.
 */
class LargeHeapTensorTest {

    /** Input 16 x 260 x 261 (1,085,760 floats), output 8 x 520 x 522 (2,171,520). */
    private static final ConvTransposeLayer LAYER = ConvTransposeLayer.builder(2).inChannels(16).outChannels(8)
        .kernelSize(2).stride(2).build();
    private static final long[] INPUT = {1, 16, 260, 261};

    @BeforeEach
    void requireOneDnn() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Backends.onednn().isAvailable(), "no oneDNN natives here");
    }

    @Test
    void largeHeapTensorsGiveTheDirectBitsOnEveryRoute() {
        Random rnd = new Random(51);
        Tensor w = random(rnd, LAYER.weightShape());
        Tensor b = random(rnd, LAYER.outChannels());
        Tensor x = random(rnd, INPUT);
        for (String route : Routes.ids()) {
            for (Layout layout : Layout.values()) {
                Tensor xIn = Layout.CHANNELS_FIRST.convert(x, layout, 2);
                try (CompiledConvTranspose op = OneDnnBackend.INSTANCE.compile(LAYER, w, b, layout, route)) {
                    Tensor direct = Tensor.allocateDirect(xIn.shape());
                    direct.copyFrom(xIn.toArray());
                    long[] outShape = op.outputShape(xIn);
                    Tensor yDirect = Tensor.allocateDirect(outShape);
                    try {
                        op.forward(direct, yDirect);
                    } catch (UnsupportedOperationException notApplicable) {
                        continue; // matmul-1x1 needs a 1x1 input
                    }
                    float[] heapOut = new float[(int) yDirect.elementCount()];
                    Arrays.fill(heapOut, Float.NaN);
                    op.forward(xIn, Tensor.wrap(heapOut, outShape));
                    assertArrayEquals(yDirect.toArray(), heapOut, op.implementation() + ", " + layout);
                }
            }
            assertTrue(route.equals("matmul-1x1") || OneDnnRoutesTest.check(route, LAYER, INPUT, Layout.CHANNELS_FIRST,
                false, rnd), route + " should run on " + LAYER);
        }
    }

    @Test
    void theHeapPathAllocatesNothing() {
        Random rnd = new Random(52);
        for (String route : List.of("deconv-plain", "matmul-col2im")) {
            try (CompiledConvTranspose op = OneDnnBackend.INSTANCE.compile(LAYER, random(rnd, LAYER.weightShape()),
                random(rnd, LAYER.outChannels()), Layout.CHANNELS_FIRST, route)) {
                Tensor x = random(rnd, INPUT);
                Tensor y = Tensor.zeros(op.outputShape(x));
                long allocated = steadyStateAllocatedBytes(op, x, y);
                assertTrue(allocated < 1024, op.implementation() + " allocated " + allocated
                    + " bytes in 100 steady-state calls");
            }
        }
    }

    /** Every route remembers the caller's last tensors only weakly: a dropped output array can be collected. */
    @Test
    void anOutputArrayIsNotKeptAlive() throws InterruptedException {
        Random rnd = new Random(53);
        for (String route : List.of("deconv-plain", "matmul-col2im")) {
            try (CompiledConvTranspose op = OneDnnBackend.INSTANCE.compile(LAYER, random(rnd, LAYER.weightShape()),
                random(rnd, LAYER.outChannels()), Layout.CHANNELS_FIRST, route)) {
                Tensor x = random(rnd, INPUT);
                long[] outShape = op.outputShape(x);
                assertTrue(collected(forwardInto(op, x, outShape)), op.implementation() + " keeps the caller's output array alive");
                op.forward(x, Tensor.zeros(outShape)); // and the op still runs on another output
            }
        }
    }

    private static WeakReference<float[]> forwardInto(CompiledConvTranspose op, Tensor x, long[] outShape) {
        float[] out = new float[Math.toIntExact(Arrays.stream(outShape).reduce(1, (a, b) -> a * b))];
        op.forward(x, Tensor.wrap(out, outShape));
        return new WeakReference<>(out);
    }
}
