package dev.convt;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Never a crash: random attributes, in range and out of it, give either a layer whose output shape is the
 * framework's (recomputed here from the formulas) and which every backend runs as the reference does, or an
 * IllegalArgumentException. Nothing else.
 */
class ConventionFuzzTest {

    private static long[] randomList(Random rnd, int n, int lo, int hi) {
        long[] v = new long[n];
        for (int i = 0; i < n; i++) {
            v[i] = lo + rnd.nextInt(hi - lo + 1);
        }
        return v;
    }

    private static int[] toInts(long[] v) {
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (int) v[i];
        }
        return out;
    }

    /** A list of the right length most of the time, sometimes one short or one long. */
    private static int length(Random rnd, int n) {
        int p = rnd.nextInt(20);
        return p == 0 ? n + 1 : p == 1 ? Math.max(0, n - 1) : n;
    }

    /** The reference on every accepted case; every other backend on every {@code 8}th (primitives cost time). */
    private static void runsEverywhere(ConvertedLayer c, Random rnd, int index) {
        if (Tensor.elementCount(c.outputShape()) > 4_000 || Tensor.elementCount(c.inputShape()) > 4_000) {
            return;
        }
        Tensor x = TestSupport.random(rnd, c.inputShape());
        Tensor w = TestSupport.random(rnd, c.weightShape());
        Tensor b = c.layer().bias() ? TestSupport.random(rnd, c.layer().outChannels()) : null;
        Tensor ref;
        try (CompiledConvTranspose op = c.compile(Backends.reference(), w, b)) {
            ref = op.forward(x);
        }
        assertArrayEquals(c.outputShape(), ref.shape());
        if (index % 8 != 0) {
            return;
        }
        for (Backend backend : ConventionValuesTest.runnable(c.layer())) {
            try (CompiledConvTranspose op = c.compile(backend, w, b)) {
                TestSupport.assertClose(c.layer(), ref, op.forward(x), backend.id() + " on " + c);
            }
        }
    }

    @Test
    void onnx() {
        Random rnd = new Random(2024);
        String[] autoPads = {"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID", "same_upper", null};
        int ok = 0;
        for (int n = 0; n < 3000; n++) {
            int r = 1 + rnd.nextInt(3);
            int group = rnd.nextInt(10) == 0 ? rnd.nextInt(3) : 1 + rnd.nextInt(2);
            long[] x = new long[r + 2];
            long[] w = new long[rnd.nextInt(15) == 0 ? r + 1 : r + 2];
            x[0] = rnd.nextInt(3);
            x[1] = 2 * (1 + rnd.nextInt(2));
            for (int i = 0; i < r; i++) {
                x[2 + i] = rnd.nextInt(12) == 0 ? 0 : 1 + rnd.nextInt(5);
            }
            w[0] = rnd.nextInt(15) == 0 ? x[1] + 1 : x[1];
            for (int i = 1; i < w.length; i++) {
                w[i] = rnd.nextInt(20) == 0 ? 0 : 1 + rnd.nextInt(3);
            }
            Onnx.Attributes a = new Onnx.Attributes();
            String autoPad = autoPads[rnd.nextInt(autoPads.length)];
            a.autoPad(autoPad);
            if (rnd.nextBoolean()) a.strides(randomList(rnd, length(rnd, r), rnd.nextInt(10) == 0 ? -1 : 1, 4));
            if (rnd.nextInt(3) == 0) a.dilations(randomList(rnd, length(rnd, r), rnd.nextInt(10) == 0 ? 0 : 1, 3));
            if (rnd.nextInt(3) == 0) a.pads(randomList(rnd, length(rnd, 2 * r), rnd.nextInt(10) == 0 ? -1 : 0, 3));
            if (rnd.nextInt(3) == 0) a.outputPadding(randomList(rnd, length(rnd, r), rnd.nextInt(10) == 0 ? -1 : 0, 2));
            if (rnd.nextInt(3) == 0) {
                long[] os = randomList(rnd, rnd.nextBoolean() ? r : r + 2, rnd.nextInt(10) == 0 ? 0 : 1, 16);
                if (os.length == r + 2 && rnd.nextBoolean()) {
                    os[0] = x[0];
                    os[1] = w[1] * group;
                }
                a.outputShape(os);
            }
            if (rnd.nextInt(5) == 0) a.kernelShape(randomList(rnd, length(rnd, r), 1, 3));
            if (group != 1 || rnd.nextBoolean()) a.group(group);
            a.ortCompat(rnd.nextBoolean());
            long[] bias = rnd.nextBoolean() ? null : new long[] {w.length > 1 ? w[1] * group : 1};
            ConvertedLayer c;
            try {
                c = Onnx.convTranspose(a, x, w, bias);
            } catch (IllegalArgumentException expected) {
                assertTrue(expected.getMessage().startsWith("ONNX ConvTranspose: "), expected.getMessage());
                continue;
            } catch (RuntimeException e) {
                fail("ONNX " + e + " for X " + java.util.Arrays.toString(x) + " W " + java.util.Arrays.toString(w), e);
                return;
            }
            ok++;
            // the spec's output size, recomputed
            for (int i = 0; i < r; i++) {
                long s = a.strides == null ? 1 : a.strides[i];
                long d = a.dilations == null ? 1 : a.dilations[i];
                long op = a.outputPadding == null ? 0 : a.outputPadding[i];
                long natural = s * (x[2 + i] - 1) + op + (w[2 + i] - 1) * d + 1;
                long want;
                if (a.outputShape != null) {
                    want = a.outputShape[a.outputShape.length - r + i];
                } else if (autoPad != null && autoPad.startsWith("SAME")) {
                    want = a.ortCompat ? Math.min(natural, x[2 + i] * s) : x[2 + i] * s;
                } else {
                    want = a.pads == null ? natural : natural - a.pads[i] - a.pads[r + i];
                }
                assertEquals(want, c.outputShape()[2 + i], c.toString());
            }
            runsEverywhere(c, rnd, ok);
        }
        assertTrue(ok > 300, "valid draws: " + ok);
    }

    @Test
    void keras() {
        Random rnd = new Random(77);
        String[] paddings = {"valid", "same", "SAME", "full", null};
        String[] formats = {"channels_last", "channels_first", "NHWC", null};
        int ok = 0;
        for (int n = 0; n < 3000; n++) {
            int r = 1 + rnd.nextInt(3);
            long[] k = new long[r + 2];
            for (int i = 0; i < r; i++) {
                k[i] = rnd.nextInt(25) == 0 ? 0 : 1 + rnd.nextInt(4);
            }
            k[r] = 1 + rnd.nextInt(3);
            k[r + 1] = 1 + rnd.nextInt(3);
            Keras.Attributes a = new Keras.Attributes();
            String padding = paddings[rnd.nextInt(paddings.length)];
            String format = formats[rnd.nextInt(formats.length)];
            a.padding(padding).dataFormat(format);
            int[] strides = toInts(randomList(rnd, rnd.nextBoolean() ? 1 : length(rnd, r), rnd.nextInt(10) == 0 ? 0 : 1,
                3));
            int[] dilation = toInts(randomList(rnd, rnd.nextBoolean() ? 1 : length(rnd, r), 1, rnd.nextInt(4) == 0 ? 3
                : 1));
            int[] outputPadding = rnd.nextBoolean() ? null : toInts(randomList(rnd, rnd.nextBoolean() ? 1
                : length(rnd, r), rnd.nextInt(10) == 0 ? -1 : 0, 2));
            a.strides(strides).dilationRate(dilation).outputPadding(outputPadding);
            boolean last = format == null || format.equals("channels_last");
            long[] x = new long[rnd.nextInt(15) == 0 ? r + 1 : r + 2];
            x[0] = 1 + rnd.nextInt(2);
            int channelAxis = last ? x.length - 1 : 1;
            for (int i = 1; i < x.length; i++) {
                x[i] = 1 + rnd.nextInt(5);
            }
            x[channelAxis] = rnd.nextInt(15) == 0 ? k[r + 1] + 1 : k[r + 1];
            long[] bias = rnd.nextBoolean() ? null : new long[] {rnd.nextInt(15) == 0 ? k[r] + 1 : k[r]};
            ConvertedLayer c;
            try {
                c = Keras.convTranspose(a, x, k, bias);
            } catch (IllegalArgumentException expected) {
                continue;
            } catch (RuntimeException e) {
                fail("Keras " + e + " for input " + java.util.Arrays.toString(x) + " kernel "
                    + java.util.Arrays.toString(k), e);
                return;
            }
            ok++;
            // Keras's length formula, recomputed; and TensorFlow's SAME rule holds for what was accepted
            boolean same = padding != null && padding.equalsIgnoreCase("same");
            for (int i = 0; i < r; i++) {
                long in = x[(last ? 1 : 2) + i];
                long s = strides.length == 1 ? strides[0] : strides[i];
                long d = dilation.length == 1 ? dilation[0] : dilation[i];
                long kd = (k[i] - 1) * d + 1;
                long want;
                if (outputPadding == null) {
                    want = same ? in * s : in * s + Math.max(kd - s, 0);
                } else {
                    long op = outputPadding.length == 1 ? outputPadding[0] : outputPadding[i];
                    want = (in - 1) * s + kd - 2 * (same ? kd / 2 : 0) + op;
                }
                long got = c.outputShape()[(last ? 1 : 2) + i];
                assertEquals(want, got, c.toString());
                if (same) {
                    assertEquals(in, (got + s - 1) / s, c.toString());
                }
            }
            runsEverywhere(c, rnd, ok);
        }
        assertTrue(ok > 300, "valid draws: " + ok);
    }
}
