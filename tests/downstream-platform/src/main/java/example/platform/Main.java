package example.platform;

import dev.convt.Backends;
import dev.convt.CompiledConvTranspose;
import dev.convt.Npy;
import dev.convt.Tensor;
import dev.convt.Tolerance;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * Depends on dev.convt:convt-platform: oneDNN must load from it (selected by id, since {@code auto} runs this small
 * layer on the Java backend), agree with the reference backend, and print nothing itself. Writes its output to the .npy named by the first argument for the plain consumer to compare with.
 */
public final class Main {
    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        PrintStream stdout = System.out;
        PrintStream stderr = System.err;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream capture = new PrintStream(printed, true);
        System.setOut(capture);
        System.setErr(capture);
        Backends.Selection selection;
        String implementation;
        Tensor y;
        Tensor expected;
        try {
            selection = Backends.select("onednn", SampleLayer.LAYER); // throws with the cause if the natives fail
            try (CompiledConvTranspose op = selection.backend().compile(SampleLayer.LAYER, SampleLayer.weight(),
                     SampleLayer.bias());
                 CompiledConvTranspose oracle = Backends.reference().compile(SampleLayer.LAYER, SampleLayer.weight(),
                     SampleLayer.bias())) {
                y = op.forward(SampleLayer.input());
                implementation = op.implementation();
                expected = oracle.forward(SampleLayer.input());
            }
            Npy.write(out, y);
        } finally {
            System.setOut(stdout);
            System.setErr(stderr);
        }
        check(printed.size() == 0, "convt printed to stdout/stderr: " + printed);
        check(selection.backend().id().equals("onednn") && Backends.onednn().isAvailable(),
            "oneDNN should run here, but got " + selection);
        Tolerance.Report r = Tolerance.forLayer(SampleLayer.LAYER).compare(expected, y);
        check(r.ok(), "onednn disagrees with the reference: max abs diff " + r.maxAbs() + " > " + r.allowedAbs());
        System.out.printf("downstream-platform (%s): %s on %s, implementation %s, max abs diff vs reference %.2e;"
                + " wrote %s%n", Main.class.getModule().isNamed() ? "module path" : "class path", SampleLayer.LAYER,
            selection, implementation, r.maxAbs(), out);
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            System.err.println("downstream-platform: FAILED: " + message);
            System.exit(1);
        }
    }
}
