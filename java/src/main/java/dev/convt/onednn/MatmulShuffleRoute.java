package dev.convt.onednn;

import dev.convt.Tensor;
import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.matmul;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.reorder;
import org.bytedeco.dnnl.stream;
import org.bytedeco.javacpp.PointerScope;

import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Kernel no larger than stride but kernel plus output padding at least the stride, no padding, dilation 1 (U-Net's
 * 2x2/2 upsampling; a 1x1 kernel at stride 2 with output padding 1): every input position owns a disjoint
 * {@code k}-block of the output, so the layer is one matrix product {@code [N*prod(in), Cin] x [Cin, Cout*prod(k)]}
 * (bias fused) followed by a pixel shuffle that moves each row's {@code Cout*prod(k)} values to their block. The
 * shuffle is a single oneDNN reorder between two strided views of the same dims
 * {@code [N, in_1..in_r, Cout, k_1..k_r]} (channels-last: {@code [N, in.., k.., Cout]}): the product's rows, and the
 * output's positions.
 *
 * <p>Where the kernel is smaller than the stride, or output padding grows the end, some output positions belong to
 * no block and hold only the bias: {@link BiasFill} writes those before the shuffle runs, on every call, since the
 * caller's buffer may change between calls (a heap output's staging buffer, which only the shuffle writes, once).
 *
 * <p>For a channels-first caller the product is computed the other way round where oneDNN has a fast kernel for it,
 * {@code W^T [Cout*prod(k), Cin] x x[n] [Cin, prod(in)]}, whose result {@code [N, Cout, k.., in..]} keeps each
 * output channel's values together: the C++ floor measured the shuffle from that order 4x faster than from rows
 * (0.28 against 1.24 ms on U-Net's up-sampling layer), since both sides of the reorder then stream by channel.
 */
final class MatmulShuffleRoute extends Route {

    static final MatmulShuffleRoute INSTANCE = new MatmulShuffleRoute();

    private MatmulShuffleRoute() {}

    @Override
    String id() {
        return "matmul-shuffle";
    }

    @Override
    String unsupportedReason(Geometry g) {
        if (g.layer.groups() != 1) {
            return "groups > 1";
        }
        for (int i = 0; i < g.rank; i++) {
            if (g.layer.kernelSize(i) > g.layer.stride(i)) {
                return "kernel size exceeds stride";
            }
            if (g.layer.dilation(i) != 1) {
                return "dilation > 1";
            }
            if (g.padL[i] != 0 || g.padR[i] > 0) {
                return "padding";
            }
            // oneDNN describes a strided view only where each axis's extent covers in*stride; so the last block
            // must not end before a stride's worth of positions (kernel + output padding >= stride)
            if (g.spatialOut[i] < g.spatialIn[i] * g.layer.stride(i)) {
                return "kernel size plus output padding below stride";
            }
        }
        return null;
    }

    /** Whether some output positions belong to no input's block (kernel < stride, or the end grown). */
    static boolean hasGaps(Geometry g) {
        for (int i = 0; i < g.rank; i++) {
            if (g.layer.kernelSize(i) < g.layer.stride(i) || g.padR[i] < 0) {
                return true;
            }
        }
        return false;
    }

    @Override
    Plan plan(Weights weights, Geometry g) {
        return new ShufflePlan(weights, g);
    }

    /**
     * Dims and the two sets of strides of the shuffle: the product's result (plain) and the output's positions. With
     * {@code channelsFirstProduct} the result is {@code [N, Cout, k.., in..]} (the {@code W^T x} form), else rows
     * {@code [N, in.., Cout, k..]} (channels-last: {@code [N, in.., k.., Cout]}).
     */
    static long[][] shuffleViews(Geometry g, boolean channelsFirstProduct) {
        int r = g.rank;
        long cout = g.layer.outChannels();
        long[] dims = new long[2 * r + 2];
        long[] outStrides = new long[2 * r + 2];
        long[] s = new long[r]; // stride of output axis i counted in positions
        long acc = 1;
        for (int i = r - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= g.spatialOut[i];
        }
        long positions = acc;
        long perPosition = g.channelsLast() ? cout : 1; // elements between neighbouring positions
        if (channelsFirstProduct) {
            dims[0] = g.batch;
            outStrides[0] = positions * cout;
            dims[1] = cout;
            outStrides[1] = positions;
            for (int i = 0; i < r; i++) {
                dims[2 + i] = g.layer.kernelSize(i);
                outStrides[2 + i] = s[i];
                dims[2 + r + i] = g.spatialIn[i];
                outStrides[2 + r + i] = g.layer.stride(i) * s[i];
            }
            return new long[][] {dims, plainStrides(dims), outStrides};
        }
        dims[0] = g.batch;
        outStrides[0] = positions * cout;
        for (int i = 0; i < r; i++) {
            dims[1 + i] = g.spatialIn[i];
            outStrides[1 + i] = g.layer.stride(i) * s[i] * perPosition;
        }
        int channelAxis = g.channelsLast() ? 2 * r + 1 : r + 1;
        int firstTap = g.channelsLast() ? r + 1 : r + 2;
        dims[channelAxis] = cout;
        outStrides[channelAxis] = g.channelsLast() ? 1 : positions;
        for (int i = 0; i < r; i++) {
            dims[firstTap + i] = g.layer.kernelSize(i);
            outStrides[firstTap + i] = s[i] * perPosition;
        }
        return new long[][] {dims, plainStrides(dims), outStrides};
    }

    private static long[] plainStrides(long[] dims) {
        long[] strides = new long[dims.length];
        long acc = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            strides[i] = acc;
            acc *= dims[i];
        }
        return strides;
    }

    private final class ShufflePlan extends Plan {
        private final matmul primitive;
        private final reorder shuffle;
        private final memory.desc srcDesc;
        private final memory.desc rowsDesc;
        private final memory.desc rowsViewDesc;
        private final memory.desc outViewDesc;
        private final memory.desc scratchpadDesc;
        /** The constant operand: W^T as oneDNN's source, or W as its weights. */
        private final memory constant;
        private final memory biasMemory;
        /** Whether the product is {@code W^T x} (the input bound as oneDNN's weights). */
        private final boolean activationsAsWeights;
        /** Fills the positions no block covers, or {@code null} where every position belongs to a block. */
        private final BiasFill gapFill;
        private final String implementation;

        ShufflePlan(Weights weights, Geometry g) {
            super(g);
            engine eng = OneDnnRuntime.engine();
            try (PointerScope scope = new PointerScope()) {
                long cols = g.columns();
                long cin = g.layer.inChannels();
                long pin = g.inVolume;
                matmul.primitive_desc pd = g.channelsLast() ? null : channelsFirstProduct(weights, g);
                boolean wt = pd != null;
                if (wt) {
                    // the activations play oneDNN's "weights" role: W^T is the constant left operand
                    srcDesc = owner.keep(new memory.desc(new long[] {g.batch, cin, pin}, memory.data_type.f32,
                        memory.format_tag.abc));
                    rowsDesc = owner.keep(new memory.desc(new long[] {g.batch, cols, pin}, memory.data_type.f32,
                        memory.format_tag.abc));
                    constant = weights.transposed(pd.src_desc());
                    biasMemory = weights.expandedBias(g.layout, new long[] {1, cols, 1});
                } else {
                    long[] srcDims = {g.batch, pin, cin};
                    // channels-first input [N, Cin, P] read as rows [N, P, Cin]: a transposed view, no copy
                    srcDesc = owner.keep(g.channelsLast()
                        ? new memory.desc(srcDims, memory.data_type.f32, memory.format_tag.abc)
                        : new memory.desc(srcDims, memory.data_type.f32, new long[] {cin * pin, 1, pin}));
                    rowsDesc = owner.keep(new memory.desc(new long[] {g.batch, pin, cols}, memory.data_type.f32,
                        memory.format_tag.abc));
                    memory.desc w = new memory.desc(new long[] {1, cin, cols}, memory.data_type.f32,
                        memory.format_tag.any);
                    pd = matmulPd(g, srcDesc, w, weights.hasBias() ? new long[] {1, 1, cols} : null, rowsDesc);
                    constant = weights.matmul(g.layout, pd.weights_desc());
                    biasMemory = weights.expandedBias(g.layout, new long[] {1, 1, cols});
                }
                this.activationsAsWeights = wt;
                this.gapFill = hasGaps(g) ? new BiasFill(g, weights) : null;
                owner.keep(pd);
                primitive = owner.keep(new matmul(pd));
                scratchpadDesc = owner.keep(pd.scratchpad_desc());
                long[][] views = shuffleViews(g, wt);
                rowsViewDesc = owner.keep(new memory.desc(views[0], memory.data_type.f32, views[1]));
                outViewDesc = owner.keep(new memory.desc(views[0], memory.data_type.f32, views[2]));
                reorder.primitive_desc shufflePd = owner.keep(new reorder.primitive_desc(eng, rowsViewDesc, eng,
                    outViewDesc));
                shuffle = owner.keep(new reorder(shufflePd));
                implementation = id() + ": " + (wt ? "W^T x " : "") + pd.impl_info_str().getString() + " + shuffle "
                    + shufflePd.impl_info_str().getString() + (gapFill != null ? " + bias fill" : "");
            } catch (Throwable t) {
                owner.close();
                throw t;
            }
        }

        /**
         * The {@code W^T x} product's descriptor, the bias a binary-add post-op (oneDNN's fast kernel refuses a bias
         * per row as the matmul's own bias), or {@code null} where oneDNN offers only its reference kernel for it (the
         * batched form with a broadcast source, at batch > 1 on some builds) or refuses it.
         */
        private matmul.primitive_desc channelsFirstProduct(Weights weights, Geometry g) {
            long cols = g.columns();
            long cin = g.layer.inChannels();
            memory.desc wt = new memory.desc(new long[] {1, cols, cin}, memory.data_type.f32, memory.format_tag.any);
            memory.desc x = new memory.desc(new long[] {g.batch, cin, g.inVolume}, memory.data_type.f32,
                memory.format_tag.abc);
            memory.desc dst = new memory.desc(new long[] {g.batch, cols, g.inVolume}, memory.data_type.f32,
                memory.format_tag.abc);
            try {
                matmul.primitive_desc pd = matmulPd(g, wt, x, weights.hasBias() ? new long[] {1, cols, 1} : null, dst,
                    true);
                if (pd.impl_info_str().getString().startsWith("ref")) {
                    pd.close();
                    return null;
                }
                return pd;
            } catch (OneDnnException e) {
                return null;
            }
        }

        @Override
        String implementation() {
            return implementation;
        }

        @Override
        Exec newExec() {
            return new Exec() {
                final stream stream;
                final Binding in;
                final Binding out;
                final memory rows;
                final memory rowsView;
                final IntMemoryMap args;
                final float[] fillChunk = gapFill != null ? new float[BiasFill.CHUNK] : null;
                /** The staging buffer of a heap output: only the shuffle writes it, so its gaps are filled once. */
                boolean stagingFilled;

                {
                    try (PointerScope scope = new PointerScope()) {
                        stream = newStream();
                        in = binding(srcDesc, geometry.inCount);
                        out = binding(outViewDesc, geometry.outCount);
                        rows = scratch(rowsDesc);
                        rowsView = owner.keep(new memory(rowsViewDesc, OneDnnRuntime.engine(), rows.get_data_handle()));
                        if (activationsAsWeights) {
                            args = args(constant, in.memory(), null, rows, scratchpadDesc);
                            if (biasMemory != null) {
                                args.put(POST_OP_BIAS_ARG, biasMemory);
                            }
                        } else {
                            args = args(in.memory(), constant, biasMemory, rows, scratchpadDesc);
                        }
                    } catch (Throwable t) {
                        owner.close();
                        throw t;
                    }
                }

                @Override
                void run(Tensor input, Tensor output) {
                    in.bindInput(input);
                    out.bindOutput(output);
                    if (gapFill != null && (output.isDirect() || !stagingFilled)) {
                        gapFill.into(out.target(output), fillChunk);
                        stagingFilled |= !output.isDirect();
                    }
                    primitive.execute(stream, args);
                    shuffle.execute(stream, rowsView, out.memory());
                    stream._wait();
                    out.finishOutput(output);
                }
            };
        }
    }

    /**
     * Writes each output channel's bias (0 without one) into the output positions that belong to no block, in the
     * caller's layout. Rows (runs along the last axis) that are gaps throughout are written whole; in the other rows
     * only the gap runs are, unless those are so many and short that writing the whole row costs less (the shuffle
     * then overwrites the blocks). Bulk puts from a small heap chunk, so the pass runs at memory speed.
     */
    static final class BiasFill {
        /** Floats per bulk put. */
        static final int CHUNK = 4096;
        /** A row with more gap runs than its length over this is written whole. */
        private static final int RUNS_PER_WHOLE_ROW = 8;
        private final Geometry g;
        private final Weights weights;
        private final int cout;
        /** Positions along the last axis, and whether each row (index over the other axes) is a gap throughout. */
        private final int rowLength;
        private final boolean[] gapRow;
        /** The gap runs of a row with blocks, as start and length in positions; {@code null}: write it whole. */
        private final int[] runStart;
        private final int[] runLength;
        /** Channels-last: the biases of consecutive positions, {@code [positions, Cout]}, as many as fit the chunk. */
        private final float[] channelsLastPattern;

        BiasFill(Geometry g, Weights weights) {
            this.g = g;
            this.weights = weights;
            this.cout = g.layer.outChannels();
            int last = g.rank - 1;
            rowLength = (int) g.spatialOut[last];
            int rows = (int) (g.outVolume / rowLength);
            gapRow = new boolean[rows];
            for (int row = 0; row < rows; row++) {
                int rest = row;
                for (int i = last - 1; i >= 0; i--) {
                    int p = (int) (rest % g.spatialOut[i]);
                    rest /= (int) g.spatialOut[i];
                    gapRow[row] |= isGap(g, i, p);
                }
            }
            int[] starts = new int[rowLength];
            int[] lengths = new int[rowLength];
            int runs = 0;
            for (int p = 0; p < rowLength; p++) {
                if (isGap(g, last, p)) {
                    if (runs > 0 && starts[runs - 1] + lengths[runs - 1] == p) {
                        lengths[runs - 1]++;
                    } else {
                        starts[runs] = p;
                        lengths[runs++] = 1;
                    }
                }
            }
            boolean whole = runs * RUNS_PER_WHOLE_ROW > rowLength;
            runStart = whole ? null : Arrays.copyOf(starts, runs);
            runLength = whole ? null : Arrays.copyOf(lengths, runs);
            if (g.channelsLast()) {
                int positions = Math.min(rowLength, Math.max(1, CHUNK / cout));
                channelsLastPattern = new float[positions * cout];
                for (int i = 0; i < channelsLastPattern.length; i++) {
                    channelsLastPattern[i] = weights.biasValue(i % cout);
                }
            } else {
                channelsLastPattern = null;
            }
        }

        /** Whether position {@code p} of axis {@code i} lies in no block: past the last one, or between two. */
        private static boolean isGap(Geometry g, int i, long p) {
            int s = g.layer.stride(i);
            return p >= g.spatialIn[i] * s || p % s >= g.layer.kernelSize(i);
        }

        /** Fills the gaps of {@code out} (the whole output); {@code chunk} is a CHUNK-sized scratch. */
        void into(FloatBuffer out, float[] chunk) {
            int image = (int) (g.outVolume * cout);
            if (channelsLastPattern != null) {
                for (int n = 0; n < g.batch; n++) {
                    fillRows(out, n * image, cout, channelsLastPattern);
                }
                return;
            }
            int plane = (int) g.outVolume;
            int len = Math.min(rowLength, chunk.length);
            for (int c = 0; c < cout; c++) {
                Arrays.fill(chunk, 0, len, weights.biasValue(c));
                for (int n = 0; n < g.batch; n++) {
                    fillRows(out, n * image + c * plane, 1, chunk);
                }
            }
        }

        /**
         * Fills the gaps of one plane (channels-first) or image (channels-last) from {@code base}, {@code width}
         * floats a position, repeating {@code pattern} (whose period is {@code width}).
         */
        private void fillRows(FloatBuffer out, int base, int width, float[] pattern) {
            int rowFloats = rowLength * width;
            for (int row = 0; row < gapRow.length; row++) {
                int at = base + row * rowFloats;
                if (gapRow[row] || runStart == null) {
                    put(out, at, rowFloats, pattern);
                } else {
                    for (int r = 0; r < runStart.length; r++) {
                        put(out, at + runStart[r] * width, runLength[r] * width, pattern);
                    }
                }
            }
        }

        /** Writes {@code length} floats from {@code offset} by repeating {@code pattern}. */
        private static void put(FloatBuffer out, int offset, int length, float[] pattern) {
            for (int done = 0; done < length; ) {
                int n = Math.min(pattern.length, length - done);
                out.put(offset + done, pattern, 0, n);
                done += n;
            }
        }
    }
}
