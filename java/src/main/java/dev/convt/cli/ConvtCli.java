package dev.convt.cli;

import dev.convt.Version;
import dev.convt.onednn.OneDnn;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.concurrent.Callable;

/**
 * The {@code convt} command line: {@code demo} (the default), {@code run}, {@code check}, {@code info}, {@code bench}. Every command
 * takes {@code --help}; {@code convt --version} prints the versions of convt, oneDNN and the JVM.
 *
 * <p>Exit codes: 0 success; 1 {@code check} found a backend outside tolerance; 2 bad arguments or inputs (one line
 * on stderr, no output file written).
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
        "  convt bench --shape dcgan_g2,latency   # median ms and GFLOP/s per backend",
        "",
        "Exit codes: 0 success; 1 check found a backend outside the tolerance; 2 bad arguments or inputs."})
public final class ConvtCli implements Callable<Integer> {

    /** Exit code for bad arguments or inputs. */
    public static final int EXIT_USAGE = 2;
    /** Exit code of {@code check} when a backend disagrees with the reference. */
    public static final int EXIT_MISMATCH = 1;

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
