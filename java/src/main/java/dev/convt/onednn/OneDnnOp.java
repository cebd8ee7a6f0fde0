package dev.convt.onednn;

import dev.convt.CompiledConvTranspose;
import dev.convt.ConvTransposeLayer;
import dev.convt.Layout;
import dev.convt.Tensor;
import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.deconvolution_forward;
import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.primitive_attr;
import org.bytedeco.dnnl.reorder;
import org.bytedeco.dnnl.stream;
import org.bytedeco.dnnl.global.dnnl;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;

import java.lang.System.Logger.Level;
import java.nio.FloatBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A layer compiled for oneDNN: the user's weights copied once, then per input shape a primitive descriptor, a
 * primitive, the weights reordered into the layout the primitive chose (shared between shapes that choose the same
 * one), and the reorders for source and destination when oneDNN's layouts differ from the plain ones.
 *
 * <p>Executing looks up the shape (no allocation), borrows a per-thread execution context (its own stream, memory
 * objects and scratchpad, so that several threads can run the same op at once), rebinds the caller's buffers with
 * {@code set_data_handle} and executes. With direct tensors reused across calls, a steady-state call allocates no
 * Java objects; heap tensors cost one copy each way through a staging buffer.
 *
 * <p>Output padding: oneDNN has no such argument, so it becomes {@code padding_r = padding - output_padding}. When
 * that is negative, the positions past the end of the full scatter receive no input at all, only the bias. oneDNN
 * accepts a negative {@code padding_r} for some configurations (stride > 1); where it refuses one, the op computes
 * the scatter's natural extent ({@code padding_r = 0}), reorders it into the top of the caller's output, and fills
 * the remaining tail with the bias. Both routes are checked against the reference by the cross-backend suite.
 */
final class OneDnnOp extends CompiledConvTranspose {

    private static final System.Logger LOG = System.getLogger(OneDnnOp.class.getName());

    /** Input shapes whose primitives are kept; a shape beyond this is built, run once, and released. */
    static final int MAX_CACHED_SHAPES = 16;

    private static final memory.format_tag[] PLAIN = {
        null, memory.format_tag.abc, memory.format_tag.abcd, memory.format_tag.abcde
    };
    private static final memory.format_tag[] CHANNELS_LAST = {
        null, memory.format_tag.acb, memory.format_tag.acdb, memory.format_tag.acdeb
    };

    private final engine engine = OneDnnRuntime.engine();
    private final Owner owner = new Owner();
    private final memory userWeights;
    private final memory biasMemory;
    private final float[] biasValues;
    /** Weights already reordered, one per layout a primitive asked for. Guarded by {@code this}. */
    private final List<ReorderedWeights> weightVariants = new ArrayList<>();
    private boolean warnedUncached;

    private record ReorderedWeights(memory.desc desc, memory weights) {}
    /** Copy-on-write, so execute() reads it without locking. Guarded by {@code this} for writes. */
    private volatile ShapeEntry[] cache = new ShapeEntry[0];
    private volatile String implementation = "not built yet (no input shape seen; see prepare())";

    private OneDnnOp(ConvTransposeLayer layer, Tensor weight, Tensor bias, Layout layout) {
        super(layer, OneDnnBackend.ID, layout);
        try (PointerScope scope = new PointerScope()) {
            FloatPointer weightData = owner.keep(new FloatPointer(weight.elementCount()));
            weightData.put(weight.toArray());
            memory.desc userWeightsDesc = new memory.desc(weightsDims(layer), memory.data_type.f32,
                userWeightsTag(layer));
            this.userWeights = owner.keep(new memory(userWeightsDesc, engine, weightData));
            if (bias != null) {
                this.biasValues = bias.toArray();
                FloatPointer biasData = owner.keep(new FloatPointer(biasValues.length));
                biasData.put(biasValues);
                memory.desc biasDesc = new memory.desc(new long[] {layer.outChannels()}, memory.data_type.f32,
                    memory.format_tag.a);
                this.biasMemory = owner.keep(new memory(biasDesc, engine, biasData));
            } else {
                this.biasValues = null;
                this.biasMemory = null;
            }
        } catch (RuntimeException e) {
            owner.close();
            throw new OneDnnException("oneDNN could not hold the weights of " + layer + ": " + e.getMessage(), e);
        }
    }

