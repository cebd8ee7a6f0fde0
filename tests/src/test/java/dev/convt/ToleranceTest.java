package dev.convt;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The agreement rule that the cross-backend suite and {@code convt check} apply can fail, and scales with L. */
class ToleranceTest {

    static final ConvTransposeLayer SMALL = ConvTransposeLayer.builder(1).inChannels(1).outChannels(1).kernelSize(3)
        .build();
    static final ConvTransposeLayer DCGAN = ConvTransposeLayer.builder(2).inChannels(512).outChannels(256)
        .kernelSize(4).stride(2).padding(1).build();

    @Test
    void scalesWithTheReductionLength() {
        assertEquals(3, SMALL.reductionLength());
        assertEquals(1e-6, Tolerance.forLayer(SMALL).rtol(), 0);
        assertEquals(8192, DCGAN.reductionLength());
        assertEquals(4 * 8192 * Math.pow(2, -24), Tolerance.forLayer(DCGAN).rtol(), 1e-15);
    }

    @Test
    void passesRoundingAndFailsRealErrors() {
        Tensor ref = Tensor.of(new float[] {1, -2, 40, 0.5f}, 4);
        Tolerance tol = Tolerance.forLayer(DCGAN); // allowed: rtol * 40
        assertTrue(tol.compare(ref, Tensor.of(new float[] {1, -2, 40, 0.5f}, 4)).ok());
        assertTrue(tol.compare(ref, Tensor.of(new float[] {1.0001f, -2, 40.0001f, 0.5f}, 4)).ok());
        Tolerance.Report off = tol.compare(ref, Tensor.of(new float[] {1, -2, 40, 0.7f}, 4)); // a wrong tap
        assertFalse(off.ok());
        assertEquals(0.2, off.maxAbs(), 1e-6);
        assertEquals(0.2 / 40, off.maxRel(), 1e-6);
        assertFalse(tol.compare(ref, Tensor.of(new float[] {1, Float.NaN, 40, 0.5f}, 4)).ok());
        assertFalse(Tolerance.forLayer(SMALL).compare(ref, Tensor.of(new float[] {1, -2, 40.001f, 0.5f}, 4)).ok());
    }
}
