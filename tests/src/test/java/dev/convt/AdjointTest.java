package dev.convt;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Transposed convolution is the adjoint of convolution: {@code <conv(y, w), x> == <y, convT(x, w)>}, and its
 * matrix is the transpose of the convolution's explicit (sparse) matrix.
 */
class AdjointTest {

    /** {@code sum a[i]*b[i]}, or with {@code abs} the sum of the terms' magnitudes (the scale of its rounding error). */
    private static double dot(Tensor a, Tensor b, boolean abs) {
        double s = 0;
        for (int i = 0; i < a.elementCount(); i++) {
            double term = (double) a.get(i) * b.get(i);
            s += abs ? Math.abs(term) : term;
        }
        return s;
    }

    private static Tensor conv(ConvTransposeLayer l, Tensor y, Tensor w, long[] inputShape) {
        long[] spatial = java.util.Arrays.copyOfRange(inputShape, 2, inputShape.length);
        return DirectConvolution.conv(y, w, l.stride(), l.padding(), l.dilation(), l.groups(), spatial);
    }

    @Test
    void innerProductIdentityOnRandomShapes() {
        RandomLayers gen = new RandomLayers(20261124L, 6);
        Random rnd = new Random(7);
        for (int c = 0; c < 200; c++) {
            RandomLayers.Case cs = gen.next();
            ConvTransposeLayer l = cs.layer().toBuilder().bias(false).build();
            Tensor x = TestSupport.random(rnd, cs.inputShape());
            Tensor w = TestSupport.random(rnd, l.weightShape());
            Tensor y = TestSupport.random(rnd, l.outputShape(cs.inputShape()));
            Tensor convT;
            try (CompiledConvTranspose op = Backends.reference().compile(l, w, null)) {
                convT = op.forward(x);
            }
            Tensor convY = conv(l, y, w, cs.inputShape());
            double lhs = dot(convY, x, false);
            double rhs = dot(y, convT, false);
            // Both sides are float32 roundings of double sums: allow float32 relative error on the term magnitudes.
            double scale = dot(convY, x, true) + dot(y, convT, true) + 1e-30;
            assertEquals(lhs, rhs, 1e-6 * scale, () -> "adjoint identity for " + l);
        }
    }

    @Test
    void matrixIsTheTransposeOfTheConvolutionMatrix() {
        RandomLayers gen = new RandomLayers(99L, 3);
        Random rnd = new Random(11);
        for (int c = 0; c < 40; c++) {
            RandomLayers.Case cs = gen.next();
            long[] inShape = cs.inputShape().clone();
            inShape[0] = 1;
            ConvTransposeLayer l = cs.layer().toBuilder().bias(false).build();
            long[] outShape = l.outputShape(inShape);
            int inSize = (int) Tensor.elementCount(inShape);
            int outSize = (int) Tensor.elementCount(outShape);
            Tensor w = TestSupport.random(rnd, l.weightShape());
            // Column j of the convolution matrix M (outSize -> inSize) is conv(e_j).
            double[][] m = new double[inSize][outSize];
            for (int j = 0; j < outSize; j++) {
                Tensor e = Tensor.zeros(outShape);
                e.set(j, 1f);
                Tensor col = conv(l, e, w, inShape);
                for (int i = 0; i < inSize; i++) {
                    m[i][j] = col.get(i);
                }
            }
            Tensor x = TestSupport.random(rnd, inShape);
            Tensor got;
            try (CompiledConvTranspose op = Backends.reference().compile(l, w, null)) {
                got = op.forward(x);
            }
            for (int j = 0; j < outSize; j++) {
                double expected = 0;
                for (int i = 0; i < inSize; i++) {
                    expected += m[i][j] * x.get(i);
                }
                assertEquals(expected, got.get(j), 1e-5, "element " + j + " of M^T x for " + l);
            }
        }
    }
}