    static OneDnnOp create(ConvTransposeLayer layer, Tensor weight, Tensor bias, Layout layout) {
        checkParameters(layer, weight, bias);
        return new OneDnnOp(layer, weight, bias, layout);
    }

    // ---------------------------------------------------------------------------------------------
    // The one weight-layout conversion. PyTorch stores [Cin, Cout/G, *k]; oneDNN's deconvolution weights are
    // [Cout, Cin, *k], or [G, Cout/G, Cin/G, *k] with groups. PyTorch's memory order is exactly oneDNN's dims
    // permuted (bac.. without groups, acb.. with), so the user's weights are described in place, not copied.
    // ---------------------------------------------------------------------------------------------

    static long[] weightsDims(ConvTransposeLayer layer) {
        int r = layer.rank();
        int g = layer.groups();
        long[] dims;
        int first;
        if (g == 1) {
            dims = new long[r + 2];
            dims[0] = layer.outChannels();
            dims[1] = layer.inChannels();
            first = 2;
        } else {
            dims = new long[r + 3];
            dims[0] = g;
            dims[1] = layer.outChannels() / g;
            dims[2] = layer.inChannels() / g;
            first = 3;
        }
        for (int i = 0; i < r; i++) {
            dims[first + i] = layer.kernelSize(i);
        }
        return dims;
    }

    static memory.format_tag userWeightsTag(ConvTransposeLayer layer) {
        boolean grouped = layer.groups() > 1;
        switch (layer.rank()) {
            case 1: return grouped ? memory.format_tag.acbd : memory.format_tag.bac;
            case 2: return grouped ? memory.format_tag.acbde : memory.format_tag.bacd;
            default: return grouped ? memory.format_tag.acbdef : memory.format_tag.bacde;
        }
    }

    // ---------------------------------------------------------------------------------------------

    @Override
    public String implementation() {
        return implementation;
    }

    @Override
    protected String prepareShape(int batch, long[] spatialIn) {
        ShapeEntry e = entryFor(batch, spatialIn);
        if (e.uncached) {
            e.close();
        }
        return e.implementation;
    }

    @Override
    protected void execute(Tensor input, Tensor output, int batch, long[] spatialIn) {
        ShapeEntry entry = entryFor(batch, spatialIn);
        if (implementation != entry.implementation) {
            implementation = entry.implementation;
        }
        try {
            entry.run(input, output);
        } catch (RuntimeException e) {
            throw new OneDnnException("oneDNN failed to execute " + layer() + " on input "
                + Arrays.toString(entry.inDims) + " -> output " + Arrays.toString(entry.outDims) + ": "
                + e.getMessage(), e);
        } finally {
            if (entry.uncached) {
                entry.close();
            }
        }
    }

    private ShapeEntry entryFor(int batch, long[] spatialIn) {
        for (ShapeEntry e : cache) {
            if (e.matches(batch, spatialIn)) {
                return e;
            }
        }
        synchronized (this) {
            for (ShapeEntry e : cache) {
                if (e.matches(batch, spatialIn)) {
                    return e;
                }
            }
            ShapeEntry e = new ShapeEntry(batch, spatialIn.clone());
            implementation = e.implementation;
            if (cache.length < MAX_CACHED_SHAPES) {
                ShapeEntry[] grown = Arrays.copyOf(cache, cache.length + 1);
                grown[cache.length] = e;
                cache = grown;
            } else {
                e.uncached = true;
                if (!warnedUncached) {
                    warnedUncached = true;
                    LOG.log(Level.WARNING, () -> "more than " + MAX_CACHED_SHAPES + " input shapes for " + layer()
                        + ": primitives for further shapes (first: input " + Arrays.toString(e.inDims)
                        + ") are rebuilt on every call");
                }
            }
            return e;
        }
    }

