package dev.convt.onednn;

import dev.convt.Tensor;
import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.matmul;
import org.bytedeco.dnnl.post_ops;
import org.bytedeco.dnnl.primitive_attr;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.reorder;
import org.bytedeco.dnnl.stream;
import org.bytedeco.dnnl.global.dnnl;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

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
     * not (a bias per row: {@code [1, M, 1]}; oneDNN 3.11 still gives that bias {@code ref:any}, as the C++ floor's
     * {@code matmul-shuffle:wt} notes print).
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

    /**
     * Runs {@code body} with an execution context borrowed from the pool, as {@link #run} does: the keep-layout path
     * ({@link OneDnnTensor}) asks the context which layouts it reads and writes, then runs it.
     */
    final <T> T withExec(Function<Exec, T> body) {
        Exec e = borrow();
        boolean ok = false;
        try {
            T result = body.apply(e);
            ok = true;
            return result;
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

        // ---- The keep-layout path (OneDnnTensor in or out). A route opts in by overriding the three hooks below;
        // ---- every other route reads and writes plain tensors through run(Tensor, Tensor).

        /**
         * The source layout this execution's primitive reads in place, or {@code null} (the default) when it reads
         * only the caller's plain layout, through {@link #run}.
         */
        memory.desc nativeSrcDesc() {
            return null;
        }

        /**
         * The destination layout its primitive writes in place for the keep-layout path, or {@code null} (the
         * default) for the plain layout, written through {@link #run}.
         */
        memory.desc nativeDstDesc() {
            return null;
        }

        /**
         * Runs with the source in {@code src} (a buffer in {@link #nativeSrcDesc()}) or, when {@code src} is null, in
         * {@code input} (plain, bound as {@link #run} binds it), and the destination in {@code dst} (a buffer in
         * {@link #nativeDstDesc()}) or, when {@code dst} is null, in {@code output} (plain). Called only when one of
         * the two hooks above is not {@code null}.
         */
        void runNative(Pointer src, Tensor input, Pointer dst, Tensor output) {
            throw new UnsupportedOperationException(getClass().getName() + " runs on plain tensors only");
        }

        /** State of the keep-layout path, built on its first call: a stream, plain descriptors, the reordered input. */
        private Opaque opaque;

        private Opaque opaque(Geometry g) {
            if (opaque == null) {
                opaque = new Opaque(g, this);
            }
            return opaque;
        }

        /** The layout an input is read in: the primitive's own, or the plain one. Owned by this execution. */
        final memory.desc inputDesc(Geometry g) {
            memory.desc d = nativeSrcDesc();
            return d != null ? d : opaque(g).plainSrc;
        }

        /** The layout the keep-layout path writes its output in. Owned by this execution. */
        final memory.desc keptDesc(Geometry g) {
            memory.desc d = nativeDstDesc();
            return d != null ? d : opaque(g).plainDst;
        }

        /**
         * The keep-layout path, on arguments the op validated: the input is {@code input} (the caller's plain tensor)
         * or {@code in}, the output {@code output} (the caller's plain tensor) or {@code out} (allocated in
         * {@link #keptDesc}). An {@code in} whose layout is not {@link #inputDesc} is reordered into a buffer of this
         * execution's own first.
         *
         * @return whether {@code in} had to be reordered
         */
        final boolean runOpaque(Geometry g, Tensor input, OneDnnTensor in, Tensor output, OneDnnTensor out) {
            Opaque o = opaque(g);
            memory.desc nativeSrc = nativeSrcDesc();
            memory.desc nativeDst = nativeDstDesc();
            boolean reordered = false;
            Pointer srcData = null;
            Tensor srcTensor = input;
            if (in != null) {
                OneDnnTensor src = in;
                if (in.desc().notEquals(inputDesc(g))) {
                    src = o.reorder(in, inputDesc(g));
                    reordered = true;
                }
                if (nativeSrc != null) {
                    srcData = src.data();
                    srcTensor = null;
                } else {
                    srcTensor = src.view(); // plain: its buffer is the tensor run() expects
                }
            }
            Pointer dstData = null;
            Tensor dstTensor = output;
            if (out != null) {
                if (nativeDst != null) {
                    dstData = out.data();
                    dstTensor = null;
                } else {
                    dstTensor = out.view();
                }
            }
            if (nativeSrc == null && nativeDst == null) {
                run(srcTensor, dstTensor);
            } else {
                runNative(srcData, srcTensor, dstData, dstTensor);
            }
            return reordered;
        }

        @Override
        public void close() {
            if (opaque != null) {
                opaque.close();
            }
            owner.close();
        }

        /**
         * One execution's state for the keep-layout path. The reordered input's buffer has a fixed layout (what the
         * execution reads); the reorder into it is kept for the last source layout seen and rebuilt when another
         * comes (a chain feeds one op the same layout every time).
         */
        private static final class Opaque implements AutoCloseable {
            final memory.desc plainSrc;
            final memory.desc plainDst;
            private final Geometry geometry;
            private final Exec exec;
            private stream reorderStream;
            private OneDnnTensor scratch;
            private Owner reorderOwner;
            private memory.desc reorderFrom;
            private reorder reorderPrimitive;

            Opaque(Geometry g, Exec exec) {
                this.geometry = g;
                this.exec = exec;
                try (PointerScope scope = new PointerScope()) {
                    plainSrc = exec.owner.keep(g.userSrcDesc());
                    plainDst = exec.owner.keep(g.userDstDesc());
                }
            }

            /** Reorders {@code in} into this execution's buffer in {@code target} and returns that buffer. */
            OneDnnTensor reorder(OneDnnTensor in, memory.desc target) {
                engine eng = OneDnnRuntime.engine();
                if (reorderStream == null) {
                    reorderStream = exec.newStream();
                }
                if (scratch == null) {
                    scratch = OneDnnTensor.allocate(target, geometry.layout.fromChannelsFirst(geometry.inDims,
                        geometry.rank), geometry.layout, geometry.rank);
                }
                if (reorderPrimitive == null || reorderFrom.notEquals(in.desc())) {
                    closeReorder();
                    Owner kept = new Owner();
                    try (PointerScope scope = new PointerScope()) {
                        reorderFrom = kept.keep(new memory.desc(in.desc()));
                        reorderPrimitive = kept.keep(new reorder(new reorder.primitive_desc(eng, in.desc(), eng,
                            target)));
                    } catch (Throwable t) {
                        kept.close();
                        reorderFrom = null;
                        reorderPrimitive = null;
                        throw t;
                    }
                    reorderOwner = kept;
                }
                reorderPrimitive.execute(reorderStream, in.memory(), scratch.memory());
                reorderStream._wait();
                return scratch;
            }

            private void closeReorder() {
                if (reorderOwner != null) {
                    reorderOwner.close();
                    reorderOwner = null;
                }
                reorderPrimitive = null;
                reorderFrom = null;
            }

            @Override
            public void close() {
                closeReorder();
                if (scratch != null) {
                    scratch.close();
                }
            }
        }
    }
}
