package dev.convt;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code convt run/check --convention pytorch|onnx|keras}: the framework's flag names, layouts, and exit code 2. */
class ConventionCliTest {

    @TempDir
    Path dir;

    private String file(String name, Tensor t) throws IOException {
        Path p = dir.resolve(name);
        Npy.write(p, t);
        return p.toString();
    }

    private static String[] args(String... a) {
        return a;
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void onnxRunMatchesTheApiAndVerboseShowsTheDerivation() throws IOException {
        Random rnd = new Random(11);
        Tensor x = TestSupport.random(rnd, 1, 2, 5);
        Tensor w = TestSupport.random(rnd, 2, 3, 3);
        Tensor b = TestSupport.random(rnd, 3);
        String y = dir.resolve("y.npy").toString();
        CliTest.Result r = CliTest.cli("run", "--convention", "onnx", "--input", file("x.npy", x), "--weight",
            file("w.npy", w), "--bias", file("b.npy", b), "--strides", "2", "--auto-pad", "SAME_UPPER",
            "--backend", "reference", "--output", y, "--verbose");
        assertEquals(0, r.code(), r.err());
        for (String line : List.of("convention: onnx ConvTranspose (spec-exact)",
            "attributes: auto_pad=SAME_UPPER strides=[2]", "padBegin: [0]  padEnd: [1]", "output padding: [0] (default)",
            "output shape: [1, 3, 10] for input [1, 2, 5] (NCW)", "backend: reference (requested explicitly)")) {
            assertTrue(r.out().lines().anyMatch(l -> l.equals(line)), line + " in:\n" + r.out());
        }
        assertTrue(r.out().contains("derived: axis 0: natural = 2*(5-1) + 0 + (3-1)*1 + 1 = 11"), r.out());
        ConvertedLayer api = Onnx.convTranspose(new Onnx.Attributes().strides(2).autoPad("SAME_UPPER"), x.shape(),
            w.shape(), b.shape());
        try (CompiledConvTranspose op = api.compile(Backends.reference(), w, b)) {
            assertArrayEquals(op.forward(x).toArray(), Npy.read(Path.of(y)).toArray());
        }
    }

    @Test
    void onnxOrtCompatAndAutoBackend() throws IOException {
        Random rnd = new Random(12);
        String x = file("x.npy", TestSupport.random(rnd, 1, 1, 4));
        String w = file("w.npy", TestSupport.random(rnd, 1, 1, 2));
        String spec = dir.resolve("spec.npy").toString();
        String ort = dir.resolve("ort.npy").toString();
        CliTest.Result a = CliTest.cli("run", "--convention", "onnx", "--input", x, "--weight", w, "--strides", "3",
            "--auto-pad", "SAME_UPPER", "--output", spec, "--verbose");
        assertEquals(0, a.code(), a.err());
        assertArrayEquals(new long[] {1, 1, 12}, Npy.read(Path.of(spec)).shape());
        if (Backends.onednn().isAvailable() && Backends.configured().equals("auto")) {
            // two weights: auto runs this tiny layer on java (ConventionValuesTest runs its padBegin -1, which oneDNN
            // refuses as padding_l, on every oneDNN route)
            assertTrue(a.out().contains("backend: java (auto: the layer is tiny"), a.out());
        }
        CliTest.Result b = CliTest.cli("run", "--convention", "onnx", "--input", x, "--weight", w, "--strides", "3",
            "--auto-pad", "SAME_UPPER", "--ort-compat", "--output", ort);
        assertEquals(0, b.code(), b.err());
        assertArrayEquals(new long[] {1, 1, 11}, Npy.read(Path.of(ort)).shape());
    }

    @Test
    void kerasRunIsChannelsLastWithTheKerasKernel() throws IOException {
        Random rnd = new Random(13);
        Tensor x = TestSupport.random(rnd, 2, 4, 4, 3);       // NHWC
        Tensor kernel = TestSupport.random(rnd, 4, 4, 5, 3); // [kh, kw, Cout, Cin]
        Tensor b = TestSupport.random(rnd, 5);
        String y = dir.resolve("y.npy").toString();
        CliTest.Result r = CliTest.cli("run", "--convention", "keras", "--input", file("x.npy", x), "--weight",
            file("k.npy", kernel), "--bias", file("b.npy", b), "--strides", "2", "--padding", "same", "--output", y,
            "--verbose");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("convention: keras Conv2DTranspose (on TensorFlow)"), r.out());
        assertTrue(r.out().contains("output padding: None (the output length is inferred)"), r.out());
        Tensor got = Npy.read(Path.of(y));
        assertArrayEquals(new long[] {2, 8, 8, 5}, got.shape());
        ConvertedLayer api = Keras.convTranspose(new Keras.Attributes().strides(2).padding("same"), x.shape(),
            kernel.shape(), b.shape());
        try (CompiledConvTranspose op = api.compile(Backends.reference(), kernel, b)) {
            TestSupport.assertClose(api.layer(), op.forward(x), got, "keras run");
        }
        CliTest.Result check = CliTest.cli("check", "--convention", "keras", "--input", dir.resolve("x.npy").toString(),
            "--weight", dir.resolve("k.npy").toString(), "--bias", dir.resolve("b.npy").toString(), "--strides", "2",
            "--padding", "same");
        assertEquals(0, check.code(), check.out() + check.err());
        assertTrue(check.out().contains("input [2, 4, 4, 3] -> output [2, 8, 8, 5]"), check.out());
    }

