package dev.convt.onednn;

import dev.convt.Layout;
import dev.convt.Tensor;
import dev.convt.internal.CloseGuard;
import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.reorder;
import org.bytedeco.dnnl.stream;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;

import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * A oneDNN op's output kept in native memory, in the layout oneDNN's primitive wrote it (often a blocked one such as
 * {@code nChw8c}, which no {@link Tensor} can hold), so that the next op reads it without a reorder.
 *
 * <p>It is made by {@link OneDnnOp#forwardKeepLayout(Tensor)} and consumed by the same op's other keep-layout
 * methods, {@link OneDnnOp#forwardKeepLayout(OneDnnTensor)} and {@link OneDnnOp#forward(OneDnnTensor, Tensor)}, of
 * any oneDNN op whose input it fits. Its {@link #shape()} is the shape the producing op's output {@link Tensor} would
 * have, in that op's {@link #layout()}; how the elements lie in memory is oneDNN's business, described by
 * {@link #layoutDescription()}. Converting to a plain tensor is explicit: {@link #toTensor()} or
 * {@link #copyTo(Tensor)}, a oneDNN reorder.
 *
 * <p>It owns its native buffer, which {@link #close()} frees at once: the garbage collector never does. It does not
 * depend on the op that made it, which may be closed first. {@code close()} is idempotent, waits for calls in flight
 * (the tensor may be read by several threads and ops at once), and after it every method but {@link #isClosed()},
 * {@code close()} and {@code toString()} throws {@link IllegalStateException}.
 *
 * <pre>{@code
 * try (OneDnnTensor h = first.forwardKeepLayout(x)) {   // e.g. nChw8c: no reorder back to NCHW
 *     second.forward(h, y);                            // reads nChw8c in place when that is what it wants
 * }
 * }</pre>
 */
public final class OneDnnTensor implements AutoCloseable {

    /** oneDNN aligns its own buffers to 64 bytes (a cache line, an AVX-512 register); ours get the same. */
    private static final int ALIGNMENT = 64;

    private final long[] shape;
    private final Layout layout;
    private final int rank;
    /** oneDNN's dims, {@code [N, C, *spatial]} ({@code N = 1} for an unbatched shape). */
    private final long[] dims;
    private final engine engine;
    private final memory.data_type dataType;
    private final Owner owner = new Owner();
    private final memory.desc desc;
    /** The oneDNN memory object over {@link #data}. */
    private final memory handle;
    /** The aligned start of the buffer; a view into {@code raw}, owning nothing. */
    private final Pointer data;
    /** The whole buffer as floats, for the routes that read plain tensors; never handed to a caller. */
    private final Tensor view;
    private final boolean plain;
    private final String layoutDescription;
    /** Calls in flight and the closed state, as in {@code CompiledConvTranspose}. */
    private final CloseGuard guard;

    private OneDnnTensor(memory.desc desc, long[] shape, Layout layout, int rank, long[] dims) {
        this.shape = shape.clone();
        this.layout = layout;
        this.rank = rank;
        this.dims = dims;
        this.engine = OneDnnRuntime.engine();
        this.guard = new CloseGuard(() -> "OneDnnTensor" + Arrays.toString(this.shape) + " (" + layout.formatName(rank)
            + ")");
        try {
            // our own reference to the descriptor: the tensor outlives the plan (and the op) that described it
            this.desc = owner.keep(new memory.desc(desc));
            this.dataType = this.desc.get_data_type().intern();
            long bytes = this.desc.get_size();
            if (bytes > Integer.MAX_VALUE - ALIGNMENT) {
                throw new IllegalArgumentException("a tensor of size " + Arrays.toString(shape) + " takes " + bytes
                    + " bytes in oneDNN's layout " + describe(this.desc, rank) + ", more than the "
                    + (Integer.MAX_VALUE - ALIGNMENT) + " one buffer can hold");
            }
            BytePointer raw = owner.keep(new BytePointer(bytes + ALIGNMENT - 1));
            long start = raw.address() + (ALIGNMENT - raw.address() % ALIGNMENT) % ALIGNMENT;
            this.data = region(start, bytes);
            this.handle = owner.keep(new memory(this.desc, engine, data));
            this.view = Tensor.wrap(((BytePointer) data).asByteBuffer().order(ByteOrder.nativeOrder()).asFloatBuffer(),
                bytes / Float.BYTES);
            try (PointerScope scope = new PointerScope()) {
                this.plain = this.desc.equals(plainDesc());
            }
            this.layoutDescription = plain ? layout.formatName(rank).toLowerCase(java.util.Locale.ROOT)
                : describe(this.desc, rank);
        } catch (Throwable t) { // an OutOfMemoryError from the native allocation included: release, then rethrow
            owner.close();
            throw t;
        }
    }

    /**
     * A new tensor of {@code desc} (dims {@code [N, C, *spatial]}), logically {@code shape} in {@code layout}.
     *
     * @throws IllegalArgumentException when the buffer would not fit in one {@code ByteBuffer}
     */
    static OneDnnTensor allocate(memory.desc desc, long[] shape, Layout layout, int rank) {
        long[] cf = layout.toChannelsFirst(shape, rank);
        long[] dims = cf.length == rank + 2 ? cf : prepend(1, cf);
        return new OneDnnTensor(desc, shape, layout, rank, dims);
    }

    private static long[] prepend(long first, long[] rest) {
        long[] out = new long[rest.length + 1];
        out[0] = first;
        System.arraycopy(rest, 0, out, 1, rest.length);
        return out;
    }

    /** A pointer to {@code bytes} bytes at {@code address} that owns nothing (freeing stays with its owner). */
    private static BytePointer region(long regionStart, long regionBytes) {
        // (inside the anonymous class, address/capacity/limit name Pointer's fields, hence the parameter names)
        return new BytePointer() {
            {
                address = regionStart;
                capacity = regionBytes;
                limit = regionBytes;
            }
        };
    }

    /** The plain descriptor of this tensor's dims in its layout; belongs to the caller's PointerScope. */
    private memory.desc plainDesc() {
        return new memory.desc(dims, memory.data_type.f32, Geometry.plainTag(layout, rank));
    }

    /**
     * The shape: what the producing op's output {@link Tensor} would have, in its {@link #layout()}.
     *
     * @return a copy of the shape
     * @throws IllegalStateException when this tensor is closed
     */
    public long[] shape() {
        checkOpen();
        return shape.clone();
    }

    /**
     * The layout {@link #shape()} is given in, and the one {@link #toTensor()} produces: the producing op's.
     *
     * @return the layout
     * @throws IllegalStateException when this tensor is closed
     */
    public Layout layout() {
        checkOpen();
        return layout;
    }

    /**
     * How the elements lie in memory, named as oneDNN names formats with {@code n, c, d, h, w} for the batch,
     * channel and spatial dims: outermost first, a blocked dim in upper case and its inner block at the end. For
     * example {@code nChw8c} (channels in blocks of 8, each block innermost), {@code nchw} or {@code nhwc} (plain).
     *
     * @return the name of the memory format
     * @throws IllegalStateException when this tensor is closed
     */
    public String layoutDescription() {
        checkOpen();
        return layoutDescription;
    }

    /**
     * Whether the elements are in the plain order of {@link #layout()}, as a {@link Tensor} of {@link #shape()} holds
     * them (converting is then a copy).
     *
     * @return whether the memory format is the layout's plain one
     * @throws IllegalStateException when this tensor is closed
     */
    public boolean isPlain() {
        checkOpen();
        return plain;
    }

    /**
     * Converts to a new plain, direct tensor of {@link #shape()} in {@link #layout()}: the explicit way out of
     * oneDNN's layout (a reorder, or a copy when {@link #isPlain()}).
     *
     * @return a new direct tensor
     * @throws IllegalStateException when this tensor is closed
     */
    public Tensor toTensor() {
        checkOpen();
        Tensor out = Tensor.allocateDirect(shape);
        copyTo(out);
        return out;
    }

    /**
     * Converts into {@code dst}, a plain tensor of exactly {@link #shape()} in {@link #layout()}, heap or direct,
     * overwriting it (a reorder straight into a direct tensor; through a temporary native buffer for a heap one).
     *
     * @param dst the destination; {@link Layout#convert} turns the result into the other layout
     * @throws IllegalArgumentException when {@code dst} has another shape or is read-only
     * @throws IllegalStateException when this tensor is closed
     * @throws OneDnnException when oneDNN fails to reorder
     */
    public void copyTo(Tensor dst) {
        Objects.requireNonNull(dst, "dst");
        checkOpen();
        if (!dst.hasShape(shape)) {
            throw new IllegalArgumentException("dst should be of size " + Arrays.toString(shape) + " (this "
                + "OneDnnTensor's shape, " + layout.formatName(rank) + "), but got dst of size "
                + Arrays.toString(dst.shape()));
        }
        if (dst.isReadOnly()) {
            throw new IllegalArgumentException("dst tensor is read-only");
        }
        enter();
        try {
            if (dst.elementCount() == 0) {
                return;
            }
            if (plain) {
                dst.copyFrom(view.buffer()); // the same order: a bulk copy, no oneDNN call needed
                return;
            }
            try (PointerScope scope = new PointerScope()) {
                memory.desc target = plainDesc();
                // a direct tensor is written in place; a heap one through a staging buffer freed with the scope
                FloatPointer out = dst.isDirect() ? new FloatPointer(dst.buffer()) : new FloatPointer(dst.elementCount());
                memory outMemory = new memory(target, engine, out);
                stream s = new stream(engine);
                new reorder(new reorder.primitive_desc(engine, desc, engine, target)).execute(s, handle, outMemory);
                s._wait();
                if (!dst.isDirect()) {
                    dst.copyFrom(out.asBuffer());
                }
            } catch (RuntimeException e) {
                throw new OneDnnException("oneDNN could not reorder " + this + " to " + layout.formatName(rank) + ": "
                    + e.getMessage(), e);
            }
        } finally {
            exit();
        }
    }

    /** {@return whether {@link #close()} has been called} */
    public boolean isClosed() {
        return guard.isClosed();
    }

    /**
     * Frees the native buffer, after calls in flight (an op reading this tensor, a conversion) have finished. Every
     * later call but {@link #isClosed()} and {@code close()} throws {@link IllegalStateException}. Idempotent; a
     * concurrent second call returns only once the buffer is freed.
     */
    @Override
    public void close() {
        guard.close(owner::close);
    }

    @Override
    public String toString() {
        return "OneDnnTensor" + Arrays.toString(shape) + " " + layout.formatName(rank)
            + (isClosed() ? " (closed)" : " as " + layoutDescription);
    }

    // ---- for the ops of this package: read under enter()/exit(), after the op validated the tensor ----

    void checkOpen() {
        guard.checkOpen();
    }

    /** Marks a read in flight; {@link #close()} waits for it. Pair with {@link #exit()} in a finally block. */
    void enter() {
        guard.enter();
    }

    void exit() {
        guard.exit();
    }

    /** The shape without the open check, for messages. */
    long[] shapeUnchecked() {
        return shape.clone();
    }

    Layout layoutUnchecked() {
        return layout;
    }

    int spatialRank() {
        return rank;
    }

    engine engine() {
        return engine;
    }

    memory.data_type dataType() {
        return dataType;
    }

    memory.desc desc() {
        return desc;
    }

    memory memory() {
        return handle;
    }

    Pointer data() {
        return data;
    }

    /** Every float of the buffer in memory order; a plain tensor's elements when {@link #plain}. */
    Tensor view() {
        return view;
    }

    /**
     * oneDNN's name of a format ({@code nChw8c}, {@code nhwc}): the dims from outermost to innermost stride, a blocked
     * one in upper case, then the inner blocks. Dims of equal stride (a size-1 dim) keep their logical order.
     */
    static String describe(memory.desc d, int rank) {
        // get_strides() and the block getters return std::vectors by value: copies freed with this scope
        try (PointerScope scope = new PointerScope()) {
            memory.format_kind kind = d.get_format_kind().intern(); // JavaCPP returns enums uninterned: compare values
            if (kind.value != memory.format_kind.blocked.value) {
                return "format kind " + kind;
            }
            int n = d.get_ndims();
            String letters = rank == 1 ? "ncw" : rank == 2 ? "nchw" : "ncdhw";
            if (n != letters.length()) {
                letters = "abcdefghijkl".substring(0, n); // not an activation: oneDNN's generic letters
            }
            LongPointer strides = d.get_strides();
            Integer[] order = new Integer[n];
            long[] stride = new long[n];
            for (int i = 0; i < n; i++) {
                order[i] = i;
                stride[i] = strides.get(i);
            }
            Arrays.sort(order, (a, b) -> Long.compare(stride[b], stride[a])); // stable: ties keep the logical order
            int blocks = d.get_inner_nblks();
            LongPointer blks = d.get_inner_blks();
            LongPointer idxs = d.get_inner_idxs();
            boolean[] blocked = new boolean[n];
            for (int i = 0; i < blocks; i++) {
                blocked[(int) idxs.get(i)] = true;
            }
            StringBuilder sb = new StringBuilder();
            for (int i : order) {
                char c = letters.charAt(i);
                sb.append(blocked[i] ? Character.toUpperCase(c) : c);
            }
            for (int i = 0; i < blocks; i++) {
                sb.append(blks.get(i)).append(letters.charAt((int) idxs.get(i)));
            }
            return sb.toString();
        }
    }
}
