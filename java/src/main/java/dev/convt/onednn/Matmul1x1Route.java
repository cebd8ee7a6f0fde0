package dev.convt.onednn;

import dev.convt.Tensor;
import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.matmul;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.stream;
import org.bytedeco.javacpp.PointerScope;

/**
 * A 1x1 spatial input (DCGAN's first layer) is one matrix product: with no padding and dilation 1 each input vector
 * is spread over exactly the {@code prod(k)} output positions of the kernel, so
 * {@code out[N, Cout*prod(k)] = x[N, Cin] * W[Cin, Cout*prod(k)] + bias}, written by oneDNN's matmul straight into
 * the caller's output (its columns in the output's own order, see {@link Weights#matmul}). oneDNN's deconvolution
 * runs this case at a fraction of its matmul's speed.
 */
final class Matmul1x1Route extends Route {

    static final Matmul1x1Route INSTANCE = new Matmul1x1Route();

    private Matmul1x1Route() {}

    @Override
    String id() {
        return "matmul-1x1";
    }

    @Override
    String unsupportedReason(Geometry g) {
        if (g.layer.groups() != 1) {
            return "groups > 1";
        }
        for (int i = 0; i < g.rank; i++) {
            if (g.spatialIn[i] != 1) {
                return "the input is not 1x1 spatially";
            }
            if (g.layer.dilation(i) != 1) {
                return "dilation > 1";
            }
        }
        return g.allPadding(0) ? null : "padding or output padding";
    }

    @Override
    Plan plan(Weights weights, Geometry g) {
        return new MatmulPlan(weights, g);
    }

    private final class MatmulPlan extends Plan {
        private final matmul primitive;
        private final memory.desc srcDesc;
        private final memory.desc dstDesc;
        private final memory.desc scratchpadDesc;
        private final memory weightsMemory;
        private final memory biasMemory;
        private final String implementation;

        MatmulPlan(Weights weights, Geometry g) {
            super(g);
            try (PointerScope scope = new PointerScope()) {
                long cols = g.columns();
                srcDesc = owner.keep(new memory.desc(new long[] {g.batch, g.layer.inChannels()}, memory.data_type.f32,
                    memory.format_tag.ab));
                dstDesc = owner.keep(new memory.desc(new long[] {g.batch, cols}, memory.data_type.f32,
                    memory.format_tag.ab));
                memory.desc w = new memory.desc(new long[] {g.layer.inChannels(), cols}, memory.data_type.f32,
                    memory.format_tag.any);
                matmul.primitive_desc pd = matmulPd(g, srcDesc, w, weights.hasBias() ? new long[] {1, cols} : null,
                    dstDesc);
                owner.keep(pd);
                primitive = owner.keep(new matmul(pd));
                scratchpadDesc = owner.keep(pd.scratchpad_desc());
                weightsMemory = weights.matmul(g.layout, pd.weights_desc());
                biasMemory = weights.expandedBias(g.layout, new long[] {1, cols});
                implementation = id() + ": " + pd.impl_info_str().getString();
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
            return new Exec() {
                final stream stream;
                final Binding in;
                final Binding out;
                final IntMemoryMap args;

                {
                    try (PointerScope scope = new PointerScope()) {
                        stream = newStream();
                        in = binding(srcDesc, geometry.inCount);
                        out = binding(dstDesc, geometry.outCount);
                        args = args(in.memory(), weightsMemory, biasMemory, out.memory(), scratchpadDesc);
                    } catch (Throwable t) {
                        owner.close();
                        throw t;
                    }
                }

                @Override
                void run(Tensor input, Tensor output) {
                    in.bindInput(input);
                    out.bindOutput(output);
                    primitive.execute(stream, args);
                    stream._wait();
                    out.finishOutput(output);
                }
            };
        }
    }
}