    @Test
    void checkTakesTheOnnxFlags() throws IOException {
        Random rnd = new Random(14);
        CliTest.Result r = CliTest.cli("check", "--convention", "onnx", "--input",
            file("x.npy", TestSupport.random(rnd, 2, 4, 3, 4)), "--weight", file("w.npy", TestSupport.random(rnd, 4, 1, 3, 3)),
            "--strides", "2,2", "--output-shape", "9,12", "--group", "1", "--kernel-shape", "3,3", "--dilations", "1,1");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("-> output [2, 1, 9, 12]"), r.out());
    }

    @Test
    void invalidAttributesExitTwoNamingTheAttribute() throws IOException {
        Random rnd = new Random(15);
        String x2 = file("x2.npy", TestSupport.random(rnd, 1, 2, 5, 5));
        String w2 = file("w2.npy", TestSupport.random(rnd, 2, 3, 3, 3));
        String xk = file("xk.npy", TestSupport.random(rnd, 1, 5, 5, 2));
        String kk = file("kk.npy", TestSupport.random(rnd, 3, 3, 4, 2));
        String ke = file("ke.npy", TestSupport.random(rnd, 4, 4, 4, 2));
        Path y = dir.resolve("never.npy");
        String[] onnx = args("run", "--convention", "onnx", "--input", x2, "--weight", w2, "--output", y.toString());
        String[] keras = args("run", "--convention", "keras", "--input", xk, "--weight", kk, "--output", y.toString());
        String[] pytorch = args("run", "--input", x2, "--weight", w2, "--output", y.toString());
        List<String[]> bad = new ArrayList<>();
        List<String> named = new ArrayList<>();
        bad.add(concat(onnx, "--output-padding", "1", "--strides", "2,2")); // ONNX does not broadcast
        named.add("output_padding must have exactly 2 values");
        bad.add(concat(onnx, "--strides", "2"));
        named.add("strides must have exactly 2 values");
        bad.add(concat(onnx, "--pads", "1,1"));
        named.add("pads must have exactly 4 values");
        bad.add(concat(onnx, "--pads", "1,-1,0,0"));
        named.add("pads must be non-negative");
        bad.add(concat(onnx, "--auto-pad", "same_upper"));
        named.add("auto_pad must be one of");
        bad.add(concat(onnx, "--auto-pad", "SAME_LOWER", "--pads", "0,0,0,0"));
        named.add("pads cannot be given together with auto_pad=SAME_LOWER");
        bad.add(concat(onnx, "--output-shape", "1,2,3"));
        named.add("output_shape must have 2 values");
        bad.add(concat(onnx, "--kernel-shape", "3,4"));
        named.add("kernel_shape=[3, 4] contradicts");
        bad.add(concat(onnx, "--group", "3"));
        named.add("group=3 must divide");
        bad.add(concat(onnx, "--group", "1,2"));
        named.add("--group expects one int, but got '1,2'");
        bad.add(concat(onnx, "--strides", "0,1"));
        named.add("strides must be positive");
        bad.add(concat(onnx, "--stride", "2"));
        named.add("--stride is not a flag of --convention onnx (it is pytorch's)");
        bad.add(concat(onnx, "--padding", "1"));
        named.add("--padding is not a flag of --convention onnx (it is keras's and pytorch's)");
        bad.add(concat(keras, "--pads", "1,1,1,1"));
        named.add("--pads is not a flag of --convention keras (it is onnx's)");
        bad.add(concat(keras, "--padding", "full"));
        named.add("The `padding` argument must be one of");
        bad.add(concat(keras, "--strides", "2", "--output-padding", "2"));
        named.add("Strides must be greater than output padding");
        bad.add(concat(keras, "--strides", "2", "--dilation-rate", "2"));
        named.add("`strides > 1` not supported in conjunction with `dilation_rate > 1`");
        bad.add(concat(keras, "--data-format", "channels_first")); // then axis 1 (5) is not Cin (2)
        named.add("expected axis 1 of input shape to have value 2");
        bad.add(args("run", "--convention", "keras", "--input", xk, "--weight", ke, "--output", y.toString(),
            "--strides", "2", "--padding", "same", "--output-padding", "0")); // even kernel 4 with output_padding 0
        named.add("Size of out_backprop doesn't match computed");
        bad.add(concat(pytorch, "--ort-compat"));
        named.add("--ort-compat is not a flag of --convention pytorch (it is onnx's)");
        bad.add(concat(pytorch, "--data-format", "channels_last"));
        named.add("--data-format is not a flag of --convention pytorch (it is keras's)");
        bad.add(args("run", "--convention", "tensorflow", "--input", x2, "--weight", w2, "--output", y.toString()));
        named.add("--convention must be pytorch, onnx or keras, but got 'tensorflow'");
        for (int i = 0; i < bad.size(); i++) {
            String[] a = bad.get(i);
            CliTest.Result r = CliTest.cli(a);
            String what = String.join(" ", a) + "\n" + r.err();
            assertEquals(2, r.code(), what);
            assertEquals(1, r.err().strip().lines().count(), "one line on stderr: " + what);
            assertTrue(r.err().startsWith("convt: "), what);
            assertTrue(r.err().contains(named.get(i)), "expected '" + named.get(i) + "': " + what);
            assertFalse(Files.exists(y), "no output file after " + what);
            // check refuses the same arguments the same way
            List<String> checkArgs = new ArrayList<>(Arrays.asList(a));
            int out = checkArgs.indexOf("--output");
            checkArgs.remove(out + 1);
            checkArgs.remove(out);
            checkArgs.set(0, "check");
            CliTest.Result c = CliTest.cli(checkArgs.toArray(new String[0]));
            assertEquals(2, c.code(), "check: " + what + c.err());
            assertTrue(c.err().contains(named.get(i)), "check: " + c.err());
        }
    }
}
