package dev.convt.onednn;

import dev.convt.CompiledConvTranspose;
import dev.convt.ConvTransposeLayer;
import dev.convt.Layout;
import dev.convt.Tensor;

import java.lang.System.Logger.Level;
import java.util.Arrays;

/**
 * A layer compiled for oneDNN: the weights copied once into native memory ({@link Weights}), then per input shape a
 * {@link Plan} built by the route {@link Routes} picks (oneDNN's deconvolution, or a matrix-product form where the
 * shape allows), kept for later calls with the same shape.
 *
 * <p>Executing looks the shape up without allocating, borrows a per-thread execution context from the plan (so
 * several threads can run one op at once), binds the caller's buffers and runs. With direct tensors reused across
 * calls, a steady-state call allocates no Java objects; heap tensors cost one copy each way. Up to
 * {@link #MAX_CACHED_SHAPES} shapes are kept; a shape beyond that is built, run and released (with a warning, once).
 * The op never keeps a strong reference to a caller's tensor after a call.
 */
final class OneDnnOp extends CompiledConvTranspose {

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
