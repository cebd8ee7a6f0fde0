package dev.convt.cli;

import dev.convt.Version;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.concurrent.Callable;

/**
 * The {@code convt} command line: {@code demo} (the default), {@code run}, {@code check}, {@code info}.
 *
 * <p>Exit codes: 0 success; 1 {@code check} found a backend outside tolerance; 2 bad arguments or inputs (one line
 * on stderr, no output file written).
 */
@Command(name = "convt", mixinStandardHelpOptions = true, versionProvider = ConvtCli.VersionProvider.class,
    description = "Transposed convolution (PyTorch ConvTranspose1d/2d/3d semantics) on oneDNN and in pure Java.",
    subcommands = {DemoCommand.class, RunCommand.class, CheckCommand.class, InfoCommand.class})
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
        return new DemoCommand().print(spec.commandLine().getOut());
    }

    static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"convt " + Version.get()};
        }
    }

}
