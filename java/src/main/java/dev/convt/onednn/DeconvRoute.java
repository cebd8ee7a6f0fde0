package dev.convt.onednn;

import dev.convt.Tensor;
import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.deconvolution_forward;
import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.primitive_attr;
import org.bytedeco.dnnl.reorder;
import org.bytedeco.dnnl.stream;
import org.bytedeco.dnnl.global.dnnl;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;

import java.util.Arrays;

/**
 * oneDNN's deconvolution primitive, in one of two layout policies:
 *
 * <ul>
 *   <li>{@code deconv-any}: source and destination in the layouts oneDNN prefers ({@code format_tag::any}), with
 *       reorders from and to the caller's layout when they differ (the blocked kernels are often worth it);</li>
 *   <li>{@code deconv-plain}: source and destination in the caller's own layout, so no reorder runs at all.</li>
 * </ul>
 *
 * Output padding becomes a negative {@code padding_r}; oneDNN takes it for some configurations (stride > 1). Where it
 * refuses a negative padding, the route computes the scatter's natural extent into a sub-region of the output and
 * fills the rest with the bias ({@link OutsideBox}). Every valid layer runs on this route.
 */
final class DeconvRoute extends Route {

    /** Which layouts the primitive's source and destination descriptors ask for. */
    private enum Io { ANY, CALLER, CHANNELS_LAST }

    static final DeconvRoute ANY = new DeconvRoute("deconv-any", Io.ANY);
    static final DeconvRoute PLAIN = new DeconvRoute("deconv-plain", Io.CALLER);
    /**
     * The channels-last primitive with oneDNN's reorders from and to the caller's layout: what
     * {@link DeconvChannelsLastRoute} builds for tensors too large to transpose on one thread (not a route of its own).
     */
    static final DeconvRoute CHANNELS_LAST_REORDERED = new DeconvRoute("deconv-channels-last", Io.CHANNELS_LAST);

    private final String id;
    private final Io io;

    private DeconvRoute(String id, Io io) {
        this.id = id;
        this.io = io;
    }

    @Override
    String id() {
        return id;
    }

    @Override
    String unsupportedReason(Geometry g) {
        return null;
    }

    @Override
    Plan plan(Weights weights, Geometry g) {
        return new DeconvPlan(weights, g);
    }

    private final class DeconvPlan extends Plan {
        private final Weights weights;
        private final deconvolution_forward primitive;
        private final memory weightsMemory;
        private final memory.desc userSrcDesc;
        private final memory.desc srcDesc;
        private final memory.desc dstDesc;
        private final memory.desc targetDesc;
        private final memory.desc scratchpadDesc;
        private final reorder srcReorder;
        private final reorder dstReorder;
        /** Non-null when only a sub-region is computed and the rest gets the bias. */
        private final OutsideBox outside;
        private final String implementation;

