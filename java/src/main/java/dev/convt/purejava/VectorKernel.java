package dev.convt.purejava;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API kernel ({@code jdk.incubator.vector}): a register-tiled micro-kernel of {@link Scratch#MR} = 6
 * rows by two vectors of the platform's preferred width (6 x 16 floats on AVX2, 6 x 32 on AVX-512), twelve
 * accumulators that stay in registers across a whole reduction block, one broadcast weight and two input loads per
 * six fused multiply-adds. The input block is gathered into panels of {@code NR} columns ({@code [panel][k][NR]}) so
 * that each micro-kernel streams one contiguous panel.
 *
 * <p>Loaded reflectively by {@link Kernels} only when the module is present; nothing else refers to this class.
 * Accumulation per element is {@code c = fma(a_k, b_k, c)} for {@code k} in order, the same chain as
 * {@link PlainKernel}.
 */
final class VectorKernel extends Kernel {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = S.length();
    /** Columns per micro-tile: two vectors. */
    static final int NR = 2 * LANES;
    /** Distance between gathered rows when B is kept as rows. */
    static final int ROW_STRIDE = Scratch.NC;
    /** Blocks of at least this many output channels gather B into panels. */
    static final int PANEL_MIN_ROWS = 128;

    VectorKernel() {
        if (Scratch.NC % NR != 0 || Scratch.MR != 6) {
            throw new UnsupportedOperationException("vector width " + S.vectorBitSize() + " bits does not tile "
                + Scratch.NC + " columns");
        }
        // Run the micro-kernel once so that a broken Vector API shows up here, as unavailability, not mid-forward.
        float[][] c = new float[Scratch.MR][NR];
        microKernel(new float[Scratch.MR], 0, new float[NR], 0, NR, 1, c, 0, 0);
    }

    @Override
    String id() {
        return Kernels.VECTOR;
    }

    @Override
    String describe() {
        return "vector kernel (jdk.incubator.vector, " + S.vectorBitSize() + "-bit, " + Scratch.MR + "x" + NR
            + " fma micro-tile)";
    }

    @Override
    int padColumns(int nc) {
        return (nc + NR - 1) / NR * NR;
    }

    @Override
    void compute(Scratch s, float[] a, int length, int panel0, int rows, int nc) {
        final int mr = Scratch.MR;
        int ncPad = padColumns(nc);
        int panels = (rows + mr - 1) / mr;
        float[] b = s.panel();
        // Panels cost a reshuffle per gathered element and save about a tenth of the kernel's time per element,
        // which is worth it only when the block has many rows to reuse each element over.
        boolean panelLayout = panels * mr >= PANEL_MIN_ROWS;
        for (int kb = 0; kb < length; kb += Scratch.KC) {
            int kc = Math.min(Scratch.KC, length - kb);
            if (panelLayout) {
                for (int k = 0; k < kc; k++) {
                    s.packRow(kb + k, b, k * NR, kc * NR, NR, ncPad);
                }
            } else {
                for (int k = 0; k < kc; k++) {
                    s.packRow(kb + k, b, k * ROW_STRIDE, 0, ncPad, ncPad);
                }
            }
            for (int jp = 0; jp < ncPad; jp += NR) {
                int bOff = panelLayout ? jp * kc : jp; // panel jp / NR starts at (jp / NR) * kc * NR
                int bStride = panelLayout ? NR : ROW_STRIDE;
                for (int p = 0; p < panels; p++) {
                    microKernel(a, ((panel0 + p) * length + kb) * mr, b, bOff, bStride, kc, s.c, p * mr, jp);
                }
            }
        }
    }

    /** {@code C[m0 .. m0+6)[j0 .. j0+NR)} += A panel x B (row {@code k} at {@code bOff + k*bStride}), {@code kc} steps. */
    private static void microKernel(float[] a, int aOff, float[] b, int bOff, int bStride, int kc, float[][] c,
                                    int m0, int j0) {
        float[] r0 = c[m0];
        float[] r1 = c[m0 + 1];
        float[] r2 = c[m0 + 2];
        float[] r3 = c[m0 + 3];
        float[] r4 = c[m0 + 4];
        float[] r5 = c[m0 + 5];
        int j1 = j0 + LANES;
        FloatVector c00 = FloatVector.fromArray(S, r0, j0);
        FloatVector c01 = FloatVector.fromArray(S, r0, j1);
        FloatVector c10 = FloatVector.fromArray(S, r1, j0);
        FloatVector c11 = FloatVector.fromArray(S, r1, j1);
        FloatVector c20 = FloatVector.fromArray(S, r2, j0);
        FloatVector c21 = FloatVector.fromArray(S, r2, j1);
        FloatVector c30 = FloatVector.fromArray(S, r3, j0);
        FloatVector c31 = FloatVector.fromArray(S, r3, j1);
        FloatVector c40 = FloatVector.fromArray(S, r4, j0);
        FloatVector c41 = FloatVector.fromArray(S, r4, j1);
        FloatVector c50 = FloatVector.fromArray(S, r5, j0);
        FloatVector c51 = FloatVector.fromArray(S, r5, j1);
        for (int k = 0; k < kc; k++) {
            int bi = bOff + k * bStride;
            FloatVector b0 = FloatVector.fromArray(S, b, bi);
            FloatVector b1 = FloatVector.fromArray(S, b, bi + LANES);
            int ai = aOff + k * 6;
            FloatVector v = FloatVector.broadcast(S, a[ai]);
            c00 = v.fma(b0, c00);
            c01 = v.fma(b1, c01);
            v = FloatVector.broadcast(S, a[ai + 1]);
            c10 = v.fma(b0, c10);
            c11 = v.fma(b1, c11);
            v = FloatVector.broadcast(S, a[ai + 2]);
            c20 = v.fma(b0, c20);
            c21 = v.fma(b1, c21);
            v = FloatVector.broadcast(S, a[ai + 3]);
            c30 = v.fma(b0, c30);
            c31 = v.fma(b1, c31);
            v = FloatVector.broadcast(S, a[ai + 4]);
            c40 = v.fma(b0, c40);
            c41 = v.fma(b1, c41);
            v = FloatVector.broadcast(S, a[ai + 5]);
            c50 = v.fma(b0, c50);
            c51 = v.fma(b1, c51);
        }
        c00.intoArray(r0, j0);
        c01.intoArray(r0, j1);
        c10.intoArray(r1, j0);
        c11.intoArray(r1, j1);
        c20.intoArray(r2, j0);
        c21.intoArray(r2, j1);
        c30.intoArray(r3, j0);
        c31.intoArray(r3, j1);
        c40.intoArray(r4, j0);
        c41.intoArray(r4, j1);
        c50.intoArray(r5, j0);
        c51.intoArray(r5, j1);
    }
}
