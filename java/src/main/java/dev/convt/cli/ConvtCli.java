package dev.convt.cli;

import dev.convt.Backend;
import dev.convt.Backends;
import dev.convt.CompiledConvTranspose;
import dev.convt.ConvTransposeLayer;
import dev.convt.DirectConvolution;
import dev.convt.Floats;
import dev.convt.Npy;
import dev.convt.Tensor;
import dev.convt.Tolerance;
import dev.convt.Version;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * The {@code convt} command line: {@code demo} (the default), {@code run}, {@code check}, {@code info}.
 *
 * <p>Exit codes: 0 success; 1 {@code check} found a backend outside tolerance; 2 bad arguments or inputs (one line
 * on stderr, no output file written).
 */
@Command(name = "convt", mixinStandardHelpOptions = true, versionProvider = ConvtCli.VersionProvider.class,
    description = "Transposed convolution (PyTorch ConvTranspose1d/2d/3d semantics) on oneDNN and in pure Java.",
    subcommands = {ConvtCli.Demo.class, ConvtCli.Run.class, ConvtCli.Check.class, ConvtCli.Info.class})
public final class ConvtCli implements Callable<Integer> {

    /** Exit code for bad arguments or inputs. */
    public static final int EXIT_USAGE = 2;
    /** Exit code of {@code check} when a backend disagrees with the reference. */
    public static final int EXIT_MISMATCH = 1;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
    }

    /** Runs the CLI with the given streams and returns the exit code (for embedding and tests). */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cmd = new CommandLine(new ConvtCli());
        cmd.setOut(out);
        cmd.setErr(err);
        cmd.setParameterExceptionHandler((ex, a) -> {
            CommandLine c = ex.getCommandLine();
            c.getErr().println("convt: " + firstLine(ex.getMessage()) + " (see '" + c.getCommandSpec().qualifiedName()
                + " --help')");
            return EXIT_USAGE;
        });
        cmd.setExecutionExceptionHandler((ex, c, parseResult) -> {
            if (ex instanceof NoSuchFileException) {
                c.getErr().println("convt: no such file or directory: " + ex.getMessage());
                return EXIT_USAGE;
            }
            if (ex instanceof AccessDeniedException) {
                c.getErr().println("convt: permission denied: " + ex.getMessage());
                return EXIT_USAGE;
            }
            if (ex instanceof IllegalArgumentException || ex instanceof IOException
                || ex instanceof UnsupportedOperationException) {
                c.getErr().println("convt: " + firstLine(ex.getMessage()));
                return EXIT_USAGE;
            }
            throw ex;
        });
        int code = cmd.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "error";
        }
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }

    /** Without a subcommand, run the demo. */
    @Override
    public Integer call() {
        return new Demo().print(spec.commandLine().getOut());
    }

    static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"convt " + Version.get()};
        }
    }

    // ---------------------------------------------------------------------------------------------

    @Command(name = "demo", mixinStandardHelpOptions = true,
        description = "The seed example: conv1d and conv_transpose1d of [1,0,1,1,0,1,0] on every available backend.")
    static final class Demo implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            return print(spec.commandLine().getOut());
        }

        int print(PrintWriter out) {
            float[] x = {1, 0, 1, 1, 0, 1, 0};
            Tensor input = Tensor.of(x, 1, 1, 7);
            out.println("convt " + Version.get() + ": transposed convolution with PyTorch semantics");
            out.println("input x = " + Floats.format(x) + "  shape [1, 1, 7]");
            out.println();

            Tensor w123 = Tensor.of(new float[] {1, 2, 3}, 1, 1, 3);
            Tensor conv = DirectConvolution.conv(input, w123, new int[] {1}, new int[] {0}, new int[] {1}, 1, null);
            out.println("[java conv1d]  F.conv1d(x, [1, 2, 3]) = " + Floats.format(conv.toArray())
                + "  shape " + Arrays.toString(conv.shape()));

            ConvTransposeLayer functional = ConvTransposeLayer.builder(1).inChannels(1).outChannels(1).kernelSize(3)
                .bias(false).build();
            ConvTransposeLayer module = ConvTransposeLayer.builder(1).inChannels(1).outChannels(1).kernelSize(3)
                .build();
            Tensor w121 = Tensor.of(new float[] {1, 2, 1}, 1, 1, 3);
            Tensor zeroBias = Tensor.zeros(1);
            for (Backend backend : Backends.all()) {
                if (!backend.isAvailable()) {
                    out.println("[" + backend.id() + "]  not available: " + backend.unavailabilityCause());
                    continue;
                }
                try (CompiledConvTranspose f = backend.compile(functional, w123, null);
                     CompiledConvTranspose m = backend.compile(module, w121, zeroBias)) {
                    Tensor y1 = f.forward(input);
                    out.println("[" + backend.id() + "]  F.conv_transpose1d(x, [1, 2, 3]) = "
                        + Floats.format(y1.toArray()) + "  shape " + Arrays.toString(y1.shape()));
                    Tensor y2 = m.forward(input);
                    out.println("[" + backend.id() + "]  ConvTranspose1d(1, 1, 3) with weight [1, 2, 1], bias 0 = "
                        + Floats.format(y2.toArray()) + "  shape " + Arrays.toString(y2.shape()));
                }
            }
            out.flush();
            return 0;
        }
    }

    // ---------------------------------------------------------------------------------------------

    /** Options shared by {@code run} and {@code check}: the inputs and the hyperparameters. */
    static final class LayerOptions {
        @Option(names = "--input", required = true, paramLabel = "X.npy",
            description = "Input [N, Cin, *spatial] or unbatched [Cin, *spatial] (.npy, <f4 or <f8).")
        Path input;

        @Option(names = "--weight", required = true, paramLabel = "W.npy",
            description = "Weight [Cin, Cout/groups, *kernel] (PyTorch's ConvTranspose layout).")
        Path weight;

        @Option(names = "--bias", paramLabel = "B.npy", description = "Bias [Cout] (optional).")
        Path bias;

        @Option(names = "--stride", paramLabel = "s", description = "int or comma list (default 1).")
        String stride = "1";

        @Option(names = "--padding", paramLabel = "p", description = "int or comma list (default 0).")
        String padding = "0";

        @Option(names = "--output-padding", paramLabel = "op", description = "int or comma list (default 0).")
        String outputPadding;

        @Option(names = "--dilation", paramLabel = "d", description = "int or comma list (default 1).")
        String dilation = "1";

        @Option(names = "--groups", paramLabel = "g", description = "Number of groups (default 1).")
        int groups = 1;

        @Option(names = "--output-size", paramLabel = "size",
            description = "Requested spatial output size (comma list), as PyTorch's forward(output_size=...).")
        String outputSize;

        Tensor inputTensor;
        Tensor weightTensor;
        Tensor biasTensor;

        /** Reads the files and builds the layer; every problem becomes an IllegalArgumentException or IOException. */
        ConvTransposeLayer load() throws IOException {
            inputTensor = Npy.read(input);
            weightTensor = Npy.read(weight);
            biasTensor = bias == null ? null : Npy.read(bias);
            int rank = weightTensor.rank() - 2;
            if (rank < 1 || rank > 3) {
                throw new IllegalArgumentException("weight must have 3, 4 or 5 dimensions ([in_channels, "
                    + "out_channels/groups, *kernel_size]), but got weight of size "
                    + Arrays.toString(weightTensor.shape()));
            }
            if (outputPadding != null && outputSize != null) {
                throw new IllegalArgumentException("--output-padding and --output-size are mutually exclusive");
            }
            int[] kernel = new int[rank];
            for (int i = 0; i < rank; i++) {
                kernel[i] = toInt("kernel_size", weightTensor.dim(2 + i));
            }
            ConvTransposeLayer layer = ConvTransposeLayer.builder(rank)
                .inChannels(toInt("in_channels", weightTensor.dim(0)))
                .outChannels(toInt("out_channels", weightTensor.dim(1) * groups))
                .kernelSize(kernel)
                .stride(ints("--stride", stride))
                .padding(ints("--padding", padding))
                .outputPadding(ints("--output-padding", outputPadding == null ? "0" : outputPadding))
                .dilation(ints("--dilation", dilation))
                .groups(groups)
                .bias(biasTensor != null)
                .build();
            if (outputSize != null) {
                layer = layer.withOutputPadding(layer.outputPaddingFor(inputTensor.shape(), longs("--output-size", outputSize)));
            }
            layer.outputShape(inputTensor.shape()); // validates the input before any backend sees it
            return layer;
        }

        private static int toInt(String name, long v) {
            if (v > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(name + " " + v + " is too large");
            }
            return (int) v;
        }

        static int[] ints(String option, String text) {
            long[] v = longs(option, text);
            int[] out = new int[v.length];
            for (int i = 0; i < v.length; i++) {
                if (v[i] > Integer.MAX_VALUE || v[i] < Integer.MIN_VALUE) {
                    throw new IllegalArgumentException(option + ": " + v[i] + " is out of range");
                }
                out[i] = (int) v[i];
            }
            return out;
        }

        static long[] longs(String option, String text) {
            String[] parts = text.split(",", -1);
            long[] out = new long[parts.length];
            for (int i = 0; i < parts.length; i++) {
                try {
                    out[i] = Long.parseLong(parts[i].trim());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(option + " expects an int or a comma list of ints, but got '"
                        + text + "'");
                }
            }
            return out;
        }
    }

    @Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run a transposed convolution on .npy files and write the result as .npy.")
    static final class Run implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        LayerOptions options;

        @Option(names = "--backend", paramLabel = "auto|java|onednn",
            description = "Backend (default: -Dconvt.backend, else CONVT_BACKEND, else auto).")
        String backend;

        @Option(names = "--output", required = true, paramLabel = "Y.npy", description = "Where to write the output.")
        Path output;

        @Option(names = {"-v", "--verbose"}, description = "Print the layer, the backend, why it was chosen, and its implementation.")
        boolean verbose;

        @Override
        public Integer call() throws IOException {
            PrintWriter out = spec.commandLine().getOut();
            ConvTransposeLayer layer = options.load();
            Backends.Selection selection = Backends.select(backend == null ? Backends.configured() : backend, layer);
            Tensor result;
            try (CompiledConvTranspose op = selection.backend().compile(layer, options.weightTensor, options.biasTensor)) {
                result = op.forward(options.inputTensor);
                if (verbose) {
                    out.println("layer: " + layer);
                    out.println("backend: " + selection);
                    out.println("implementation: " + op.implementation());
                }
            }
            Npy.write(output, result);
            if (verbose) {
                out.println("wrote " + output + " " + Arrays.toString(result.shape()));
            }
            return 0;
        }
    }

    @Command(name = "check", mixinStandardHelpOptions = true,
        description = "Run every available backend on the inputs and compare each with the Java reference; "
            + "exit 1 if any difference exceeds the tolerance.")
    static final class Check implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        LayerOptions options;

        @Override
        public Integer call() throws IOException {
            PrintWriter out = spec.commandLine().getOut();
            ConvTransposeLayer layer = options.load();
            Tensor reference;
            try (CompiledConvTranspose ref = Backends.java().compile(layer, options.weightTensor, options.biasTensor)) {
                reference = ref.forward(options.inputTensor);
            }
            Tolerance tol = Tolerance.forLayer(layer);
            out.println("layer: " + layer + "  input " + Arrays.toString(options.inputTensor.shape()) + " -> output "
                + Arrays.toString(reference.shape()));
            out.println("tolerance: " + tol);
            boolean allOk = true;
            for (Backend backend : Backends.all()) {
                if (!backend.isAvailable()) {
                    out.println(String.format("%-8s not available: %s", backend.id(), backend.unavailabilityCause()));
                    continue;
                }
                String why = backend.unsupportedReason(layer);
                if (why != null) {
                    out.println(String.format("%-8s cannot run this layer: %s", backend.id(), why));
                    continue;
                }
                try (CompiledConvTranspose op = backend.compile(layer, options.weightTensor, options.biasTensor)) {
                    Tensor got = op.forward(options.inputTensor);
                    Tolerance.Report r = tol.compare(reference, got);
                    allOk &= r.ok();
                    out.println(String.format("%-8s max abs diff %.3e  max rel diff %.3e  %s  (%s)", backend.id(),
                        r.maxAbs(), r.maxRel(), r.ok() ? "OK" : "EXCEEDS TOLERANCE", op.implementation()));
                }
            }
            return allOk ? 0 : EXIT_MISMATCH;
        }
    }

    /** The DCGAN-style layer that {@code info} asks each backend about. */
    static final ConvTransposeLayer SAMPLE_LAYER = ConvTransposeLayer.builder(2).inChannels(512).outChannels(256)
        .kernelSize(4).stride(2).padding(1).build();
    static final long[] SAMPLE_INPUT = {8, 512, 4, 4};

    static String sampleImplementation(Backend b) {
        String why = b.unsupportedReason(SAMPLE_LAYER);
        if (why != null) {
            return "nothing: " + why;
        }
        try (CompiledConvTranspose op = b.compile(SAMPLE_LAYER, Tensor.zeros(SAMPLE_LAYER.weightShape()),
            Tensor.zeros(SAMPLE_LAYER.outChannels()))) {
            return op.prepare(SAMPLE_INPUT);
        }
    }

    @Command(name = "info", mixinStandardHelpOptions = true,
        description = "Version, backends with their availability (and the cause when unavailable).")
    static final class Info implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            out.println("convt " + Version.get());
            out.println("java " + System.getProperty("java.version") + " on " + System.getProperty("os.name") + " "
                + System.getProperty("os.arch"));
            out.println("backend selection: " + Backends.configured() + " (-D" + Backends.PROPERTY + " or "
                + Backends.ENV + ")");
            List<Backend> all = Backends.all();
            for (Backend b : all) {
                if (b.isAvailable()) {
                    out.println(String.format("  %-8s available   %s", b.id(), b.describe()));
                    out.println(String.format("  %-8s %s on input %s runs %s", "", SAMPLE_LAYER,
                        Arrays.toString(SAMPLE_INPUT), sampleImplementation(b)));
                } else {
                    out.println(String.format("  %-8s unavailable: %s", b.id(), b.unavailabilityCause()));
                }
            }
            return 0;
        }
    }
}
