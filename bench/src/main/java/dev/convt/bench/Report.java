package dev.convt.bench;

import dev.convt.ShapeList;
import dev.convt.ShapeList.Shape;
import dev.convt.onednn.OneDnn;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Turns one JMH JSON result file ({@code -rf json}) into a markdown report: milliseconds and GFLOP/s per shape,
 * the ratios between backends, routes and peers measured in that same run, compile time, and the machine (CPU,
 * cores, Java, and oneDNN's ISA as the benchmark JVMs detected it).
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.convt.bench.Report [--meta FILE] [--shapes FILE] [--out FILE] RESULT.json
 * </pre>
 *
 * {@code --meta} is the side file the benchmarks append to (default: {@code -Dconvt.bench.meta}, else
 * {@code convt-bench-meta.tsv} in {@code java.io.tmpdir}; for each result the latest line wins); {@code --shapes}
 * the shape list the run used (default: the built-in copy of {@code bench/shapes.txt}), needed for the FLOP counts.
 */
public final class Report {

    /** One JMH result. */
    record Result(String benchmark, String className, String method, Map<String, String> params, String mode,
                  double score, double error, String unit, List<Double> raw) {
        String p(String name) {
            return params.getOrDefault(name, "");
        }

        String key() {
            return BenchSupport.key(benchmark, params);
        }

        /** Score in milliseconds per operation, or NaN for a throughput unit. */
        double ms() {
            return toMs(score, unit);
        }

        double errMs() {
            return toMs(error, unit);
        }
    }

    /** What a benchmark JVM recorded about one result (see {@link BenchSupport#record}). */
    record Meta(String time, String implementation, String isa) {}

    private final List<Result> results;
    private final Map<String, Meta> meta;
    private final ShapeList shapes;
    private final Path jsonFile;

    Report(List<Result> results, Map<String, Meta> meta, ShapeList shapes, Path jsonFile) {
        this.results = results;
        this.meta = meta;
        this.shapes = shapes;
        this.jsonFile = jsonFile;
    }

    public static void main(String[] args) throws IOException {
        Path meta = Path.of(System.getProperty(BenchSupport.META_PROPERTY, BenchSupport.DEFAULT_META));
        Path shapesFile = null;
        Path out = null;
        Path json = null;
        for (int a = 0; a < args.length; a++) {
            switch (args[a]) {
                case "--meta" -> meta = Path.of(args[++a]);
                case "--shapes" -> shapesFile = Path.of(args[++a]);
                case "--out" -> out = Path.of(args[++a]);
                case "-h", "--help" -> {
                    System.out.println("usage: Report [--meta FILE] [--shapes FILE] [--out FILE] RESULT.json");
                    return;
                }
                default -> {
                    if (json != null || args[a].startsWith("--")) {
                        System.err.println("unexpected argument '" + args[a] + "'; usage: Report [--meta FILE]"
                            + " [--shapes FILE] [--out FILE] RESULT.json");
                        System.exit(2);
                    }
                    json = Path.of(args[a]);
                }
            }
        }
        if (json == null) {
            System.err.println("usage: Report [--meta FILE] [--shapes FILE] [--out FILE] RESULT.json");
            System.exit(2);
        }
        ShapeList shapes = shapesFile == null ? ShapeList.builtIn() : ShapeList.read(shapesFile);
        Report r = new Report(parseResults(Files.readString(json, StandardCharsets.UTF_8)),
            Files.exists(meta) ? parseMeta(Files.readAllLines(meta, StandardCharsets.UTF_8)) : Map.of(), shapes, json);
        String md = r.render(machine());
        if (out == null) {
            System.out.print(md);
        } else {
            Files.writeString(out, md, StandardCharsets.UTF_8);
            System.err.println("wrote " + out);
        }
    }

    // ---------------------------------------------------------------- input

    @SuppressWarnings("unchecked")
    static List<Result> parseResults(String json) {
        List<Result> out = new ArrayList<>();
        for (Object o : (List<Object>) Json.parse(json)) {
            Map<String, Object> m = (Map<String, Object>) o;
            String benchmark = (String) m.get("benchmark");
            int dot = benchmark.lastIndexOf('.');
            String cls = benchmark.substring(0, dot);
            cls = cls.substring(cls.lastIndexOf('.') + 1);
            Map<String, String> params = new TreeMap<>();
            Object p = m.get("params");
            if (p instanceof Map<?, ?> pm) {
                pm.forEach((k, v) -> params.put((String) k, String.valueOf(v)));
            }
            Map<String, Object> pmx = (Map<String, Object>) m.get("primaryMetric");
            List<Double> raw = new ArrayList<>();
            Object rd = pmx.get("rawData");
            if (rd instanceof List<?> forks) {
                for (Object fork : forks) {
                    for (Object v : (List<Object>) fork) {
                        raw.add(Json.number(v));
                    }
                }
            }
            out.add(new Result(benchmark, cls, benchmark.substring(dot + 1), params, (String) m.get("mode"),
                Json.number(pmx.get("score")), Json.number(pmx.get("scoreError")), (String) pmx.get("scoreUnit"),
                raw));
        }
        return out;
    }

    /** Latest line per key wins: the file accumulates over runs. */
    static Map<String, Meta> parseMeta(List<String> lines) {
        Map<String, Meta> m = new LinkedHashMap<>();
        for (String line : lines) {
            String[] f = line.split("\t", -1);
            if (f.length < 4) {
                continue;
            }
            Meta old = m.get(f[1]);
            if (old == null || old.time().compareTo(f[0]) <= 0) {
                m.put(f[1], new Meta(f[0], f[2], f[3]));
            }
        }
        return m;
    }

    /** The machine this report is written on: CPU model and count from /proc/cpuinfo, oneDNN as it loads here. */
    static Map<String, String> machine() {
        Map<String, String> m = new LinkedHashMap<>();
        String model = "unknown";
        int cpus = 0;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name") && model.equals("unknown")) {
                    model = line.substring(line.indexOf(':') + 1).trim();
                }
                if (line.startsWith("processor")) {
                    cpus++;
                }
            }
        } catch (IOException | RuntimeException e) {
            model = "unknown (" + e + ")";
        }
        m.put("CPU", model);
        m.put("logical CPUs", cpus + " in /proc/cpuinfo, " + Runtime.getRuntime().availableProcessors()
            + " available to the JVM");
        String oneDnn;
        try {
            oneDnn = OneDnn.describe();
        } catch (Throwable t) { // a report must come out even where the natives do not load
            oneDnn = "unavailable: " + t;
        }
        m.put("oneDNN (loaded by this report)", oneDnn);
        m.put("report JVM", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        return m;
    }

    // ---------------------------------------------------------------- output

    String render(Map<String, String> machine) {
        StringBuilder sb = new StringBuilder();
        sb.append("# convt benchmark report\n\n");
        String when;
        try {
            when = DateTimeFormatter.ISO_LOCAL_DATE_TIME.format(
                Files.getLastModifiedTime(jsonFile).toInstant().atOffset(ZoneOffset.UTC).withNano(0)) + "Z";
        } catch (IOException | RuntimeException e) {
            when = "unknown";
        }
        sb.append("From `").append(jsonFile.getFileName()).append("` (written ").append(when).append(", ")
            .append(results.size()).append(" results). Times are JMH scores (mean per call) in ms with JMH's 99.9%"
                + " error; GFLOP/s = 2·N·Cin·Cout/groups·∏k·∏in / time. Every ratio compares figures of this run.\n\n");
        machine(sb, machine);
        forward(sb);
        peers(sb);
        reference(sb);
        compile(sb);
        others(sb);
        return sb.toString();
    }

    private void machine(StringBuilder sb, Map<String, String> machine) {
        sb.append("## Machine\n\n| | |\n| --- | --- |\n");
        machine.forEach((k, v) -> row(sb, k, v));
        Set<String> isas = new LinkedHashSet<>();
        for (Result r : results) {
            Meta m = meta.get(r.key());
            if (m != null && !m.isa().equals("-")) {
                isas.add(m.isa());
            }
        }
        row(sb, "oneDNN (in the benchmark JVMs)", isas.isEmpty() ? "not recorded (no oneDNN result, or no meta file)"
            : String.join("; ", isas));
        Set<String> jvms = new LinkedHashSet<>();
        Set<String> configs = new LinkedHashSet<>();
        // The JVM and JMH settings are in the raw JSON of each result; read them again from the file.
        try {
            @SuppressWarnings("unchecked")
            List<Object> all = (List<Object>) Json.parse(Files.readString(jsonFile, StandardCharsets.UTF_8));
            for (Object o : all) {
                @SuppressWarnings("unchecked")
                Map<String, Object> m = (Map<String, Object>) o;
                jvms.add(m.get("vmName") + " " + m.get("vmVersion") + " (JDK " + m.get("jdkVersion") + ", JMH "
                    + m.get("jmhVersion") + ")");
                String b = (String) m.get("benchmark");
                String cls = b.substring(0, b.lastIndexOf('.'));
                configs.add("`" + cls.substring(cls.lastIndexOf('.') + 1) + "`: " + m.get("mode") + ", "
                    + (int) Json.number(m.get("forks")) + " fork, warm-up "
                    + (int) Json.number(m.get("warmupIterations")) + " × " + m.get("warmupTime") + ", measurement "
                    + (int) Json.number(m.get("measurementIterations")) + " × " + m.get("measurementTime")
                    + ", threads " + (int) Json.number(m.get("threads")));
            }
        } catch (IOException | RuntimeException e) {
            jvms.add("unknown (" + e + ")");
        }
        row(sb, "benchmark JVM", String.join("; ", jvms));
        row(sb, "JMH settings", String.join("<br>", configs));
        sb.append('\n');
    }

    private List<Result> of(String cls) {
        return results.stream().filter(r -> r.className().equals(cls)).toList();
    }

    private Shape shapeOf(Result r) {
        String name = r.p("shape");
        if (name.isEmpty()) {
            return null;
        }
        try {
            Shape s = shapes.get(name);
            int batch = r.params().containsKey("batch") ? Integer.parseInt(r.p("batch")) : 0;
            return batch > 0 ? s.withBatch(batch) : s;
        } catch (IllegalArgumentException e) {
            return null; // a shape from another list: no FLOP count, still listed
        }
    }

    private int shapeOrder(Result r) {
        int i = shapes.names().indexOf(r.p("shape"));
        return i < 0 ? Integer.MAX_VALUE : i;
    }

    private double gflops(Result r) {
        Shape s = shapeOf(r);
        return s == null ? Double.NaN : s.flops() / (r.ms() * 1e6);
    }

    private String implementation(Result... candidates) {
        for (Result r : candidates) {
            if (r != null) {
                Meta m = meta.get(r.key());
                if (m != null) {
                    return m.implementation();
                }
            }
        }
        return "";
    }

    /** convt forward: one row per (shape, batch, backend, route, layout), the three calling styles side by side. */
    private void forward(StringBuilder sb) {
        List<Result> fw = of("ConvTransposeBench");
        if (fw.isEmpty()) {
            return;
        }
        sb.append("## convt forward (`ConvTransposeBench`)\n\n")
            .append("`direct`: `forward(x, y)` on direct tensors reused across calls. `float[]`: `forward(x, y)` with"
                + " both tensors wrapping the caller's arrays. `allocating`: `forward(x)` from the wrapped array."
                + " `× best`: this row's direct time over the fastest direct time for the same shape, batch and"
                + " layout (1.00 is the fastest backend/route).\n\n")
            .append("| shape | N | backend | route | layout | direct ms | GFLOP/s | float[] ms | GFLOP/s |"
                + " allocating ms | GFLOP/s | float[] / direct | × best | implementation |\n")
            .append("| --- | ---: | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
        Map<List<String>, Map<String, Result>> rows = new LinkedHashMap<>();
        fw.stream()
            .sorted(Comparator.comparingInt(this::shapeOrder).thenComparing(r -> r.p("batch"))
                .thenComparing(r -> r.p("layout")).thenComparing(r -> r.p("backend")).thenComparing(r -> r.p("route")))
            .forEach(r -> rows.computeIfAbsent(List.of(r.p("shape"), r.p("batch"), r.p("backend"), r.p("route"),
                r.p("layout")), k -> new LinkedHashMap<>()).put(r.method(), r));
        for (Map.Entry<List<String>, Map<String, Result>> e : rows.entrySet()) {
            Map<String, Result> m = e.getValue();
            Result d = m.get("direct");
            Result h = m.get("fromFloatArray");
            Result a = m.get("allocating");
            Result any = d != null ? d : h != null ? h : a;
            Shape s = shapeOf(any);
            // the fastest direct time of the same shape, batch and layout; d itself is one, so it exists when d does
            double best = d == null ? 0 : fw.stream()
                .filter(r -> r.method().equals("direct") && r.p("shape").equals(any.p("shape"))
                    && r.p("batch").equals(any.p("batch")) && r.p("layout").equals(any.p("layout")))
                .mapToDouble(Result::ms).min().orElseThrow();
            sb.append("| ").append(any.p("shape")).append(" | ").append(s == null ? "?" : s.batch())
                .append(" | ").append(any.p("backend")).append(" | ").append(any.p("route"))
                .append(" | ").append(any.p("layout")).append(" | ")
                .append(msCell(d)).append(" | ").append(d == null ? "" : num(gflops(d))).append(" | ")
                .append(msCell(h)).append(" | ").append(h == null ? "" : num(gflops(h))).append(" | ")
                .append(msCell(a)).append(" | ").append(a == null ? "" : num(gflops(a))).append(" | ")
                .append(d != null && h != null ? ratio(h.ms() / d.ms()) : "").append(" | ")
                .append(d != null ? ratio(d.ms() / best) : "").append(" | ")
                .append(code(implementation(d, h, a))).append(" |\n");
        }
        sb.append('\n');
    }

    /** Peers against convt's fastest channels-first configuration of the same shape and batch. */
    private void peers(StringBuilder sb) {
        List<Result> peers = of("PeerBench");
        if (peers.isEmpty()) {
            return;
        }
        List<Result> convt = of("ConvTransposeBench").stream()
            .filter(r -> r.p("layout").equals("CHANNELS_FIRST")).toList();
        sb.append("## Against libtorch and ONNX Runtime (`PeerBench`, channels-first)\n\n")
            .append("Every peer goes from the caller's `float[]` to the caller's `float[]` (one copy in, one copy out,"
                + " 2 threads), as convt's `float[]` column does. convt: the fastest backend/route of this run for the"
                + " shape. `peer / convt` above 1 means convt is faster (the issue's target: 1.2 against the faster"
                + " peer).\n\n")
            .append("| shape | N | convt float[] ms | convt (backend/route) | libtorch ms | ONNX Runtime ms |"
                + " faster peer / convt float[] | convt direct ms | faster peer / convt direct |\n")
            .append("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |\n");
        Map<List<String>, List<Result>> byShape = new LinkedHashMap<>();
        peers.stream().sorted(Comparator.comparingInt(this::shapeOrder).thenComparing(r -> r.p("batch")))
            .forEach(r -> byShape.computeIfAbsent(List.of(r.p("shape"), r.p("batch")), k -> new ArrayList<>()).add(r));
        for (Map.Entry<List<String>, List<Result>> e : byShape.entrySet()) {
            String shape = e.getKey().get(0);
            String batch = e.getKey().get(1);
            Predicate<Result> same = r -> r.p("shape").equals(shape) && r.p("batch").equals(batch);
            Result lt = e.getValue().stream().filter(r -> r.p("peer").equals("libtorch")).findFirst().orElse(null);
            Result ort = e.getValue().stream().filter(r -> r.p("peer").equals("onnxruntime")).findFirst().orElse(null);
            Result heap = fastest(convt, same.and(r -> r.method().equals("fromFloatArray")));
            Result direct = fastest(convt, same.and(r -> r.method().equals("direct")));
            double peer = Math.min(lt == null ? Double.POSITIVE_INFINITY : lt.ms(),
                ort == null ? Double.POSITIVE_INFINITY : ort.ms());
            Shape s = shapeOf(e.getValue().get(0));
            sb.append("| ").append(shape).append(" | ").append(s == null ? "?" : s.batch()).append(" | ")
                .append(msCell(heap)).append(" | ")
                .append(heap == null ? "not measured" : heap.p("backend") + "/" + heap.p("route")).append(" | ")
                .append(msCell(lt)).append(" | ").append(msCell(ort)).append(" | ")
                .append(heap == null || Double.isInfinite(peer) ? "" : ratio(peer / heap.ms())).append(" | ")
                .append(msCell(direct)).append(" | ")
                .append(direct == null || Double.isInfinite(peer) ? "" : ratio(peer / direct.ms())).append(" |\n");
        }
        sb.append("\nPeer implementations: ");
        sb.append(peers.stream().map(r -> r.p("peer") + ": " + implementation(r)).distinct()
            .collect(Collectors.joining("; "))).append("\n\n");
    }

    private static Result fastest(List<Result> rs, Predicate<Result> p) {
        return rs.stream().filter(p).min(Comparator.comparingDouble(Result::ms)).orElse(null);
    }

    /** The reference at (by default) batch 1, per image, against oneDNN's direct forward per image from this run. */
    private void reference(StringBuilder sb) {
        List<Result> ref = of("ReferenceBench");
        if (ref.isEmpty()) {
            return;
        }
        List<Result> onednn = of("ConvTransposeBench").stream()
            .filter(r -> r.method().equals("direct") && r.p("backend").equals("onednn")).toList();
        sb.append("## Reference backend (`ReferenceBench`)\n\n")
            .append("The oracle (scatter definition in double) on direct tensors, at a small batch so the run stays"
                + " short. `reference / onednn`: time per image against oneDNN's fastest direct forward of the same"
                + " shape and layout in this run (at its own batch size, per image).\n\n")
            .append("| shape | N | layout | ms per call | ms per image | GFLOP/s | reference / onednn per image |\n")
            .append("| --- | ---: | --- | ---: | ---: | ---: | ---: |\n");
        ref.stream().sorted(Comparator.comparingInt(this::shapeOrder)).forEach(r -> {
            Shape s = shapeOf(r);
            double perImage = s == null ? Double.NaN : r.ms() / s.batch();
            Result o = fastest(onednn, x -> x.p("shape").equals(r.p("shape")) && x.p("layout").equals(r.p("layout")));
            Shape os = o == null ? null : shapeOf(o);
            String vs = os == null ? "" : ratio(perImage / (o.ms() / os.batch()));
            sb.append("| ").append(r.p("shape")).append(" | ").append(s == null ? "?" : s.batch()).append(" | ")
                .append(r.p("layout")).append(" | ").append(msCell(r)).append(" | ").append(num(perImage))
                .append(" | ").append(num(gflops(r))).append(" | ").append(vs).append(" |\n");
        });
        sb.append('\n');
    }

    /** Compile + prepare: the first (cold) shot and the median of the others. */
    private void compile(StringBuilder sb) {
        List<Result> cb = of("CompileBench");
        if (cb.isEmpty()) {
            return;
        }
        sb.append("## Compile + prepare (`CompileBench`)\n\n")
            .append("`first`: the first shot in a fresh JVM (JIT and oneDNN's primitive cache cold). `later`: the"
                + " median of the other shots (recompiling a layer oneDNN has seen).\n\n")
            .append("| shape | N | backend | route | layout | first ms | later ms (median) | implementation |\n")
            .append("| --- | ---: | --- | --- | --- | ---: | ---: | --- |\n");
        cb.stream()
            .sorted(Comparator.comparingInt(this::shapeOrder).thenComparing(r -> r.p("layout"))
                .thenComparing(r -> r.p("backend")).thenComparing(r -> r.p("route")))
            .forEach(r -> {
                Shape s = shapeOf(r);
                List<Double> raw = r.raw();
                double first = raw.isEmpty() ? Double.NaN : toMs(raw.get(0), r.unit());
                List<Double> rest = raw.size() > 1 ? raw.subList(1, raw.size()) : raw;
                sb.append("| ").append(r.p("shape")).append(" | ").append(s == null ? "?" : s.batch())
                    .append(" | ").append(r.p("backend")).append(" | ").append(r.p("route")).append(" | ")
                    .append(r.p("layout")).append(" | ").append(num(first)).append(" | ")
                    .append(num(toMs(median(rest), r.unit()))).append(" | ").append(code(implementation(r)))
                    .append(" |\n");
            });
        sb.append('\n');
    }

    private void others(StringBuilder sb) {
        Set<String> known = Set.of("ConvTransposeBench", "PeerBench", "ReferenceBench", "CompileBench");
        List<Result> rest = results.stream().filter(r -> !known.contains(r.className())).toList();
        if (rest.isEmpty()) {
            return;
        }
        sb.append("## Other benchmarks\n\n| benchmark | params | score | unit |\n| --- | --- | ---: | --- |\n");
        for (Result r : rest) {
            sb.append("| `").append(r.className()).append('.').append(r.method()).append("` | ")
                .append(r.params().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                    .collect(Collectors.joining(", ")))
                .append(" | ").append(num(r.score())).append(" ± ").append(num(r.error())).append(" | ")
                .append(r.unit()).append(" |\n");
        }
        sb.append('\n');
    }

    // ---------------------------------------------------------------- formatting

    static double toMs(double v, String unit) {
        if (unit == null) {
            return Double.NaN;
        }
        return switch (unit) {
            case "ns/op" -> v / 1e6;
            case "us/op" -> v / 1e3;
            case "ms/op" -> v;
            case "s/op" -> v * 1e3;
            case "min/op" -> v * 60e3;
            default -> Double.NaN;
        };
    }

    static double median(List<Double> v) {
        if (v.isEmpty()) {
            return Double.NaN;
        }
        List<Double> s = v.stream().sorted().toList();
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    /** Three significant digits, no exponent: 0.00342, 4.95, 34.8, 1234. */
    static String num(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return "–";
        }
        double a = Math.abs(v);
        int decimals = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : Math.max(2, 2 - (int) Math.floor(Math.log10(a)));
        if (a == 0) {
            decimals = 0;
        }
        return String.format(Locale.ROOT, "%,." + Math.min(decimals, 9) + "f", v);
    }

    private static String msCell(Result r) {
        if (r == null) {
            return "";
        }
        return Double.isNaN(r.errMs()) ? num(r.ms()) : num(r.ms()) + " ± " + num(r.errMs());
    }

    private static String ratio(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return "–";
        }
        return (v >= 0.1 ? String.format(Locale.ROOT, "%.2f", v) : num(v)) + "x";
    }

    private static String code(String s) {
        return s == null || s.isEmpty() ? "" : "`" + s.replace("|", "\\|") + "`";
    }

    private static void row(StringBuilder sb, String k, String v) {
        sb.append("| ").append(k).append(" | ").append(Objects.toString(v, "").replace("|", "\\|")).append(" |\n");
    }
}
