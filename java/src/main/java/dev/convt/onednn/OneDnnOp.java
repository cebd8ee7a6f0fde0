package dev.convt.onednn;

import dev.convt.CompiledConvTranspose;
import dev.convt.ConvTransposeLayer;
import dev.convt.Layout;
import dev.convt.Tensor;

import org.bytedeco.javacpp.PointerScope;

import java.lang.System.Logger.Level;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A layer compiled for oneDNN, as {@link OneDnnBackend#compile} returns it: a {@link CompiledConvTranspose} that can
 * also keep its output in the layout oneDNN prefers and feed it to the next op without a reorder
 * ({@link OneDnnTensor}).
 *
 * <p>The weights are copied once into native memory, then per input shape a plan is built by the route the op's
 * policy picks (oneDNN's deconvolution, or a matrix-product form where the shape allows), kept for later calls with
 * the same shape. Executing looks the shape up without allocating, borrows a per-thread execution context from the
 * plan (so several threads can run one op at once), binds the caller's buffers and runs. With direct tensors reused
 * across calls, a steady-state {@link #forward(Tensor, Tensor)} allocates no Java objects; heap tensors cost one copy
 * each way. Up to 16 shapes are kept; a shape beyond that is built, run and released (with a warning, once). The op
 * never keeps a strong reference to a caller's tensor after a call.
 *
 * <h2>Chaining ops without reorders</h2>
 *
 * {@code deconv-any} runs oneDNN's deconvolution on the layouts it prefers (often blocked, {@code nChw8c}) and, on
 * the {@link Tensor} path, reorders from and to the caller's plain layout. The keep-layout methods skip those
 * reorders between ops:
 *
 * <ul>
 *   <li>{@link #forwardKeepLayout(Tensor)} writes the output where the primitive writes it, in a new
 *       {@link OneDnnTensor}: no destination reorder;</li>
 *   <li>{@link #forwardKeepLayout(OneDnnTensor)} and {@link #forward(OneDnnTensor, Tensor)} read such a tensor in
 *       place when its layout is the one this op's primitive reads, and otherwise reorder it once, into a buffer of
 *       the op's own; {@link #reordersInput(OneDnnTensor)} tells which.</li>
 * </ul>
 *
 * Which routes keep oneDNN's layout: {@code deconv-any} reads and writes the primitive's own layouts, and
 * {@code deconv-plain} the plain ones, in place; where output padding makes oneDNN refuse the padding and the route
 * computes a sub-box with the bias around it, the output is plain. {@code matmul-1x1}, {@code matmul-shuffle} and
 * {@code matmul-col2im} read and write plain tensors: their output is a plain {@link OneDnnTensor}, and an input in
 * another layout is reordered to plain first. Under the {@code auto} policy the route is timed on the plain path,
 * so compile with {@code "deconv-any"} to keep blocked layouts along a chain.
 *
 * <pre>{@code
 * try (OneDnnOp a = OneDnnBackend.INSTANCE.compile(l1, w1, b1, Layout.CHANNELS_FIRST, "deconv-any");
 *      OneDnnOp b = OneDnnBackend.INSTANCE.compile(l2, w2, b2, Layout.CHANNELS_FIRST, "deconv-any");
 *      OneDnnTensor h = a.forwardKeepLayout(x)) {        // h.layoutDescription(): e.g. "nChw8c"
 *     b.forward(h, y);                                  // h read in place: b.reordersInput(h) is false
 * }
 * }</pre>
 *
 * <p>A {@link OneDnnTensor} fits any oneDNN op whose input its shape fits: its shape is converted from its own
 * layout to the op's, so a channels-last op's output may feed a channels-first op. The keep-layout calls run under
 * the same guard as {@code forward}: {@link #close()} waits for them, and after it they throw
 * {@link IllegalStateException}. Those that return a {@link OneDnnTensor} allocate it (a native buffer) and a few
 * small Java objects per call; {@link #forwardKeepLayout(Tensor, OneDnnTensor)} and
 * {@link #forwardKeepLayout(OneDnnTensor, OneDnnTensor)} overwrite a tensor the caller keeps instead.
 */
public final class OneDnnOp extends CompiledConvTranspose {

    private static final System.Logger LOG = System.getLogger(OneDnnOp.class.getName());

    /** Input shapes whose plans are kept; a shape beyond this is built, run once, and released. */
    static final int MAX_CACHED_SHAPES = 16;

    /** Guards building shapes and closing; private, so that a caller locking the op cannot interfere. */
    private final Object lock = new Object();
    private final Weights weights;
    private final String routePolicy;
    /** Copy-on-write, so execute() reads it without locking; written under {@link #lock}. */
    private volatile Entry[] cache = new Entry[0];
    private volatile String implementation = "not built yet (no input shape seen; see prepare())";
    private boolean warnedUncached;
    private final AtomicLong inputReorders = new AtomicLong();

    private record Entry(int batch, long[] spatialIn, Plan plan, boolean uncached) {
        boolean matches(int batch, long[] spatialIn) {
            if (this.batch != batch) {
                return false;
            }
            for (int i = 0; i < spatialIn.length; i++) {
                if (this.spatialIn[i] != spatialIn[i]) {
                    return false;
                }
            }
            return true;
        }
    }

    private OneDnnOp(ConvTransposeLayer layer, Tensor weight, Tensor bias, Layout layout, String routePolicy) {
        super(layer, OneDnnBackend.ID, layout);
        this.routePolicy = routePolicy;
        try {
            this.weights = new Weights(layer, weight, bias, OneDnnRuntime.engine());
        } catch (RuntimeException e) {
            throw new OneDnnException("oneDNN could not hold the weights of " + layer + ": " + e.getMessage(), e);
        }
    }

    static OneDnnOp create(ConvTransposeLayer layer, Tensor weight, Tensor bias, Layout layout, String route) {
        checkParameters(layer, weight, bias);
        String policy = Routes.policy(route);
        return new OneDnnOp(layer, weight, bias, layout, policy);
    }

    @Override
    public String implementation() {
        return implementation;
    }

    @Override
    protected String prepareShape(int batch, long[] spatialIn) {
        Entry e = entryFor(batch, spatialIn);
        if (e.uncached()) {
            e.plan().close();
        }
        return e.plan().implementation();
    }

    @Override
    protected void execute(Tensor input, Tensor output, int batch, long[] spatialIn) {
        Entry entry = entryFor(batch, spatialIn);
        String impl = entry.plan().implementation();
        if (implementation != impl) {
            implementation = impl;
        }
        try {
            entry.plan().run(input, output);
        } catch (IllegalStateException | IllegalArgumentException | OneDnnException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new OneDnnException("oneDNN failed to execute " + entry.plan().geometry + ": " + e.getMessage(), e);
        } finally {
            if (entry.uncached()) {
                entry.plan().close();
            }
        }
    }

    private Entry entryFor(int batch, long[] spatialIn) {
        for (Entry e : cache) {
            if (e.matches(batch, spatialIn)) {
                return e;
            }
        }
        synchronized (lock) {
            checkOpen(); // close() may have run while this thread waited for the lock
            for (Entry e : cache) {
                if (e.matches(batch, spatialIn)) {
                    return e;
                }
            }
            Geometry g = new Geometry(layer(), layout(), batch, spatialIn);
            Plan plan = Routes.choose(weights, g, routePolicy);
            implementation = plan.implementation();
            ImplementationNames.warnIfReference(plan.implementation(), layer(), g.inDims);
            boolean uncached = cache.length >= MAX_CACHED_SHAPES;
            Entry e = new Entry(batch, spatialIn.clone(), plan, uncached);
            if (!uncached) {
                Entry[] grown = Arrays.copyOf(cache, cache.length + 1);
                grown[cache.length] = e;
                cache = grown;
            } else if (!warnedUncached) {
                warnedUncached = true;
                LOG.log(Level.WARNING, () -> "more than " + MAX_CACHED_SHAPES + " input shapes for " + layer()
                    + ": plans for further shapes (first: " + g + ") are rebuilt on every call");
            }
            return e;
        }
    }

    // ---- Keep-layout calls (OneDnnTensor in or out) ----

    /**
     * Computes the transposed convolution of {@code input} like {@link #forward(Tensor)}, and keeps the output in the
     * layout the chosen route's primitive writes: for {@code deconv-any} oneDNN's own (often blocked) layout, with no
     * reorder back to the plain one; for the other routes the plain layout of {@link #layout()}.
     *
     * @param input the input, in this op's {@link #layout()}, heap or direct
     * @return a new tensor of {@link #outputShape(Tensor) the output shape}, in this op's layout; close it
     * @throws IllegalArgumentException when the input does not fit the layer
     * @throws IllegalStateException when this op is closed
     * @throws OneDnnException when oneDNN fails
     */
    public OneDnnTensor forwardKeepLayout(Tensor input) {
        Objects.requireNonNull(input, "input");
        long[] inShape = input.shape();
        long[] outShape = outputShape(inShape);
        return whileOpen(() -> keep(input, null, inShape, outShape));
    }

    /**
     * Computes the transposed convolution of an opaque input and keeps the output in the layout the chosen route's
     * primitive writes (see {@link #forwardKeepLayout(Tensor)}). {@code input} is read in place when its layout is
     * the one this op's primitive reads; otherwise it is reordered once first ({@link #reordersInput}).
     *
     * @param input an open tensor from a oneDNN op, whose shape, converted to this op's {@link #layout()}, fits the
     *     layer; it stays open
     * @return a new tensor of the output shape, in this op's layout; close it
     * @throws IllegalArgumentException when the input does not fit the layer
     * @throws IllegalStateException when this op or {@code input} is closed
     * @throws OneDnnException when oneDNN fails
     */
    public OneDnnTensor forwardKeepLayout(OneDnnTensor input) {
        long[] inShape = inputShape(input);
        long[] outShape = outputShape(inShape);
        return whileReading(input, null, () -> keep(null, input, inShape, outShape));
    }

    /**
     * Computes the transposed convolution of {@code input} into an existing opaque tensor, as
     * {@link #forwardKeepLayout(Tensor)} would, without allocating a native buffer: for a steady state that reuses
     * one output buffer per layer. {@code output} must be in the layout this op writes for the input's shape, which a tensor returned
     * by this op's {@code forwardKeepLayout} for that shape is.
     *
     * @param input the input, in this op's {@link #layout()}, heap or direct
     * @param output an open tensor of the output shape in the layout this op writes; overwritten
     * @throws IllegalArgumentException when a tensor does not fit the layer, or the output's layout is not the one
     *     this op writes
     * @throws IllegalStateException when this op or {@code output} is closed
     * @throws OneDnnException when oneDNN fails
     */
    public void forwardKeepLayout(Tensor input, OneDnnTensor output) {
        Objects.requireNonNull(input, "input");
        long[] inShape = input.shape();
        long[] outShape = outputShape(inShape);
        checkKeptOutput(output, inShape, outShape);
        whileReading(null, output, () -> keepInto(input, null, inShape, output));
    }

    /**
     * Computes the transposed convolution of an opaque input into an existing opaque tensor: see
     * {@link #forwardKeepLayout(OneDnnTensor)} and {@link #forwardKeepLayout(Tensor, OneDnnTensor)}.
     *
     * @param input an open tensor from a oneDNN op that fits the layer; it stays open
     * @param output an open tensor of the output shape in the layout this op writes, not {@code input}; overwritten
     * @throws IllegalArgumentException when a tensor does not fit the layer, the output's layout is not the one this
     *     op writes, or the output is the input
     * @throws IllegalStateException when this op, {@code input} or {@code output} is closed
     * @throws OneDnnException when oneDNN fails
     */
    public void forwardKeepLayout(OneDnnTensor input, OneDnnTensor output) {
        long[] inShape = inputShape(input);
        long[] outShape = outputShape(inShape);
        checkKeptOutput(output, inShape, outShape);
        if (output == input) {
            throw new IllegalArgumentException("output must not be the input tensor (in-place is not supported)");
        }
        whileReading(input, output, () -> keepInto(null, input, inShape, output));
    }

    /**
     * Computes the transposed convolution of an opaque input into a plain tensor. {@code input} is read in place
     * when its layout is the one this op's primitive reads; otherwise it is reordered once first
     * ({@link #reordersInput}). The output is written as {@link #forward(Tensor, Tensor)} writes it.
     *
     * @param input an open tensor from a oneDNN op, whose shape, converted to this op's {@link #layout()}, fits the
     *     layer; it stays open
     * @param output where the result goes, overwritten: exactly the output shape, in this op's layout, writable
     * @throws IllegalArgumentException when a tensor does not fit the layer or the output is not writable
     * @throws IllegalStateException when this op or {@code input} is closed
     * @throws OneDnnException when oneDNN fails
     */
    public void forward(OneDnnTensor input, Tensor output) {
        long[] inShape = inputShape(input);
        long[] outShape = outputShape(inShape);
        Objects.requireNonNull(output, "output");
        // (the output cannot share storage with the input: a OneDnnTensor's buffer is never handed out)
        if (output.isReadOnly()) {
            throw new IllegalArgumentException("output tensor is read-only");
        }
        if (!output.hasShape(outShape)) {
            throw outputShapeError(inShape, outShape, output.shape());
        }
        whileReading(input, null, () -> {
            int batch = batchOf(inShape);
            if (batch > 0) {
                runOpaque(null, input, output, null, null, batch, spatialOf(inShape));
            }
            return null;
        });
    }

    /**
     * Computes the transposed convolution of an opaque input into a new plain, direct tensor: see
     * {@link #forward(OneDnnTensor, Tensor)}.
     *
     * @param input an open tensor from a oneDNN op that fits the layer; it stays open
     * @return a new direct tensor of the output shape, in this op's layout
     * @throws IllegalArgumentException when the input does not fit the layer
     * @throws IllegalStateException when this op or {@code input} is closed
     * @throws OneDnnException when oneDNN fails
     */
    public Tensor forward(OneDnnTensor input) {
        Tensor out = Tensor.allocateDirect(outputShape(inputShape(input)));
        forward(input, out);
        return out;
    }

    /**
     * Whether this op, fed {@code input} by {@link #forwardKeepLayout(OneDnnTensor)} or
     * {@link #forward(OneDnnTensor, Tensor)}, reorders it first: {@code false} when the input's layout is the one the
     * route chosen for its shape reads (and for an empty batch). Builds that route's plan for the shape, as
     * {@link #prepare} does.
     *
     * @param input an open tensor from a oneDNN op that fits the layer
     * @return whether a reorder of the input would run
     * @throws IllegalArgumentException when the input does not fit the layer
     * @throws IllegalStateException when this op or {@code input} is closed
     */
    public boolean reordersInput(OneDnnTensor input) {
        long[] inShape = inputShape(input);
        outputShape(inShape);
        return whileReading(input, null, () -> {
            int batch = batchOf(inShape);
            if (batch == 0) {
                return false;
            }
            Entry entry = entryFor(batch, spatialOf(inShape));
            try {
                Geometry g = entry.plan().geometry;
                return entry.plan().withExec(e -> input.desc().notEquals(e.inputDesc(g)));
            } finally {
                if (entry.uncached()) {
                    entry.plan().close();
                }
            }
        });
    }

    /** How many opaque inputs this op has reordered before running (for tests: "read in place" means no change). */
    long inputReorders() {
        return inputReorders.get();
    }

    /**
     * Validates an opaque input before any native call: not null, open, made on this process's engine, f32, of this
     * op's spatial rank; returns its shape in this op's layout, for {@link #outputShape(long...)} to judge.
     */
    private long[] inputShape(OneDnnTensor input) {
        Objects.requireNonNull(input, "input");
        checkOpen();
        return opaqueShape(input, "input");
    }

    /**
     * The checks every opaque tensor passes before a native call, as the {@code role} ("input", "output") of this
     * op: open, on this process's engine, f32, of this op's spatial rank. Returns its shape in this op's layout.
     */
    private long[] opaqueShape(OneDnnTensor t, String role) {
        t.checkOpen();
        if (t.engine() != OneDnnRuntime.engine()) {
            throw new IllegalArgumentException(role + " " + t + " lives on another oneDNN engine than this op");
        }
        if (t.dataType().value != org.bytedeco.dnnl.memory.data_type.f32.value) {
            throw new IllegalArgumentException(role + " " + t + " holds " + t.dataType() + ", this op works on f32");
        }
        int rank = layer().rank();
        if (t.spatialRank() != rank) {
            throw new IllegalArgumentException(role + " " + t + " is the output of a " + t.spatialRank()
                + "d op, but " + layer() + " takes " + rank + " spatial dimensions (toTensor() and reshape it to "
                + "reinterpret it)");
        }
        // its shape in its own layout, then in this op's: the same logical tensor (oneDNN's dims are layout-free)
        return layout().fromChannelsFirst(t.layoutUnchecked().toChannelsFirst(t.shapeUnchecked(), rank), rank);
    }

    /**
     * Runs {@code body} as an execution of this op ({@link #whileOpen}) with the opaque tensors {@code in} and
     * {@code out} (either may be null) marked in use, so that closing them waits for it.
     */
    private <T> T whileReading(OneDnnTensor in, OneDnnTensor out, java.util.function.Supplier<T> body) {
        return whileOpen(() -> {
            if (in != null) {
                in.enter();
            }
            try {
                if (out != null) {
                    out.enter();
                }
                try {
                    return body.get();
                } finally {
                    if (out != null) {
                        out.exit();
                    }
                }
            } finally {
                if (in != null) {
                    in.exit();
                }
            }
        });
    }

    private int batchOf(long[] inShape) {
        return inShape.length == layer().rank() + 2 ? (int) inShape[0] : 1;
    }

    private long[] spatialOf(long[] inShape) {
        long[] cf = layout().toChannelsFirst(inShape, layer().rank());
        return Arrays.copyOfRange(cf, cf.length - layer().rank(), cf.length);
    }

    /**
     * Validates an opaque output before any native call, as {@link #inputShape} does an input, and its shape against
     * {@code outShape}; whether its layout is the one written is checked with the plan, in {@link #keepInto}.
     */
    private void checkKeptOutput(OneDnnTensor output, long[] inShape, long[] outShape) {
        Objects.requireNonNull(output, "output");
        long[] got = opaqueShape(output, "output");
        if (!Arrays.equals(got, outShape)) {
            throw outputShapeError(inShape, outShape, got);
        }
    }

    /** The keep-layout body into a caller's tensor, under the guards of the op and of the tensors. */
    private Void keepInto(Tensor input, OneDnnTensor in, long[] inShape, OneDnnTensor output) {
        int batch = batchOf(inShape);
        if (batch > 0) { // an empty batch has nothing to compute (and nothing to write)
            runOpaque(input, in, null, output, null, batch, spatialOf(inShape));
        }
        return null;
    }

    /** The keep-layout body, under the op's guard (and the input's, when opaque). */
    private OneDnnTensor keep(Tensor input, OneDnnTensor in, long[] inShape, long[] outShape) {
        int batch = batchOf(inShape);
        if (batch == 0) { // an empty batch: nothing to compute, an empty plain tensor to return
            try (PointerScope scope = new PointerScope()) {
                long[] cf = layout().toChannelsFirst(outShape, layer().rank());
                return OneDnnTensor.allocate(new org.bytedeco.dnnl.memory.desc(cf, org.bytedeco.dnnl.memory.data_type.f32,
                    Geometry.plainTag(layout(), layer().rank())), outShape, layout(), layer().rank());
            }
        }
        return runOpaque(input, in, null, null, outShape, batch, spatialOf(inShape));
    }

    /**
     * Runs the plan for the shape on the keep-layout path: the input is {@code input} or {@code in}; the output goes
     * to {@code output}, or to the caller's opaque {@code into} (refused unless in the layout the plan writes), or,
     * when both are null, into a new OneDnnTensor of {@code outShape}, which is returned.
     */
    private OneDnnTensor runOpaque(Tensor input, OneDnnTensor in, Tensor output, OneDnnTensor into, long[] outShape,
                                   int batch, long[] spatialIn) {
        Entry entry = entryFor(batch, spatialIn);
        Plan plan = entry.plan();
        String impl = plan.implementation();
        if (implementation != impl) {
            implementation = impl;
        }
        try {
            return plan.withExec(e -> {
                if (into != null) {
                    if (into.desc().notEquals(e.keptDesc(plan.geometry))) {
                        throw new IllegalArgumentException("output " + into + " is not in the layout this op writes "
                            + "for this input shape (" + OneDnnTensor.describe(e.keptDesc(plan.geometry),
                            layer().rank()) + "): pass a tensor from this op's forwardKeepLayout for the shape, or "
                            + "use forward(input, Tensor)");
                    }
                    if (e.runOpaque(plan.geometry, input, in, null, into)) {
                        inputReorders.incrementAndGet();
                    }
                    return null;
                }
                OneDnnTensor out = output != null ? null
                    : OneDnnTensor.allocate(e.keptDesc(plan.geometry), outShape, layout(), layer().rank());
                try {
                    if (e.runOpaque(plan.geometry, input, in, output, out)) {
                        inputReorders.incrementAndGet();
                    }
                    return out;
                } catch (Throwable t) {
                    if (out != null) {
                        out.close();
                    }
                    throw t;
                }
            });
        } catch (IllegalStateException | IllegalArgumentException | OneDnnException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new OneDnnException("oneDNN failed to execute " + plan.geometry + ": " + e.getMessage(), e);
        } finally {
            if (entry.uncached()) {
                plan.close();
            }
        }
    }

    /** Execution contexts alive over every cached shape (idle or running); for tests of the pool's cap. */
    int liveExecutions() {
        int n = 0;
        for (Entry e : cache) {
            n += e.plan().liveExecutions();
        }
        return n;
    }

    @Override
    protected void release() {
        synchronized (lock) {
            for (Entry e : cache) {
                e.plan().close();
            }
            cache = new Entry[0];
            weights.close();
        }
    }
}
