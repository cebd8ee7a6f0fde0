package dev.convt.onednn;

import dev.convt.Tensor;
import org.bytedeco.javacpp.FloatPointer;

import java.lang.System.Logger.Level;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The one place that picks a route for (layer, layout, input shape). The table is data: the routes in order of
 * preference, each saying itself whether it applies.
 *
 * <ul>
 *   <li>{@code auto} (the default): every applicable route is built and timed once, on scratch buffers, when the
 *       shape is first prepared, and the fastest is kept (PyTorch's cudnn benchmark mode); the choice is never paid
 *       twice for a shape, and {@code implementation()} reports the timings.</li>
 *   <li>{@code rule}: no timing; the first applicable route of {@link #RULE_ORDER}.</li>
 *   <li>a route id: that route, or {@link UnsupportedOperationException} saying why it cannot run the shape.</li>
 * </ul>
 */
final class Routes {

    static final String AUTO = "auto";
    static final String RULE = "rule";

    static final List<Route> ALL = List.of(Matmul1x1Route.INSTANCE, MatmulShuffleRoute.INSTANCE,
        MatmulCol2imRoute.INSTANCE, DeconvRoute.ANY, DeconvRoute.PLAIN, DeconvChannelsLastRoute.INSTANCE);

    /** Without timing: the matrix-product forms where they apply exactly, else oneDNN's deconvolution. */
    static final List<Route> RULE_ORDER = List.of(Matmul1x1Route.INSTANCE, MatmulShuffleRoute.INSTANCE,
        DeconvRoute.ANY);

    private static final System.Logger LOG = System.getLogger(OneDnnOp.class.getName());

    /**
     * Candidates are timed in rounds, each running every candidate once, for at least {@link #MIN_ROUNDS} rounds and
     * about {@link #TIMING_NANOS} per candidate (at most {@link #MAX_ROUNDS}), after a warm-up; the best run of each
     * counts. Rounds, rather than one candidate after the other, because a disturbance on a shared machine (the JIT
     * compiling on the other core, which stalls oneDNN's OpenMP barrier) then hits every candidate alike instead of
     * deciding the choice.
     *
     * <p>The warm-up is at least two runs, up to {@link #WARMUP_NANOS} or {@link #MAX_WARMUP_RUNS} runs. The first
     * time a route is timed in this JVM it is longer, up to {@link #FIRST_WARMUP_NANOS} or
     * {@link #FIRST_WARMUP_RUNS} runs: the Java parts of a route (the transpositions, the col2im pass) start in the
     * interpreter, ten times slower than compiled, and HotSpot compiles them only after some hundred calls. Once
     * compiled they stay compiled for every later shape, so later choices keep to a few milliseconds for a small
     * layer (a server may compile many).
     */
    private static final long TIMING_NANOS = 5_000_000L;
    private static final long WARMUP_NANOS = 2_000_000L;
    private static final int MAX_WARMUP_RUNS = 50;
    private static final long FIRST_WARMUP_NANOS = 50_000_000L;
    private static final int FIRST_WARMUP_RUNS = 3_000;
    private static final int MIN_ROUNDS = 3;
    private static final int MAX_ROUNDS = 40;
    /** Rounds stop after this long once {@link #MIN_ROUNDS} have run, quiet or not. */
    private static final long MAX_TIMING_NANOS = 1_000_000_000L;

    /**
     * HotSpot's total JIT compilation time, or a constant where the JVM does not report it. A round during which it
     * grew ran beside the compiler: in a young JVM the compiler threads take a core from oneDNN's OpenMP team and the
     * routes' Java passes may still run uncompiled code, which timed DCGAN out's {@code matmul-col2im} at 14.6 to
     * 34.1 ms in six fresh JVMs against 6.7 to 8.5 ms in three run with {@code -Xbatch} (compilation in the
     * foreground: RESULTS.md, fourth run). Such rounds count only when no round was quiet.
     */
    private static final class JIT {
        private static final CompilationMXBean BEAN = bean();

        private static CompilationMXBean bean() {
            CompilationMXBean b = ManagementFactory.getCompilationMXBean();
            return b != null && b.isCompilationTimeMonitoringSupported() ? b : null;
        }

        static long totalMillis() {
            return BEAN == null ? 0 : BEAN.getTotalCompilationTime();
        }
    }

    /** Routes timed at least once in this JVM (their Java code compiled by then). */
    private static final Set<String> WARMED = ConcurrentHashMap.newKeySet();

    private Routes() {}

    static List<String> ids() {
        return ALL.stream().map(Route::id).toList();
    }

    /** Validates a policy: {@code auto}, {@code rule} or a route id (case-insensitive). */
    static String policy(String requested) {
        String p = requested == null || requested.isBlank() ? AUTO : requested.trim().toLowerCase(Locale.ROOT);
        if (p.equals(AUTO) || p.equals(RULE) || ids().contains(p)) {
            return p;
        }
        throw new IllegalArgumentException("unknown oneDNN route '" + requested + "'; expected auto, rule or one of "
            + String.join(", ", ids()));
    }

    static Route byId(String id) {
        for (Route r : ALL) {
            if (r.id().equals(id)) {
                return r;
            }
        }
        throw new IllegalArgumentException("unknown oneDNN route '" + id + "'");
    }

    /** Builds the plan {@code policy} chooses for {@code g}. */
    static Plan choose(Weights weights, Geometry g, String policy) {
        if (!policy.equals(AUTO) && !policy.equals(RULE)) {
            Route r = byId(policy);
            String why = r.unsupportedReason(g);
            if (why != null) {
                throw new UnsupportedOperationException("oneDNN route '" + r.id() + "' was requested but cannot run "
                    + g + ": " + why);
            }
            return r.plan(weights, g);
        }
        if (policy.equals(RULE)) {
            for (Route r : RULE_ORDER) {
                if (r.unsupportedReason(g) == null) {
                    return r.plan(weights, g);
                }
            }
            throw new AssertionError("deconv-any applies to every layer");
        }
        List<Plan> candidates = new ArrayList<>();
        try {
            RuntimeException firstFailure = null;
            for (Route r : ALL) {
                if (r.unsupportedReason(g) != null) {
                    continue;
                }
                if (r == DeconvRoute.PLAIN && !candidates.isEmpty()
                    && candidates.get(candidates.size() - 1).implementation().startsWith("deconv-any")
                    && !candidates.get(candidates.size() - 1).implementation().contains("reorder")) {
                    continue; // oneDNN's preferred layouts are the caller's own: deconv-plain would be the same
                }
                try {
                    candidates.add(r.plan(weights, g));
                } catch (OneDnnException e) {
                    LOG.log(Level.DEBUG, () -> "route " + r.id() + " refused for " + g + ": " + e.getMessage());
                    firstFailure = firstFailure == null ? e : firstFailure;
                }
            }
            if (candidates.isEmpty()) {
                throw firstFailure;
            }
            if (candidates.size() == 1) {
                return candidates.remove(0);
            }
            return fastest(g, candidates);
        } finally {
            for (Plan p : candidates) {
                p.close();
            }
        }
    }

    /**
     * Times every candidate on the same scratch buffers and returns the fastest, its implementation annotated; the
     * winner is removed from {@code candidates} (the caller closes the rest).
     */
    private static Plan fastest(Geometry g, List<Plan> candidates) {
        long[] inShape = g.layout.fromChannelsFirst(g.inDims, g.rank);
        long[] outShape = g.layout.fromChannelsFirst(g.outDims, g.rank);
        int count = candidates.size();
        long[] best = new long[count];
        java.util.Arrays.fill(best, Long.MAX_VALUE);
        try (FloatPointer inData = new FloatPointer(g.inCount); FloatPointer outData = new FloatPointer(g.outCount)) {
            inData.zero();
            Tensor in = Tensor.wrap(inData.asBuffer(), inShape);
            Tensor out = Tensor.wrap(outData.asBuffer(), outShape);
            for (Plan p : candidates) {
                String route = p.implementation().substring(0, p.implementation().indexOf(':'));
                boolean first = WARMED.add(route);
                long budget = first ? FIRST_WARMUP_NANOS : WARMUP_NANOS;
                int runs = first ? FIRST_WARMUP_RUNS : MAX_WARMUP_RUNS;
                long start = System.nanoTime();
                for (int run = 0; run < runs && (run < 2 || System.nanoTime() - start < budget); run++) {
                    p.run(in, out); // the first run builds the execution context
                }
            }
            long spent = 0;
            long[] round = new long[count];
            long[] bestOfAll = best.clone();
            int quiet = 0;
            long timingStart = System.nanoTime();
            for (int r = 0; r < MAX_ROUNDS && (quiet < MIN_ROUNDS || spent < TIMING_NANOS * count)
                && (r < MIN_ROUNDS || System.nanoTime() - timingStart < MAX_TIMING_NANOS); r++) {
                long compiling = JIT.totalMillis();
                for (int c = 0; c < count; c++) {
                    long t0 = System.nanoTime();
                    candidates.get(c).run(in, out);
                    round[c] = System.nanoTime() - t0;
                    bestOfAll[c] = Math.min(bestOfAll[c], round[c]);
                    spent += round[c];
                }
                if (JIT.totalMillis() == compiling) {
                    quiet++;
                    for (int c = 0; c < count; c++) {
                        best[c] = Math.min(best[c], round[c]);
                    }
                }
            }
            if (quiet == 0) {
                System.arraycopy(bestOfAll, 0, best, 0, count); // the JIT never settled: every round counts
            }
        }
        double[] ms = new double[count];
        for (int c = 0; c < count; c++) {
            ms[c] = best[c] / 1e6;
        }
        Integer[] order = new Integer[candidates.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, Comparator.comparingDouble(i -> ms[i]));
        StringBuilder timings = new StringBuilder(" [timed:");
        for (int i = 0; i < order.length; i++) {
            String impl = candidates.get(order[i]).implementation();
            timings.append(i == 0 ? " " : " < ").append(impl, 0, impl.indexOf(':'))
                .append(String.format(Locale.ROOT, " %.3g ms", ms[order[i]]));
        }
        Plan winner = candidates.remove((int) order[0]);
        String note = timings.append(']').toString();
        LOG.log(Level.DEBUG, () -> "routes for " + g + ":" + note);
        return new Timed(winner, note);
    }

    /** The winning plan, reporting how it won. */
    private static final class Timed extends Plan {
        private final Plan inner;
        private final String implementation;

        Timed(Plan inner, String note) {
            super(inner.geometry);
            this.inner = inner;
            this.implementation = inner.implementation() + note;
        }

        @Override
        String implementation() {
            return implementation;
        }

        @Override
        Exec newExec() {
            return inner.newExec();
        }

        @Override
        public void close() {
            super.close();
            inner.close();
        }
    }
}