    /**
     * oneDNN's reference implementations ({@code ref:any}) are correct but orders of magnitude slower than its
     * JIT ones, and oneDNN falls back to them silently: say so, once per shape built.
     */
    static boolean warnIfReference(String implementation, ConvTransposeLayer layer, long[] inDims) {
        if (!implementation.startsWith("ref")) {
            return false;
        }
        LOG.log(Level.WARNING, () -> "oneDNN chose its reference implementation '" + implementation + "' for " + layer
            + " with input " + Arrays.toString(inDims) + ": expect it to be orders of magnitude slower");
        return true;
    }

    /** The weights in the layout {@code desc}, reordered from the user's copy the first time it is asked for. */
    private memory weightsFor(memory.desc desc) {
        assert Thread.holdsLock(this);
        for (ReorderedWeights v : weightVariants) {
            if (v.desc().equals(desc)) {
                return v.weights();
            }
        }
        memory.desc kept = owner.keep(new memory.desc(desc));
        memory reordered = owner.keep(new memory(kept, engine));
        try (PointerScope scope = new PointerScope()) {
            reorder r = new reorder(userWeights, reordered);
            stream s = new stream(engine);
            r.execute(s, userWeights, reordered);
            s._wait();
        }
        weightVariants.add(new ReorderedWeights(kept, reordered));
        return reordered;
    }

    @Override
    protected synchronized void release() {
        for (ShapeEntry e : cache) {
            e.close();
        }
        cache = new ShapeEntry[0];
        weightVariants.clear();
        owner.close();
    }

    // ---------------------------------------------------------------------------------------------

    /** Everything built for one input shape. Immutable after construction except for its context pool. */
    private final class ShapeEntry {
        final int batch;
        final long[] spatialIn;
        final long[] inDims;
        final long[] outDims;
        /**
         * Output extents lifted to three spatial dimensions (leading 1s): all of it, and the part oneDNN computes
         * (the scatter's natural extent on the padding_r = 0 route). The rest is the tail that gets the bias.
         */
        private final int[] full = {1, 1, 1};
        private final int[] computed = {1, 1, 1};
        final boolean tailFill;
        final boolean nothingToCompute;
        final String implementation;
        boolean uncached;

        private final Owner entryOwner = new Owner();
        private deconvolution_forward primitive;
        private memory.desc userSrcDesc;
        private memory.desc userDstDesc;
        private memory.desc srcDesc;
        private memory.desc dstDesc;
        private memory.desc dstTargetDesc;
        private memory.desc scratchpadDesc;
        private reorder srcReorder;
        private reorder dstReorder;
        private memory weights;
        private final ArrayDeque<ExecContext> idle = new ArrayDeque<>();
        private final List<ExecContext> all = new ArrayList<>();

