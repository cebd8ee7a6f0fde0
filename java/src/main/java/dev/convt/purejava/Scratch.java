package dev.convt.purejava;

import dev.convt.Tensor;

/**
 * One thread's working memory: the output tile {@code C}, the gathered input block {@code B}, and the per-segment
 * index arrays. Sized by the tile constants alone, never by a layer, so what a thread holds is bounded by
 * {@link #BOUND_BYTES} whatever it computes. One instance per thread ({@link #get()}), shared by every op.
 *
 * <p>It also holds the gather state of the tile being computed (where the input is, the phase's tap shifts, the
 * columns' coordinates), so that {@link #packRow} needs no arguments beyond the row.
 */
final class Scratch {

    /** Columns per tile (output positions of one phase, batch included). A multiple of every vector kernel's NR. */
    static final int NC = 256;
    /** Reduction steps per gathered block: {@code KC x NC} floats of input, sized to stay in L2. */
    static final int KC = 256;
    /** Rows per weight panel (the vector micro-kernel's height). */
    static final int MR = 6;
    /** Most output channels per tile, a multiple of {@link #MR}. */
    static final int MB = 264;

    /**
     * The most bytes one thread's scratch holds, about 0.78 MiB: the {@code C} tile (264 KiB), one {@code B} block
     * per kernel (256 KiB each; only a thread that runs both kernels holds both), the segment, copy and zero-run
     * index arrays and a row buffer (16 KiB), and array headers (16 bytes each, generously).
     */
    static final long BOUND_BYTES = 4L * (MB * NC + 2L * KC * NC + 16L * NC) + 16L * (MB + KC + 16) + 256;

