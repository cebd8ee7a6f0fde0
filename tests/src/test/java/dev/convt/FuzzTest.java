package dev.convt;

import dev.convt.onednn.OneDnnException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Hostile input, seeded: layer specs, PyTorch's functional arguments, tensors over every kind of storage, forwards on
 * every available backend in both layouts, closed ops and {@code .npy} files, mostly invalid. Each case must end in
 * a result equal to the reference's (or a correctly shaped tensor, an output of the right shape) or in
 * {@link IllegalArgumentException}, {@link IllegalStateException} or one of convt's own exceptions
 * ({@link Npy.NpyFormatException}, {@link OneDnnException}); anything else (an {@link IndexOutOfBoundsException} from
 * inside, a {@link NegativeArraySizeException}, an {@link OutOfMemoryError}, a crash, a hang) fails it.
 *
 * <p>{@code -Dconvt.fuzz.cases=N} (default 20,000) and {@code -Dconvt.fuzz.seed=S} choose the run; every case draws
 * from its own {@code Random(seed, index)}, so {@code -Dconvt.fuzz.only=i} replays case {@code i} alone.
 */
class FuzzTest {

    static final int CASES = Integer.getInteger("convt.fuzz.cases", 20_000);
    static final long SEED = Long.getLong("convt.fuzz.seed", 0x5EED_C0DEL);
    static final int ONLY = Integer.getInteger("convt.fuzz.only", -1);

    /** Never allocate a real tensor above this many elements: a valid-but-big draw is redrawn small. */
    static final long SMALL = 4096;

    enum Kind { SPEC, FUNCTIONAL, TENSOR, FORWARD, CLOSED, NPY }

    @TempDir
    static Path dir;

    /** An op of the pool: one layer compiled on one backend for one layout, with the reference for that layout. */
    record PoolOp(ConvTransposeLayer layer, Layout layout, CompiledConvTranspose op, CompiledConvTranspose reference,
                  List<long[]> validInputs) {}

    static final List<PoolOp> POOL = new ArrayList<>();
    static final List<CompiledConvTranspose> TO_CLOSE = new ArrayList<>();

    static final ConvTransposeLayer[] LAYERS = {
        ConvTransposeLayer.builder(1).inChannels(2).outChannels(3).kernelSize(3).stride(2).padding(1).outputPadding(1)
            .build(),
        ConvTransposeLayer.builder(1).inChannels(3).outChannels(6).kernelSize(4).stride(3).padding(2).outputPadding(2)
            .dilation(2).groups(3).build(),
        ConvTransposeLayer.builder(2).inChannels(4).outChannels(4).kernelSize(3).padding(1).groups(4).bias(false)
            .build(),
        ConvTransposeLayer.builder(2).inChannels(3).outChannels(2).kernelSize(3, 2).stride(2, 1).padding(1, 0)
            .outputPadding(1, 0).dilation(1, 2).build(),
        ConvTransposeLayer.builder(2).inChannels(2).outChannels(2).kernelSize(1).build(),
        ConvTransposeLayer.builder(2).inChannels(1).outChannels(1).kernelSize(3).stride(3).outputPadding(2).build(),
        ConvTransposeLayer.builder(3).inChannels(2).outChannels(2).kernelSize(2).stride(2).outputPadding(1).build(),
        ConvTransposeLayer.builder(3).inChannels(2).outChannels(4).kernelSize(1, 2, 3).dilation(1, 2, 1).groups(2)
            .bias(false).build(),
    };

