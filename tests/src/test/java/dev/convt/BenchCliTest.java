package dev.convt;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.convt.CliTest.cli;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code convt bench} (its table and its refusals) and {@code --channels-last} on run and check. */
class BenchCliTest {

    @TempDir
    Path dir;

    @Test
    void benchPrintsOneRowPerShapeAndBackend() {
        CliTest.Result r = cli("bench", "--shape", "seed_1d,latency", "--seconds", "0.05", "--warmup", "0",
            "--backend", "reference");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("ISA") || r.out().contains("unavailable"), r.out());
        assertTrue(r.out().matches("(?s).*\\nseed_1d +reference +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+  reference:scatter-f64.*"),
            r.out());
        assertTrue(r.out().contains("\nlatency        reference"), r.out());
        assertTrue(r.err().contains("[2/2] latency on reference"), "progress on stderr: " + r.err());
    }

    @Test
    void benchTakesALayerByFlags() {
        CliTest.Result r = cli("bench", "--cin", "3", "--cout", "2", "--input-size", "4x5", "--kernel-size", "3",
            "--stride", "2", "--padding", "1", "--output-padding", "1", "--batch", "2", "--channels-last",
            "--seconds", "0.05", "--warmup", "0");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("layout CHANNELS_LAST"), r.out());
        for (Backend b : Backends.all()) {
            if (b.isAvailable() && b != Backends.reference()) {
                assertTrue(r.out().contains("\nlayer          " + b.id()), r.out());
            }
        }
    }

    @Test
    void benchRefusesBadArguments() {
        assertEquals(2, cli("bench", "--shape", "nope").code());
        assertEquals(2, cli("bench", "--shape", "latency", "--cin", "3").code());
        assertEquals(2, cli("bench", "--cin", "3", "--cout", "2").code());
        assertEquals(2, cli("bench", "--shape", "latency", "--backend", "cuda").code());
        assertEquals(2, cli("bench", "--shape", "latency", "--seconds", "0").code());
        assertEquals(2, cli("bench", "--shape", "latency", "--batch", "0").code());
        assertEquals(2, cli("bench", "--shapes", dir.resolve("missing.txt").toString()).code());
        CliTest.Result r = cli("bench", "--cin", "3", "--cout", "2", "--input-size", "4", "--kernel-size", "3",
            "--groups", "2");
        assertEquals(2, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }

    @Test
    void runAndCheckTakeChannelsLastFiles() throws IOException {
        // the seed example, channels-last: [N, W, C] = [1, 7, 1]
        Npy.write(dir.resolve("x.npy"), Tensor.of(GoldenTest.X, 1, 7, 1));
        Npy.write(dir.resolve("w.npy"), Tensor.of(new float[] {1, 2, 3}, 1, 1, 3));
        Path y = dir.resolve("y.npy");
        CliTest.Result r = cli("run", "--input", dir.resolve("x.npy").toString(), "--weight",
            dir.resolve("w.npy").toString(), "--channels-last", "--output", y.toString());
        assertEquals(0, r.code(), r.err());
        Tensor out = Npy.read(y);
        assertArrayEquals(new long[] {1, 9, 1}, out.shape());
        TestSupport.assertExactly(new float[] {1, 2, 4, 3, 5, 4, 2, 3, 0}, out);
        assertEquals(0, cli("check", "--input", dir.resolve("x.npy").toString(), "--weight",
            dir.resolve("w.npy").toString(), "--channels-last").code());
        CliTest.Result keras = cli("run", "--input", dir.resolve("x.npy").toString(), "--weight",
            dir.resolve("w.npy").toString(), "--convention", "keras", "--channels-last", "--output",
            dir.resolve("k.npy").toString());
        assertEquals(2, keras.code());
        assertTrue(keras.err().contains("--channels-last is not a flag of --convention keras"), keras.err());
        assertTrue(Files.notExists(dir.resolve("k.npy")));
    }
}
