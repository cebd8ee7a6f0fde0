package dev.convt;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A machine without oneDNN's natives: child JVMs whose class path lacks the {@code org.bytedeco:dnnl} platform jar.
 * convt still works there on the reference backend, says why, and never pretends oneDNN ran.
 */
class NativeAbsentTest {

    @TempDir
    static Path dir;
    static List<String> classPath;

    @BeforeAll
    static void classPathWithoutDnnlNatives() throws IOException {
        classPath = ChildJvm.classPathWithout(e -> e.matches(".*dnnl-[^/\\\\]*-(linux|macosx|windows)-[^/\\\\]*\\.jar"));
        assertEquals(ChildJvm.classPath().size() - 1, classPath.size(),
            "exactly the dnnl natives jar is dropped from " + ChildJvm.classPath());
        Npy.write(dir.resolve("x.npy"), Tensor.of(new float[] {1, 0, 1, 1, 0, 1, 0}, 1, 1, 7));
        Npy.write(dir.resolve("w.npy"), Tensor.of(new float[] {1, 2, 3}, 1, 1, 3));
    }

    private static ChildJvm.Result cli(String... args) throws Exception {
        return ChildJvm.run(classPath, Map.of(), List.of(), "dev.convt.cli.ConvtCli", args);
    }

    @Test
    void infoSaysOneDnnIsUnavailableAndWhy() throws Exception {
        ChildJvm.Result r = cli("info");
        assertEquals(0, r.code(), r::toString);
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("  onednn    unavailable: java.lang.UnsupportedOperationException: the oneDNN natives for")),
            r::toString);
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("  reference available")), r::toString);
    }

    @Test
    void autoRunsTheReferenceAndSaysWhyOnce() throws Exception {
        ChildJvm.Result r = ChildJvm.run(classPath, Map.of(), List.of(), AutoFallbackProbe.class.getName());
        assertEquals(0, r.code(), r::toString);
        assertEquals(List.of("java [1.0, 2.0, 4.0, 3.0, 5.0, 4.0, 2.0, 3.0, 0.0]",
            "java [1.0, 2.0, 4.0, 3.0, 5.0, 4.0, 2.0, 3.0, 0.0]"), r.out().lines().toList(), r::toString);
        assertEquals(1, r.err().lines().filter(l -> l.contains(
            "oneDNN is not available, so backend auto runs 'java': java.lang.UnsupportedOperationException: the oneDNN natives for")).count(),
            r::toString);

        Path y = dir.resolve("auto.npy");
        ChildJvm.Result run = cli("run", "--input", dir.resolve("x.npy").toString(), "--weight",
            dir.resolve("w.npy").toString(), "--output", y.toString(), "--verbose");
        assertEquals(0, run.code(), run::toString);
        assertTrue(run.out().contains("backend: java (auto: oneDNN is not available (java.lang.UnsupportedOperationException: the oneDNN natives for"),
            run::toString);
        assertArrayEquals(new float[] {1, 2, 4, 3, 5, 4, 2, 3, 0}, Npy.read(y).toArray());
    }

    @Test
    void forcedOneDnnFailsWithTheCause() throws Exception {
        Path y = dir.resolve("forced.npy");
        ChildJvm.Result r = cli("run", "--input", dir.resolve("x.npy").toString(), "--weight",
            dir.resolve("w.npy").toString(), "--backend", "onednn", "--output", y.toString());
        assertEquals(2, r.code(), r::toString);
        assertEquals(1, r.err().lines().count(), r::toString);
        assertTrue(r.err().startsWith("convt: backend 'onednn' is not available: java.lang.UnsupportedOperationException: the oneDNN natives for"),
            r::toString);
        assertFalse(Files.exists(y));
    }

    @Test
    void checkComparesTheJavaBackendWhenOneDnnIsAbsent() throws Exception {
        ChildJvm.Result r = cli("check", "--input", dir.resolve("x.npy").toString(), "--weight",
            dir.resolve("w.npy").toString());
        assertEquals(0, r.code(), r::toString);
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("java      max abs diff") && l.contains("  OK  ")),
            r::toString);
        assertTrue(r.out().contains("onednn    not available: java.lang.UnsupportedOperationException: the oneDNN natives for"), r::toString);

    }

    /** The same verdict when the natives are there but switched off. */
    @Test
    void checkStillComparesJavaWhenOneDnnIsDisabled() throws Exception {
        ChildJvm.Result r = ChildJvm.run(ChildJvm.classPath(), Map.of(), List.of("-Dconvt.onednn.disable=true"),
            "dev.convt.cli.ConvtCli", "check", "--input", dir.resolve("x.npy").toString(), "--weight",
            dir.resolve("w.npy").toString());
        assertEquals(0, r.code(), r::toString); // the java backend still runs and agrees
        assertTrue(r.out().contains("onednn    not available: java.lang.UnsupportedOperationException: disabled by "
            + "-Dconvt.onednn.disable=true"), r::toString);
    }
}
