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
 *
 * <pre>{@code
 * Tensor x = Tensor.of(new float[] {1, 0, 1, 1, 0, 1, 0}, 1, 1, 7);   // a copy, shape [1, 1, 7]
 * Tensor y = Tensor.allocateDirect(8, 256, 8, 8);                       // zeros, native memory
 * float[] values = y.toArray();
 * }</pre>
 */
public final class Tensor {

    /** Most elements one tensor holds: a direct buffer's byte capacity is an {@code int}. */
    public static final long MAX_ELEMENTS = Integer.MAX_VALUE / Float.BYTES;

    private final long[] shape;
    private final FloatBuffer data;
    /** Native address of a direct tensor's first element, resolved on first use; it never moves. */
    private volatile long address = DirectAddress.NOT_RESOLVED;

    private Tensor(long[] shape, FloatBuffer data) {
        this.shape = shape;
        this.data = data;
    }

    /**
     * Allocates a heap tensor of zeros.
     *
     * @param shape its shape
     * @return the tensor
     * @throws IllegalArgumentException for a negative dimension or more than {@link #MAX_ELEMENTS} elements
     */
    public static Tensor zeros(long... shape) {
        long n = checkedCount(shape);
        return new Tensor(shape.clone(), FloatBuffer.wrap(new float[(int) n]));
    }

