package dev.convt;

import dev.convt.cli.ConvtCli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The convt CLI: demo output, run, check, info, and exit code 2 for bad arguments and inputs. */
class CliTest {

    @TempDir
    Path dir;

    record Result(int code, String out, String err) {}

    static Result cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = ConvtCli.execute(new PrintWriter(out), new PrintWriter(err), args);
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void demoIsTheDefaultAndShowsEveryAvailableBackend() {
        Result r = cli();
        assertEquals(0, r.code(), r.err());
        assertEquals(r.out(), cli("demo").out());
        assertTrue(r.out().contains("[java conv1d]  F.conv1d(x, [1, 2, 3]) = [4, 5, 3, 4, 2]  shape [1, 1, 5]"), r.out());
        for (Backend b : Backends.all()) {
            if (!b.isAvailable()) {
                assertTrue(r.out().contains("[" + b.id() + "]  not available"), r.out());
                continue;
            }
            assertTrue(r.out().contains("[" + b.id() + "]  F.conv_transpose1d(x, [1, 2, 3]) = [1, 2, 4, 3, 5, 4, 2, 3, 0]"
                + "  shape [1, 1, 9]"), r.out());
            assertTrue(r.out().contains("[" + b.id() + "]  ConvTranspose1d(1, 1, 3) with weight [1, 2, 1], bias 0 = "
                + "[1, 2, 2, 3, 3, 2, 2, 1, 0]  shape [1, 1, 9]"), r.out());
        }
    }

    private Path seedFiles() throws IOException {
        Npy.write(dir.resolve("x.npy"), Tensor.of(GoldenTest.X, 1, 1, 7));
        Npy.write(dir.resolve("w.npy"), Tensor.of(new float[] {1, 2, 3}, 1, 1, 3));
        Npy.write(dir.resolve("b.npy"), Tensor.of(new float[] {10}, 1));
        return dir;
    }