        ShapeEntry(int batch, long[] spatialIn) {
            ConvTransposeLayer layer = layer();
            int r = layer.rank();
            this.batch = batch;
            this.spatialIn = spatialIn;
            this.inDims = new long[r + 2];
            this.outDims = new long[r + 2];
            inDims[0] = batch;
            inDims[1] = layer.inChannels();
            outDims[0] = batch;
            outDims[1] = layer.outChannels();
            long[] strides = new long[r];
            long[] dilates = new long[r];
            long[] padL = new long[r];
            long[] padR = new long[r];
            boolean negativePadR = false;
            for (int i = 0; i < r; i++) {
                inDims[2 + i] = spatialIn[i];
                outDims[2 + i] = layer.outputSize(i, spatialIn[i]);
                strides[i] = layer.stride(i);
                dilates[i] = layer.dilation(i) - 1; // oneDNN counts dilation from 0
                padL[i] = layer.padBegin(i);
                padR[i] = layer.padEnd(i);
                negativePadR |= padR[i] < 0;
            }
            String impl = null;
            long[] compute = outDims;
            boolean tail = false;
            boolean nothing = false;
            try (PointerScope scope = new PointerScope()) {
                deconvolution_forward.primitive_desc pd;
                try {
                    pd = createPd(outDims, strides, dilates, padL, padR);
                } catch (RuntimeException refused) {
                    if (!negativePadR) {
                        throw failure(refused, padL, padR);
                    }
                    // oneDNN refused the negative padding_r: compute the natural extent and fill the tail with bias.
                    tail = true;
                    compute = outDims.clone();
                    long[] padR0 = padR.clone();
                    for (int i = 0; i < r; i++) {
                        if (padR[i] < 0) {
                            padR0[i] = 0;
                            compute[2 + i] = outDims[2 + i] + padR[i];
                        }
                        nothing |= compute[2 + i] < 1;
                    }
                    if (nothing) {
                        pd = null;
                        impl = "bias-only (the whole output lies past the scatter's extent)";
                    } else {
                        try {
                            pd = createPd(compute, strides, dilates, padL, padR0);
                        } catch (RuntimeException again) {
                            again.addSuppressed(refused);
                            throw failure(again, padL, padR0);
                        }
                    }
                }
                if (pd != null) {
                    entryOwner.keep(pd);
                    primitive = entryOwner.keep(new deconvolution_forward(pd));
                    impl = pd.impl_info_str().getString() + (tail ? " (+ bias tail for output_padding)" : "");
                    srcDesc = entryOwner.keep(pd.src_desc());
                    dstDesc = entryOwner.keep(pd.dst_desc());
                    scratchpadDesc = entryOwner.keep(pd.scratchpad_desc());
                    memory.format_tag userTag = layout() == Layout.CHANNELS_LAST ? CHANNELS_LAST[r] : PLAIN[r];
                    userSrcDesc = entryOwner.keep(new memory.desc(inDims, memory.data_type.f32, userTag));
                    userDstDesc = entryOwner.keep(new memory.desc(outDims, memory.data_type.f32, userTag));
                    if (srcDesc.notEquals(userSrcDesc)) {
                        srcReorder = entryOwner.keep(new reorder(
                            new reorder.primitive_desc(engine, userSrcDesc, engine, srcDesc)));
                    }
                    if (tail) {
                        dstTargetDesc = entryOwner.keep(userDstDesc.submemory_desc(compute, new long[r + 2]));
                    } else {
                        dstTargetDesc = userDstDesc;
                    }
                    if (tail || dstDesc.notEquals(userDstDesc)) {
                        dstReorder = entryOwner.keep(new reorder(
                            new reorder.primitive_desc(engine, dstDesc, engine, dstTargetDesc)));
                    }
                    synchronized (OneDnnOp.this) {
                        memory.desc wanted = pd.weights_desc();
                        weights = weightsFor(wanted);
                    }
                }
            } catch (RuntimeException e) {
                entryOwner.close();
                throw e;
            }
            for (int i = 0; i < r; i++) {
                full[3 - r + i] = (int) outDims[2 + i];
                computed[3 - r + i] = (int) Math.max(0, compute[2 + i]);
            }
            this.tailFill = tail;
            this.nothingToCompute = nothing;
            this.implementation = impl;
            ImplementationNames.warnIfReference(impl, layer, inDims);
        }

