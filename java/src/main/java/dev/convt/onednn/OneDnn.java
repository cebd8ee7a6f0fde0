package dev.convt.onednn;

/**
 * Availability of the oneDNN backend, computed once per process (Netty's {@code Epoll} pattern).
 *
 * <p>Loading fails, and {@link #unavailabilityCause()} says why, when the JavaCPP dnnl classes or their native
 * classifier jar for this platform are missing, when the native library does not load, or when
 * {@code -Dconvt.onednn.disable=true} is set.
 */
public final class OneDnn {

    /** Set to {@code true} to keep oneDNN from loading at all. */
    public static final String DISABLE_PROPERTY = "convt.onednn.disable";

    private OneDnn() {}

    private static final class Holder {
        static final Throwable CAUSE = probe();

        private static Throwable probe() {
            if (Boolean.getBoolean(DISABLE_PROPERTY)) {
                return new UnsupportedOperationException("disabled by -D" + DISABLE_PROPERTY + "=true");
            }
            try {
                OneDnnRuntime.engine(); // loads the natives and creates the CPU engine
                return null;
            } catch (Throwable t) { // NoClassDefFoundError, UnsatisfiedLinkError, a native failure: all mean "not here"
                return t;
            }
        }
    }

    /** Whether the oneDNN natives loaded and a CPU engine could be created. */
    public static boolean isAvailable() {
        return Holder.CAUSE == null;
    }

    /** Why oneDNN is unavailable, or {@code null} when it is available. */
    public static Throwable unavailabilityCause() {
        return Holder.CAUSE;
    }

    /** Throws {@link UnsupportedOperationException} carrying the cause when oneDNN is unavailable. */
    public static void ensureAvailability() {
        if (!isAvailable()) {
            throw new UnsupportedOperationException("backend 'onednn' is not available: " + Holder.CAUSE, Holder.CAUSE);
        }
    }

    /** {@code oneDNN 3.8.1 (isa avx2, 2 threads)}, or the cause when unavailable. */
    public static String describe() {
        return isAvailable() ? OneDnnRuntime.describe() : "unavailable: " + Holder.CAUSE;
    }
}
