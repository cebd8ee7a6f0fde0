package dev.convt.bench;

import dev.convt.Backend;
import dev.convt.Backends;
import dev.convt.CompiledConvTranspose;
import dev.convt.ConvTransposeLayer;
import dev.convt.Layout;
import dev.convt.ShapeList;
import dev.convt.ShapeList.Shape;
import dev.convt.Tensor;
import dev.convt.onednn.OneDnn;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.infra.BenchmarkParams;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * What every benchmark class shares: the shape list, deterministic data, compiling an op for a (backend, route,
 * layout), and the side file that records what each benchmark JVM actually ran (the oneDNN implementation and ISA),
 * which JMH's JSON has no place for.
 */
public final class BenchSupport {

    /** A shape-list file to read instead of the built-in copy of {@code bench/shapes.txt}. */
    public static final String SHAPES_PROPERTY = "convt.bench.shapes";
    /** The oneDNN route override the library reads when an op is compiled. */
    public static final String ROUTE_PROPERTY = "convt.onednn.route";
    /** Where benchmark JVMs append what they ran; {@link Report} reads it. */
    public static final String META_PROPERTY = "convt.bench.meta";
    /**
     * In the temporary directory, not the working directory, so a run from the repository leaves nothing to
     * commit; every fork of a run sees the same {@code java.io.tmpdir}.
     */
    public static final String DEFAULT_META = Path.of(System.getProperty("java.io.tmpdir"), "convt-bench-meta.tsv")
        .toString();
    /** The route value meaning "whatever the library chooses". */
    public static final String AUTO = "auto";

    /** Same seeds everywhere, so convt and the peers see the same weights and inputs. */
    public static final long WEIGHT_SEED = 1;
    public static final long BIAS_SEED = 2;
    public static final long INPUT_SEED = 3;

    private BenchSupport() {}

