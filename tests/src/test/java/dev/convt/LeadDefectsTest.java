package dev.convt;

import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;

import java.lang.ref.WeakReference;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 9, defects 6, 7 and 8 (OneDnnOp, the lead's part). NOT in the suite: these fail against OneDnnOp as of
 * branch rel (see the report); copy into tests/src/test/java/dev/convt/ with the fix. LeakProbe-style child JVM for
 * defect 8 uses tests/pending/AllocationFailureProbe.java (copy it too).
 */
class LeadDefectsTest {

    static final ConvTransposeLayer LAYER = ConvTransposeLayer.builder(2).inChannels(4).outChannels(4).kernelSize(3)
        .build();

    /**
     * Defect 6: a caller holding the op's monitor while another thread builds a shape. With {@code synchronized
     * (this)} inside, close() (waiting for the build) and the build (waiting for the monitor) wait for each other.
     */
    @Test
    void closeUnderTheCallersLockWhileAShapeIsBuiltDoesNotDeadlock() throws Exception {
        CompiledConvTranspose op = Backends.onednn().compile(LAYER, Tensor.zeros(LAYER.weightShape()),
            Tensor.zeros(4));
        CountDownLatch holding = new CountDownLatch(1);
        Thread caller = new Thread(() -> {
            synchronized (op) { // a caller's own lock on the op object
                holding.countDown();
                try {
                    Thread.sleep(300); // meanwhile a forward enters and waits to build its shape
                } catch (InterruptedException e) {
                    return;
                }
                op.close(); // waits for that forward
            }
        }, "caller-holding-the-op");
        caller.setDaemon(true);
        caller.start();
        holding.await();
        Thread builder = new Thread(() -> {
            try {
                op.forward(Tensor.zeros(1, 4, 7, 7)); // a new shape: built under the op's monitor
            } catch (IllegalStateException closed) {
                // fine: closed first
            }
        }, "forward-building-a-shape");
        builder.setDaemon(true);
        builder.start();
        caller.join(10_000);
        assertTrue(!caller.isAlive(), "close() under the caller's lock deadlocked with a shape build");
        builder.join(10_000);
        assertTrue(!builder.isAlive(), "the forward never finished");
    }

    /** Defect 6: a second close() racing the first returns only once the resources are released. */
    @Test
    void aConcurrentSecondCloseWaitsForTheRelease() throws Exception {
        // the process-wide engine is created on first use and kept: create it before taking the baseline
        ConvTransposeLayer tiny = ConvTransposeLayer.builder(1).inChannels(1).outChannels(1).kernelSize(1).build();
        Backends.onednn().compile(tiny, Tensor.zeros(1, 1, 1), Tensor.zeros(1)).close();
        long baseline = Pointer.totalBytes();
        ConvTransposeLayer big = ConvTransposeLayer.builder(2).inChannels(64).outChannels(64).kernelSize(5).build();
        CompiledConvTranspose op = Backends.onednn().compile(big, Tensor.zeros(big.weightShape()), Tensor.zeros(64));
        Tensor x = Tensor.allocateDirect(8, 64, 96, 96);
        Tensor y = Tensor.allocateDirect(op.outputShape(x));
        op.forward(x, y); // built
        Thread running = new Thread(() -> {
            try {
                for (int i = 0; i < 5; i++) {
                    op.forward(x, y);
                }
            } catch (IllegalStateException closed) {
                // expected once closed
            }
        });
        running.start();
        Thread.sleep(50);
        Thread first = new Thread(op::close);
        first.start();
        Thread.sleep(5);
        op.close(); // the second close
        long afterSecondClose = Pointer.totalBytes();
        first.join();
        running.join();
        assertEquals(baseline, afterSecondClose, "the second close() returned before the op's native memory was "
            + "released");
    }

    /** Defect 7: the op must not keep the caller's last tensors (and their direct memory) alive. */
    @Test
    void theOpDoesNotPinTheCallersTensors() throws Exception {
        // -Dtest=... also runs this in the suite's Epsilon JVM (tests/pom.xml), whose GC never clears a reference
        org.junit.jupiter.api.Assumptions.assumeFalse(java.lang.management.ManagementFactory
            .getGarbageCollectorMXBeans().stream().anyMatch(gc -> gc.getName().startsWith("Epsilon")),
            "needs a collecting GC");
        try (CompiledConvTranspose op = Backends.onednn().compile(LAYER, Tensor.zeros(LAYER.weightShape()),
            Tensor.zeros(4))) {
            Tensor x = Tensor.allocateDirect(1, 4, 64, 64);
            Tensor y = Tensor.allocateDirect(op.outputShape(x));
            op.forward(x, y);
            WeakReference<Tensor> in = new WeakReference<>(x);
            WeakReference<Tensor> out = new WeakReference<>(y);
            x = null;
            y = null;
            for (int i = 0; i < 20 && (in.get() != null || out.get() != null); i++) {
                System.gc();
                Thread.sleep(50);
            }
            assertNull(in.get(), "the op keeps the caller's input tensor alive");
            assertNull(out.get(), "the op keeps the caller's output tensor alive");
        }
    }

    /**
     * Defect 8: JavaCPP reports a failed native allocation as OutOfMemoryError, which the constructors do not catch:
     * what was allocated before leaks. A child JVM with a JavaCPP byte limit that the weights fit in and the bias
     * does not.
     */
    @Test
    void anAllocationFailureReleasesWhatWasAllocated() throws Exception {
        ChildJvm.Result r = ChildJvm.run(ChildJvm.classPath(), Map.of(),
            List.of("-Dorg.bytedeco.javacpp.maxBytes=3m"), AllocationFailureProbe.class.getName());
        assertEquals(0, r.code(), r::toString);
        assertTrue(r.out().contains("OutOfMemoryError"), r::toString);
        assertTrue(r.out().contains("totalBytes back to baseline"), r::toString);
    }
}
