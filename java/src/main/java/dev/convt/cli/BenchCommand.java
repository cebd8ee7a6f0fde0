package dev.convt.cli;

import dev.convt.Backend;
import dev.convt.Backends;
import dev.convt.CompiledConvTranspose;
import dev.convt.Layout;
import dev.convt.ShapeList;
import dev.convt.Tensor;
import dev.convt.Version;
import dev.convt.onednn.OneDnn;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;

/**
 * {@code convt bench}: times named shapes (or one layer given by flags) on the backends, with warm-up, repeated
 * timing and a progress line on stderr, and prints median milliseconds and GFLOP/s per backend, from direct tensors
 * and from the caller's {@code float[]}, with the implementation each ran. Meant for a quick look; the JMH suite in
 * {@code bench/} is the measurement of record.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, versionProvider = ConvtCli.VersionProvider.class,
    description = "Time shapes of the shape list (or one layer given by flags) on the backends: median ms and GFLOP/s.",
    footerHeading = "%nExamples:%n",
    footer = {"  convt bench --shape dcgan_g2,unet_up            # named shapes of the built-in list, every fast backend",
              "  convt bench --shapes my.txt --backend onednn --channels-last",
              "  convt bench --cin 512 --cout 256 --input-size 4x4 --kernel-size 4 --stride 2 --padding 1 --batch 64"})
final class BenchCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--shape", paramLabel = "NAME[,NAME...]",
        description = "Shapes of the list to run (default: all of them).")
    String shapeNames;

    @Option(names = "--shapes", paramLabel = "FILE",
        description = "A shape list file (format of bench/shapes.txt; default: the built-in list).")
    Path shapesFile;

    @Option(names = "--backend", paramLabel = "ID[,ID...]",
        description = "Backends to time: auto, reference, java, onednn, or 'all' (default: every available backend "
            + "but the slow reference).")
    String backends;

    @Option(names = "--channels-last", description = "Input and output channels-last (NWC, NHWC, NDHWC).")
    boolean channelsLast;

    @Option(names = "--batch", paramLabel = "N", description = "Override every shape's batch size.")
    Integer batch;

    @Option(names = "--seconds", paramLabel = "S", description = "Time spent measuring each case (default 1).")
    double seconds = 1.0;

    @Option(names = "--warmup", paramLabel = "S", description = "Warm-up per case, in seconds (default 0.5).")
    double warmup = 0.5;

    // one layer by flags, in the shape list's terms
    @Option(names = "--cin", paramLabel = "C", description = "Layer by flags: input channels.")
    Integer cin;
    @Option(names = "--cout", paramLabel = "C", description = "Layer by flags: output channels.")
    Integer cout;
    @Option(names = "--input-size", paramLabel = "HxW", description = "Layer by flags: spatial input size (e.g. 4x4).")
    String inputSize;
    @Option(names = "--kernel-size", paramLabel = "k", description = "Layer by flags: kernel size (k or k1xk2...).")
    String kernelSize;
    @Option(names = "--stride", paramLabel = "s", description = "Layer by flags: stride (default 1).")
    String stride;
    @Option(names = "--padding", paramLabel = "p", description = "Layer by flags: padding (default 0).")
    String padding;
    @Option(names = "--output-padding", paramLabel = "op", description = "Layer by flags: output padding (default 0).")
    String outputPadding;
    @Option(names = "--dilation", paramLabel = "d", description = "Layer by flags: dilation (default 1).")
    String dilation;
    @Option(names = "--groups", paramLabel = "g", description = "Layer by flags: groups (default 1).")
    Integer groups;
    @Option(names = "--no-bias", description = "Layer by flags: without bias.")
    boolean noBias;

    @Override
    public Integer call() throws IOException {
        if (!(seconds > 0) || !(warmup >= 0) || seconds > 3600 || warmup > 3600) {
            throw new IllegalArgumentException("--seconds must be in (0, 3600] and --warmup in [0, 3600], but got "
                + seconds + " and " + warmup);
        }
        if (batch != null && batch < 1) {
            throw new IllegalArgumentException("--batch must be positive, but got " + batch);
        }
        List<ShapeList.Shape> shapes = shapes();
        List<Backend> chosen = backends();
        Layout layout = channelsLast ? Layout.CHANNELS_LAST : Layout.CHANNELS_FIRST;
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        out.println("convt " + Version.get() + " bench; " + OneDnn.describe() + "; CPU " + cpuModel() + ", "
            + Runtime.getRuntime().availableProcessors() + " cores; Java " + System.getProperty("java.version")
            + "; layout " + layout);
        out.println(String.format(Locale.ROOT, "%-14s %-10s %12s %10s %12s %12s  %s", "shape", "backend",
            "direct ms", "GFLOP/s", "float[] ms", "float[]/dir", "implementation"));
        int total = shapes.size() * chosen.size();
        int done = 0;
        for (ShapeList.Shape shape : shapes) {
            for (Backend backend : chosen) {
                done++;
                err.print(String.format(Locale.ROOT, "\r[%d/%d] %s on %s ...            ", done, total, shape.name(),
                    backend.id()));
                err.flush();
                String why = backend.unsupportedReason(shape.layer());
                if (why != null) {
                    out.println(String.format(Locale.ROOT, "%-14s %-10s %s", shape.name(), backend.id(),
                        "cannot run: " + why));
                    continue;
                }
                Result r = time(backend, shape, layout);
                out.println(String.format(Locale.ROOT, "%-14s %-10s %12.4f %10.1f %12.4f %12.2f  %s", shape.name(),
                    backend.id(), r.directMs, shape.flops() / (r.directMs * 1e6), r.arrayMs, r.arrayMs / r.directMs,
                    r.implementation));
                out.flush();
            }
        }
        err.print("\r" + " ".repeat(60) + "\r");
        err.flush();
        return 0;
    }

    private record Result(double directMs, double arrayMs, String implementation) {}

    private Result time(Backend backend, ShapeList.Shape shape, Layout layout) {
        Random rnd = new Random(1);
        long[] inShape = layout.fromChannelsFirst(shape.inputShape(), shape.layer().rank());
        float[] w = new float[(int) Tensor.elementCount(shape.layer().weightShape())];
        for (int i = 0; i < w.length; i++) {
            w[i] = rnd.nextFloat() * 0.1f - 0.05f;
        }
        Tensor bias = shape.layer().bias() ? Tensor.zeros(shape.layer().outChannels()) : null;
        try (CompiledConvTranspose op = backend.compile(shape.layer(), Tensor.wrap(w, shape.layer().weightShape()),
            bias, layout)) {
            float[] x = new float[(int) Tensor.elementCount(inShape)];
            for (int i = 0; i < x.length; i++) {
                x[i] = rnd.nextFloat() * 2 - 1;
            }
            long[] outShape = op.outputShape(inShape);
            Tensor xHeap = Tensor.wrap(x, inShape);
            Tensor yHeap = Tensor.wrap(new float[(int) Tensor.elementCount(outShape)], outShape);
            Tensor xDirect = Tensor.allocateDirect(inShape).copyFrom(x);
            Tensor yDirect = Tensor.allocateDirect(outShape);
            op.prepare(inShape);
            double direct = median(op, xDirect, yDirect);
            double array = median(op, xHeap, yHeap);
            return new Result(direct, array, op.implementation());
        }
    }

    /** Warm-up, then runs until {@link #seconds} have passed (at least 5 runs); the median in ms. */
    private double median(CompiledConvTranspose op, Tensor x, Tensor y) {
        long warmEnd = System.nanoTime() + (long) (warmup * 1e9);
        do {
            op.forward(x, y);
        } while (System.nanoTime() < warmEnd);
        List<Long> times = new ArrayList<>();
        long end = System.nanoTime() + (long) (seconds * 1e9);
        while (times.size() < 5 || System.nanoTime() < end) {
            long t0 = System.nanoTime();
            op.forward(x, y);
            times.add(System.nanoTime() - t0);
        }
        long[] sorted = times.stream().mapToLong(Long::longValue).sorted().toArray();
        return sorted[sorted.length / 2] / 1e6;
    }

    private boolean layerFlagsGiven() {
        return cin != null || cout != null || inputSize != null || kernelSize != null || stride != null
            || padding != null || outputPadding != null || dilation != null || groups != null || noBias;
    }

    private List<ShapeList.Shape> shapes() throws IOException {
        List<ShapeList.Shape> out;
        if (layerFlagsGiven()) {
            if (shapeNames != null || shapesFile != null) {
                throw new IllegalArgumentException("give either --shape/--shapes or a layer by flags, not both");
            }
            if (cin == null || cout == null || inputSize == null || kernelSize == null) {
                throw new IllegalArgumentException("a layer by flags needs --cin, --cout, --input-size and --kernel-size");
            }
            StringBuilder line = new StringBuilder("layer cin=" + cin + " cout=" + cout + " in=" + inputSize + " k="
                + kernelSize);
            append(line, "s", stride);
            append(line, "p", padding);
            append(line, "op", outputPadding);
            append(line, "d", dilation);
            append(line, "g", groups == null ? null : String.valueOf(groups));
            line.append(noBias ? " bias=0" : " bias=1");
            out = ShapeList.parse(new StringReader(line.toString()), "the layer flags").all();
        } else {
            if (shapesFile != null && !Files.isRegularFile(shapesFile)) {
                throw new IllegalArgumentException("--shapes: no such file: " + shapesFile);
            }
            ShapeList list = shapesFile == null ? ShapeList.builtIn() : ShapeList.read(shapesFile);
            out = shapeNames == null ? list.all() : list.select(shapeNames);
        }
        if (batch != null) {
            List<ShapeList.Shape> rebatched = new ArrayList<>();
            for (ShapeList.Shape s : out) {
                ShapeList.Shape b = s.withBatch(batch);
                b.layer().outputShape(b.inputShape()); // validates the size of the batched output
                rebatched.add(b);
            }
            out = rebatched;
        }
        return out;
    }

    private static void append(StringBuilder line, String key, String value) {
        if (value != null) {
            if (value.isBlank() || value.contains("=") || value.contains(" ")) {
                throw new IllegalArgumentException("bad value '" + value + "' for " + key + "=");
            }
            line.append(' ').append(key).append('=').append(value);
        }
    }

    private List<Backend> backends() {
        List<Backend> out = new ArrayList<>();
        if (backends == null || backends.equalsIgnoreCase("all")) {
            for (Backend b : Backends.all()) {
                if (b.isAvailable() && (backends != null || b != Backends.reference())) {
                    out.add(b);
                }
            }
            return out;
        }
        for (String id : backends.split(",")) {
            String trimmed = id.trim().toLowerCase(Locale.ROOT);
            Backend b = trimmed.equals(Backends.AUTO) ? null : Backends.byId(trimmed);
            if (b == null) {
                out.add(new AutoBackend());
                continue;
            }
            b.ensureAvailability();
            out.add(b);
        }
        return out;
    }

    /** {@code auto}: whatever {@link Backends#select} picks for each layer, reported under that backend's id. */
    private static final class AutoBackend implements Backend {
        @Override public String id() { return "auto"; }
        @Override public boolean isAvailable() { return true; }
        @Override public Throwable unavailabilityCause() { return null; }
        @Override public String unsupportedReason(dev.convt.ConvTransposeLayer layer) { return null; }
        @Override
        public CompiledConvTranspose compile(dev.convt.ConvTransposeLayer layer, Tensor weight, Tensor bias,
                                             Layout layout) {
            return Backends.select(Backends.AUTO, layer).backend().compile(layer, weight, bias, layout);
        }
    }

    private static String cpuModel() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("model name")) {
                    return l.substring(l.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: the OS name says enough
        }
        return System.getProperty("os.arch");
    }
}
