package dev.convt.cli;

import dev.convt.Backend;
import dev.convt.Backends;
import dev.convt.CompiledConvTranspose;
import dev.convt.ConvTransposeLayer;
import dev.convt.Layout;
import dev.convt.Npy;
import dev.convt.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Exit codes 1 and 3: unexpected failures (with a command that throws, added to the real command line) and
 * {@code convt check} with backends that fail, are missing or disagree (substituted for {@link Backends#all()}).
 */
class CliFailureTest {

    @TempDir
    Path dir;

    record Result(int code, String out, String err) {}

    /** A command that fails the way a bug or the JVM would. */
    @Command(name = "boom")
    static final class Boom implements Callable<Integer> {
        static volatile Supplier<Throwable> failure;

        @Option(names = {"-v", "--verbose"})
        boolean verbose;

        @Override
        public Integer call() throws Exception {
            Throwable t = failure.get();
            if (t instanceof Error e) {
                throw e;
            }
            throw (Exception) t;
        }
    }

    private static Result run(List<Backend> backends, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cmd = new CommandLine(new ConvtCli());
        cmd.addSubcommand("boom", new Boom()); // before configure(), which hands every subcommand the streams
        ConvtCli.configure(cmd, new PrintWriter(out), new PrintWriter(err));
        if (backends != null) {
            CheckCommand check = cmd.getSubcommands().get("check").getCommand();
            check.backends = backends;
        }
        int code = ConvtCli.execute(cmd, args);
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void unexpectedFailuresExitThreeWithOneLine() {
        List<Supplier<Throwable>> failures = List.of(
            () -> new IllegalStateException("kaput\nand a second line"),
            () -> new NullPointerException(),
            () -> new OutOfMemoryError("Java heap space"),
            () -> new StackOverflowError(),
            () -> new UnsatisfiedLinkError("no jnidnnl in java.library.path"));
        for (Supplier<Throwable> f : failures) {
            Boom.failure = f;
            Throwable t = f.get();
            Result r = run(null, "boom");
            assertEquals(3, r.code(), r.err());
            assertEquals(1, r.err().lines().count(), r.err());
            assertEquals("convt: internal error: " + t.getClass().getName()
                + (t.getMessage() == null ? "" : ": " + t.getMessage().lines().findFirst().orElseThrow())
                + " (run with --verbose for the stack trace)", r.err().strip());
            Result verbose = run(null, "boom", "--verbose");
            assertEquals(3, verbose.code(), verbose.err());
            List<String> lines = verbose.err().lines().toList();
            assertTrue(lines.get(0).startsWith("convt: internal error: " + t.getClass().getName()), verbose.err());
            assertFalse(lines.get(0).contains("--verbose"), verbose.err());
            assertTrue(lines.stream().anyMatch(l -> l.contains("at " + CliFailureTest.class.getName())),
                "stack trace with --verbose:\n" + verbose.err());
        }
    }

    // --- convt check -----------------------------------------------------------------------------------------

    private String[] checkArgs() throws IOException {
        Npy.write(dir.resolve("x.npy"), Tensor.of(new float[] {1, 0, 1, 1, 0, 1, 0}, 1, 1, 7));
        Npy.write(dir.resolve("w.npy"), Tensor.of(new float[] {1, 2, 3}, 1, 1, 3));
        return new String[] {"check", "--input", dir.resolve("x.npy").toString(), "--weight",
            dir.resolve("w.npy").toString()};
    }

    private static String[] with(String[] args, String... more) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    /** A backend with this id: unavailable (cause given), failing at compile, or computing {@code reference + 1}. */
    private static Backend fake(String id, Throwable unavailable, RuntimeException failure) {
        return new Backend() {
            @Override public String id() { return id; }
            @Override public boolean isAvailable() { return unavailable == null; }
            @Override public Throwable unavailabilityCause() { return unavailable; }
            @Override public String unsupportedReason(ConvTransposeLayer layer) {
                return unavailable == null ? null : "unavailable";
            }

            @Override
            public CompiledConvTranspose compile(ConvTransposeLayer layer, Tensor weight, Tensor bias, Layout layout) {
                if (failure != null) {
                    throw failure;
                }
                CompiledConvTranspose ref = Backends.reference().compile(layer, weight, bias, layout);
                return new CompiledConvTranspose(layer, id, layout) {
                    @Override public String implementation() { return "off-by-one"; }
                    @Override protected void execute(Tensor input, Tensor output, int batch, long[] spatialIn) {
                        Tensor r = ref.forward(input);
                        for (int i = 0; i < output.elementCount(); i++) {
                            output.set(i, r.get(i) + 1);
                        }
                    }
                    @Override protected void release() { ref.close(); }
                };
            }
        };
    }

    @Test
    void checkWithNothingButTheReferenceExitsOneAndSaysWhy() throws IOException {
        Result r = run(List.of(Backends.reference(),
            fake("onednn", new UnsatisfiedLinkError("no jnidnnl in java.library.path"), null)), checkArgs());
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("onednn    not available: java.lang.UnsatisfiedLinkError: no jnidnnl"), r.out());
        assertTrue(r.out().strip().endsWith("no backend besides the reference could run: onednn is not available "
            + "(java.lang.UnsatisfiedLinkError: no jnidnnl in java.library.path)"), r.out());
        Result alone = run(List.of(Backends.reference()), checkArgs());
        assertEquals(1, alone.code(), alone.out());
        assertTrue(alone.out().strip().endsWith("no backend besides the reference could run: there is none"),
            alone.out());
    }

    @Test
    void aFailingBackendGetsItsRowAndTheTableGoesOn() throws IOException {
        List<Backend> backends = new ArrayList<>(List.of(Backends.reference(),
            fake("broken", null, new IllegalStateException("primitive creation failed\ndetails"))));
        if (Backends.onednn().isAvailable()) {
            backends.add(Backends.onednn());
        }
        backends.add(fake("late", null, null));
        Result r = run(backends, checkArgs());
        assertEquals(1, r.code(), r.out() + r.err());
        List<String> rows = r.out().lines().toList();
        assertTrue(rows.contains("broken    FAILED: java.lang.IllegalStateException: primitive creation failed"),
            r.out());
        assertTrue(rows.stream().anyMatch(l -> l.startsWith("late      ") && l.contains("EXCEEDS TOLERANCE")), r.out());
        if (Backends.onednn().isAvailable()) {
            assertTrue(rows.stream().anyMatch(l -> l.startsWith("onednn    ") && l.contains("  OK  (")), r.out());
        }
        assertEquals("", r.err());
        Result verbose = run(backends, with(checkArgs(), "--verbose"));
        assertEquals(1, verbose.code());
        assertTrue(verbose.err().contains("java.lang.IllegalStateException: primitive creation failed"),
            verbose.err());
    }

    @Test
    void checkPassesOnlyWhenSomethingWasCompared() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(Backends.onednn().isAvailable(), "needs a second real backend");
        Result r = run(List.of(Backends.reference(), Backends.onednn()), checkArgs());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("reference the oracle every other row is compared with  (reference:"), r.out());
    }
}