        private deconvolution_forward.primitive_desc createPd(long[] dst, long[] strides, long[] dilates, long[] padL,
                                                              long[] padR) {
            ConvTransposeLayer layer = layer();
            memory.desc src = new memory.desc(inDims, memory.data_type.f32, memory.format_tag.any);
            memory.desc w = new memory.desc(weightsDims(layer), memory.data_type.f32, memory.format_tag.any);
            memory.desc d = new memory.desc(dst, memory.data_type.f32, memory.format_tag.any);
            primitive_attr attr = new primitive_attr();
            // A user scratchpad per execution context keeps concurrent executions of one primitive apart.
            attr.set_scratchpad_mode(dnnl.scratchpad_mode.user);
            if (biasMemory != null) {
                memory.desc b = new memory.desc(new long[] {layer.outChannels()}, memory.data_type.f32,
                    memory.format_tag.a);
                return new deconvolution_forward.primitive_desc(engine, dnnl.prop_kind.forward_inference,
                    dnnl.algorithm.deconvolution_direct, src, w, b, d, strides, dilates, padL, padR, attr, false);
            }
            return new deconvolution_forward.primitive_desc(engine, dnnl.prop_kind.forward_inference,
                dnnl.algorithm.deconvolution_direct, src, w, d, strides, dilates, padL, padR, attr, false);
        }

        private OneDnnException failure(RuntimeException e, long[] padL, long[] padR) {
            return new OneDnnException("oneDNN cannot build a deconvolution for " + layer() + " with input "
                + Arrays.toString(inDims) + " -> output " + Arrays.toString(outDims) + " (weights "
                + Arrays.toString(weightsDims(layer())) + ", padding_l " + Arrays.toString(padL) + ", padding_r "
                + Arrays.toString(padR) + "): " + e.getMessage(), e);
        }

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

        void run(Tensor input, Tensor output) {
            if (nothingToCompute) {
                fillTail(output);
                return;
            }
            ExecContext ctx = borrow();
            try {
                ctx.run(input, output);
            } finally {
                giveBack(ctx);
            }
            if (tailFill) {
                fillTail(output);
            }
        }

        /**
         * Writes the bias (or zero) into every output position past the computed region. Positions are visited as
         * runs: a whole plane or row past the computed extent, or the end of a row, so only the tail is touched.
         * A run is {@code count} consecutive positions; in channels-last order each position holds all channels.
         */
        private void fillTail(Tensor output) {
            int channels = (int) outDims[1];
            boolean channelsLast = layout() == Layout.CHANNELS_LAST;
            int row = full[2];
            int plane = full[1] * row;
            int volume = full[0] * plane;
            for (int n = 0; n < batch; n++) {
                for (int c = 0; c < (channelsLast ? 1 : channels); c++) {
                    int base = channelsLast ? n * volume : (n * channels + c) * volume;
                    for (int o0 = 0; o0 < full[0]; o0++) {
                        int start0 = base + o0 * plane;
                        if (o0 >= computed[0]) {
                            fillRun(output, start0, plane, c, channels, channelsLast);
                            continue;
                        }
                        for (int o1 = 0; o1 < full[1]; o1++) {
                            int start1 = start0 + o1 * row;
                            if (o1 >= computed[1]) {
                                fillRun(output, start1, row, c, channels, channelsLast);
                            } else {
                                fillRun(output, start1 + computed[2], row - computed[2], c, channels, channelsLast);
                            }
                        }
                    }
                }
            }
        }

        /** Positions {@code [from, from + count)}: one channel's values, or every channel of each channels-last position. */
        private void fillRun(Tensor output, int from, int count, int channel, int channels, boolean channelsLast) {
            if (!channelsLast) {
                fill(output, from, count, biasValues == null ? 0f : biasValues[channel]);
                return;
            }
            for (int pos = from; pos < from + count; pos++) {
                for (int c = 0; c < channels; c++) {
                    output.set(pos * channels + c, biasValues == null ? 0f : biasValues[c]);
                }
            }
        }

        private static void fill(Tensor t, int from, int count, float value) {
            for (int i = from; i < from + count; i++) {
                t.set(i, value);
            }
        }

        private ExecContext borrow() {
            synchronized (idle) {
                ExecContext ctx = idle.pollFirst();
                if (ctx != null) {
                    return ctx;
                }
            }
            ExecContext ctx = new ExecContext(this);
            synchronized (idle) {
                all.add(ctx);
            }
            return ctx;
        }

        private void giveBack(ExecContext ctx) {
            synchronized (idle) {
                idle.addFirst(ctx);
            }
        }