    @BeforeAll
    static void compilePool() {
        TestSupport.assertOneDnnAvailableWhereRequired();
        Random rnd = new Random(SEED);
        for (ConvTransposeLayer layer : LAYERS) {
            Tensor w = TestSupport.random(rnd, layer.weightShape());
            Tensor b = layer.bias() ? TestSupport.random(rnd, layer.outChannels()) : null;
            int r = layer.rank();
            List<long[]> valid = new ArrayList<>();
            for (int batch : new int[] {1, 2}) {
                long[] in = new long[r + 2];
                in[0] = batch;
                in[1] = layer.inChannels();
                for (int i = 0; i < r; i++) {
                    in[2 + i] = 2 + (batch + i) % 3;
                }
                valid.add(in);
            }
            valid.add(Arrays.copyOfRange(valid.get(0), 1, r + 2)); // unbatched
            for (Layout layout : Layout.values()) {
                CompiledConvTranspose ref = Backends.reference().compile(layer, w, b, layout);
                TO_CLOSE.add(ref);
                List<long[]> inLayout = valid.stream().map(s -> layout.fromChannelsFirst(s, r)).toList();
                for (Backend backend : CrossBackendTest.available()) {
                    CompiledConvTranspose op = backend.compile(layer, w, b, layout);
                    TO_CLOSE.add(op);
                    POOL.add(new PoolOp(layer, layout, op, ref, inLayout));
                }
            }
        }
    }

    @AfterAll
    static void closePool() {
        TO_CLOSE.forEach(CompiledConvTranspose::close);
    }

    /** Counts of what happened, per kind. */
    static final class Tally {
        final Map<Kind, int[]> counts = new EnumMap<>(Kind.class); // [cases, accepted, refused]
        final Map<Kind, long[]> nanos = new EnumMap<>(Kind.class);
        final List<String> failures = new ArrayList<>();

        void add(Kind k, boolean accepted) {
            int[] c = counts.computeIfAbsent(k, x -> new int[3]);
            c[0]++;
            c[accepted ? 1 : 2]++;
        }

        int total() {
            return counts.values().stream().mapToInt(c -> c[0]).sum();
        }
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.MINUTES)
    void hostileInputsEndInAResultOrARefusal() throws Exception {
        Tally tally = new Tally();
        long start = System.nanoTime();
        for (int i = 0; i < CASES; i++) {
            if (ONLY >= 0 && i != ONLY) {
                continue;
            }
            Random rnd = new Random(SEED * 1_000_003L + i);
            Kind kind = pickKind(rnd);
            StringBuilder what = new StringBuilder();
            long t0 = System.nanoTime();
            try {
                boolean accepted = run(kind, rnd, what);
                tally.add(kind, accepted);
            } catch (IllegalArgumentException | IllegalStateException | Npy.NpyFormatException
                     | OneDnnException refused) {
                tally.add(kind, false);
            } catch (AssertionError wrong) {
                tally.failures.add("case " + i + " (" + kind + "): " + what + ": " + wrong.getMessage());
            } catch (Throwable t) {
                StringWriter trace = new StringWriter();
                t.printStackTrace(new PrintWriter(trace));
                tally.failures.add("case " + i + " (" + kind + "): " + what + ": " + trace);
            }
            tally.nanos.computeIfAbsent(kind, k -> new long[1])[0] += System.nanoTime() - t0;
            if (tally.failures.size() >= 10) {
                break;
            }
        }
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        StringBuilder summary = new StringBuilder(String.format("fuzz: %d cases in %d ms (seed 0x%X, backends %s):",
            tally.total(), ms, SEED, CrossBackendTest.available().stream().map(Backend::id).toList()));
        tally.counts.forEach((k, c) -> summary.append(String.format(" %s %d (accepted %d, refused %d, %d ms);", k, c[0],
            c[1], c[2], TimeUnit.NANOSECONDS.toMillis(tally.nanos.get(k)[0]))));
        System.out.println(summary);
        if (!tally.failures.isEmpty()) {
            fail(tally.failures.size() + " cases ended otherwise than in a result or a refusal:\n"
                + String.join("\n\n", tally.failures));
        }
        if (ONLY < 0) {
            assertEquals(CASES, tally.total());
            for (Kind k : Kind.values()) {
                int[] c = tally.counts.get(k);
                assertTrue(c != null && c[1] > 0 && c[2] > 0, k + " must see both outcomes: "
                    + (c == null ? "none" : Arrays.toString(c)));
            }
        }
    }

