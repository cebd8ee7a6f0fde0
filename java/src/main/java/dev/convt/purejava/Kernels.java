package dev.convt.purejava;

import java.lang.management.ManagementFactory;

/** Chooses the tile kernel: the Vector API one when its module is present, else the plain one. */
final class Kernels {
    static final String PLAIN = "plain";
    static final String VECTOR = "vector";
    static final String VECTOR_MODULE = "jdk.incubator.vector";

    private Kernels() {}

    /** Whether {@code jdk.incubator.vector} is in the boot layer (e.g. {@code --add-modules jdk.incubator.vector}). */
    static boolean vectorModulePresent() {
        return ModuleLayer.boot().findModule(VECTOR_MODULE).isPresent();
    }

    /**
     * The kernel for {@code requested} ({@code auto}, {@code plain} or {@code vector}).
     *
     * @throws UnsupportedOperationException when {@code vector} is requested and cannot load
     */
    static Kernel select(String requested) {
        switch (requested) {
            case PLAIN:
                return plain();
            case VECTOR:
                return vector();
            default:
                if (!vectorModulePresent()) {
                    return plain();
                }
                try {
                    return vector();
                } catch (UnsupportedOperationException e) {
                    // auto: say why in the kernel's description rather than failing a backend that can run
                    return new PlainKernel(hardwareFma(), "vector kernel failed to load: " + e.getMessage());
                }
        }
    }

    static Kernel plain() {
        return new PlainKernel(hardwareFma(), null);
    }

    static Kernel vector() {
        if (!vectorModulePresent()) {
            throw new UnsupportedOperationException("the vector kernel needs the " + VECTOR_MODULE
                + " module; run with --add-modules " + VECTOR_MODULE);
        }
        try {
            return (Kernel) Class.forName("dev.convt.purejava.VectorKernel").getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            Throwable cause = e.getCause() != null && !(e instanceof RuntimeException) ? e.getCause() : e;
            throw new UnsupportedOperationException("the vector kernel could not load: " + cause, cause);
        }
    }

    /**
     * Whether {@link Math#fma} runs on hardware. HotSpot says so in its {@code UseFMA} flag; without it
     * {@code Math.fma} is a software routine hundreds of times slower, so the plain kernel multiplies then adds. On
     * a JVM that does not report the flag, FMA is assumed (every 64-bit ARM, POWER, z and RISC-V core has it).
     */
    static boolean hardwareFma() {
        try {
            Class<?> bean = Class.forName("com.sun.management.HotSpotDiagnosticMXBean");
            @SuppressWarnings({"unchecked", "rawtypes"})
            Object mx = ManagementFactory.getPlatformMXBean((Class) bean);
            Object option = bean.getMethod("getVMOption", String.class).invoke(mx, "UseFMA");
            Object value = option.getClass().getMethod("getValue").invoke(option);
            return !"false".equals(value);
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            return true;
        }
    }
}
