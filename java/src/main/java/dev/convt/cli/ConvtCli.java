package dev.convt.cli;

import dev.convt.Version;
import dev.convt.onednn.OneDnn;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.Arrays;
import java.util.concurrent.Callable;

/**
 * The {@code convt} command line: {@code demo} (the default), {@code run}, {@code check}, {@code info}, {@code bench}. Every command
 * takes {@code --help}; {@code convt --version} prints the versions of convt, oneDNN and the JVM.
 *
 * <p>Exit codes: 0 success; 1 {@code check} found a backend outside tolerance, failing, or none to compare; 2 bad
 * arguments or inputs (one line on stderr, no output file written); 3 an unexpected failure (one line on stderr, the
 * stack trace with {@code --verbose}).
 *
 * <pre>{@code
 * java -jar java/target/convt.jar run --input x.npy --weight w.npy --stride 2 --padding 1 --output y.npy
 *
 * // embedded, with the streams of your choice:
 * int exitCode = ConvtCli.execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), "info");
 * }</pre>
 */
@Command(name = "convt", mixinStandardHelpOptions = true, versionProvider = ConvtCli.VersionProvider.class,
    description = "Transposed convolution (PyTorch ConvTranspose1d/2d/3d semantics) on oneDNN and in pure Java.",
    subcommands = {DemoCommand.class, RunCommand.class, CheckCommand.class, InfoCommand.class, BenchCommand.class},
    footerHeading = "%nExamples (convt is java -jar java/target/convt.jar):%n",
    footer = {
        "  convt               # the demo, on every backend",
        "  convt info          # versions, backends, why one is unavailable",
        "  convt run --help    # a command's options, with an example",
        "  convt bench --shape dcgan_g2,latency   # median ms and GFLOP/s per backend"},
    exitCodeListHeading = ConvtCli.EXIT_CODES_HEADING,
    exitCodeList = {ConvtCli.EXIT_CODE_0, ConvtCli.EXIT_CODE_1, ConvtCli.EXIT_CODE_2, ConvtCli.EXIT_CODE_3})
public final class ConvtCli implements Callable<Integer> {

    /** Exit code of {@code check} when a backend disagrees with the reference, fails, or none could be compared. */
    public static final int EXIT_MISMATCH = 1;
    /** Exit code for bad arguments or inputs. */
    public static final int EXIT_USAGE = 2;
    /** Exit code for an unexpected failure: a bug, a native failure, memory exhausted. */
    public static final int EXIT_INTERNAL = 3;

    static final String EXIT_CODES_HEADING = "%nExit codes:%n";
    static final String EXIT_CODE_0 = "0:success";
    static final String EXIT_CODE_1 = "1:check: a backend disagrees with the reference, fails, or none besides the "
        + "reference could run";
    static final String EXIT_CODE_2 = "2:bad arguments or inputs (one line on stderr; no output file written)";
    static final String EXIT_CODE_3 = "3:unexpected failure (one line on stderr; the stack trace with --verbose)";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /**
     * Runs the CLI and exits the JVM with its exit code.
     *
     * @param args the command line
     */
    public static void main(String[] args) {
        System.exit(execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
    }

    /**
     * Runs the CLI with the given streams, for embedding and tests; never exits the JVM.
     *
     * @param out where results go
     * @param err where errors go
     * @param args the command line
     * @return the exit code
     */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cmd;
        try {
            cmd = configure(new CommandLine(new ConvtCli()), out, err);
        } catch (Throwable t) { // picocli could not even build the model: still one line and a code
            return internalError(err, t, Arrays.asList(args).contains("--verbose"));
        }
        return execute(cmd, args);
    }

    /** Executes a command line that {@link #configure} prepared; every outcome becomes an exit code. */
    static int execute(CommandLine cmd, String... args) {
        PrintWriter err = cmd.getErr();
        int code;
        try {
            code = cmd.execute(args);
        } catch (Throwable t) { // Errors (out of memory, a native library that does not link) bypass picocli's handler
            code = internalError(err, t, Arrays.asList(args).contains("--verbose") || Arrays.asList(args).contains("-v"));
        }
        cmd.getOut().flush();
        err.flush();
        return code;
    }

    /** Installs the streams and the handlers that turn every failure into one line on stderr and an exit code. */
    static CommandLine configure(CommandLine cmd, PrintWriter out, PrintWriter err) {
        cmd.setOut(out);
        cmd.setErr(err);
        cmd.setParameterExceptionHandler((ex, a) -> {
            CommandLine c = ex.getCommandLine();
            c.getErr().println("convt: " + firstLine(ex.getMessage()) + " (see '" + c.getCommandSpec().qualifiedName()
                + " --help')");
            return EXIT_USAGE;
        });
        cmd.setExecutionExceptionHandler((ex, c, parseResult) -> {
            PrintWriter e = c.getErr();
            if (ex instanceof NoSuchFileException nsf) {
                e.println("convt: no such file or directory: " + fileAndReason(nsf));
                return EXIT_USAGE;
            }
            if (ex instanceof AccessDeniedException ade) {
                e.println("convt: permission denied: " + fileAndReason(ade));
                return EXIT_USAGE;
            }
            if (ex instanceof IllegalArgumentException || ex instanceof IOException
                || ex instanceof UnsupportedOperationException) {
                e.println("convt: " + firstLine(ex.getMessage()));
                return EXIT_USAGE;
            }
            return internalError(e, ex, verbose(parseResult));
        });
        return cmd;
    }

    private static boolean verbose(CommandLine.ParseResult parseResult) {
        for (CommandLine.ParseResult pr = parseResult; pr != null; pr = pr.subcommand()) {
            if (pr.commandSpec().findOption("--verbose") != null && pr.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return false;
    }

    /** One line naming the failure; the stack trace follows only when asked for. */
    static int internalError(PrintWriter err, Throwable t, boolean verbose) {
        err.println("convt: internal error: " + t.getClass().getName()
            + (t.getMessage() == null ? "" : ": " + firstLine(t.getMessage()))
            + (verbose ? "" : " (run with --verbose for the stack trace)"));
        if (verbose) {
            t.printStackTrace(err);
        }
        err.flush();
        return EXIT_INTERNAL;
    }

    private static String fileAndReason(FileSystemException e) {
        return e.getFile() + (e.getReason() == null ? "" : " (" + e.getReason() + ")");
    }

    static String firstLine(String message) {
        if (message == null) {
            return "error";
        }
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }

    /** Without a subcommand, run the demo. */
    @Override
    public Integer call() {
        return new DemoCommand().print(spec.commandLine().getOut());
    }

    /** {@code --version}: what a bug report needs, including which oneDNN actually loaded (or why none did). */
    static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String oneDnn = OneDnn.isAvailable()
                ? OneDnn.describe()
                : "oneDNN unavailable: " + OneDnn.unavailabilityCause().getMessage();
            return new String[] {
                "convt " + Version.get(),
                oneDnn + " (convt was built against org.bytedeco:dnnl " + Version.dnnlPresets() + ")",
                "JVM " + System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version")
                    + " (" + System.getProperty("java.vm.vendor") + ") on " + System.getProperty("os.name") + " "
                    + System.getProperty("os.arch"),
            };
        }
    }

}
