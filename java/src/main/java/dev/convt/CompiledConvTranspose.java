package dev.convt;

import dev.convt.internal.CloseGuard;

import java.util.Arrays;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * A layer bound to its weights on one backend: built once, executed many times, closed once.
 *
 * <p>{@link #forward(Tensor, Tensor)} may be called from several threads at once. {@link #close()} is idempotent;
 * it waits for executions in flight, and any call after it throws {@link IllegalStateException}. Every input and
 * output shape is validated here, in Java, before a backend sees the data.
 *
 * <pre>{@code
 * try (CompiledConvTranspose op = Backends.compile(layer, weight, bias)) {
 *     op.prepare(8, 512, 4, 4);                           // optional: build for this shape ahead of time
 *     Tensor y = Tensor.allocateDirect(op.outputShape(x));
 *     op.forward(x, y);                                   // as often as needed, from any thread
 * }
 * }</pre>
 */
public abstract class CompiledConvTranspose implements AutoCloseable {

    private final ConvTransposeLayer layer;
    private final String backendId;
    private final Layout layout;
    /** Executions in flight and the closed state: close() waits for them without locks. */
    private final CloseGuard guard;
    /** Last input shape seen and its output shape, so steady-state calls skip re-validation without allocating. */
    private volatile ShapePair lastShapes;

    /**
     * For backends.
     *
     * @param layer the layer this op computes
     * @param backendId the id of the backend that runs it
     * @param layout the layout of its input and output tensors
     */
    protected CompiledConvTranspose(ConvTransposeLayer layer, String backendId, Layout layout) {
        this.layer = Objects.requireNonNull(layer, "layer");
        this.backendId = backendId;
        this.layout = Objects.requireNonNull(layout, "layout");
        this.guard = new CloseGuard(() -> "compiled op " + layer + " on " + backendId);
    }

    /**
     * The error for an output whose shape is not the one its input gives, in the words {@code forward} uses; for
     * backends' own entry points that take an output.
     *
     * @param inputShape the input's shape
     * @param expected the output shape that input gives
     * @param got the output's shape
     * @return the exception to throw
     */
    protected static IllegalArgumentException outputShapeError(long[] inputShape, long[] expected, long[] got) {
        return new IllegalArgumentException("output should be of size " + Arrays.toString(expected)
            + " for input of size " + Arrays.toString(inputShape) + ", but got output of size "
            + Arrays.toString(got));
    }

    /**
     * Checks weight and bias tensors against a layer; backends call this before copying them.
     *
     * @param layer the layer
     * @param weight its weight, {@code [inChannels, outChannels/groups, *kernelSize]}
     * @param bias its bias, {@code [outChannels]}, or {@code null}
     * @throws IllegalArgumentException when a shape does not fit the layer
     */
    protected static void checkParameters(ConvTransposeLayer layer, Tensor weight, Tensor bias) {
        Objects.requireNonNull(layer, "layer");
        Objects.requireNonNull(weight, "weight");
        layer.checkWeightShape(weight.shape());
        layer.checkBiasShape(bias == null ? null : bias.shape());
    }

    /** {@return the layer this op computes} */
    public final ConvTransposeLayer layer() { return layer; }

    /** {@return the id of the backend that runs this op} */
    public final String backendId() { return backendId; }

    /** {@return the layout of this op's input and output tensors} */
    public final Layout layout() { return layout; }

    /**
     * The implementation inside the backend that ran (or was prepared) most recently, e.g. {@code brg_deconv:avx2}
     * for oneDNN, whose choice can depend on the input shape.
     *
     * @return the implementation's name
     */
    public abstract String implementation();

    /**
     * Builds whatever this op needs for inputs of {@code inputShape} ahead of the first {@code forward} (oneDNN: the
     * primitive and the weights in its preferred layout) and returns the implementation chosen for it.
     *
     * @param inputShape the shape of the inputs to come, in this op's {@link #layout()}
     * @return the implementation chosen for that shape
     * @throws IllegalArgumentException when the shape does not fit the layer
     */
    public final String prepare(long... inputShape) {
        checkOpen();
        ShapePair shapes = shapesFor(Objects.requireNonNull(inputShape, "inputShape").clone());
        if (shapes.batch == 0) {
            return implementation();
        }
        guard.enter();
        try {
            return prepareShape(shapes.batch, shapes.spatialIn);
        } finally {
            guard.exit();
        }
    }

    /**
     * Backend hook for {@link #prepare}; the default has nothing to prepare.
     *
     * @param batch the batch size (1 for an unbatched input)
     * @param spatialIn the input's spatial extents
     * @return the implementation chosen for that shape
     */
    protected String prepareShape(int batch, long[] spatialIn) {
        return implementation();
    }

    /**
     * Validates {@code input}'s shape and derives the output's.
     *
     * @param input an input tensor, in this op's {@link #layout()}
     * @return the output shape, in the same layout
     * @throws IllegalArgumentException when the input does not fit the layer
     */
    public final long[] outputShape(Tensor input) {
        return shapesFor(Objects.requireNonNull(input, "input")).out.clone();
    }

    /**
     * Validates an input shape and derives the output's.
     *
     * @param inputShape an input shape, in this op's {@link #layout()}
     * @return the output shape, in the same layout
     * @throws IllegalArgumentException when the shape does not fit the layer
     */
    public final long[] outputShape(long... inputShape) {
        return shapesFor(Objects.requireNonNull(inputShape, "inputShape").clone()).out.clone();
    }

    /**
     * Computes the transposed convolution of {@code input} ({@code [N, inChannels, *spatial]} or unbatched
     * {@code [inChannels, *spatial]}) into a new tensor, direct when the input is direct.
     *
     * @param input the input, in this op's {@link #layout()}
     * @return a new output tensor
     * @throws IllegalArgumentException when the input does not fit the layer
     * @throws IllegalStateException when this op is closed
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
     *
     * @param input the input, in this op's {@link #layout()}
     * @param output where the result goes, overwritten
     * @throws IllegalArgumentException when a tensor does not fit the layer or the output is not writable
     * @throws IllegalStateException when this op is closed
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
            throw outputShapeError(shapes.in, shapes.out, output.shape());
        }
        guard.enter();
        try {
            if (shapes.batch == 0) {
                return; // an empty batch has nothing to compute
            }
            execute(input, output, shapes.batch, shapes.spatialIn);
        } finally {
            guard.exit();
        }
    }

    /**
     * Runs the backend on validated tensors. {@code input} is {@code [batch, inChannels, *spatialIn]} or its
     * unbatched form (same element order) in this op's {@link #layout()} ({@code [batch, *spatialIn, inChannels]}
     * for channels-last), {@code output} the matching output.
     *
     * @param input the validated input
     * @param output the validated output, to be overwritten
     * @param batch the batch size (1 for an unbatched input)
     * @param spatialIn the input's spatial extents
     */
    protected abstract void execute(Tensor input, Tensor output, int batch, long[] spatialIn);

    /**
     * Runs {@code body} as an execution in flight, under the same guard as {@link #forward(Tensor, Tensor)}: it throws
     * {@link IllegalStateException} when this op is closed, and {@link #close()} waits for it to finish before
     * releasing the backend's resources. For a backend's own entry points beyond {@code forward} (oneDNN's
     * keep-layout calls); validate the arguments before, so that a refusal does not count as an execution.
     *
     * @param <T> what the body returns
     * @param body the work, run on the calling thread
     * @return what {@code body} returned
     * @throws IllegalStateException when this op is closed
     */
    protected final <T> T whileOpen(Supplier<T> body) {
        Objects.requireNonNull(body, "body");
        guard.enter();
        try {
            return body.get();
        } finally {
            guard.exit();
        }
    }

    /** Releases the backend's resources; called once, after executions in flight have finished. */
    protected abstract void release();

    /** Throws {@link IllegalStateException} when closed. */
    protected final void checkOpen() {
        guard.checkOpen();
    }

    /** {@return whether {@link #close()} has been called} */
    public final boolean isClosed() {
        return guard.isClosed();
    }

    /**
     * Waits for executions in flight, releases the backend's resources, and makes every later call throw
     * {@link IllegalStateException}. Idempotent; a concurrent second call returns only once the resources are released.
     */
    @Override
    public final void close() {
        guard.close(this::release);
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
