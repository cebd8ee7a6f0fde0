package dev.convt;

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
