package dev.convt;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Runs a class of the test class path in a fresh JVM: for what one process cannot undo (oneDNN's CPU ISA is fixed
 * at its first use, its natives load once) and for what must not take the test JVM down.
 */
public final class ChildJvm {

    public record Result(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private ChildJvm() {}

    /** The test class path, entry by entry (surefire hands the forked JVM a manifest-only jar otherwise). */
    public static List<String> classPath() {
        String cp = System.getProperty("surefire.test.class.path");
        if (cp == null || cp.isBlank()) {
            cp = System.getProperty("java.class.path");
        }
        List<String> out = new ArrayList<>();
        for (String e : cp.split(File.pathSeparator)) {
            if (!e.isBlank()) {
                out.add(e);
            }
        }
        return out;
    }

    /** The test class path without the entries {@code drop} matches. */
    public static List<String> classPathWithout(Predicate<String> drop) {
        List<String> out = new ArrayList<>(classPath());
        out.removeIf(drop);
        return out;
    }

    public static Result run(List<String> classPath, Map<String, String> env, List<String> jvmArgs, String mainClass,
                             String... args) throws IOException, InterruptedException {
        Path java = Paths.get(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = new ArrayList<>();
        cmd.add(java.toString());
        cmd.add("-Xshare:auto");
        cmd.add("-XX:TieredStopAtLevel=1"); // short-lived: start fast rather than run fast
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(String.join(File.pathSeparator, classPath));
        cmd.add(mainClass);
        cmd.addAll(Arrays.asList(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove(Backends.ENV);
        pb.environment().putAll(env);
        Path out = Files.createTempFile("convt-child", ".out");
        Path err = Files.createTempFile("convt-child", ".err");
        try {
            pb.redirectOutput(out.toFile());
            pb.redirectError(err.toFile());
            Process p = pb.start();
            if (!p.waitFor(180, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("child JVM " + mainClass + " " + Arrays.toString(args)
                    + " did not finish in 180 s");
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