        DeconvPlan(Weights weights, Geometry g) {
            super(g);
            this.weights = weights;
            int r = g.rank;
            engine eng = OneDnnRuntime.engine();
            try (PointerScope scope = new PointerScope()) {
                long[] compute = g.outDims.clone();
                long[] offsets = new long[r + 2];
                boolean box = false;
                boolean nothing = false;
                deconvolution_forward.primitive_desc pd;
                try {
                    pd = createPd(g, compute, g.padL, g.padR);
                } catch (RuntimeException refused) {
                    if (!hasNegative(g.padL) && !hasNegative(g.padR)) {
                        throw failure(g, refused, g.padL, g.padR);
                    }
                    // oneDNN refused a negative padding: compute the natural extent, place it, bias around it
                    box = true;
                    long[] padL0 = new long[r];
                    long[] padR0 = new long[r];
                    for (int i = 0; i < r; i++) {
                        padL0[i] = Math.max(0, g.padL[i]);
                        padR0[i] = Math.max(0, g.padR[i]);
                        offsets[2 + i] = padL0[i] - g.padL[i];
                        compute[2 + i] = g.outDims[2 + i] - offsets[2 + i] - (padR0[i] - g.padR[i]);
                        nothing |= compute[2 + i] < 1;
                    }
                    pd = null;
                    if (!nothing) {
                        try {
                            pd = createPd(g, compute, padL0, padR0);
                        } catch (RuntimeException again) {
                            again.addSuppressed(refused);
                            throw failure(g, again, padL0, padR0);
                        }
                    }
                }
                this.outside = box ? new OutsideBox(g, Arrays.copyOfRange(offsets, 2, r + 2),
                    Arrays.copyOfRange(compute, 2, r + 2)) : null;
                if (pd == null) {
                    primitive = null;
                    weightsMemory = null;
                    userSrcDesc = srcDesc = dstDesc = targetDesc = scratchpadDesc = null;
                    srcReorder = dstReorder = null;
                    implementation = id() + ": bias-only (the whole output lies outside the scatter's extent)";
                    return;
                }
                owner.keep(pd);
                primitive = owner.keep(new deconvolution_forward(pd));
                srcDesc = owner.keep(pd.src_desc());
                dstDesc = owner.keep(pd.dst_desc());
                scratchpadDesc = owner.keep(pd.scratchpad_desc());
                userSrcDesc = owner.keep(g.userSrcDesc());
                memory.desc userDstDesc = owner.keep(g.userDstDesc());
                targetDesc = box ? owner.keep(userDstDesc.submemory_desc(compute, offsets)) : userDstDesc;
                srcReorder = srcDesc.notEquals(userSrcDesc)
                    ? owner.keep(new reorder(new reorder.primitive_desc(eng, userSrcDesc, eng, srcDesc))) : null;
                dstReorder = box || dstDesc.notEquals(userDstDesc)
                    ? owner.keep(new reorder(new reorder.primitive_desc(eng, dstDesc, eng, targetDesc))) : null;
                weightsMemory = weights.deconv(pd.weights_desc());
                implementation = id() + ": " + pd.impl_info_str().getString()
                    + (srcReorder != null ? " + src reorder" : "")
                    + (dstReorder != null && !box ? " + dst reorder" : "")
                    + (box ? " (+ bias outside the computed region)" : "");
            } catch (Throwable t) {
                owner.close();
                throw t;
            }
        }

        @Override
        String implementation() {
            return implementation;
        }

        @Override
        Exec newExec() {
            return primitive == null ? new BiasOnly() : new DeconvExec();
        }

        private final class BiasOnly extends Exec {
            @Override
            void run(Tensor input, Tensor output) {
                outside.fill(output, weights);
            }
        }

        private final class DeconvExec extends Exec {
            final stream stream;
            final Binding in;
            final Binding out;
            final memory src;
            final memory dst;
            final memory scratchpad;
            final IntMemoryMap args;
            /** The keep-layout path's memory objects, bound to a OneDnnTensor's buffer per call; built on first use. */
            private final Rebound nativeSrc = new Rebound();
            private final Rebound nativeDst = new Rebound();

            /**
             * A memory object over an opaque tensor's buffer: created on first use, rebound (a JNI call) only when
             * the buffer changes.
             */
            private final class Rebound {
                private memory handle;
                private Pointer bound;

                memory over(memory.desc desc, Pointer data) {
                    if (handle == null) {
                        handle = owner.keep(new memory(desc, OneDnnRuntime.engine(), (Pointer) null));
                    }
                    if (bound != data) {
                        handle.set_data_handle(data);
                        bound = data;
                    }
                    return handle;
                }
            }
            /** Argument maps by (source, destination): index 1 = native source, 2 = native destination. */
            private final IntMemoryMap[] opaqueArgs = new IntMemoryMap[4];

            DeconvExec() {
                try (PointerScope scope = new PointerScope()) {
                    stream = newStream();
                    in = binding(userSrcDesc, geometry.inCount);
                    out = binding(targetDesc, geometry.outCount);
                    src = srcReorder != null ? scratch(srcDesc) : in.memory();
                    dst = dstReorder != null ? scratch(dstDesc) : out.memory();
                    scratchpad = scratch(scratchpadDesc);
                    args = argsFor(src, dst);
                } catch (Throwable t) {
                    owner.close();
                    throw t;
                }
            }

