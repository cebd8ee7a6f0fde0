package dev.convt.onednn;

import dev.convt.Tensor;
import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.matmul;
import org.bytedeco.dnnl.post_ops;
import org.bytedeco.dnnl.primitive_attr;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.stream;
import org.bytedeco.dnnl.global.dnnl;
import org.bytedeco.javacpp.Pointer;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * What one route built for one input shape: primitives and constant data shared by every execution (kept by
 * {@link #owner}), and a pool of per-thread {@link Exec}s (stream, memory objects, scratch), so that several threads
 * can run the same plan at once. The pool keeps at most {@link #MAX_IDLE} idle executions; a burst of concurrent
 * callers beyond that releases the extra ones when they finish.
 */
abstract class Plan implements AutoCloseable {

    /** Idle executions kept per plan: enough for as many concurrent callers as there are cores. */
    static final int MAX_IDLE = Math.max(2, Runtime.getRuntime().availableProcessors());

    final Owner owner = new Owner();
    final Geometry geometry;
    private final ArrayDeque<Exec> idle = new ArrayDeque<>();
    private final List<Exec> live = new ArrayList<>();
    private boolean closed;

    Plan(Geometry geometry) {
        this.geometry = geometry;
    }

    /** The execution argument of the first post-op's second source: a bias given as a binary-add post-op. */
    static final int POST_OP_BIAS_ARG = dnnl.DNNL_ARG_ATTR_MULTIPLE_POST_OP_BASE | dnnl.DNNL_ARG_SRC_1;

    /**
     * A matmul primitive descriptor for {@code src x weights (+ bias) -> dst} with a user scratchpad (each execution
     * context brings its own, so concurrent executions stay apart). {@code biasDims} is {@code null} for no bias,
     * else the plain dims of the bias broadcast over the rows. Temporaries belong to the caller's PointerScope.
     *
     * @throws OneDnnException when oneDNN refuses the configuration
     */
    static matmul.primitive_desc matmulPd(Geometry g, memory.desc src, memory.desc weights, long[] biasDims,
                                          memory.desc dst) {
        return matmulPd(g, src, weights, biasDims, dst, false);
    }

    /**
     * As above; with {@code biasAsPostOp} the bias is a binary-add post-op (bound at {@link #POST_OP_BIAS_ARG})
     * instead of the matmul's own bias, which oneDNN's fast kernels accept for broadcasts its bias argument does
     * not (a bias per row: {@code [1, M, 1]}).
     */
    static matmul.primitive_desc matmulPd(Geometry g, memory.desc src, memory.desc weights, long[] biasDims,
                                          memory.desc dst, boolean biasAsPostOp) {
        primitive_attr attr = new primitive_attr();
        attr.set_scratchpad_mode(dnnl.scratchpad_mode.user);
        try {
            if (biasDims == null) {
                return new matmul.primitive_desc(OneDnnRuntime.engine(), src, weights, dst, attr, false);
            }
            memory.desc bias = new memory.desc(biasDims, memory.data_type.f32,
                biasDims.length == 2 ? memory.format_tag.ab : memory.format_tag.abc);
            if (biasAsPostOp) {
                post_ops ops = new post_ops();
                ops.append_binary(dnnl.algorithm.binary_add, bias);
                attr.set_post_ops(ops);
                return new matmul.primitive_desc(OneDnnRuntime.engine(), src, weights, dst, attr, false);
            }
            return new matmul.primitive_desc(OneDnnRuntime.engine(), src, weights, bias, dst, attr, false);
        } catch (RuntimeException e) {
            throw new OneDnnException("oneDNN cannot build the matmul for " + g + ": " + e.getMessage(), e);
        }
    }

    /** The route and oneDNN's implementation, e.g. {@code deconv-any: brg_deconv:avx2 (+ src/dst reorders)}. */
    abstract String implementation();

    /** A new per-thread execution context. */
    abstract Exec newExec();

    /** Runs on validated tensors (the op checked shapes, layout and overlap). */
    final void run(Tensor input, Tensor output) {
        Exec e = borrow();
        boolean ok = false;
        try {
            e.run(input, output);
            ok = true;
        } finally {
            giveBack(e, ok);
        }
    }

    private Exec borrow() {
        synchronized (idle) {
            if (closed) {
                throw new IllegalStateException("plan for " + geometry + " is closed");
            }
            Exec e = idle.pollFirst();
            if (e != null) {
                return e;
            }
        }
        Exec e = newExec();
        synchronized (idle) {
            if (closed) {
                e.close();
                throw new IllegalStateException("plan for " + geometry + " is closed");
            }
            live.add(e);
        }
        return e;
    }

    private void giveBack(Exec e, boolean reusable) {
        synchronized (idle) {
            if (!closed && reusable && idle.size() < MAX_IDLE) {
                idle.addFirst(e);
                return;
            }
            live.remove(e);
        }
        e.close();
    }

    /** Executions alive (idle or running); for tests of the pool's cap. */
    int liveExecutions() {
        synchronized (idle) {
            return live.size();
        }
    }

    @Override
    public void close() {
        synchronized (idle) {
            closed = true;
            for (Exec e : live) {
                e.close();
            }
            live.clear();
            idle.clear();
        }
        owner.close();
    }

    /**
     * One thread's execution state; closed with the plan, or when the pool has enough idle ones. Subclasses build
     * their native objects with the helpers below inside a {@code PointerScope}, and close {@link #owner} if their
     * constructor fails.
     */
    abstract static class Exec implements AutoCloseable {
        final Owner owner = new Owner();

        abstract void run(Tensor input, Tensor output);

        /** A stream of this execution's own. */
        stream newStream() {
            return owner.keep(new stream(OneDnnRuntime.engine()));
        }

        /** A memory object of {@code desc} with no data yet, bound to each call's tensor ({@code count} floats). */
        Binding binding(memory.desc desc, int count) {
            return new Binding(owner.keep(new memory(desc, OneDnnRuntime.engine(), (Pointer) null)), count, owner);
        }

        /** A memory object of {@code desc} with a buffer of its own (an intermediate result). */
        memory scratch(memory.desc desc) {
            return owner.keep(new memory(desc, OneDnnRuntime.engine()));
        }

        /**
         * The arguments of one primitive: source, weights, bias ({@code null} for none), destination, and a user
         * scratchpad of this execution's own, so that concurrent executions of one primitive stay apart.
         */
        IntMemoryMap args(memory src, memory weights, memory bias, memory dst, memory.desc scratchpad) {
            IntMemoryMap a = owner.keep(new IntMemoryMap());
            a.put(dnnl.DNNL_ARG_SRC, src);
            a.put(dnnl.DNNL_ARG_WEIGHTS, weights);
            if (bias != null) {
                a.put(dnnl.DNNL_ARG_BIAS, bias);
            }
            a.put(dnnl.DNNL_ARG_DST, dst);
            a.put(dnnl.DNNL_ARG_SCRATCHPAD, scratch(scratchpad));
            return a;
        }

        @Override
        public void close() {
            owner.close();
        }
    }
}