    @Test
    void runOnEachBackend() throws IOException {
        seedFiles();
        for (String backend : new String[] {"reference", "java", "onednn", "auto"}) {
            if (backend.equals("onednn") && !Backends.onednn().isAvailable()) {
                continue;
            }
            Path y = dir.resolve("y-" + backend + ".npy");
            Result r = cli("run", "--input", dir.resolve("x.npy").toString(), "--weight", dir.resolve("w.npy").toString(),
                "--bias", dir.resolve("b.npy").toString(), "--backend", backend, "--output", y.toString(), "--verbose");
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("implementation: "), r.out());
            Tensor out = Npy.read(y);
            assertArrayEquals(new long[] {1, 1, 9}, out.shape());
            TestSupport.assertExactly(new float[] {11, 12, 14, 13, 15, 14, 12, 13, 10}, out);
        }
    }

    @Test
    void runWithHyperparametersAndOutputSize() throws IOException {
        seedFiles();
        Path y = dir.resolve("y.npy");
        // stride 2, padding 1: (7-1)*2 - 2 + 2 + 1 = 13; output size 14 needs output_padding 1
        Result r = cli("run", "--input", dir.resolve("x.npy").toString(), "--weight", dir.resolve("w.npy").toString(),
            "--stride", "2", "--padding", "1", "--output-size", "14", "--backend", "reference", "--output", y.toString());
        assertEquals(0, r.code(), r.err());
        Tensor out = Npy.read(y);
        assertArrayEquals(new long[] {1, 1, 14}, out.shape());
        ConvTransposeLayer l = ConvTransposeLayer.builder(1).inChannels(1).outChannels(1).kernelSize(3).stride(2)
            .padding(1).outputPadding(1).bias(false).build();
        try (CompiledConvTranspose op = Backends.reference().compile(l, Tensor.of(new float[] {1, 2, 3}, 1, 1, 3), null)) {
            assertArrayEquals(op.forward(Tensor.of(GoldenTest.X, 1, 1, 7)).toArray(), out.toArray());
        }
    }

    @Test
    void badArgumentsExitTwoWithOneLineAndNoOutput() throws IOException {
        seedFiles();
        Path y = dir.resolve("never.npy");
        String x = dir.resolve("x.npy").toString();
        String w = dir.resolve("w.npy").toString();
        String[][] bad = {
            {"run", "--input", x, "--weight", w, "--output", y.toString(), "--no-such-flag"},
            {"run", "--input", x, "--weight", w},
            {"run", "--input", x, "--weight", w, "--output", y.toString(), "--stride", "two"},
            {"run", "--input", x, "--weight", w, "--output", y.toString(), "--output-padding", "3", "--stride", "2"},
            {"run", "--input", x, "--weight", w, "--output", y.toString(), "--groups", "0"},
            {"run", "--input", x, "--weight", w, "--output", y.toString(), "--backend", "cuda"},
            {"run", "--input", dir.resolve("missing.npy").toString(), "--weight", w, "--output", y.toString()},
            {"run", "--input", w, "--weight", x, "--output", y.toString(), "--padding", "5"},
            {"run", "--input", x, "--weight", w, "--output", y.toString(), "--output-size", "99"},
            {"frobnicate"},
        };
        for (String[] args : bad) {
            Result r = cli(args);
            assertEquals(2, r.code(), String.join(" ", args) + "\n" + r.err());
            assertEquals(1, r.err().strip().lines().count(), "one line on stderr: " + r.err());
            assertTrue(r.err().startsWith("convt: "), r.err());
            assertFalse(Files.exists(y), "no output file after " + String.join(" ", args));
        }
        Result stride = cli("run", "--input", x, "--weight", w, "--output", y.toString(), "--output-padding", "3",
            "--stride", "2");
        assertEquals("convt: output padding must be smaller than either stride or dilation, but got "
            + "output_padding_height: 0 output_padding_width: 3 stride_height: 1 stride_width: 2 dilation_height: 1 "
            + "dilation_width: 1", stride.err().strip());
        // the CLI is PyTorch's functional form: the weight is judged against groups, with F.conv_transpose1d's text
        Npy.write(dir.resolve("w3.npy"), Tensor.zeros(3, 1, 3));
        Npy.write(dir.resolve("x3.npy"), Tensor.zeros(1, 3, 7));
        Result groups = cli("run", "--input", dir.resolve("x3.npy").toString(), "--weight",
            dir.resolve("w3.npy").toString(), "--groups", "2", "--output", y.toString());
        assertEquals("convt: Given groups=2, expected weight to be divisible by 2 at dimension 0, but got weight of "
            + "size [[3, 1, 3]] instead", groups.err().strip());
        Result zero = cli("run", "--input", dir.resolve("x3.npy").toString(), "--weight",
            dir.resolve("w3.npy").toString(), "--groups", "0", "--output", y.toString());
        assertEquals("convt: non-positive groups is not supported, but got groups=0", zero.err().strip());
        assertFalse(Files.exists(y));
    }

    @Test
    void checkAgreesAndInfoListsBackends() throws IOException {
        Random rnd = new Random(5);
        Npy.write(dir.resolve("x.npy"), TestSupport.random(rnd, 2, 6, 5, 4));
        Npy.write(dir.resolve("w.npy"), TestSupport.random(rnd, 6, 2, 3, 3));
        Npy.write(dir.resolve("b.npy"), TestSupport.random(rnd, 4));
        Result r = cli("check", "--input", dir.resolve("x.npy").toString(), "--weight", dir.resolve("w.npy").toString(),
            "--bias", dir.resolve("b.npy").toString(), "--stride", "2,1", "--padding", "1", "--output-padding", "1,0",
            "--dilation", "1,2", "--groups", "2");
        assertEquals(0, r.code(), r.out() + r.err());
        for (Backend b : Backends.all()) {
            if (b.isAvailable() && b != Backends.reference()) {
                assertTrue(r.out().lines().anyMatch(l -> l.startsWith(b.id()) && l.contains("  OK  (")), r.out());
            }
        }
        Result info = cli("info");
        assertEquals(0, info.code());
        assertTrue(info.out().startsWith("convt "), info.out());
        for (Backend b : Backends.all()) {
            assertTrue(info.out().contains("  " + b.id() + " "), info.out());
        }
    }

    /** The acceptance case of the oneDNN issue: convt check on the DCGAN-style layer. */
    @Test
    void checkAgreesOnTheDcganLayer() throws IOException {
        Random rnd = new Random(64);
        Npy.write(dir.resolve("x.npy"), TestSupport.random(rnd, 8, 512, 4, 4));
        Npy.write(dir.resolve("w.npy"), TestSupport.random(rnd, 512, 256, 4, 4));
        Npy.write(dir.resolve("b.npy"), TestSupport.random(rnd, 256));
        Result r = cli("check", "--input", dir.resolve("x.npy").toString(), "--weight", dir.resolve("w.npy").toString(),
            "--bias", dir.resolve("b.npy").toString(), "--stride", "2", "--padding", "1");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().startsWith("layer: ConvTranspose2d(512, 256, kernel_size=(4, 4), stride=(2, 2), "
            + "padding=(1, 1))  input [8, 512, 4, 4] -> output [8, 256, 8, 8]"), r.out());
        TestSupport.assertOneDnnAvailableWhereRequired();
        if (Backends.onednn().isAvailable()) {
            assertTrue(r.out().lines().anyMatch(l -> l.startsWith("onednn") && l.contains("  OK  (")), r.out());
        }
    }

    @Test
    void outputInAFolderThatDoesNotExistNamesTheUsersPath() throws IOException {
        seedFiles();
        Path y = dir.resolve("no/such/dir/y.npy");
        Result r = cli("run", "--input", dir.resolve("x.npy").toString(), "--weight", dir.resolve("w.npy").toString(),
            "--output", y.toString());
        assertEquals(2, r.code());
        assertEquals("convt: no such file or directory: " + y + " (the folder " + y.getParent() + " does not exist)",
            r.err().strip());
        assertFalse(r.err().contains(".tmp"), r.err());
    }

    /** Defect 4: the rename used to replace an (empty) directory named by --output with the output file. */
    @Test
    void outputThatIsADirectoryIsRefusedAndLeftAlone() throws IOException {
        seedFiles();
        Path empty = Files.createDirectory(dir.resolve("empty"));
        Path full = Files.createDirectory(dir.resolve("full"));
        Files.writeString(full.resolve("keep.txt"), "precious");
        for (Path out : new Path[] {empty, full}) {
            Result r = cli("run", "--input", dir.resolve("x.npy").toString(), "--weight",
                dir.resolve("w.npy").toString(), "--output", out.toString());
            assertEquals(2, r.code(), r.err());
            assertEquals("convt: " + out + ": is a directory; name a file to write", r.err().strip());
            assertTrue(Files.isDirectory(out, java.nio.file.LinkOption.NOFOLLOW_LINKS), out + " still a directory");
        }
        assertEquals("precious", Files.readString(full.resolve("keep.txt")));
        try (var s = Files.list(empty)) {
            assertEquals(0, s.count());
        }
        try (var s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary file left");
        }
    }

    @Test
    void outputThroughASymbolicLinkReplacesTheFileNotTheLink() throws IOException {
        seedFiles();
        Path real = dir.resolve("real.npy");
        Files.writeString(real, "old");
        Path link = Files.createSymbolicLink(dir.resolve("link.npy"), real);
        Result r = cli("run", "--input", dir.resolve("x.npy").toString(), "--weight", dir.resolve("w.npy").toString(),
            "--output", link.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.isSymbolicLink(link));
        assertArrayEquals(new long[] {1, 1, 9}, Npy.read(real).shape());

        Path toDir = Files.createSymbolicLink(dir.resolve("dirlink.npy"), Files.createDirectory(dir.resolve("d")));
        Path dangling = Files.createSymbolicLink(dir.resolve("dangling.npy"), dir.resolve("nothing-here"));
        for (Path out : new Path[] {toDir, dangling}) {
            Result refused = cli("run", "--input", dir.resolve("x.npy").toString(), "--weight",
                dir.resolve("w.npy").toString(), "--output", out.toString());
            assertEquals(2, refused.code(), refused.err());
            assertTrue(refused.err().startsWith("convt: " + out + ": "), refused.err());
            assertTrue(Files.isSymbolicLink(out), out + " left alone");
        }
        assertTrue(Files.isDirectory(dir.resolve("d")));
        assertFalse(Files.exists(dir.resolve("nothing-here")));
    }

    @Test
    void outputThatIsAnInputIsRefused() throws IOException {
        seedFiles();
        byte[] before = Files.readAllBytes(dir.resolve("x.npy"));
        Result r = cli("run", "--input", dir.resolve("x.npy").toString(), "--weight", dir.resolve("w.npy").toString(),
            "--output", dir.resolve("./x.npy").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().startsWith("convt: --output " + dir.resolve("./x.npy") + " is the input file "), r.err());
        assertArrayEquals(before, Files.readAllBytes(dir.resolve("x.npy")));
    }

    /** A file too large to be any array convt holds is refused before it is read (it used to end in an Error). */
    @Test
    void hugeInputFileExitsTwo() throws IOException {
        seedFiles();
        Path huge = dir.resolve("huge.npy");
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(huge.toFile(), "rw")) {
            f.write(Files.readAllBytes(dir.resolve("x.npy")));
            f.setLength(3L << 30); // sparse: no disk used
        }
        Path y = dir.resolve("y.npy");
        Result r = cli("run", "--input", huge.toString(), "--weight", dir.resolve("w.npy").toString(),
            "--output", y.toString());
        assertEquals(2, r.code(), r.err());
        assertEquals("convt: " + huge + ": file of 3221225472 bytes is larger than the 2147483639 bytes convt reads",
            r.err().strip());
        assertFalse(Files.exists(y));
    }

    @Test
    void helpListsTheExitCodes() {
        for (String[] args : new String[][] {{"--help"}, {"run", "--help"}, {"check", "--help"}}) {
            Result r = cli(args);
            assertEquals(0, r.code());
            assertTrue(r.out().contains("Exit codes:"), r.out());
            assertTrue(r.out().contains("  2   bad arguments or inputs"), r.out());
            assertTrue(r.out().contains("  3   unexpected failure"), r.out());
        }
        assertTrue(cli("check", "--help").out().contains("  1   check: a backend disagrees"));
    }
}