    /** The shape list: {@code -Dconvt.bench.shapes=FILE} if given, else the built-in copy of {@code bench/shapes.txt}. */
    public static ShapeList shapeList() {
        String file = System.getProperty(SHAPES_PROPERTY);
        if (file == null || file.isBlank()) {
            return ShapeList.builtIn();
        }
        try {
            return ShapeList.read(Path.of(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the shape list " + file, e);
        }
    }

    /** The named shape, at its listed batch size when {@code batch <= 0}, else at {@code batch}. */
    public static Shape shape(String name, int batch) {
        Shape s = shapeList().get(name);
        return batch > 0 ? s.withBatch(batch) : s;
    }

    /**
     * JMH needs the {@code shape} parameter's default values as literals in the annotation; this fails the trial
     * when they drift from {@code bench/shapes.txt} (whose bundled copy {@link ShapeList#builtIn()} is), so a
     * default run never silently skips a shape or names one that no longer exists.
     */
    public static void checkShapeParams(Class<?> benchmarkClass) {
        List<String> declared = shapeParamValues(benchmarkClass);
        List<String> listed = ShapeList.builtIn().names();
        if (!declared.equals(listed)) {
            throw new IllegalStateException(benchmarkClass.getSimpleName() + ".shape's @Param values " + declared
                + " differ from the names in bench/shapes.txt " + listed + ": update the annotation");
        }
    }

    /** The literal default values of a benchmark class's {@code shape} parameter. */
    public static List<String> shapeParamValues(Class<?> benchmarkClass) {
        try {
            Param p = benchmarkClass.getField("shape").getAnnotation(Param.class);
            if (p == null) {
                throw new IllegalStateException(benchmarkClass.getName() + ".shape has no @Param");
            }
            return List.of(p.value());
        } catch (NoSuchFieldException e) {
            throw new IllegalStateException(benchmarkClass.getName() + " has no public field 'shape'", e);
        }
    }

    /** {@code n} deterministic values in [-1, 1). */
    public static float[] random(long n, long seed) {
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("too many elements: " + n);
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] out = new float[(int) n];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        return out;
    }

    public static float[] weights(ConvTransposeLayer layer) {
        return random(Tensor.elementCount(layer.weightShape()), WEIGHT_SEED);
    }

    /** The bias values, or {@code null} for a layer without bias. */
    public static float[] bias(ConvTransposeLayer layer) {
        return layer.bias() ? random(layer.outChannels(), BIAS_SEED) : null;
    }

    /**
     * The backend with this id. A backend this build does not have (the fast {@code java} backend is written on
     * another branch) fails the trial with a message instead of aborting the whole run: JMH reports the failed
     * parameter combination and goes on with the next.
     */
    public static Backend backend(String id) {
        Backend b;
        try {
            b = Backends.byId(id);
        } catch (IllegalArgumentException e) {
            throw new UnsupportedOperationException("skipping backend '" + id + "': this build does not have it ("
                + e.getMessage() + ")", e);
        }
        b.ensureAvailability();
        return b;
    }

    /**
     * Sets (or, for {@code auto}, clears) the oneDNN route property, which the library reads when an op is
     * compiled; each JMH fork is its own JVM, so setting it in a trial's setup affects only that trial.
     */
    public static void applyRoute(String backendId, String route) {
        if (AUTO.equals(route)) {
            System.clearProperty(ROUTE_PROPERTY);
            return;
        }
        if (!"onednn".equals(backendId)) {
            throw new UnsupportedOperationException("skipping route '" + route + "' on backend '" + backendId
                + "': routes are oneDNN's; use route=auto for other backends");
        }
        System.setProperty(ROUTE_PROPERTY, route);
    }

    /**
     * After prepare: a forced route must be the one that ran, otherwise a build that ignores the property (or falls
     * back silently) would publish the default route's time under the forced route's name.
     */
    public static void checkRoute(String route, String implementation) {
        if (!AUTO.equals(route) && (implementation == null || !implementation.contains(route))) {
            throw new IllegalStateException("route '" + route + "' was requested (-D" + ROUTE_PROPERTY + "=" + route
                + ") but the op's implementation() is '" + implementation + "', which does not name it; this build"
                + " does not honour the route property, or fell back");
        }
    }

    /** A layer's benchmark weight and bias (the bias {@code null} for a layer without one), made once per trial. */
    public record Parameters(Tensor weight, Tensor bias) {
        public static Parameters of(ConvTransposeLayer layer) {
            float[] b = BenchSupport.bias(layer);
            return new Parameters(Tensor.wrap(weights(layer), layer.weightShape()),
                b == null ? null : Tensor.wrap(b, layer.outChannels()));
        }
    }

    /** Compiles {@code shape}'s layer with the benchmark weights on a backend, route and layout. */
    public static CompiledConvTranspose compile(Shape shape, String backendId, String route, Layout layout) {
        return compile(shape, backendId, route, layout, Parameters.of(shape.layer()));
    }

    /** As {@link #compile(Shape, String, String, Layout)} with weights made beforehand (outside a measurement). */
    public static CompiledConvTranspose compile(Shape shape, String backendId, String route, Layout layout,
                                                Parameters parameters) {
        Backend b = backend(backendId);
        applyRoute(backendId, route);
        return b.compile(shape.layer(), parameters.weight(), parameters.bias(), layout);
    }

    /** The input shape in {@code layout}'s order. */
    public static long[] inputShape(Shape shape, Layout layout) {
        return layout.fromChannelsFirst(shape.inputShape(), shape.layer().rank());
    }

    /** JMH's identity of one result: benchmark method and its parameters, as {@link Report} rebuilds it from JSON. */
    public static String key(String benchmark, java.util.Map<String, String> params) {
        StringBuilder sb = new StringBuilder(benchmark);
        new TreeMap<>(params).forEach((k, v) -> sb.append(' ').append(k).append('=').append(v));
        return sb.toString();
    }

    static String key(BenchmarkParams params) {
        java.util.Map<String, String> m = new TreeMap<>();
        for (String k : params.getParamsKeys()) {
            m.put(k, params.getParam(k));
        }
        return key(params.getBenchmark(), m);
    }

    /**
     * Prints what this trial runs (JMH copies a fork's output into its console log) and appends it to the meta file
     * ({@code -Dconvt.bench.meta}, default {@code convt-bench-meta.tsv} in {@code java.io.tmpdir}) for {@link Report}.
     * {@code oneDnn} is whether this JVM uses oneDNN, so its ISA is worth recording; other JVMs do not load it.
     */
    public static void record(BenchmarkParams params, String implementation, boolean oneDnn) {
        String isa = oneDnn ? OneDnn.describe() : "-";
        String key = key(params);
        System.out.println("# convt: " + key + " | implementation: " + implementation
            + (oneDnn ? " | " + isa : ""));
        String line = String.join("\t", Instant.now().toString(), key, clean(implementation), clean(isa)) + "\n";
        Path meta = Path.of(System.getProperty(META_PROPERTY, DEFAULT_META));
        try {
            Files.writeString(meta, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
        } catch (IOException e) {
            // The measurement is still valid without its side note; say so rather than fail the trial.
            System.out.println("# convt: cannot append to " + meta.toAbsolutePath() + ": " + e);
        }
    }

    private static String clean(String s) {
        return s == null ? "-" : s.replace('\t', ' ').replace('\n', ' ');
    }

    /** {@code [1, 2]} style, for messages. */
    static String str(long[] a) {
        return Arrays.toString(a);
    }
}
