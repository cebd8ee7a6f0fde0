package dev.convt.purejava;

/**
 * Computes one output tile: {@code C[m][j] += sum_kk A[m, kk] * B[kk, j]} for the rows and columns of a
 * {@link Scratch tile}, over a whole reduction of length {@code L}, one fused multiply-add per {@code kk} in
 * increasing order. {@code C} starts as the bias (set by the caller); {@code B} is gathered by
 * {@link Scratch#packRow} block by block, in the layout the kernel wants.
 *
 * <p>{@code A} is a (group, phase) weight matrix packed in panels of {@link Scratch#MR} rows:
 * {@code a[(panel * L + kk) * MR + row]}.
 */
abstract class Kernel {

    /** {@code plain} or {@code vector}. */
    abstract String id();

    /** A short description for {@code implementation()} and {@code convt info}. */
    abstract String describe();

    /** Columns the kernel computes for a tile of {@code nc}: the gathered block is zero-padded up to this. */
    int padColumns(int nc) {
        return nc;
    }

    /**
     * Accumulates into {@code s.c[0 .. rows)} (columns {@code [0, nc)}) the product of the packed rows starting at
     * panel {@code panel0} of {@code a} with the gathered input.
     */
    abstract void compute(Scratch s, float[] a, int length, int panel0, int rows, int nc);
}
