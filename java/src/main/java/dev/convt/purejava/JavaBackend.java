package dev.convt.purejava;

import dev.convt.Backend;
import dev.convt.CompiledConvTranspose;
import dev.convt.ConvTransposeLayer;
import dev.convt.Layout;
import dev.convt.Tensor;

import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The fast pure-Java backend (id {@code java}): transposed convolution as a stride-phase decomposition into dense
 * matrix products, cache-blocked and register-tiled, on a shared {@link java.util.concurrent.ForkJoinPool}.
 *
 * <h2>Algorithm, and why</h2>
 * Output position {@code o} along a dimension with stride {@code s} belongs to the phase
 * {@code r = (o + padBegin) mod s}; within one phase every output position is reached by the same kernel taps
 * ({@code t} with {@code t*dilation mod s == r}), each reading the input at a fixed shift. So the layer is a few dense
 * matrix products {@code C[row, q] = bias + sum_(shift, ci) A[row, (shift, ci)] * B[(shift, ci), q]}, with {@code A}
 * the weights (repacked once, at compile time) and {@code B} the shifted input, gathered tile by tile into a small
 * per-thread buffer ({@code q} runs over the batch and the phase's grid, so small images are batched into one wide
 * product). Either every phase is one product of its own taps, or (when the kernel is a multiple of the stride, the
 * common case) all phases share one gathered input in one product with a row per (phase, output channel); each input
 * shape takes the cheaper (see {@code JavaOp}). Along a dimension where the input has one position, each output
 * position gets its own phase (one tap, no zeros).
 *
 * <p>This "gather" form was chosen over GEMM + col2im because every output element is computed completely in one
 * place and written exactly once: no column buffer proportional to the kernel size (col2im's buffer is
 * {@code Cout * prod(kernel) * columns}, gigabytes for an inverse-STFT layer), no scatter-add pass, no races between
 * overlapping tiles, and a fixed summation order for free. It costs some multiplications by zero where taps fall
 * outside the input (at image borders).
 *
 * <p>Each product is tiled so its working set stays in cache: output tiles of at most {@link Scratch#MB} channels by
 * {@link Scratch#NC} columns, reduction blocks of {@link Scratch#KC}. Two kernels compute the tiles:
 * <ul>
 *   <li>{@code plain} (always available): one output row at a time, four reduction steps per pass, written so that
 *       HotSpot's C2 auto-vectorizes it (zero-offset loops over distinct arrays);</li>
 *   <li>{@code vector}: a 6 x (2 vectors) register-tiled micro-kernel on {@code jdk.incubator.vector}, used when the
 *       module is in the boot layer (run with {@code --add-modules jdk.incubator.vector}).</li>
 * </ul>
 * {@code -Dconvt.java.kernel=auto|plain|vector} forces one ({@code auto}, the default, takes {@code vector} when it
 * loads); a forced kernel that cannot load makes the backend unavailable with the cause. The op's
 * {@link CompiledConvTranspose#implementation()} names the kernel.
 *
 * <h2>Determinism</h2>
 * Work is split only across output elements (groups, phases, column tiles, channel blocks), never across a
 * reduction. Every output element is {@code bias}, then one fused multiply-add per (tap, input channel) in a fixed
 * order (tap-major, then input channel), whatever the tile sizes or thread count. Results are therefore bitwise
 * identical for any thread count and call order; the plain and vector kernels even agree bit for bit with each other
 * (except the plain kernel's multiply-then-add variant, used only where HotSpot reports no hardware FMA).
 *
 * <h2>Threads</h2>
 * One {@link java.util.concurrent.ForkJoinPool} per parallelism, shared by every op of the backend, of
 * {@code -Dconvt.threads} threads (default: the available processors). A call whose work is too small to pay for a
 * hand-off runs on the calling thread; a larger one lets the caller and up to {@code threads - 1} pool workers claim
 * tiles. No thread is created per call; {@link #withThreads(int)} gives a backend with another parallelism.
 *
 * <h2>Memory bound</h2>
 * Scratch memory is per thread (each pool worker and each thread calling {@code forward}), allocated on its first
 * use and reused by every op afterwards: at most {@link #SCRATCH_BYTES_PER_THREAD} bytes (about 0.53 MiB for one
 * kernel, 0.78 MiB for a thread that runs both), whatever the layer, batch or input size: tiles are at most 264
 * output channels by 256 output positions, and the input is gathered 256 reduction steps at a time. There is no
 * column buffer. A compiled op also holds its weights repacked for its products (about the weight's size: rows rounded
 * up to a multiple of 6, and up to a quarter more for merged phases' zero weights; a second arrangement when input
 * shapes need both, or a one-position input needs its own) and, per input shape (up to 16 kept), a plan of a few
 * small integer arrays per phase. A steady-state {@code forward} on direct tensors allocates nothing on the Java
 * heap.
 */
public final class JavaBackend implements Backend {

    /** The backend's id, {@code java}. */
    public static final String ID = "java";
    /** System property: the pool's parallelism. */
    public static final String THREADS_PROPERTY = "convt.threads";
    /** System property: {@code auto}, {@code plain} or {@code vector}. */
    public static final String KERNEL_PROPERTY = "convt.java.kernel";
    /** The most scratch memory one thread holds for this backend, whatever the layer (see the class comment). */
    public static final long SCRATCH_BYTES_PER_THREAD = Scratch.BOUND_BYTES;
    /**
     * Layers with at most this many weights per group ({@code inChannels/groups * outChannels/groups *
     * prod(kernel)}) run at least as fast here as on oneDNN, so {@code auto} picks this backend for them.
     */
    public static final long TINY_LAYER_WEIGHTS = 256;

    private static final Map<String, JavaBackend> VARIANTS = new ConcurrentHashMap<>();
    private static volatile JavaBackend defaultInstance;

    private final int threads;
    private final String requestedKernel;
    private final Kernel kernel;
    private final Throwable unavailable;
    private volatile Workers workers;

    /** A backend that cannot run: its settings were invalid. */
    private JavaBackend(IllegalArgumentException cause) {
        this.threads = 1;
        this.requestedKernel = "auto";
        this.kernel = null;
        this.unavailable = cause;
    }

    private JavaBackend(int threads, String requestedKernel) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, but got " + threads);
        }
        this.threads = threads;
        this.requestedKernel = requestedKernel;
        Kernel k = null;
        Throwable cause = null;
        try {
            k = Kernels.select(requestedKernel);
        } catch (RuntimeException | LinkageError e) {
            cause = e;
        }
        this.kernel = k;
        this.unavailable = cause;
    }

    /** {@return the backend as configured by {@code -Dconvt.threads} and {@code -Dconvt.java.kernel}} */
    public static JavaBackend instance() {
        JavaBackend b = defaultInstance;
        if (b == null) {
            synchronized (JavaBackend.class) {
                b = defaultInstance;
                if (b == null) {
                    b = fromSettings(System.getProperty(THREADS_PROPERTY), System.getProperty(KERNEL_PROPERTY));
                    defaultInstance = b;
                }
            }
        }
        return b;
    }

    /**
     * This backend with another parallelism (its own shared pool; the same kernel choice).
     *
     * @param threads the threads that work on one call, the caller included
     * @return the variant
     */
    public JavaBackend withThreads(int threads) {
        return variant(threads, requestedKernel);
    }

    /**
     * This backend with another kernel: {@code auto}, {@code plain} or {@code vector}. A kernel that cannot load
     * gives a backend whose {@link #isAvailable()} is false, with the cause.
     *
     * @param kernel {@code auto}, {@code plain} or {@code vector}
     * @return the variant
     */
    public JavaBackend withKernel(String kernel) {
        return variant(threads, kernel);
    }

    private static JavaBackend variant(int threads, String kernel) {
        String k = normalizeKernel(kernel);
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, but got " + threads);
        }
        return VARIANTS.computeIfAbsent(threads + "/" + k, key -> new JavaBackend(threads, k));
    }

    private static String normalizeKernel(String kernel) {
        String k = Objects.requireNonNull(kernel, "kernel").trim().toLowerCase(Locale.ROOT);
        if (!k.equals("auto") && !k.equals(Kernels.PLAIN) && !k.equals(Kernels.VECTOR)) {
            throw new IllegalArgumentException("unknown Java kernel '" + kernel + "'; expected auto, plain or vector");
        }
        return k;
    }

    /**
     * The backend for these property values ({@code null} or blank: the default). A value that does not parse gives
     * a backend that is unavailable with the cause, so that asking for it fails clearly while the other backends
     * (and {@code convt info}) still work.
     */
    static JavaBackend fromSettings(String threads, String kernel) {
        try {
            return variant(parseThreads(threads), kernel == null || kernel.isBlank() ? "auto" : kernel);
        } catch (IllegalArgumentException e) {
            return new JavaBackend(new IllegalArgumentException("invalid Java backend setting: " + e.getMessage(),
                e));
        }
    }

    private static int parseThreads(String p) {
        if (p == null || p.isBlank()) {
            return Runtime.getRuntime().availableProcessors();
        }
        try {
            int n = Integer.parseInt(p.trim());
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("-D" + THREADS_PROPERTY + " must be a positive integer, but got '" + p
            + "'");
    }

    /** {@return the number of threads that work on one call (the caller and {@code threads - 1} pool workers)} */
    public int threads() {
        return threads;
    }

    /** {@return the kernel this backend runs: {@code plain} or {@code vector}; {@code null} when unavailable} */
    public String kernel() {
        return kernel == null ? null : kernel.id();
    }

    @Override public String id() { return ID; }
    @Override public boolean isAvailable() { return kernel != null; }
    @Override public Throwable unavailabilityCause() { return unavailable; }

    @Override
    public String describe() {
        if (kernel == null) {
            return "pure Java: unavailable (" + unavailable + ")";
        }
        return "pure Java, stride-phase GEMM, " + kernel.describe() + ", " + threads + " thread"
            + (threads == 1 ? "" : "s");
    }

    @Override
    public String unsupportedReason(ConvTransposeLayer layer) {
        Objects.requireNonNull(layer, "layer");
        return kernel == null ? "the Java backend is not available: " + unavailable : null;
    }

    /**
     * Whether {@code layer} is small enough that this backend runs it at least as fast as oneDNN, whatever the input:
     * at most {@link #TINY_LAYER_WEIGHTS} weights per group (the seed layer, depthwise layers). Measured on AVX2
     * (2 threads, direct and heap tensors): 0.3 us against 3 to 4 us for the seed layer, where oneDNN's fixed cost
     * per call dominates; 1.2 to 4 times faster on depthwise 4x4 and 16x16 layers, on par on depthwise 3x3.
     *
     * @param layer the layer
     * @return whether {@code auto} should run it on this backend even where oneDNN is available
     */
    public static boolean fasterThanNativeOn(ConvTransposeLayer layer) {
        return weightsPerGroup(layer) <= TINY_LAYER_WEIGHTS;
    }

    /**
     * @param layer the layer
     * @return its weights per group: {@code inChannels/groups * outChannels/groups * prod(kernel)}
     */
    public static long weightsPerGroup(ConvTransposeLayer layer) {
        return layer.reductionLength() * (layer.outChannels() / layer.groups());
    }

    @Override
    public CompiledConvTranspose compile(ConvTransposeLayer layer, Tensor weight, Tensor bias, Layout layout) {
        ensureAvailability();
        return JavaOp.create(layer, weight, bias, layout, kernel, workers(), threads);
    }

    private Workers workers() {
        Workers w = workers;
        if (w == null) {
            synchronized (this) {
                w = workers;
                if (w == null) {
                    w = new Workers(threads);
                    workers = w;
                }
            }
        }
        return w;
    }

    @Override
    public String toString() {
        return "JavaBackend[" + (kernel == null ? "unavailable" : kernel.id()) + ", threads=" + threads + "]";
    }
}