    private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);

    static Scratch get() {
        return LOCAL.get();
    }

    final float[][] c = new float[MB][NC];
    /**
     * The tile's columns as segments: runs of columns in one row of the phase's grid (same image and leading
     * coordinates, consecutive last coordinate). Per segment: first column, length, the image's input and output
     * offsets, and the phase coordinates of its first column (the input coordinates before the tap shift).
     */
    final int[] segStart = new int[NC];
    final int[] segLength = new int[NC];
    final int[] segImage = new int[NC];
    final int[] segX0 = new int[NC];
    final int[] segX1 = new int[NC];
    final int[] segX2 = new int[NC];
    final int[] segOut = new int[NC];
    int segments;
    /** Per column input offset of the current tap (channels-last gather), -1 where the tap misses the input. */
    private final int[] srcOff = new int[NC];
    /** Copies of the current tap: where each goes in a row of B, its length, its input offset. */
    private final int[] runDst = new int[NC];
    private final int[] runLength = new int[NC];
    private final int[] runSrc = new int[NC];
    /** Column ranges of the current tap that must read 0. */
    private final int[] zeroDst = new int[2 * NC];
    private final int[] zeroLength = new int[2 * NC];
    private int runs;
    private int zeros;
    private boolean useRuns;
    /** One gathered row, for kernels that want B in panels. */
    private final float[] rowBuffer = new float[NC];
    private float[][] rows;
    private float[] panel;

    // Gather state of the current tile (set by JavaOp before the kernel runs; cleared after the call).
    float[] inArray;
    Tensor inTensor;
    /** Offset of the group's first input channel (plus the array offset for heap input). */
    int chanBase;
    /** Distance between input channels: the spatial volume channels-first, 1 channels-last. */
    int chanStride;
    /** Distance between spatial positions: 1 channels-first, the channel count channels-last. */
    int posStride;
    int cinG;
    int in0;
    int in1;
    int in2;
    int[] shift0;
    int[] shift1;
    int[] shift2;
    int nc;
    int ncPad;
    int tap;
    /** Offsets (without the channel) that every input channel of the group can read: inside the tensor. */
    int readableFrom;
    int readableTo;

    /** {@code B} as {@link #KC} separate rows of {@link #NC} (the plain kernel's layout). */
    float[][] rows() {
        if (rows == null) {
            rows = new float[KC][NC];
        }
        return rows;
    }

    /** {@code B} as one array of column panels (the vector kernel's layout). */
    float[] panel() {
        if (panel == null) {
            panel = new float[KC * NC];
        }
        return panel;
    }

    /**
     * Gathers reduction row {@code kk} (tap {@code kk / cinG}, input channel {@code kk % cinG} of the group) for
     * columns {@code [0, len)}: column {@code j} goes to {@code dst[dstOff + (j / width) * panelStride + j % width]};
     * taps that fall outside the input give 0.
     */
    void packRow(int kk, float[] dst, int dstOff, int panelStride, int width, int len) {
        if (width >= len) {
            packRow(kk, dst, dstOff, len);
            return;
        }
        // panels: gather the row contiguously (long copies), then deal it out NR columns at a time
        float[] row = rowBuffer;
        packRow(kk, row, 0, len);
        for (int p = 0, base = dstOff; p < len; p += width, base += panelStride) {
            System.arraycopy(row, p, dst, base, width);
        }
    }

    /** {@link #packRow(int, float[], int, int, int, int)} into one contiguous row. */
    private void packRow(int kk, float[] dst, int dstOff, int len) {
        int t = kk / cinG;
        if (t != tap) {
            tapOffsets(t);
        }
        int chan = chanBase + (kk - t * cinG) * chanStride;
        float[] x = inArray;
        if (useRuns) {
            int[] to = runDst;
            int[] count = runLength;
            int[] src = runSrc;
            for (int r = 0; r < runs; r++) {
                int d = dstOff + to[r];
                int n = count[r];
                int from = chan + src[r];
                if (x != null) {
                    if (n < 8) {
                        for (int i = 0; i < n; i++) {
                            dst[d + i] = x[from + i];
                        }
                    } else {
                        System.arraycopy(x, from, dst, d, n);
                    }
                } else if (n < 8) {
                    Tensor in = inTensor;
                    for (int i = 0; i < n; i++) {
                        dst[d + i] = in.get(from + i);
                    }
                } else {
                    inTensor.get(from, dst, d, n);
                }
            }
            int[] zd = zeroDst;
            int[] zl = zeroLength;
            for (int z = 0; z < zeros; z++) {
                int d = dstOff + zd[z];
                for (int i = 0, n = zl[z]; i < n; i++) {
                    dst[d + i] = 0f;
                }
            }
            return;
        }
        int[] so = srcOff;
        if (x != null) {
            for (int j = 0; j < len; j++) {
                int o = so[j];
                dst[dstOff + j] = o < 0 ? 0f : x[chan + o];
            }
        } else {
            Tensor in = inTensor;
            for (int j = 0; j < len; j++) {
                int o = so[j];
                dst[dstOff + j] = o < 0 ? 0f : in.get(chan + o);
            }
        }
    }

    /**
     * Prepares the gather of tap {@code t}, segment by segment (so its cost does not grow with the columns).
     *
     * <p>Channels-first, a segment reads consecutive input positions: one bulk copy, plus zeros where the tap
     * misses the input. The copy follows the segment's "virtual" offsets, computed as if the input went on past its
     * edges, so that a segment whose ends miss the input is still one copy (its ends then zeroed) and consecutive
     * segments merge into one copy when the phase's grid is as wide as the input (whole rows of an image follow one
     * another). A copy never reads outside the input tensor, whatever the channel. Channels-last, columns are
     * gathered one by one ({@code srcOff}).
     */
    private void tapOffsets(int t) {
        int e0 = shift0[t];
        int e1 = shift1[t];
        int e2 = shift2[t];
        int n = 0;
        int nz = 0;
        boolean channelsFirst = posStride == 1;
        for (int g = 0; g < segments; g++) {
            int j = segStart[g];
            int len = segLength[g];
            int x0 = segX0[g] - e0;
            int x1 = segX1[g] - e1;
            int x2 = segX2[g] - e2;
            if (x0 < 0 || x0 >= in0 || x1 < 0 || x1 >= in1) {
                nz = zeroRun(nz, j, len);
                if (!channelsFirst) {
                    for (int i = 0; i < len; i++) {
                        srcOff[j + i] = -1;
                    }
                }
                continue;
            }
            int lead = Math.min(len, Math.max(0, -x2));                 // columns before the input's start
            int tail = Math.min(len - lead, Math.max(0, x2 + len - in2)); // columns past its end
            int v = segImage[g] + ((x0 * in1 + x1) * in2 + x2) * posStride;
            if (!channelsFirst) {
                for (int i = 0; i < len; i++) {
                    srcOff[j + i] = i < lead || i >= len - tail ? -1 : v + i * posStride;
                }
                continue;
            }
            int from = v;
            int at = j;
            int count = len;
            if (v < readableFrom || v + len > readableTo) {
                from = v + lead; // copy only the part that hits the input
                at = j + lead;
                count = len - lead - tail;
            }
            if (count > 0) {
                if (n > 0 && runSrc[n - 1] + runLength[n - 1] == from && runDst[n - 1] + runLength[n - 1] == at) {
                    runLength[n - 1] += count;
                } else {
                    runDst[n] = at;
                    runSrc[n] = from;
                    runLength[n] = count;
                    n++;
                }
            }
            if (lead > 0) {
                nz = zeroRun(nz, j, lead);
            }
            if (tail > 0) {
                nz = zeroRun(nz, j + len - tail, tail);
            }
        }
        if (ncPad > nc) {
            nz = zeroRun(nz, nc, ncPad - nc);
            if (!channelsFirst) {
                for (int j = nc; j < ncPad; j++) {
                    srcOff[j] = -1;
                }
            }
        }
        runs = n;
        zeros = nz;
        useRuns = channelsFirst;
        tap = t;
    }

    private int zeroRun(int nz, int at, int length) {
        if (nz > 0 && zeroDst[nz - 1] + zeroLength[nz - 1] == at) {
            zeroLength[nz - 1] += length;
            return nz;
        }
        zeroDst[nz] = at;
        zeroLength[nz] = length;
        return nz + 1;
    }

    /** Drops the references to a caller's tensor once a call is done. */
    void release() {
        inArray = null;
        inTensor = null;
        shift0 = null;
        shift1 = null;
        shift2 = null;
    }
}
