package dev.convt;

import dev.convt.onednn.OneDnnBackend;
import dev.convt.onednn.OneDnnOp;
import dev.convt.onednn.OneDnnTensor;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every native object the oneDNN backend creates is released by {@code close()}, not by the garbage collector.
 *
 * <p>Surefire runs this class alone in a JVM with the Epsilon GC (see tests/pom.xml), which never collects: a
 * forgotten JavaCPP pointer stays counted in {@link Pointer#totalBytes()} forever, so the count returning to its
 * baseline proves explicit release.
 */
class NativeMemoryTest {

    static final ConvTransposeLayer LAYER = ConvTransposeLayer.builder(2).inChannels(6).outChannels(4).kernelSize(3)
        .stride(2).padding(1).outputPadding(1).build();
    static final ConvTransposeLayer TAIL = ConvTransposeLayer.builder(1).inChannels(2).outChannels(3).kernelSize(3)
        .dilation(3).outputPadding(2).build();

    @Test
    void runsWithoutAGarbageCollector() {
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            assertEquals(0, gc.getCollectionCount(), gc.getName() + " collected: this test must run under Epsilon");
        }
        assertTrue(ManagementFactory.getRuntimeMXBean().getInputArguments().contains("-XX:+UseEpsilonGC"),
            "run by the native-memory-without-gc surefire execution");
    }

    @Test
    void totalBytesReturnsToBaselineAfterThousandCycles() {
        TestSupport.assertOneDnnAvailableWhereRequired();
        org.junit.jupiter.api.Assumptions.assumeTrue(Backends.onednn().isAvailable(), "no oneDNN natives here");
        Random rnd = new Random(9);
        Tensor w = TestSupport.random(rnd, LAYER.weightShape());
        Tensor b = TestSupport.random(rnd, 4);
        Tensor x = TestSupport.random(rnd, 2, 6, 4, 4);
        Tensor xd = TestSupport.direct(x);
        Tensor tw = TestSupport.random(rnd, TAIL.weightShape());
        Tensor tb = TestSupport.random(rnd, 3);
        Tensor tx = TestSupport.random(rnd, 1, 2, 5);
        // the process-wide engine is created once and kept: create it before taking the baseline
        try (CompiledConvTranspose op = Backends.onednn().compile(LAYER, w, b)) {
            op.forward(x);
        }
        long baseline = Pointer.totalBytes();
        for (int i = 0; i < 1000; i++) {
            try (CompiledConvTranspose op = Backends.onednn().compile(LAYER, w, b);
                 CompiledConvTranspose tail = Backends.onednn().compile(TAIL, tw, tb)) {
                op.forward(x);                                  // heap path: staging buffers
                op.forward(xd);                                 // direct path
                op.forward(Tensor.zeros(1, 6, 3 + i % 3, 4));   // a second input shape
                tail.forward(tx);                               // the padding_r = 0 route with its submemory reorder
                if (i % 100 == 0) {
                    for (int size = 1; size <= 20; size++) {    // past the 16-shape cache: uncached entries
                        op.forward(Tensor.zeros(1, 6, size, 2));
                    }
                }
            }
            if (i == 0) {
                assertTrue(Pointer.totalBytes() >= baseline);
            }
        }
        assertEquals(baseline, Pointer.totalBytes(), "JavaCPP-tracked native bytes after 1000 cycles");
    }

    /** The keep-layout path: every opaque tensor (an op's output, an op's reordered input) is freed by close(). */
    @Test
    void opaqueTensorsAreFreedByClose() {
        TestSupport.assertOneDnnAvailableWhereRequired();
        org.junit.jupiter.api.Assumptions.assumeTrue(Backends.onednn().isAvailable(), "no oneDNN natives here");
        ConvTransposeLayer first = ConvTransposeLayer.builder(2).inChannels(8).outChannels(16).kernelSize(3)
            .padding(1).bias(false).build();
        ConvTransposeLayer second = ConvTransposeLayer.builder(2).inChannels(16).outChannels(4).kernelSize(4)
            .stride(2).padding(1).build();
        Random rnd = new Random(10);
        Tensor w1 = TestSupport.random(rnd, first.weightShape());
        Tensor w2 = TestSupport.random(rnd, second.weightShape());
        Tensor b2 = TestSupport.random(rnd, 4);
        Tensor x = TestSupport.random(rnd, 2, 8, 6, 6);
        try (OneDnnOp op = OneDnnBackend.INSTANCE.compile(first, w1, null, Layout.CHANNELS_FIRST, "deconv-any")) {
            op.forwardKeepLayout(x).close();
        }
        long baseline = Pointer.totalBytes();
        for (int i = 0; i < 100; i++) {
            try (OneDnnOp a = OneDnnBackend.INSTANCE.compile(first, w1, null, Layout.CHANNELS_FIRST, "deconv-any");
                 OneDnnOp b = OneDnnBackend.INSTANCE.compile(second, w2, b2, Layout.CHANNELS_FIRST, "deconv-any");
                 OneDnnOp c = OneDnnBackend.INSTANCE.compile(second, w2, b2, Layout.CHANNELS_LAST, "matmul-col2im");
                 OneDnnTensor h = a.forwardKeepLayout(x)) {
                try (OneDnnTensor y = b.forwardKeepLayout(h); OneDnnTensor z = c.forwardKeepLayout(h)) {
                    b.forward(h);                               // read in place or reordered, into a plain output
                    c.forward(h, Tensor.zeros(c.outputShape(new long[] {2, 6, 6, 16})));
                    y.toTensor();                               // a reorder out of oneDNN's layout
                    z.copyTo(Tensor.zeros(z.shape()));          // a plain copy
                    h.copyTo(Tensor.zeros(h.shape()));          // a reorder through a heap tensor's staging buffer
                }
            }
        }
        assertEquals(baseline, Pointer.totalBytes(), "JavaCPP-tracked native bytes after 100 cycles");
    }

    @Test
    void aLeakWouldShow() {
        // guards the guard: under this JVM a pointer that is not closed stays counted
        long before = Pointer.totalBytes();
        org.bytedeco.javacpp.FloatPointer p = new org.bytedeco.javacpp.FloatPointer(1000);
        assertEquals(before + 4000, Pointer.totalBytes());
        p.close();
        assertEquals(before, Pointer.totalBytes());
    }
}