            /** Source, weights, bias, destination, and this execution's one scratchpad (one call runs at a time). */
            private IntMemoryMap argsFor(memory s, memory d) {
                IntMemoryMap a = owner.keep(new IntMemoryMap());
                a.put(dnnl.DNNL_ARG_SRC, s);
                a.put(dnnl.DNNL_ARG_WEIGHTS, weightsMemory);
                if (weights.bias() != null) {
                    a.put(dnnl.DNNL_ARG_BIAS, weights.bias());
                }
                a.put(dnnl.DNNL_ARG_DST, d);
                a.put(dnnl.DNNL_ARG_SCRATCHPAD, scratchpad);
                return a;
            }

            @Override
            void run(Tensor input, Tensor output) {
                runNative(null, input, null, output); // both sides plain: bound, reordered where needed, the usual args
            }

            // ---- The keep-layout path: the primitive reads and writes oneDNN's layouts in place ----

            @Override
            memory.desc nativeSrcDesc() {
                return srcDesc;
            }

            @Override
            memory.desc nativeDstDesc() {
                // where only a sub-box is computed, the bias around it is written by OutsideBox into a plain output
                return outside == null ? dstDesc : null;
            }

            @Override
            void runNative(Pointer srcData, Tensor input, Pointer dstData, Tensor output) {
                memory s;
                if (srcData != null) {
                    s = nativeSrc.over(srcDesc, srcData);
                } else {
                    in.bindInput(input);
                    if (srcReorder != null) {
                        srcReorder.execute(stream, in.memory(), src);
                    }
                    s = src;
                }
                memory d;
                if (dstData != null) {
                    d = nativeDst.over(dstDesc, dstData);
                } else {
                    out.bindOutput(output);
                    d = dst;
                }
                int which = (s == src ? 0 : 1) + (d == dst ? 0 : 2);
                if (opaqueArgs[which] == null) {
                    opaqueArgs[which] = which == 0 ? args : argsFor(s, d);
                }
                primitive.execute(stream, opaqueArgs[which]);
                if (dstData == null) {
                    if (dstReorder != null) {
                        dstReorder.execute(stream, dst, out.memory());
                    }
                    stream._wait();
                    out.finishOutput(output);
                    if (outside != null) {
                        outside.fill(output, weights);
                    }
                } else {
                    stream._wait();
                }
            }
        }
    }

    private deconvolution_forward.primitive_desc createPd(Geometry g, long[] dst, long[] padL, long[] padR) {
        memory.format_tag io = switch (this.io) {
            case ANY -> memory.format_tag.any;
            case CALLER -> g.userTag();
            case CHANNELS_LAST -> g.channelsLastTag();
        };
        memory.desc src = new memory.desc(g.inDims, memory.data_type.f32, io);
        memory.desc w = new memory.desc(Weights.deconvDims(g.layer), memory.data_type.f32, memory.format_tag.any);
        memory.desc d = new memory.desc(dst, memory.data_type.f32, io);
        primitive_attr attr = new primitive_attr();
        // A user scratchpad per execution context keeps concurrent executions of one primitive apart.
        attr.set_scratchpad_mode(dnnl.scratchpad_mode.user);
        if (g.layer.bias()) {
            memory.desc b = new memory.desc(new long[] {g.layer.outChannels()}, memory.data_type.f32,
                memory.format_tag.a);
            return new deconvolution_forward.primitive_desc(OneDnnRuntime.engine(), dnnl.prop_kind.forward_inference,
                dnnl.algorithm.deconvolution_direct, src, w, b, d, g.strides, g.dilates, padL, padR, attr, false);
        }
        return new deconvolution_forward.primitive_desc(OneDnnRuntime.engine(), dnnl.prop_kind.forward_inference,
            dnnl.algorithm.deconvolution_direct, src, w, d, g.strides, g.dilates, padL, padR, attr, false);
    }

    private static boolean hasNegative(long[] v) {
        for (long x : v) {
            if (x < 0) {
                return true;
            }
        }
        return false;
    }

    private OneDnnException failure(Geometry g, RuntimeException e, long[] padL, long[] padR) {
        return new OneDnnException("oneDNN cannot build a deconvolution (" + id() + ") for " + g + " (weights "
            + Arrays.toString(Weights.deconvDims(g.layer)) + ", padding_l " + Arrays.toString(padL) + ", padding_r "
            + Arrays.toString(padR) + "): " + e.getMessage(), e);
    }
}
