package dev.convt.purejava;

import dev.convt.Tensor;

/**
 * One thread's working memory: the output tile {@code C}, the gathered input block {@code B}, and the per-column
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
     * per kernel (256 KiB each; only a thread that runs both kernels holds both), eleven index arrays and a row
     * buffer (12 KiB), and array headers (16 bytes each, generously).
     */
    static final long BOUND_BYTES = 4L * (MB * NC + 2L * KC * NC + 12L * NC) + 16L * (MB + KC + 16) + 256;

    private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);

    static Scratch get() {
        return LOCAL.get();
    }

    final float[][] c = new float[MB][NC];
    /** Per column: input coordinates before the tap shift, the image's offset, the output offset, the input offset. */
    final int[] xb0 = new int[NC];
    final int[] xb1 = new int[NC];
    final int[] xb2 = new int[NC];
    final int[] imageOff = new int[NC];
    final int[] dstOff = new int[NC];
    final int[] srcOff = new int[NC];
    /** Copies of the current tap: where each goes in a row of B, its length, its input offset. */
    private final int[] runDst = new int[NC];
    private final int[] runLength = new int[NC];
    private final int[] runSrc = new int[NC];
    private final int[] virtualOff = new int[NC];
    /** Columns of the current tap that must read 0, as places in a row of B. */
    private final int[] zeroDst = new int[NC];
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
            int[] z = zeroDst;
            for (int i = 0; i < zeros; i++) {
                dst[dstOff + z[i]] = 0f;
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
     * Prepares the gather of tap {@code t}: every column's input offset (without the channel; -1 where the tap
     * misses the input), and, for channels-first input, the same as bulk copies.
     *
     * <p>The copies follow the columns' "virtual" offsets, computed even where the tap misses the input: across a
     * tile they are mostly consecutive (when the phase's grid is as wide as the input, whole rows of images follow
     * one another), so a tile row is a few long copies that may read some elements a tap does not use, followed by
     * zeroing those columns ({@code zeroDst}). A copy never crosses a panel of {@code width} columns (placed
     * {@code panelStride} apart) and never reads outside the input tensor, whatever the channel. Copies are used when
     * they average four columns or more; otherwise (channels-last input) columns are gathered one by one.
     */
    private void tapOffsets(int t) {
        int e0 = shift0[t];
        int e1 = shift1[t];
        int e2 = shift2[t];
        int[] so = srcOff;
        int[] vo = virtualOff;
        for (int j = 0; j < nc; j++) {
            int x0 = xb0[j] - e0;
            int x1 = xb1[j] - e1;
            int x2 = xb2[j] - e2;
            int v = imageOff[j] + ((x0 * in1 + x1) * in2 + x2) * posStride;
            boolean inside = x0 >= 0 && x0 < in0 && x1 >= 0 && x1 < in1 && x2 >= 0 && x2 < in2;
            so[j] = inside ? v : -1;
            vo[j] = v;
        }
        for (int j = nc; j < ncPad; j++) {
            so[j] = -1;
        }
        int n = 0;
        int nz = 0;
        int prev = 0;
        boolean open = false;
        for (int j = 0; j < ncPad; j++) {
            if (so[j] < 0) {
                zeroDst[nz++] = j;
            }
            int v = j < nc ? vo[j] : 0;
            boolean readable = j < nc && v >= readableFrom && v < readableTo;
            if (!readable) {
                open = false;
            } else if (open && v == prev + 1) {
                runLength[n - 1]++;
            } else {
                runDst[n] = j;
                runSrc[n] = v;
                runLength[n] = 1;
                n++;
                open = true;
            }
            prev = v;
        }
        runs = n;
        zeros = nz;
        useRuns = posStride == 1 && n * 4 <= ncPad;
        tap = t;
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