    /**
     * Allocates a tensor of zeros in a direct, native-order buffer (the zero-copy path into native backends).
     *
     * @param shape its shape
     * @return the tensor
     * @throws IllegalArgumentException for a negative dimension or more than {@link #MAX_ELEMENTS} elements
     */
    public static Tensor allocateDirect(long... shape) {
        long n = checkedCount(shape);
        FloatBuffer buf = ByteBuffer.allocateDirect((int) n * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        return new Tensor(shape.clone(), buf);
    }

    /**
     * Wraps {@code data} without copying: writes to either show in the other.
     *
     * @param data the elements in row-major order; its length must equal the shape's element count
     * @param shape the shape
     * @return the tensor
     * @throws IllegalArgumentException when the length and the shape disagree
     */
    public static Tensor wrap(float[] data, long... shape) {
        Objects.requireNonNull(data, "data");
        long n = checkedCount(shape);
        if (data.length != n) {
            // PyTorch's text for a view of the wrong size (torch.as_tensor(data).view(shape))
            throw new IllegalArgumentException("shape '" + Arrays.toString(shape) + "' is invalid for input of size "
                + data.length + " (data has " + data.length + " elements, the shape needs " + n + ")");
        }
        return new Tensor(shape.clone(), FloatBuffer.wrap(data));
    }

    /**
     * Copies {@code data} into a new heap tensor.
     *
     * @param data the elements in row-major order; its length must equal the shape's element count
     * @param shape the shape
     * @return the tensor
     * @throws IllegalArgumentException when the length and the shape disagree
     */
    public static Tensor of(float[] data, long... shape) {
        Objects.requireNonNull(data, "data");
        return wrap(data.clone(), shape);
    }

    /**
     * Wraps the remaining elements of {@code buffer} (from its position to its limit) without copying. A direct
     * buffer must be in native byte order, as native backends read it in place.
     *
     * @param buffer the elements in row-major order
     * @param shape the shape; its element count must equal the buffer's remaining elements
     * @return the tensor
     * @throws IllegalArgumentException when the sizes disagree or a direct buffer is not in native order
     */
    public static Tensor wrap(FloatBuffer buffer, long... shape) {
        Objects.requireNonNull(buffer, "buffer");
        long n = checkedCount(shape);
        if (buffer.remaining() != n) {
            throw new IllegalArgumentException("shape '" + Arrays.toString(shape) + "' is invalid for input of size "
                + buffer.remaining() + " (the buffer has " + buffer.remaining() + " remaining elements, the shape needs "
                + n + ")");
        }
        if (buffer.isDirect() && buffer.order() != ByteOrder.nativeOrder()) {
            throw new IllegalArgumentException("a direct buffer must be in native byte order (" + ByteOrder.nativeOrder()
                + "), but got " + buffer.order());
        }
        return new Tensor(shape.clone(), buffer.slice());
    }

    /**
     * Counts the elements of a shape.
     *
     * @param shape the shape
     * @return the product of its dimensions ({@link Long#MAX_VALUE} when that overflows)
     * @throws IllegalArgumentException for a negative dimension
     */
    public static long elementCount(long... shape) {
        Objects.requireNonNull(shape, "shape");
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("Trying to create tensor with negative dimension " + d + ": "
                    + Arrays.toString(shape));
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

    /** {@return the shape (a copy)} */
    public long[] shape() { return shape.clone(); }
    /** {@return the number of dimensions} */
    public int rank() { return shape.length; }
    /**
     * @param i a dimension, from 0
     * @return the size along it
     */
    public long dim(int i) { return shape[i]; }
    /** {@return the number of elements} */
    public int elementCount() { return data.capacity(); }
    /** {@return whether the elements live in a direct (native) buffer} */
    public boolean isDirect() { return data.isDirect(); }
    /** {@return whether the tensor wraps a read-only buffer} It can then be an input, never an output. */
    public boolean isReadOnly() { return data.isReadOnly(); }

    /**
     * Whether any element of this tensor and of {@code other} is the same storage: a range of one {@code float[]}, or
     * overlapping direct memory, however each was wrapped, sliced or reshaped. Storage that cannot be identified (the
     * array behind a read-only heap buffer; direct memory where JavaCPP's natives do not load) counts as not shared.
     *
     * @param other another tensor
     * @return whether the two overlap in memory
     */
    public boolean sharesStorageWith(Tensor other) {
        Objects.requireNonNull(other, "other");
        int count = data.capacity();
        int otherCount = other.data.capacity();
        if (count == 0 || otherCount == 0 || data.isDirect() != other.data.isDirect()) {
            return false;
        }
        if (data.isDirect()) {
            long a = address();
            long b = other.address();
            if (a == DirectAddress.UNKNOWN || b == DirectAddress.UNKNOWN) {
                return false;
            }
            return a < b + (long) otherCount * Float.BYTES && b < a + (long) count * Float.BYTES;
        }
        if (!data.hasArray() || !other.data.hasArray() || data.array() != other.data.array()) {
            return false;
        }
        int a = data.arrayOffset();
        int b = other.data.arrayOffset();
        return a < b + otherCount && b < a + count;
    }

    private long address() {
        long a = address;
        if (a == DirectAddress.NOT_RESOLVED) {
            a = DirectAddress.of(data);
            address = a;
        }
        return a;
    }

    /**
     * Compares shapes without allocating ({@code forward} calls it on every call).
     *
     * @param other a shape
     * @return whether this tensor has exactly that shape
     */
    public boolean hasShape(long... other) {
        return Arrays.equals(shape, other);
    }

    /**
     * The elements, as a new view (position 0, limit {@link #elementCount()}) sharing this tensor's storage; index
     * it absolutely.
     *
     * @return the view
     */
    public FloatBuffer buffer() {
        return data.duplicate();
    }

    /**
     * @param flatIndex a row-major index, from 0
     * @return the element there
     */
    public float get(int flatIndex) {
        return data.get(flatIndex);
    }

    /**
     * Sets one element.
     *
     * @param flatIndex a row-major index, from 0
     * @param value its new value
     */
    public void set(int flatIndex, float value) {
        data.put(flatIndex, value);
    }

    /**
     * Copies {@code src} into this tensor.
     *
     * @param src the elements in row-major order; its length must equal {@link #elementCount()}
     * @return this tensor
     * @throws IllegalArgumentException when the lengths differ
     */
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
     * @param index the first flat index to read
     * @param dst the destination array
     * @param offset where in {@code dst} the first element goes
     * @param length how many elements
     * @throws IndexOutOfBoundsException when either range is out of bounds
     */
    public void get(int index, float[] dst, int offset, int length) {
        data.get(index, dst, offset, length);
    }

    /**
     * Copies this tensor's elements into {@code dst}.
     *
     * @param dst the destination; its length must equal {@link #elementCount()}
     * @throws IllegalArgumentException when the lengths differ
     */
    public void copyTo(float[] dst) {
        Objects.requireNonNull(dst, "dst");
        if (dst.length != elementCount()) {
            throw new IllegalArgumentException("destination has " + dst.length + " elements but the tensor of size "
                + Arrays.toString(shape) + " has " + elementCount());
        }
        data.duplicate().get(dst);
    }

    /**
     * Copies every element into {@code dst}, from its index 0, without moving either position or allocating: the
     * one copy the heap path makes on the way into a native buffer. {@code dst} must have room for them.
     *
     * @param dst the destination, with room for {@link #elementCount()} elements from its index 0
     */
    public void copyTo(FloatBuffer dst) {
        Objects.requireNonNull(dst, "dst");
        dst.put(0, data, 0, data.capacity());
    }

    /**
     * Copies {@link #elementCount()} elements from {@code src}, from its index 0, without allocating.
     *
     * @param src the source, holding at least {@link #elementCount()} elements from its index 0
     */
    public void copyFrom(FloatBuffer src) {
        Objects.requireNonNull(src, "src");
        data.put(0, src, 0, data.capacity());
    }

    /** {@return a new array holding a copy of the elements, in row-major order} */
    public float[] toArray() {
        float[] out = new float[elementCount()];
        copyTo(out);
        return out;
    }

    /**
     * Views the same elements (shared, not copied) under another shape.
     *
     * @param newShape a shape with the same element count
     * @return the view
     * @throws IllegalArgumentException when the element counts differ
     */
    public Tensor reshape(long... newShape) {
        Objects.requireNonNull(newShape, "newShape");
        for (long d : newShape) {
            if (d < 0) { // PyTorch's text; it would infer a -1, convt does not
                throw new IllegalArgumentException("invalid shape dimension " + d + " (convt infers no dimension: "
                    + "give every size)");
            }
        }
        long n = checkedCount(newShape);
        if (n != elementCount()) {
            throw new IllegalArgumentException("shape '" + Arrays.toString(newShape) + "' is invalid for input of size "
                + elementCount());
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
