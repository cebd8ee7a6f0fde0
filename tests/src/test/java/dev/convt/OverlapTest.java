package dev.convt;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Defect 5: input and output over the same storage (a reshape, two wraps of one array or buffer, overlapping
 * slices) are refused on every backend, whatever their shapes; disjoint parts of one array or buffer are fine.
 */
class OverlapTest {

    /** 1x1 kernel, 4 channels in and out: input and output have the same element count, so any view fits both. */
    static final ConvTransposeLayer SQUARE = ConvTransposeLayer.builder(1).inChannels(4).outChannels(4).kernelSize(1)
        .bias(false).build();
    static final String MESSAGE = "output shares storage with the input (the same float[] or overlapping direct "
        + "memory; in-place is not supported)";

    private static void refused(CompiledConvTranspose op, Tensor in, Tensor out, String what) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> op.forward(in, out),
            what + " on " + op.backendId());
        assertEquals(MESSAGE, e.getMessage());
    }

    private static FloatBuffer view(FloatBuffer base, int from, int count) {
        FloatBuffer d = base.duplicate();
        d.position(from).limit(from + count);
        return d.slice();
    }

    @Test
    void sharedStorageIsRefusedOnEveryBackend() {
        Random rnd = new Random(55);
        Tensor w = TestSupport.random(rnd, SQUARE.weightShape());
        for (Backend b : CrossBackendTest.available()) {
            try (CompiledConvTranspose op = b.compile(SQUARE, w, null)) {
                float[] arr = new float[40];
                refused(op, Tensor.wrap(arr, 1, 4, 10), Tensor.wrap(arr, 1, 4, 10), "two wraps of one array");
                Tensor x = Tensor.wrap(arr, 1, 4, 10);
                refused(op, x, x.reshape(1, 4, 10), "a reshape");
                refused(op, x, x.reshape(4, 10), "an unbatched reshape");
                float[] big = new float[60];
                FloatBuffer heap = FloatBuffer.wrap(big);
                refused(op, Tensor.wrap(view(heap, 0, 40), 1, 4, 10), Tensor.wrap(view(heap, 20, 40), 1, 4, 10),
                    "heap slices overlapping by half");
                refused(op, Tensor.wrap(view(heap, 19, 40), 1, 4, 10), Tensor.wrap(view(heap, 0, 40), 1, 4, 10),
                    "heap slices overlapping by one element");

                FloatBuffer direct = ByteBuffer.allocateDirect(80 * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
                refused(op, Tensor.wrap(view(direct, 0, 40), 1, 4, 10), Tensor.wrap(view(direct, 39, 40), 4, 10),
                    "direct views overlapping by one element");
                refused(op, Tensor.wrap(view(direct, 10, 40).asReadOnlyBuffer(), 1, 4, 10),
                    Tensor.wrap(view(direct, 0, 40), 1, 4, 10), "a read-only direct view of the output");
                ByteBuffer bytes = ByteBuffer.allocateDirect(80 * 4).order(ByteOrder.nativeOrder());
                Tensor aligned = Tensor.wrap(bytes.asFloatBuffer().limit(40).slice(), 1, 4, 10);
                bytes.position(4 * 39 + 2); // shares two bytes with the input's last element
                Tensor misaligned = Tensor.wrap(bytes.slice().order(ByteOrder.nativeOrder()).asFloatBuffer()
                    .limit(40).slice(), 1, 4, 10);
                refused(op, aligned, misaligned, "a misaligned view over the input's last two bytes");
            }
        }
    }

    @Test
    void disjointPartsOfOneArrayOrBufferAreFine() {
        Random rnd = new Random(56);
        Tensor w = TestSupport.random(rnd, SQUARE.weightShape());
        Tensor x = TestSupport.random(rnd, 1, 4, 10);
        Tensor expected;
        try (CompiledConvTranspose ref = Backends.reference().compile(SQUARE, w, null)) {
            expected = ref.forward(x);
        }
        for (Backend b : CrossBackendTest.available()) {
            try (CompiledConvTranspose op = b.compile(SQUARE, w, null)) {
                FloatBuffer heap = FloatBuffer.wrap(new float[80]);
                Tensor in = Tensor.wrap(view(heap, 0, 40), 1, 4, 10).copyFrom(x.toArray());
                Tensor out = Tensor.wrap(view(heap, 40, 40), 1, 4, 10);
                assertFalse(out.sharesStorageWith(in));
                op.forward(in, out);
                TestSupport.assertClose(SQUARE, expected, out, b.id() + " heap halves");

                FloatBuffer direct = ByteBuffer.allocateDirect(80 * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
                Tensor din = Tensor.wrap(view(direct, 40, 40), 1, 4, 10).copyFrom(x.toArray());
                Tensor dout = Tensor.wrap(view(direct, 0, 40), 1, 4, 10);
                assertFalse(dout.sharesStorageWith(din));
                op.forward(din, dout);
                TestSupport.assertClose(SQUARE, expected, dout, b.id() + " direct halves");
            }
        }
    }

    @Test
    void sharesStorageWith() {
        float[] arr = new float[10];
        Tensor a = Tensor.wrap(arr, 10);
        assertTrue(a.sharesStorageWith(a.reshape(2, 5)));
        assertFalse(a.sharesStorageWith(Tensor.wrap(new float[10], 10)));
        assertFalse(a.sharesStorageWith(Tensor.allocateDirect(10)));
        Tensor d = Tensor.allocateDirect(10);
        assertTrue(d.sharesStorageWith(Tensor.wrap(d.buffer(), 10)));
        assertFalse(d.sharesStorageWith(Tensor.allocateDirect(10)));
        assertFalse(Tensor.zeros(0).sharesStorageWith(Tensor.zeros(0)));
    }
}
