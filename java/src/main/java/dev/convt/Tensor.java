package dev.convt;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * A float32 tensor: a shape and its elements in C (row-major) order, held in a heap or a direct buffer.
 *
 * <p>The shape is fixed; the elements are mutable and shared with the buffer or array the tensor wraps. Direct
 * tensors ({@link #allocateDirect}) are the zero-copy path into native backends; heap tensors cost one copy each way.
 */
public final class Tensor {

    /** Most elements one tensor holds: a direct buffer's byte capacity is an {@code int}. */
    public static final long MAX_ELEMENTS = Integer.MAX_VALUE / Float.BYTES;

    private final long[] shape;
    private final FloatBuffer data;

    private Tensor(long[] shape, FloatBuffer data) {
        this.shape = shape;
        this.data = data;
    }

    /** A heap tensor of zeros. */
    public static Tensor zeros(long... shape) {
        long n = checkedCount(shape);
        return new Tensor(shape.clone(), FloatBuffer.wrap(new float[(int) n]));
    }

    /** A tensor of zeros in a direct, native-order buffer (the zero-copy path into native backends). */
    public static Tensor allocateDirect(long... shape) {
        long n = checkedCount(shape);
        FloatBuffer buf = ByteBuffer.allocateDirect((int) n * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        return new Tensor(shape.clone(), buf);
    }

    /** Wraps {@code data} without copying; its length must equal the shape's element count. */
    public static Tensor wrap(float[] data, long... shape) {
        Objects.requireNonNull(data, "data");
        long n = checkedCount(shape);
        if (data.length != n) {
            throw new IllegalArgumentException("data has " + data.length + " elements but shape "
                + Arrays.toString(shape) + " needs " + n);
        }
        return new Tensor(shape.clone(), FloatBuffer.wrap(data));
    }

    /** A heap tensor holding a copy of {@code data}. */
    public static Tensor of(float[] data, long... shape) {
        Objects.requireNonNull(data, "data");
        return wrap(data.clone(), shape);
    }

    /**
     * Wraps the remaining elements of {@code buffer} (from its position to its limit) without copying. A direct
     * buffer must be in native byte order, as native backends read it in place.
     */
    public static Tensor wrap(FloatBuffer buffer, long... shape) {
        Objects.requireNonNull(buffer, "buffer");
        long n = checkedCount(shape);
        if (buffer.remaining() != n) {
            throw new IllegalArgumentException("buffer has " + buffer.remaining() + " remaining elements but shape "
                + Arrays.toString(shape) + " needs " + n);
        }
        if (buffer.isDirect() && buffer.order() != ByteOrder.nativeOrder()) {
            throw new IllegalArgumentException("a direct buffer must be in native byte order (" + ByteOrder.nativeOrder()
                + "), but got " + buffer.order());
        }
        return new Tensor(shape.clone(), buffer.slice());
    }

    /** Element count of a shape, with every dimension checked to be non-negative. */
    public static long elementCount(long... shape) {
        Objects.requireNonNull(shape, "shape");
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            n = Math.multiplyHigh(n, d) != 0 ? Long.MAX_VALUE : n * d;
            if (n < 0) {
                n = Long.MAX_VALUE;
            }
        }
        return n;
    }

    private static long checkedCount(long[] shape) {
        long n = elementCount(shape);
        if (n > MAX_ELEMENTS) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has " + n
                + " elements, more than the " + MAX_ELEMENTS + " a tensor can hold");
        }
        return n;
    }

    public long[] shape() { return shape.clone(); }
    public int rank() { return shape.length; }
    public long dim(int i) { return shape[i]; }
    public int elementCount() { return data.capacity(); }
    public boolean isDirect() { return data.isDirect(); }
    /** Whether the tensor wraps a read-only buffer (it can then be an input, never an output). */
    public boolean isReadOnly() { return data.isReadOnly(); }

    /** Whether this tensor has exactly this shape (allocation-free: forward() calls it on every call). */
    public boolean hasShape(long... other) {
        return Arrays.equals(shape, other);
    }

    /**
     * The elements, as a new view (position 0, limit {@link #elementCount()}) sharing this tensor's storage; index
     * it absolutely.
     */
    public FloatBuffer buffer() {
        return data.duplicate();
    }

    /** Element at a flat (row-major) index. */
    public float get(int flatIndex) {
        return data.get(flatIndex);
    }

    /** Sets the element at a flat (row-major) index. */
    public void set(int flatIndex, float value) {
        data.put(flatIndex, value);
    }

    /** Copies {@code src} into this tensor; its length must equal {@link #elementCount()}. */
    public Tensor copyFrom(float[] src) {
        Objects.requireNonNull(src, "src");
        if (src.length != elementCount()) {
            throw new IllegalArgumentException("source has " + src.length + " elements but the tensor of size "
                + Arrays.toString(shape) + " has " + elementCount());
        }
        data.duplicate().put(src);
        return this;
    }

    /**
     * Copies elements {@code [index, index + length)} (flat, row-major) into {@code dst[offset, offset + length)}:
     * an absolute bulk read that allocates nothing, for backends reading direct tensors in place.
     *
     * @throws IndexOutOfBoundsException when either range is out of bounds
     */
    public void get(int index, float[] dst, int offset, int length) {
        data.get(index, dst, offset, length);
    }

    /** Copies this tensor's elements into {@code dst}; its length must equal {@link #elementCount()}. */
    public void copyTo(float[] dst) {
        Objects.requireNonNull(dst, "dst");
        if (dst.length != elementCount()) {
            throw new IllegalArgumentException("destination has " + dst.length + " elements but the tensor of size "
                + Arrays.toString(shape) + " has " + elementCount());
        }
        data.duplicate().get(dst);
    }

    /** A new array holding a copy of the elements. */
    public float[] toArray() {
        float[] out = new float[elementCount()];
        copyTo(out);
        return out;
    }

    /** The same elements (shared, not copied) under another shape with the same element count. */
    public Tensor reshape(long... newShape) {
        long n = checkedCount(newShape);
        if (n != elementCount()) {
            throw new IllegalArgumentException("shape " + Arrays.toString(newShape) + " is invalid for a tensor of "
                + elementCount() + " elements");
        }
        return new Tensor(newShape.clone(), data.duplicate());
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Tensor").append(Arrays.toString(shape)).append(' ');
        int n = Math.min(elementCount(), 16);
        sb.append('[');
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(Floats.format(data.get(i)));
        }
        if (n < elementCount()) {
            sb.append(", ...");
        }
        return sb.append(']').toString();
    }
}
