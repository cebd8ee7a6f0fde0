package dev.convt.purejava;

/**
 * The kernel that needs no JVM flags: one output row at a time, four reduction steps per pass over the row.
 *
 * <p>Written for HotSpot's C2 auto-vectorizer (SuperWord), which on JDK 17 vectorizes a loop only when every array
 * it touches is a distinct array indexed from zero: the row of {@code C} and the four rows of {@code B} are each
 * their own {@code float[]} ({@link Scratch#rows()}), and the loop body is one store. Measured on AVX2, this runs at
 * roughly a third of the Vector API kernel's speed, several times faster than the same loop with offsets (which C2
 * leaves scalar). Each element gets {@code fma(a3, b3, fma(a2, b2, fma(a1, b1, fma(a0, b0, c))))}: the same
 * sequential fused chain as the vector kernel, so the two agree bit for bit. Without hardware FMA (HotSpot's
 * {@code UseFMA} off) {@code Math.fma} is a slow software routine, so this kernel then multiplies and adds
 * separately, in the same order.
 */
final class PlainKernel extends Kernel {

    private final boolean fma;
    private final String note;

    PlainKernel(boolean fma, String note) {
        this.fma = fma;
        this.note = note;
    }

    @Override
    String id() {
        return Kernels.PLAIN;
    }

    @Override
    String describe() {
        return "plain kernel (" + (fma ? "fma" : "multiply-add, no hardware FMA") + ", C2 auto-vectorized rows)"
            + (note == null ? "" : " [" + note + "]");
    }

    @Override
    void compute(Scratch s, float[] a, int length, int panel0, int rows, int nc) {
        final int mr = Scratch.MR;
        float[][] b = s.rows();
        float[][] c = s.c;
        for (int kb = 0; kb < length; kb += Scratch.KC) {
            int kc = Math.min(Scratch.KC, length - kb);
            for (int k = 0; k < kc; k++) {
                s.packRow(kb + k, b[k], 0, 0, nc, nc);
            }
            for (int m = 0; m < rows; m++) {
                float[] row = c[m];
                int aBase = ((panel0 + m / mr) * length + kb) * mr + m % mr;
                int k = 0;
                if (fma) {
                    for (; k + 3 < kc; k += 4) {
                        int i = aBase + k * mr;
                        fma4(a[i], a[i + mr], a[i + 2 * mr], a[i + 3 * mr], b[k], b[k + 1], b[k + 2], b[k + 3], row,
                            nc);
                    }
                    for (; k < kc; k++) {
                        fma1(a[aBase + k * mr], b[k], row, nc);
                    }
                } else {
                    for (; k + 3 < kc; k += 4) {
                        int i = aBase + k * mr;
                        mulAdd4(a[i], a[i + mr], a[i + 2 * mr], a[i + 3 * mr], b[k], b[k + 1], b[k + 2], b[k + 3],
                            row, nc);
                    }
                    for (; k < kc; k++) {
                        mulAdd1(a[aBase + k * mr], b[k], row, nc);
                    }
                }
            }
        }
    }

    // The loops below are the shape C2 vectorizes: distinct arrays, index from zero, one store. Keep them so.

    private static void fma4(float a0, float a1, float a2, float a3, float[] b0, float[] b1, float[] b2, float[] b3,
                             float[] c, int n) {
        for (int j = 0; j < n; j++) {
            c[j] = Math.fma(a3, b3[j], Math.fma(a2, b2[j], Math.fma(a1, b1[j], Math.fma(a0, b0[j], c[j]))));
        }
    }

    private static void fma1(float a0, float[] b0, float[] c, int n) {
        for (int j = 0; j < n; j++) {
            c[j] = Math.fma(a0, b0[j], c[j]);
        }
    }

    private static void mulAdd4(float a0, float a1, float a2, float a3, float[] b0, float[] b1, float[] b2,
                                float[] b3, float[] c, int n) {
        for (int j = 0; j < n; j++) {
            c[j] = (((c[j] + a0 * b0[j]) + a1 * b1[j]) + a2 * b2[j]) + a3 * b3[j];
        }
    }

    private static void mulAdd1(float a0, float[] b0, float[] c, int n) {
        for (int j = 0; j < n; j++) {
            c[j] = c[j] + a0 * b0[j];
        }
    }
}