    private static Kind pickKind(Random rnd) {
        int p = rnd.nextInt(100);
        return p < 18 ? Kind.SPEC : p < 36 ? Kind.FUNCTIONAL : p < 50 ? Kind.TENSOR : p < 85 ? Kind.FORWARD
            : p < 87 ? Kind.CLOSED : Kind.NPY;
    }

    /** Runs one case; returns whether it was accepted (and checked), throws the refusal otherwise. */
    private static boolean run(Kind kind, Random rnd, StringBuilder what) throws Exception {
        switch (kind) {
            case SPEC: return spec(rnd, what);
            case FUNCTIONAL: return functional(rnd, what);
            case TENSOR: return tensor(rnd, what);
            case FORWARD: return forward(rnd, what);
            case CLOSED: return closed(rnd, what);
            default: return npy(rnd, what);
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Values that break things

    private static final int[] NASTY_INTS = {Integer.MIN_VALUE, -65536, -2, -1, 0, 1, 2, 3, 4, 6, 7, 65536,
        Integer.MAX_VALUE / 2 + 1, Integer.MAX_VALUE};
    private static final long[] NASTY_LONGS = {Long.MIN_VALUE, Integer.MIN_VALUE, -1, 0, 1, 2, 3, 5, 1L << 16,
        Integer.MAX_VALUE, 1L << 31, 1L << 32, 1L << 62, Long.MAX_VALUE};

    private static int anInt(Random rnd) {
        return rnd.nextInt(3) == 0 ? NASTY_INTS[rnd.nextInt(NASTY_INTS.length)] : rnd.nextInt(5);
    }

    private static int positive(Random rnd) {
        return rnd.nextInt(4) == 0 ? anInt(rnd) : 1 + rnd.nextInt(4);
    }

    private static long aLong(Random rnd) {
        return rnd.nextInt(3) == 0 ? NASTY_LONGS[rnd.nextInt(NASTY_LONGS.length)] : rnd.nextInt(6);
    }

    private static int[] ints(Random rnd, int rank, boolean positive) {
        int n = rnd.nextInt(6) == 0 ? rnd.nextInt(5) : rnd.nextBoolean() ? 1 : rank;
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
            v[i] = positive ? positive(rnd) : rnd.nextInt(4) == 0 ? anInt(rnd) : rnd.nextInt(3);
        }
        return v;
    }

    private static long[] shape(Random rnd, int rank) {
        long[] s = new long[rank];
        for (int i = 0; i < rank; i++) {
            s[i] = rnd.nextInt(4) == 0 ? aLong(rnd) : 1 + rnd.nextInt(5);
        }
        return s;
    }

    // ------------------------------------------------------------------------------------------------------------

    private static boolean spec(Random rnd, StringBuilder what) {
        int rank = rnd.nextInt(8) == 0 ? anInt(rnd) : 1 + rnd.nextInt(3);
        what.append("builder(").append(rank).append(')');
        ConvTransposeLayer.Builder b = ConvTransposeLayer.builder(rank);
        if (rnd.nextInt(10) > 0) {
            b.inChannels(positive(rnd));
        }
        if (rnd.nextInt(10) > 0) {
            b.outChannels(positive(rnd));
        }
        if (rnd.nextInt(20) > 0) {
            b.kernelSize(ints(rnd, rank, true));
        }
        if (rnd.nextBoolean()) {
            b.stride(ints(rnd, rank, true));
        }
        if (rnd.nextBoolean()) {
            b.padding(ints(rnd, rank, false));
        }
        if (rnd.nextBoolean()) {
            b.outputPadding(ints(rnd, rank, false));
        }
        if (rnd.nextBoolean()) {
            b.dilation(ints(rnd, rank, true));
        }
        if (rnd.nextBoolean()) {
            b.groups(positive(rnd));
        }
        b.bias(rnd.nextBoolean());
        ConvTransposeLayer l = b.build();
        what.append(" -> ").append(l);
        // a built layer is one PyTorch accepts
        assertTrue(l.inChannels() > 0 && l.outChannels() > 0 && l.groups() > 0);
        assertEquals(0, l.inChannels() % l.groups());
        assertEquals(0, l.outChannels() % l.groups());
        for (int i = 0; i < l.rank(); i++) {
            assertTrue(l.kernelSize(i) > 0 && l.stride(i) > 0 && l.dilation(i) > 0 && l.padding(i) >= 0);
            assertTrue(l.outputPadding(i) >= 0
                && l.outputPadding(i) < Math.max(l.stride(i), l.dilation(i)));
        }
        assertEquals(l, l.toBuilder().build());
        l.hashCode();
        return true;
    }

    private static boolean functional(Random rnd, StringBuilder what) {
        int rank = 1 + rnd.nextInt(3);
        int weightRank = rnd.nextInt(8) == 0 ? rnd.nextInt(7) : rank + 2;
        int inputRank = rnd.nextInt(6) == 0 ? rnd.nextInt(7) : rank + 1 + rnd.nextInt(2);
        long[] weight = shape(rnd, weightRank);
        long[] input = shape(rnd, inputRank);
        if (inputRank >= 2 && weightRank >= 1 && rnd.nextBoolean()) {
            input[inputRank == rank + 2 ? 1 : 0] = weight[0]; // often the right channels, to get further
        }
        long[] bias = rnd.nextBoolean() ? null : shape(rnd, rnd.nextInt(6) == 0 ? rnd.nextInt(3) : 1);
        if (bias != null && bias.length == 1 && weightRank >= 2 && rnd.nextBoolean()) {
            bias[0] = weight[1];
        }
        int groups = rnd.nextInt(3) == 0 ? anInt(rnd) : 1;
        int[] stride = ints(rnd, rank, true);
        int[] padding = ints(rnd, rank, false);
        int[] outputPadding = ints(rnd, rank, false);
        int[] dilation = ints(rnd, rank, true);
        what.append("functional(input ").append(Arrays.toString(input)).append(", weight ")
            .append(Arrays.toString(weight)).append(", bias ").append(Arrays.toString(bias)).append(", stride ")
            .append(Arrays.toString(stride)).append(", padding ").append(Arrays.toString(padding))
            .append(", output_padding ").append(Arrays.toString(outputPadding)).append(", groups ").append(groups)
            .append(", dilation ").append(Arrays.toString(dilation)).append(')');
        ConvTransposeLayer l = ConvTransposeLayer.functional(input, weight, bias, stride, padding, outputPadding,
            groups, dilation);
        long[] out = l.outputShape(input);
        what.append(" -> ").append(l).append(" output ").append(Arrays.toString(out));
        assertEquals(input.length, out.length);
        boolean batched = input.length == l.rank() + 2;
        int c = batched ? 1 : 0;
        assertEquals(l.outChannels(), out[c]);
        assertTrue(Tensor.elementCount(out) <= Tensor.MAX_ELEMENTS);
        for (int i = 0; i < l.rank(); i++) {
            assertEquals(l.outputSize(i, input[c + 1 + i]), out[c + 1 + i]);
            assertTrue(out[c + 1 + i] >= (batched && input[0] == 0 ? 0 : 1));
        }
        return true;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Storage

    enum Storage { ARRAY, ARRAY_SLICE, HEAP_READ_ONLY, HEAP_BYTES_LE, HEAP_BYTES_BE, DIRECT, DIRECT_MISALIGNED,
        DIRECT_READ_ONLY, DIRECT_FOREIGN_ORDER }

    /** A tensor of {@code shape} over storage of {@code kind}, holding {@code values}; {@code delta} elements off. */
    private static Tensor make(Storage kind, long[] shape, float[] values, int delta, Random rnd) {
        int n = values.length + delta;
        if (n < 0) {
            n = 0;
        }
        FloatBuffer buf;
        switch (kind) {
            case ARRAY: {
                float[] a = Arrays.copyOf(values, n);
                return Tensor.wrap(a, shape);
            }
            case ARRAY_SLICE: {
                int off = 1 + rnd.nextInt(3);
                float[] a = new float[n + off + 2];
                System.arraycopy(values, 0, a, off, Math.min(values.length, n));
                buf = FloatBuffer.wrap(a, off, n).slice();
                break;
            }
            case HEAP_READ_ONLY:
                buf = FloatBuffer.wrap(Arrays.copyOf(values, n)).asReadOnlyBuffer();
                break;
            case HEAP_BYTES_LE:
            case HEAP_BYTES_BE: {
                ByteBuffer bytes = ByteBuffer.allocate(n * 4)
                    .order(kind == Storage.HEAP_BYTES_LE ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN);
                buf = bytes.asFloatBuffer();
                buf.put(values, 0, Math.min(values.length, n)).clear();
                break;
            }
            case DIRECT_MISALIGNED: {
                int off = 1 + rnd.nextInt(3);
                ByteBuffer bytes = ByteBuffer.allocateDirect(n * 4 + 8);
                bytes.position(off);
                buf = bytes.slice().order(ByteOrder.nativeOrder()).asFloatBuffer();
                buf.limit(n);
                buf.put(values, 0, Math.min(values.length, n)).clear();
                buf.limit(n);
                break;
            }
            case DIRECT_FOREIGN_ORDER: {
                ByteOrder foreign = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? ByteOrder.BIG_ENDIAN
                    : ByteOrder.LITTLE_ENDIAN;
                buf = ByteBuffer.allocateDirect(n * 4).order(foreign).asFloatBuffer();
                buf.put(values, 0, Math.min(values.length, n)).clear();
                break;
            }
            default: {
                buf = ByteBuffer.allocateDirect(n * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
                buf.put(values, 0, Math.min(values.length, n)).clear();
                if (kind == Storage.DIRECT_READ_ONLY) {
                    buf = buf.asReadOnlyBuffer();
                }
            }
        }
        return Tensor.wrap(buf, shape);
    }

    private static boolean tensor(Random rnd, StringBuilder what) {
        long[] shape = shape(rnd, rnd.nextInt(6));
        long count = Tensor.elementCount(shape);
        if (count > SMALL && count <= Tensor.MAX_ELEMENTS) {
            shape = new long[] {rnd.nextInt(40)}; // valid but big: not worth the memory
            count = shape[0];
        }
        what.append("tensor ").append(Arrays.toString(shape));
        int op = rnd.nextInt(4);
        Tensor t;
        if (op == 0) {
            what.append(" zeros");
            t = Tensor.zeros(shape);
        } else if (op == 1) {
            what.append(" allocateDirect");
            t = Tensor.allocateDirect(shape);
        } else {
            int n = (int) Math.min(count, SMALL);
            float[] values = new float[n];
            Storage kind = Storage.values()[rnd.nextInt(Storage.values().length)];
            int delta = rnd.nextInt(3) == 0 ? rnd.nextInt(3) - 1 : 0; // one short, exact, one over
            what.append(" wrap ").append(kind).append(" delta ").append(delta);
            t = make(kind, shape, values, delta, rnd);
        }
        assertEquals(count, t.elementCount());
        assertEquals(shape.length, t.rank());
        if (rnd.nextBoolean()) {
            long[] other = shape(rnd, 1 + rnd.nextInt(3));
            what.append(" reshape ").append(Arrays.toString(other));
            Tensor r = t.reshape(other);
            assertEquals(t.elementCount(), r.elementCount());
            assertTrue(r.elementCount() == 0 || r.sharesStorageWith(t) || !t.buffer().hasArray() && !t.isDirect());
        }
        return true;
    }

    // ------------------------------------------------------------------------------------------------------------

    private static long[] mutate(Random rnd, long[] shape, ConvTransposeLayer layer, Layout layout,
                                 List<long[]> valid) {
        long[] s = shape.clone();
        switch (rnd.nextInt(6)) {
            case 0: // wrong rank
                s = Arrays.copyOf(s, Math.max(0, s.length + (rnd.nextBoolean() ? 1 : -2)));
                break;
            case 1: // any dimension nasty
                if (s.length > 0) {
                    s[rnd.nextInt(s.length)] = aLong(rnd);
                }
                break;
            case 2: // zero somewhere
                if (s.length > 0) {
                    s[rnd.nextInt(s.length)] = 0;
                }
                break;
            case 3: // huge spatial: an output that overflows
                if (s.length > 0) {
                    s[s.length - 1] = 1L << (20 + rnd.nextInt(43));
                }
                break;
            default: // an empty batch, or a spatial size of 1
                if (s.length == layer.rank() + 2 && rnd.nextBoolean()) {
                    s[0] = 0;
                } else if (s.length > 0) {
                    s[layout == Layout.CHANNELS_LAST ? 1 : s.length - 1] = 1;
                }
        }
        // a mutation that happens to be valid but new would only make oneDNN build another primitive: stay in the pool
        try {
            long[] cf = layout.toChannelsFirst(s, layer.rank());
            long[] out = layer.outputShape(cf);
            boolean empty = Tensor.elementCount(out) == 0;
            long[] drawn = s;
            boolean known = valid.stream().anyMatch(v -> Arrays.equals(v, drawn));
            if (!empty && !known && Tensor.elementCount(s) <= SMALL) {
                return valid.get(rnd.nextInt(valid.size()));
            }
        } catch (IllegalArgumentException invalid) {
            // the point of the mutation
        }
        return s;
    }

    private static boolean forward(Random rnd, StringBuilder what) {
        PoolOp p = POOL.get(rnd.nextInt(POOL.size()));
        int rank = p.layer().rank();
        long[] inShape = p.validInputs().get(rnd.nextInt(p.validInputs().size()));
        if (rnd.nextInt(5) < 2) {
            inShape = mutate(rnd, inShape, p.layer(), p.layout(), p.validInputs());
        }
        what.append(p.op()).append(" input ").append(Arrays.toString(inShape));
        long inCount = Tensor.elementCount(inShape);
        if (rnd.nextInt(6) == 0) {
            what.append(" prepare");
            long[] out = p.op().outputShape(inShape);
            if (inCount > SMALL || Tensor.elementCount(out) > SMALL) {
                // valid but huge: oneDNN takes seconds to build a primitive for a width of millions
                assertEquals(inShape.length, out.length);
                return true;
            }
            String impl = p.op().prepare(inShape);
            assertTrue(impl != null && !impl.isEmpty());
            return true;
        }
        if (inCount > SMALL) { // not a tensor we allocate: the shape alone must be refused or accepted
            what.append(" outputShape");
            long[] out = p.op().outputShape(inShape);
            assertEquals(inShape.length, out.length);
            return true;
        }
        float[] values = new float[(int) inCount];
        for (int i = 0; i < values.length; i++) {
            values[i] = rnd.nextFloat() * 2 - 1;
        }
        int mode = rnd.nextInt(10);
        Tensor input;
        Tensor output = null;
        if (mode == 4) {
            Tensor[] pair = overlapping(rnd, inShape, values, p.op().outputShape(inShape), what);
            input = pair[0];
            output = pair[1];
        } else {
            Storage inKind = Storage.values()[rnd.nextInt(Storage.values().length)];
            int inDelta = rnd.nextInt(12) == 0 ? (rnd.nextBoolean() ? -1 : 1) : 0;
            what.append(" over ").append(inKind).append(inDelta != 0 ? " delta " + inDelta : "");
            input = make(inKind, inShape, values, inDelta, rnd);
        }
        long[] expectedShape = p.op().outputShape(input);
        Tensor expected = p.reference().forward(Tensor.of(values, inShape));
        if (mode < 3) {
            what.append(" -> forward(input)");
            output = p.op().forward(input);
        } else {
            if (output == null) {
                long[] outShape = expectedShape;
                if (mode == 3) {
                    outShape = mutate(rnd, outShape, p.layer(), p.layout(), List.of(expectedShape));
                    if (Tensor.elementCount(outShape) > SMALL) {
                        outShape = new long[] {1 + rnd.nextInt(30)};
                    }
                }
                Storage outKind = Storage.values()[rnd.nextInt(Storage.values().length)];
                int outDelta = rnd.nextInt(12) == 0 ? (rnd.nextBoolean() ? -1 : 1) : 0;
                what.append(" -> output ").append(Arrays.toString(outShape)).append(" over ").append(outKind)
                    .append(outDelta != 0 ? " delta " + outDelta : "");
                float[] junk = new float[(int) Tensor.elementCount(outShape)];
                Arrays.fill(junk, Float.NaN); // anything left unwritten shows
                output = make(outKind, outShape, junk, outDelta, rnd);
            }
            p.op().forward(input, output);
        }
        what.append(" = ").append(Arrays.toString(output.shape()));
        assertEquals(Arrays.toString(expectedShape), Arrays.toString(output.shape()), "output shape");
        assertEquals(Arrays.toString(expected.shape()), Arrays.toString(output.shape()));
        if (output.elementCount() > 0) {
            TestSupport.assertClose(p.layer(), expected, output, what.toString());
        }
        return true;
    }

    /**
     * An input and an output over one storage, overlapping: one float[] or one direct buffer (which convt must
     * refuse), or storage it cannot identify, a heap byte buffer's float views or a read-only view of an array (then
     * every backend must read the whole input before writing, and the result must still be the reference's).
     */
    private static Tensor[] overlapping(Random rnd, long[] inShape, float[] values, long[] outShape,
                                        StringBuilder what) {
        int inCount = values.length;
        int outCount = (int) Math.min(Tensor.elementCount(outShape), SMALL);
        int size = inCount + outCount;
        int a = rnd.nextInt(outCount + 1);
        int lo = Math.max(0, a - outCount + 1);
        int hi = Math.min(a + inCount - 1, size - outCount);
        int b = hi < lo ? a : lo + rnd.nextInt(hi - lo + 1);
        int kind = rnd.nextInt(4);
        what.append(" -> input at ").append(a).append(" and output ").append(Arrays.toString(outShape)).append(" at ")
            .append(b).append(" of one ").append(new String[] {"float[]", "direct buffer", "heap byte buffer",
                "float[] with a read-only input view"}[kind]);
        FloatBuffer whole;
        if (kind == 0 || kind == 3) {
            whole = FloatBuffer.wrap(new float[size]);
        } else if (kind == 1) {
            whole = ByteBuffer.allocateDirect(size * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        } else {
            whole = ByteBuffer.allocate(size * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        }
        FloatBuffer in = whole.duplicate();
        in.position(a).limit(a + inCount);
        in = in.slice();
        in.put(values).clear();
        FloatBuffer out = whole.duplicate();
        out.position(b).limit(b + outCount);
        out = out.slice();
        return new Tensor[] {Tensor.wrap(kind == 3 ? in.asReadOnlyBuffer() : in, inShape), Tensor.wrap(out, outShape)};
    }

    private static boolean closed(Random rnd, StringBuilder what) {
        List<Backend> backends = CrossBackendTest.available();
        Backend b = backends.get(rnd.nextInt(backends.size()));
        ConvTransposeLayer l = LAYERS[rnd.nextInt(LAYERS.length)];
        what.append(l).append(" on ").append(b.id()).append(" closed");
        CompiledConvTranspose op = b.compile(l, Tensor.zeros(l.weightShape()),
            l.bias() ? Tensor.zeros(l.outChannels()) : null);
        long[] in = new long[l.rank() + 2];
        Arrays.fill(in, 2);
        in[1] = l.inChannels();
        if (rnd.nextBoolean()) {
            op.forward(Tensor.zeros(in)); // build something before closing
        }
        op.close();
        if (rnd.nextInt(4) == 0) {
            op.close(); // idempotent
            return true;
        }
        switch (rnd.nextInt(3)) {
            case 0: op.forward(Tensor.zeros(in)); break;
            case 1: op.prepare(in); break;
            default: op.outputShape(in);
        }
        fail("a closed op ran");
        return false;
    }

    // ------------------------------------------------------------------------------------------------------------

    private static boolean npy(Random rnd, StringBuilder what) throws Exception {
        long[] shape = shape(rnd, rnd.nextInt(4));
        long count = Tensor.elementCount(shape);
        if (count > 64) {
            shape = new long[] {rnd.nextInt(10), 2};
            count = shape[0] * 2;
        }
        boolean f8 = rnd.nextBoolean();
        int version = 1 + rnd.nextInt(3);
        float[] values = new float[(int) count];
        for (int i = 0; i < values.length; i++) {
            values[i] = rnd.nextFloat();
        }
        String shapeText = Arrays.stream(shape).mapToObj(Long::toString).reduce((a, b) -> a + ", " + b).orElse("")
            + (shape.length == 1 ? "," : "");
        String descr = f8 ? "<f8" : "<f4";
        String fortran = "False";
        int mutation = rnd.nextInt(14);
        switch (mutation) {
            case 0: shapeText = shapeText.isEmpty() ? "3," : shapeText + ", " + aLong(rnd); break; // lies: bigger
            case 1: shapeText = Long.toString(aLong(rnd)) + ","; break;
            case 2: shapeText = "a, b"; break;
            case 3: descr = new String[] {">f4", "<i4", "|u1", "<f2", "<c8", "O", ""}[rnd.nextInt(7)]; break;
            case 4: fortran = "True"; break;
            case 5: shapeText = "9223372036854775807, 9223372036854775807"; break;
            default: break;
        }
        String dict = "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': (" + shapeText + "), }";
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        file.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) version, 0});
        byte[] header = (dict + " ".repeat(rnd.nextInt(8)) + "\n").getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer len = ByteBuffer.allocate(version == 1 ? 2 : 4).order(ByteOrder.LITTLE_ENDIAN);
        if (version == 1) {
            len.putShort((short) header.length);
        } else {
            len.putInt(header.length);
        }
        file.write(len.array());
        file.write(header);
        ByteBuffer data = ByteBuffer.allocate(values.length * (f8 ? 8 : 4)).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            if (f8) {
                data.putDouble(v);
            } else {
                data.putFloat(v);
            }
        }
        file.write(data.array());
        byte[] bytes = file.toByteArray();
        switch (mutation) {
            case 6: bytes = Arrays.copyOf(bytes, rnd.nextInt(bytes.length + 1)); break; // truncated
            case 7: bytes = Arrays.copyOf(bytes, bytes.length + 1 + rnd.nextInt(8)); break; // trailing bytes
            case 8: bytes[rnd.nextInt(Math.min(8, bytes.length))] ^= (byte) (1 + rnd.nextInt(255)); break; // preamble
            case 9: { // the header length lies
                ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
                if (version == 1) {
                    b.putShort(8, (short) rnd.nextInt(65536));
                } else {
                    b.putInt(8, rnd.nextBoolean() ? rnd.nextInt() : Integer.MAX_VALUE);
                }
                break;
            }
            case 10: bytes[10 + rnd.nextInt(Math.max(1, bytes.length - 10))] = (byte) rnd.nextInt(256); break;
            default: break;
        }
        what.append("npy v").append(version).append(' ').append(dict).append(" mutation ").append(mutation)
            .append(", ").append(bytes.length).append(" bytes");
        Path f = dir.resolve("fuzz.npy");
        Files.write(f, bytes);
        Tensor t = Npy.read(f);
        assertEquals(Tensor.elementCount(t.shape()), t.elementCount());
        if (mutation > 10) { // not mutated: the values must come back
            float[] got = t.toArray();
            for (int i = 0; i < values.length; i++) {
                assertEquals(values[i], got[i], 0f, "element " + i);
            }
        }
        return true;
    }
}
