package dev.convt;

import java.lang.management.ManagementFactory;
import java.lang.ref.WeakReference;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Shared helpers: seeded random tensors, and the one statement of what "oneDNN must be here" means. */
public final class TestSupport {
    private TestSupport() {}

    /** A heap tensor of uniform values in [-1, 1). */
    public static Tensor random(Random rnd, long... shape) {
        Tensor t = Tensor.zeros(shape);
        for (int i = 0; i < t.elementCount(); i++) {
            t.set(i, rnd.nextFloat() * 2 - 1);
        }
        return t;
    }

    /**
     * Bytes the calling thread allocates over 100 calls of {@code op.forward(x, y)}, after 200 calls to get past JIT
     * compilation. {@code getThreadAllocatedBytes} itself may allocate a little; one object per call would be at
     * least 1.6 KB.
     */
    public static long steadyStateAllocatedBytes(CompiledConvTranspose op, Tensor x, Tensor y) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long me = Thread.currentThread().getId();
        for (int i = 0; i < 200; i++) {
            op.forward(x, y);
        }
        long before = mx.getThreadAllocatedBytes(me);
        for (int i = 0; i < 100; i++) {
            op.forward(x, y);
        }
        return mx.getThreadAllocatedBytes(me) - before;
    }

    /** Whether {@code ref}'s referent gets collected within about half a second of asking for GCs. */
    public static boolean collected(WeakReference<?> ref) throws InterruptedException {
        for (int i = 0; i < 50 && ref.get() != null; i++) {
            System.gc();
            Thread.sleep(10);
        }
        return ref.get() == null;
    }

    /** The same values in a direct buffer. */
    public static Tensor direct(Tensor t) {
        Tensor d = Tensor.allocateDirect(t.shape());
        d.copyFrom(t.toArray());
        return d;
    }

    /**
     * The natives ship for linux-x86_64, so there oneDNN must load: the suite asserts it instead of skipping the
     * oneDNN checks. On other platforms the cross-backend suite still runs every available backend.
     */
    static boolean oneDnnRequired() {
        String os = System.getProperty("os.name").toLowerCase();
        String arch = System.getProperty("os.arch");
        return os.contains("linux") && (arch.equals("amd64") || arch.equals("x86_64"));
    }

    static void assertOneDnnAvailableWhereRequired() {
        if (oneDnnRequired()) {
            assertTrue(Backends.onednn().isAvailable(),
                () -> "oneDNN must be available on linux-x86_64, but: " + Backends.onednn().unavailabilityCause());
        }
    }

    /** Within the layer's {@link Tolerance} of the reference. */
    static void assertClose(ConvTransposeLayer layer, Tensor reference, Tensor got, String what) {
        Tolerance tol = Tolerance.forLayer(layer);
        Tolerance.Report r = tol.compare(reference, got);
        assertTrue(r.ok(), () -> what + ": max abs diff " + r.maxAbs() + " exceeds " + r.allowedAbs() + " for "
            + layer + " (" + tol + ")");
    }

    static void assertExactly(float[] expected, Tensor got) {
        assertEquals(expected.length, got.elementCount(), "element count");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], got.get(i), 0.0f, "element " + i);
        }
    }
}
