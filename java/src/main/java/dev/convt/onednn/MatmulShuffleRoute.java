package dev.convt.onednn;

import dev.convt.Tensor;
import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.matmul;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.reorder;
import org.bytedeco.dnnl.stream;
import org.bytedeco.javacpp.PointerScope;

/**
 * Kernel equal to stride, no padding, dilation 1 (U-Net's 2x2/2 upsampling): every input position owns a disjoint
 * {@code k}-block of the output, so the layer is one matrix product {@code [N*prod(in), Cin] x [Cin, Cout*prod(k)]}
 * (bias fused) followed by a pixel shuffle that moves each row's {@code Cout*prod(k)} values to their block. The
 * shuffle is a single oneDNN reorder between two strided views of the same dims
 * {@code [N, in_1..in_r, Cout, k_1..k_r]} (channels-last: {@code [N, in.., k.., Cout]}): the product's rows, and the
 * output's positions.
 */
final class MatmulShuffleRoute extends Route {

    static final MatmulShuffleRoute INSTANCE = new MatmulShuffleRoute();

    private MatmulShuffleRoute() {}

    @Override
    String id() {
        return "matmul-shuffle";
    }

    @Override
    String unsupportedReason(Geometry g) {
        if (g.layer.groups() != 1) {
            return "groups > 1";
        }
        for (int i = 0; i < g.rank; i++) {
            if (g.layer.kernelSize(i) != g.layer.stride(i)) {
                return "kernel size differs from stride";
            }
            if (g.layer.dilation(i) != 1) {
                return "dilation > 1";
            }
        }
        return g.allPadding(0) ? null : "padding or output padding";
    }

    @Override
    Plan plan(Weights weights, Geometry g) {
        return new ShufflePlan(weights, g);
    }

    /** Dims and the two sets of strides of the shuffle: the product's rows (plain) and the output's positions. */
    static long[][] shuffleViews(Geometry g) {
        int r = g.rank;
        long cout = g.layer.outChannels();
        long[] dims = new long[2 * r + 2];
        long[] outStrides = new long[2 * r + 2];
        long[] s = new long[r]; // stride of output axis i counted in positions
        long acc = 1;
        for (int i = r - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= g.spatialOut[i];
        }
        long positions = acc;
        long perPosition = g.channelsLast() ? cout : 1; // elements between neighbouring positions
        dims[0] = g.batch;
        outStrides[0] = positions * cout;
        for (int i = 0; i < r; i++) {
            dims[1 + i] = g.spatialIn[i];
            outStrides[1 + i] = g.layer.kernelSize(i) * s[i] * perPosition;
        }
        int channelAxis = g.channelsLast() ? 2 * r + 1 : r + 1;
        int firstTap = g.channelsLast() ? r + 1 : r + 2;
        dims[channelAxis] = cout;
        outStrides[channelAxis] = g.channelsLast() ? 1 : positions;
        for (int i = 0; i < r; i++) {
            dims[firstTap + i] = g.layer.kernelSize(i);
            outStrides[firstTap + i] = s[i] * perPosition;
        }
        long[] rowStrides = new long[dims.length];
        acc = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            rowStrides[i] = acc;
            acc *= dims[i];
        }
        return new long[][] {dims, rowStrides, outStrides};
    }

    private final class ShufflePlan extends Plan {
        private final matmul primitive;
        private final reorder shuffle;
        private final memory.desc srcDesc;
        private final memory.desc rowsDesc;
        private final memory.desc rowsViewDesc;
        private final memory.desc outViewDesc;
        private final memory.desc scratchpadDesc;
        private final memory weightsMemory;
        private final memory biasMemory;
        private final String implementation;

        ShufflePlan(Weights weights, Geometry g) {
            super(g);
            engine eng = OneDnnRuntime.engine();
            try (PointerScope scope = new PointerScope()) {
                long cols = g.columns();
                long cin = g.layer.inChannels();
                long pin = g.inVolume;
                long[] srcDims = {g.batch, pin, cin};
                // channels-first input [N, Cin, P] read as rows [N, P, Cin]: a transposed view, no copy
                srcDesc = owner.keep(g.channelsLast()
                    ? new memory.desc(srcDims, memory.data_type.f32, memory.format_tag.abc)
                    : new memory.desc(srcDims, memory.data_type.f32, new long[] {cin * pin, 1, pin}));
                rowsDesc = owner.keep(new memory.desc(new long[] {g.batch, pin, cols}, memory.data_type.f32,
                    memory.format_tag.abc));
                memory.desc w = new memory.desc(new long[] {1, cin, cols}, memory.data_type.f32, memory.format_tag.any);
                matmul.primitive_desc pd = matmulPd(g, srcDesc, w,
                    weights.hasBias() ? new long[] {1, 1, cols} : null, rowsDesc);
                owner.keep(pd);
                primitive = owner.keep(new matmul(pd));
                scratchpadDesc = owner.keep(pd.scratchpad_desc());
                long[][] views = shuffleViews(g);
                rowsViewDesc = owner.keep(new memory.desc(views[0], memory.data_type.f32, views[1]));
                outViewDesc = owner.keep(new memory.desc(views[0], memory.data_type.f32, views[2]));
                reorder.primitive_desc shufflePd = owner.keep(new reorder.primitive_desc(eng, rowsViewDesc, eng,
                    outViewDesc));
                shuffle = owner.keep(new reorder(shufflePd));
                weightsMemory = weights.matmul(g.layout, pd.weights_desc());
                biasMemory = weights.expandedBias(g.layout, new long[] {1, 1, cols});
                implementation = id() + ": " + pd.impl_info_str().getString() + " + shuffle "
                    + shufflePd.impl_info_str().getString();
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
                final memory rows;
                final memory rowsView;
                final IntMemoryMap args;

                {
                    try (PointerScope scope = new PointerScope()) {
                        stream = newStream();
                        in = binding(srcDesc, geometry.inCount);
                        out = binding(outViewDesc, geometry.outCount);
                        rows = scratch(rowsDesc);
                        rowsView = owner.keep(new memory(rowsViewDesc, OneDnnRuntime.engine(), rows.get_data_handle()));
                        args = args(in.memory(), weightsMemory, biasMemory, rows, scratchpadDesc);
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
                    shuffle.execute(stream, rowsView, out.memory());
                    stream._wait();
                    out.finishOutput(output);
                }
            };
        }
    }
}
