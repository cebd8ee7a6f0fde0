package dev.convt;

import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A layer bound to its weights on one backend: built once, executed many times, closed once.
 *
 * <p>{@link #forward(Tensor, Tensor)} may be called from several threads at once. {@link #close()} is idempotent;
 * it waits for executions in flight, and any call after it throws {@link IllegalStateException}. Every input and
 * output shape is validated here, in Java, before a backend sees the data.
 */
public abstract class CompiledConvTranspose implements AutoCloseable {

    private static final long CLOSED = 1L << 62;

    private final ConvTransposeLayer layer;
    private final String backendId;
    private final Layout layout;
    /** {@link #CLOSED} bit plus the number of executions in flight; lets close() wait for them without locks. */
    private final AtomicLong state = new AtomicLong();
    /** Last input shape seen and its output shape, so steady-state calls skip re-validation without allocating. */
    private volatile ShapePair lastShapes;

    protected CompiledConvTranspose(ConvTransposeLayer layer, String backendId, Layout layout) {
        this.layer = Objects.requireNonNull(layer, "layer");
        this.backendId = backendId;
        this.layout = Objects.requireNonNull(layout, "layout");
    }

    /** Checks weight and bias tensors against a layer; backends call this before copying them. */
    protected static void checkParameters(ConvTransposeLayer layer, Tensor weight, Tensor bias) {
        Objects.requireNonNull(layer, "layer");
        Objects.requireNonNull(weight, "weight");
        layer.checkWeightShape(weight.shape());
        layer.checkBiasShape(bias == null ? null : bias.shape());
    }

    public final ConvTransposeLayer layer() { return layer; }

    /** The backend that runs this op. */
    public final String backendId() { return backendId; }

    /** The layout of this op's input and output tensors. */
    public final Layout layout() { return layout; }

    /**
     * The implementation inside the backend that ran (or was prepared) most recently, e.g. {@code brg_deconv:avx2}
     * for oneDNN, whose choice can depend on the input shape.
     */
    public abstract String implementation();

    /**
     * Builds whatever this op needs for inputs of {@code inputShape} ahead of the first {@code forward} (oneDNN: the
     * primitive and the weights in its preferred layout) and returns the implementation chosen for it.
     */
    public final String prepare(long... inputShape) {
        checkOpen();
        ShapePair shapes = shapesFor(Objects.requireNonNull(inputShape, "inputShape").clone());
        if (shapes.batch == 0) {
            return implementation();
        }
        enter();
        try {
            return prepareShape(shapes.batch, shapes.spatialIn);
        } finally {
            state.decrementAndGet();
        }
    }

    /** Backend hook for {@link #prepare}; the default has nothing to prepare. */
    protected String prepareShape(int batch, long[] spatialIn) {
        return implementation();
    }

    /** Output shape for {@code input} (both in this op's {@link #layout()}), after validating it. */
    public final long[] outputShape(Tensor input) {
        return shapesFor(Objects.requireNonNull(input, "input")).out.clone();
    }

    /** Output shape for an input of {@code inputShape} (both in this op's {@link #layout()}), after validating it. */
    public final long[] outputShape(long... inputShape) {
        return shapesFor(Objects.requireNonNull(inputShape, "inputShape").clone()).out.clone();
    }

    /**
     * Computes the transposed convolution of {@code input} ({@code [N, inChannels, *spatial]} or unbatched
     * {@code [inChannels, *spatial]}) into a new tensor, direct when the input is direct.
     */
    public final Tensor forward(Tensor input) {
        Objects.requireNonNull(input, "input");
        ShapePair shapes = shapesFor(input);
        Tensor out = input.isDirect() ? Tensor.allocateDirect(shapes.out) : Tensor.zeros(shapes.out);
        forward(input, out);
        return out;
    }

    /**
     * Computes into {@code output}, which must have exactly the {@link #outputShape output shape}, be writable, and
     * not share storage with {@code input} ({@link Tensor#sharesStorageWith}). With direct tensors reused across calls
     * this is the zero-copy, allocation-free path.
     */
    public final void forward(Tensor input, Tensor output) {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(output, "output");
        ShapePair shapes = shapesFor(input);
        if (output == input) {
            throw new IllegalArgumentException("output must not be the input tensor (in-place is not supported)");
        }
        if (output.sharesStorageWith(input)) {
            // a backend reading the input in place would read elements it has already overwritten
            throw new IllegalArgumentException("output shares storage with the input (the same float[] or "
                + "overlapping direct memory; in-place is not supported)");
        }
        if (output.isReadOnly()) {
            throw new IllegalArgumentException("output tensor is read-only");
        }
        if (!output.hasShape(shapes.out)) {
            throw new IllegalArgumentException("output should be of size " + Arrays.toString(shapes.out)
                + " for input of size " + Arrays.toString(shapes.in) + ", but got output of size "
                + Arrays.toString(output.shape()));
        }
        enter();
        try {
            if (shapes.batch == 0) {
                return; // an empty batch has nothing to compute
            }
            execute(input, output, shapes.batch, shapes.spatialIn);
        } finally {
            state.decrementAndGet();
        }
    }

    /**
     * Runs the backend on validated tensors. {@code input} is {@code [batch, inChannels, *spatialIn]} or its
     * unbatched form (same element order) in this op's {@link #layout()} ({@code [batch, *spatialIn, inChannels]}
     * for channels-last), {@code output} the matching output.
     */
    protected abstract void execute(Tensor input, Tensor output, int batch, long[] spatialIn);

    /** Releases the backend's resources; called once, after executions in flight have finished. */
    protected abstract void release();

    /** Throws {@link IllegalStateException} when closed. */
    protected final void checkOpen() {
        if ((state.get() & CLOSED) != 0) {
            throw closedError();
        }
    }

    private IllegalStateException closedError() {
        return new IllegalStateException("compiled op " + layer + " on " + backendId + " is closed");
    }

    public final boolean isClosed() {
        return (state.get() & CLOSED) != 0;
    }

    private void enter() {
        while (true) {
            long s = state.get();
            if ((s & CLOSED) != 0) {
                throw closedError();
            }
            if (state.compareAndSet(s, s + 1)) {
                return;
            }
        }
    }

    @Override
    public final void close() {
        long before = state.getAndUpdate(s -> s | CLOSED);
        if ((before & CLOSED) != 0) {
            return;
        }
        while ((state.get() & ~CLOSED) != 0) {
            Thread.yield(); // executions in flight finish in microseconds to milliseconds
        }
        release();
    }

    private ShapePair shapesFor(Tensor input) {
        checkOpen();
        ShapePair last = lastShapes;
        if (last != null && input.hasShape(last.in)) {
            return last;
        }
        return shapesFor(input.shape());
    }

    /** Validates {@code in} (this op's layout; not retained by the caller) and derives the output shape. */
    private ShapePair shapesFor(long[] in) {
        checkOpen();
        int rank = layer.rank();
        long[] out = layout.fromChannelsFirst(layer.outputShape(layout.toChannelsFirst(in, rank)), rank);
        ShapePair pair = new ShapePair(layout.toChannelsFirst(in, rank), in, out, rank);
        lastShapes = pair;
        return pair;
    }

    @Override
    public String toString() {
        return layer + " on " + backendId + (layout == Layout.CHANNELS_LAST ? " (channels-last)" : "")
            + (isClosed() ? " (closed)" : "");
    }

    private static final class ShapePair {
        final long[] in;
        final long[] out;
        final int batch;
        final long[] spatialIn;

        ShapePair(long[] channelsFirstIn, long[] in, long[] out, int rank) {
            this.in = in;
            this.out = out;
            boolean batched = in.length == rank + 2;
            this.batch = batched ? (int) in[0] : 1;
            this.spatialIn = Arrays.copyOfRange(channelsFirstIn, channelsFirstIn.length - rank, channelsFirstIn.length);
        }
    }
}