        void close() {
            synchronized (idle) {
                for (ExecContext c : all) {
                    c.owner.close();
                }
                all.clear();
                idle.clear();
            }
            entryOwner.close();
        }
    }

    /** What one thread needs to run a {@link ShapeEntry}: its stream, memory objects, scratchpad and staging. */
    private final class ExecContext {
        final Owner owner = new Owner();
        final ShapeEntry entry;
        final stream stream;
        final memory userSrc;
        final memory src;
        final memory dst;
        final memory dstTarget;
        final IntMemoryMap args;
        final Binding in;
        final Binding out;

        ExecContext(ShapeEntry e) {
            this.entry = e;
            engine eng = OneDnnRuntime.engine();
            try (PointerScope scope = new PointerScope()) {
                stream = owner.keep(new stream(eng));
                userSrc = owner.keep(new memory(e.userSrcDesc, eng, (Pointer) null));
                src = e.srcReorder != null ? owner.keep(new memory(e.srcDesc, eng)) : userSrc;
                dstTarget = owner.keep(new memory(e.dstTargetDesc, eng, (Pointer) null));
                dst = e.dstReorder != null ? owner.keep(new memory(e.dstDesc, eng)) : dstTarget;
                memory scratchpad = owner.keep(new memory(e.scratchpadDesc, eng));
                in = new Binding(userSrc, (int) Tensor.elementCount(e.inDims));
                out = new Binding(dstTarget, (int) Tensor.elementCount(e.outDims));
                args = owner.keep(new IntMemoryMap());
                args.put(dnnl.DNNL_ARG_SRC, src);
                args.put(dnnl.DNNL_ARG_WEIGHTS, e.weights);
                if (biasMemory != null) {
                    args.put(dnnl.DNNL_ARG_BIAS, biasMemory);
                }
                args.put(dnnl.DNNL_ARG_DST, dst);
                args.put(dnnl.DNNL_ARG_SCRATCHPAD, scratchpad);
            } catch (RuntimeException ex) {
                owner.close();
                throw ex;
            }
        }

        void run(Tensor input, Tensor output) {
            in.bind(input, true);
            if (entry.srcReorder != null) {
                entry.srcReorder.execute(stream, userSrc, src);
            }
            out.bind(output, false);
            entry.primitive.execute(stream, args);
            if (entry.dstReorder != null) {
                entry.dstReorder.execute(stream, dst, dstTarget);
            }
            stream._wait();
            if (!output.isDirect()) {
                out.copyTo(output);
            }
        }

        /**
         * How one side (input or output) of an execution reaches the memory object oneDNN reads or writes: a direct
         * tensor in place, through a pointer kept while the caller keeps passing the same tensor; a heap tensor
         * through a staging buffer allocated on first use and released with the context. The memory object is
         * rebound ({@code set_data_handle}, a JNI call) only when the buffer behind it changes.
         */
        private final class Binding {
            private final memory handle;
            private final int count;
            private FloatPointer staging;
            private FloatBuffer stagingView;
            private Tensor last;
            private Pointer lastPointer;
            private Pointer bound;

            Binding(memory handle, int count) {
                this.handle = handle;
                this.count = count;
            }

            void bind(Tensor t, boolean copyIn) {
                Pointer p;
                if (t.isDirect()) {
                    if (t != last) {
                        lastPointer = new FloatPointer(t.buffer());
                        last = t;
                    }
                    p = lastPointer;
                } else {
                    if (staging == null) {
                        staging = owner.keep(new FloatPointer(count));
                        stagingView = staging.asBuffer();
                    }
                    if (copyIn) {
                        stagingView.clear();
                        stagingView.put(t.buffer());
                    }
                    p = staging;
                }
                if (p != bound) {
                    handle.set_data_handle(p);
                    bound = p;
                }
            }

            void copyTo(Tensor t) {
                stagingView.clear();
                t.buffer().put(stagingView);
            }
        }
    }
}
