package example.plain;

import dev.convt.Backends;
import dev.convt.CompiledConvTranspose;
import dev.convt.Npy;
import dev.convt.Tensor;
import dev.convt.Tolerance;
import dev.convt.onednn.OneDnn;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * Depends on dev.convt:convt alone, so there are no natives: oneDNN must say it is unavailable and how to get it,
 * {@code auto} must fall back to the portable Java backend, and the result must equal, within convt's tolerance,
 * what the platform consumer computed on oneDNN (the .npy named by the first argument).
 */
public final class Main {
    public static void main(String[] args) throws Exception {
        Tensor onednnResult = Npy.read(Path.of(args[0]));
        // "java" is the fast pure-Java backend; until it exists, auto falls back to the reference.
        String portable = Backends.ids().contains("java") ? "java" : "reference";

        PrintStream stdout = System.out;
        PrintStream stderr = System.err;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream capture = new PrintStream(printed, true);
        System.setOut(capture);
        System.setErr(capture);
        Backends.Selection selection;
        Tensor y;
        try {
            selection = Backends.select(SampleLayer.LAYER);
            try (CompiledConvTranspose op = selection.backend().compile(SampleLayer.LAYER, SampleLayer.weight(),
                     SampleLayer.bias())) {
                y = op.forward(SampleLayer.input());
            }
        } finally {
            System.setOut(stdout);
            System.setErr(stderr);
        }
        check(printed.size() == 0, "convt printed to stdout/stderr: " + printed);
        check(Main.class.getModule().isNamed() && Backends.class.getModule().getName().equals("dev.convt"),
            "expected to run as module example.plain with convt as module dev.convt, but got "
                + Main.class.getModule() + " and " + Backends.class.getModule());
        check(!OneDnn.isAvailable(), "oneDNN loaded, yet this project has no native classifier jar");
        String cause = OneDnn.unavailabilityCause().getMessage();
        check(cause.contains("natives") && cause.contains("dev.convt:convt-platform"),
            "the unavailability cause should say the natives are missing and how to get them, but is: " + cause);
        check(selection.backend().id().equals(portable), "auto should fall back to " + portable + ", but chose "
            + selection);
        check(CapturingLoggerFinder.RECORDS.stream().anyMatch(r -> r.contains("dev.convt.Backends")),
            "convt should log its backend choice through System.Logger, but logged " + CapturingLoggerFinder.RECORDS);
        Tolerance.Report r = Tolerance.forLayer(SampleLayer.LAYER).compare(y, onednnResult);
        check(r.ok(), portable + " and onednn disagree: max abs diff " + r.maxAbs() + " > " + r.allowedAbs());
        System.out.printf("downstream-plain (module path): %s on %s; max abs diff vs the platform consumer's oneDNN "
            + "result %.2e%n  oneDNN: %s%n", SampleLayer.LAYER, selection.backend().id(), r.maxAbs(), cause);
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            System.err.println("downstream-plain: FAILED: " + message);
            System.exit(1);
        }
    }
}
