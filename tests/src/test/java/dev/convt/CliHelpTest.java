package dev.convt;

import dev.convt.cli.ConvtCli;
import dev.convt.onednn.OneDnn;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a bug report and a first-time user need from the CLI: {@code --version}, and {@code --help} with an example. */
class CliHelpTest {

    private static String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = ConvtCli.execute(new PrintWriter(out), new PrintWriter(err), args);
        assertEquals(0, code, () -> String.join(" ", args) + ": " + err);
        return new String[] {out.toString(), err.toString()};
    }

    @Test
    void versionNamesConvtTheOneDnnLoadedAndTheJvm() {
        List<String> lines = run("--version")[0].lines().toList();
        assertEquals(3, lines.size(), lines::toString);
        assertEquals("convt " + Version.get(), lines.get(0));
        assertTrue(lines.get(1).startsWith(OneDnn.isAvailable() ? OneDnn.describe() : "oneDNN unavailable: "),
            lines::toString);
        assertTrue(lines.get(1).contains("org.bytedeco:dnnl " + Version.dnnlPresets()), lines::toString);
        assertFalse(Version.dnnlPresets().equals("unknown"), "the build records the presets' version");
        assertTrue(lines.get(2).startsWith("JVM ") && lines.get(2).contains(System.getProperty("java.runtime.version")),
            lines::toString);
    }

    /** Iterates over the registered commands, so a command added later needs its example too. */
    @Test
    void everyCommandsHelpEndsWithAnExampleOfThatCommand() {
        Set<String> commands = new CommandLine(new ConvtCli()).getSubcommands().keySet();
        assertTrue(commands.containsAll(List.of("demo", "run", "check", "info")), commands::toString);
        for (String command : commands) {
            String help = run(command, "--help")[0];
            int example = help.indexOf("Example");
            assertTrue(example > 0, () -> command + " --help has no example:\n" + help);
            assertTrue(help.substring(example).contains("convt " + command), () -> command + "'s example does not "
                + "show the command:\n" + help);
            assertEquals(run("--version")[0], run(command, "--version")[0], command + " --version");
        }
        assertTrue(run("--help")[0].contains("Examples"), "convt --help has examples");
    }
}
