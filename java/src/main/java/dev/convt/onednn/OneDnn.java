package dev.convt.onednn;

/**
 * Availability of the oneDNN backend, computed once per process (Netty's {@code Epoll} pattern).
 *
 * <p>Loading fails, and {@link #unavailabilityCause()} says why and how to fix it, when the JavaCPP dnnl classes or
 * their native classifier jar for this platform are missing (the case of a project that depends on
 * {@code dev.convt:convt} alone: it needs {@code dev.convt:convt-platform}, or {@code org.bytedeco:dnnl-platform}),
 * when the native library does not load, or when {@code -Dconvt.onednn.disable=true} is set.
 *
 * <pre>{@code
 * if (!OneDnn.isAvailable()) {
 *     System.getLogger("app").log(System.Logger.Level.WARNING,
 *         "running on Java: " + OneDnn.unavailabilityCause().getMessage());
 * }
 * }</pre>
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
                return explain(t);
            }
        }
    }

    /**
     * The raw failure (often an {@code ExceptionInInitializerError} around "no jniOpenCL in java.library.path")
     * does not tell a user what to do; the most common case by far is a missing classifier jar, so name it.
     */
    private static Throwable explain(Throwable t) {
        Throwable root = t instanceof ExceptionInInitializerError && t.getCause() != null ? t.getCause() : t;
        String platform;
        try {
            platform = org.bytedeco.javacpp.Loader.getPlatform();
        } catch (Throwable noJavacpp) {
            return new UnsupportedOperationException("the JavaCPP classes (org.bytedeco:javacpp, org.bytedeco:dnnl) "
                + "are not on the class path; " + howToGet("<your platform>"), root);
        }
        ClassLoader loader = OneDnn.class.getClassLoader();
        String module = platform.replace('-', '.');
        boolean nativesPresent = loader != null && loader.getResource("org/bytedeco/dnnl/" + platform + "/") != null;
        if (!nativesPresent) {
            String where = OneDnn.class.getModule().isNamed()
                ? "resolved on the module path; if they are there, add --add-modules org.bytedeco.dnnl." + module
                    + ",org.bytedeco.javacpp." + module + ",org.bytedeco.opencl." + module + "; otherwise "
                : "on the class path; ";
            return new UnsupportedOperationException("the oneDNN natives for " + platform + " are missing: no "
                + "org.bytedeco:dnnl jar with classifier " + platform + " is " + where + howToGet(platform), root);
        }
        return new UnsupportedOperationException("the oneDNN natives for " + platform + " did not load: " + root, root);
    }

    private static String howToGet(String platform) {
        return "to get them, depend on dev.convt:convt-platform instead of dev.convt:convt (trimmed with "
            + "-Djavacpp.platform=" + platform + "), or add org.bytedeco:dnnl-platform";
    }

    /** {@return whether the oneDNN natives loaded and a CPU engine could be created} */
    public static boolean isAvailable() {
        return Holder.CAUSE == null;
    }

    /** {@return why oneDNN is unavailable (the message says how to fix it), or {@code null} when it is available} */
    public static Throwable unavailabilityCause() {
        return Holder.CAUSE;
    }

    /**
     * Fails fast when oneDNN cannot be used.
     *
     * @throws UnsupportedOperationException carrying the cause when oneDNN is unavailable
     */
    public static void ensureAvailability() {
        if (!isAvailable()) {
            throw new UnsupportedOperationException("backend 'onednn' is not available: " + Holder.CAUSE, Holder.CAUSE);
        }
    }

    /**
     * {@return the oneDNN loaded, e.g.
     * {@code oneDNN 3.11.0, CPU engine, ISA avx2, platform linux-x86_64, OpenMP defaults} (or the OpenMP environment
     * variables set), or {@code unavailable: } and the cause}
     */
    public static String describe() {
        return isAvailable() ? OneDnnRuntime.describe() : "unavailable: " + Holder.CAUSE;
    }
}
