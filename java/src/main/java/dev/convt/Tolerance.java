package dev.convt;

import java.util.Arrays;

/**
 * How far a float32 backend may stray from the {@link ReferenceBackend reference} (which accumulates in double).
 *
 * <p>Each output element is a sum of {@code L} products, {@code L = inChannels/groups * prod(kernelSize)} (the
 * {@link ConvTransposeLayer#reductionLength() reduction length}); float32 summation error grows at worst linearly in
 * {@code L}. The check is {@code max|got - ref| <= rtol * max(max|ref|, 1)} with
 * {@code rtol = max(1e-6, 4 * L * 2^-24)}: loose enough for any summation order, tight enough that a wrong index,
 * a missing tap or a dropped bias (errors of the order of the values themselves) cannot pass.
 *
 * <pre>{@code
 * Tolerance.Report r = Tolerance.forLayer(layer).compare(referenceOutput, oneDnnOutput);
 * if (!r.ok()) throw new AssertionError("max abs diff " + r.maxAbs() + " > " + r.allowedAbs());
 * }</pre>
 */
public final class Tolerance {

    private static final double EPS32 = Math.ulp(1.0f) / 2; // 2^-24, float32 unit roundoff

    private final long reductionLength;
    private final double rtol;

    private Tolerance(long reductionLength) {
        this.reductionLength = reductionLength;
        this.rtol = Math.max(1e-6, 4.0 * reductionLength * EPS32);
    }

    /**
     * @param layer a layer
     * @return the tolerance for its outputs
     */
    public static Tolerance forLayer(ConvTransposeLayer layer) {
        return new Tolerance(layer.reductionLength());
    }

    /** {@return the relative tolerance, {@code max(1e-6, 4 * L * 2^-24)}} */
    public double rtol() { return rtol; }

    /**
     * Result of a comparison.
     *
     * @param maxAbs the largest absolute difference (NaN when either side has a NaN)
     * @param maxRel {@code maxAbs} relative to the output's scale, {@code max(max|ref|, 1)}
     * @param allowedAbs the largest absolute difference allowed
     * @param ok the verdict
     */
    public record Report(double maxAbs, double maxRel, double allowedAbs, boolean ok) {}

    /**
     * Compares {@code got} with {@code reference}. NaN anywhere fails.
     *
     * @param reference the reference backend's output
     * @param got another backend's output, of the same shape
     * @return the differences and the verdict
     * @throws IllegalArgumentException when the shapes differ
     */
    public Report compare(Tensor reference, Tensor got) {
        if (!Arrays.equals(reference.shape(), got.shape())) {
            throw new IllegalArgumentException("cannot compare tensors of size " + Arrays.toString(reference.shape())
                + " and " + Arrays.toString(got.shape()));
        }
        double scale = 1.0;
        double maxAbs = 0;
        boolean nan = false;
        for (int i = 0; i < reference.elementCount(); i++) {
            scale = Math.max(scale, Math.abs(reference.get(i)));
            double d = Math.abs((double) got.get(i) - reference.get(i));
            if (Double.isNaN(d)) {
                nan = true;
            } else {
                maxAbs = Math.max(maxAbs, d);
            }
        }
        double allowed = rtol * scale;
        return new Report(nan ? Double.NaN : maxAbs, nan ? Double.NaN : maxAbs / scale, allowed,
            !nan && maxAbs <= allowed);
    }

    @Override
    public String toString() {
        return String.format("max|got - ref| <= %.2e * max(max|ref|, 1)  (rtol = max(1e-6, 4 * L * 2^-24), L = %d)",
            rtol, reductionLength);
    }
}
