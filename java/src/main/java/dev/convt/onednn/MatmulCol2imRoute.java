package dev.convt.onednn;

import dev.convt.Tensor;
import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.matmul;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.stream;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;

import java.nio.FloatBuffer;
import java.util.stream.IntStream;

/**
 * The general route for groups 1 (any stride, padding, output padding, dilation): oneDNN's matmul computes the
 * columns {@code cols[n] = W^T [Cout*prod(k), Cin] x x[n] [Cin, prod(in)]}, then a col2im pass adds every column
 * into its output position, which starts from the bias. This is what ONNX Runtime does with MLAS; it wins where
 * oneDNN's deconvolution kernels fit the shape badly, e.g. few output channels (DCGAN's RGB output layer), because
 * the matrix product stays dense whatever the channel counts.
 *
 * <p>Memory is bounded: the column buffer holds at most {@link #MAX_COLUMN_FLOATS} floats, so the batch is run in
 * chunks when it would not fit, and the route declines layers where a single image's columns exceed it. Each output
 * element is summed in a fixed order (taps, then input positions), so results do not depend on threads.
 */
final class MatmulCol2imRoute extends Route {

    static final MatmulCol2imRoute INSTANCE = new MatmulCol2imRoute();

    /** 64 MiB of columns per execution context. */
    static final long MAX_COLUMN_FLOATS = 16L << 20;

    /** Below this many column elements per call the col2im pass stays on the calling thread. */
    private static final long PARALLEL_THRESHOLD = 1L << 16;

    private MatmulCol2imRoute() {}

    @Override
    String id() {
        return "matmul-col2im";
    }

    @Override
    String unsupportedReason(Geometry g) {
        if (g.layer.groups() != 1) {
            return "groups > 1";
        }
        long perImage = g.columns() * g.inVolume;
        if (perImage > MAX_COLUMN_FLOATS) {
            return "one image's columns (" + perImage + " floats) exceed the bound of " + MAX_COLUMN_FLOATS;
        }
        return null;
    }

    @Override
    Plan plan(Weights weights, Geometry g) {
        return new Col2imPlan(weights, g);
    }

    private final class Col2imPlan extends Plan {
        private final Weights weights;
        private final int chunk;
        private final Product full;
        private final Product tail;
        private final memory.desc inputDesc;
        private final String implementation;
        /** Sizes, kernel, stride, dilation and padBegin lifted to three spatial dimensions (leading 1s and 0s). */
        private final int[] inSize = {1, 1, 1};
        private final int[] outSize = {1, 1, 1};
        private final int[] k = {1, 1, 1};
        private final int[] s = {1, 1, 1};
        private final int[] d = {1, 1, 1};
        private final int[] pb = {0, 0, 0};

        /** One matmul for a batch of {@code images}. */
        private final class Product {
            final int images;
            final matmul primitive;
            final memory.desc xDesc;
            final memory.desc colsDesc;
            final memory.desc scratchpadDesc;
            final memory wt;
            final String impl;

            Product(Geometry g, int images) {
                this.images = images;
                long cols = g.columns();
                long cin = g.layer.inChannels();
                long pin = g.inVolume;
                long[] xDims = {images, cin, pin};
                // channels-last input [N, P, Cin] read as [N, Cin, P]: a transposed view, no copy
                xDesc = owner.keep(g.channelsLast()
                    ? new memory.desc(xDims, memory.data_type.f32, new long[] {pin * cin, 1, cin})
                    : new memory.desc(xDims, memory.data_type.f32, memory.format_tag.abc));
                colsDesc = owner.keep(new memory.desc(new long[] {images, cols, pin}, memory.data_type.f32,
                    memory.format_tag.abc));
                memory.desc wtDesc = new memory.desc(new long[] {1, cols, cin}, memory.data_type.f32,
                    memory.format_tag.any);
                // the activations play oneDNN's "weights" role here: W^T is the constant left operand
                matmul.primitive_desc pd = matmulPd(g, wtDesc, xDesc, null, colsDesc);
                owner.keep(pd);
                primitive = owner.keep(new matmul(pd));
                scratchpadDesc = owner.keep(pd.scratchpad_desc());
                wt = weights.transposed(pd.src_desc());
                impl = pd.impl_info_str().getString();
            }
        }

        Col2imPlan(Weights weights, Geometry g) {
            super(g);
            this.weights = weights;
            int lead = 3 - g.rank;
            for (int i = 0; i < g.rank; i++) {
                inSize[lead + i] = (int) g.spatialIn[i];
                outSize[lead + i] = (int) g.spatialOut[i];
                k[lead + i] = g.layer.kernelSize(i);
                s[lead + i] = g.layer.stride(i);
                d[lead + i] = g.layer.dilation(i);
                pb[lead + i] = (int) g.padL[i];
            }
            try (PointerScope scope = new PointerScope()) {
                long perImage = g.columns() * g.inVolume;
                this.chunk = (int) Math.max(1, Math.min(g.batch, MAX_COLUMN_FLOATS / perImage));
                this.full = new Product(g, chunk);
                int rest = g.batch % chunk;
                this.tail = rest == 0 ? null : new Product(g, rest);
                long cin = g.layer.inChannels();
                long pin = g.inVolume;
                long[] xDims = {g.batch, cin, pin};
                inputDesc = owner.keep(g.channelsLast()
                    ? new memory.desc(xDims, memory.data_type.f32, new long[] {pin * cin, 1, cin})
                    : new memory.desc(xDims, memory.data_type.f32, memory.format_tag.abc));
                implementation = id() + ": " + full.impl + " + col2im (Java)"
                    + (chunk < g.batch ? " in chunks of " + chunk + " images" : "");
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
            return new Col2imExec();
        }

        private final class Col2imExec extends Exec {
            final stream stream;
            final Binding in;
            final FloatPointer cols;
            final FloatBuffer colsView;
            final memory fullX;
            final memory tailX;
            final IntMemoryMap fullArgs;
            final IntMemoryMap tailArgs;
            /** A byte cursor over the input binding's pointer {@code chunkBase}, moved to each chunk's images. */
            Pointer chunkBase;
            Pointer chunkInput;

            Col2imExec() {
                try (PointerScope scope = new PointerScope()) {
                    stream = newStream();
                    in = binding(inputDesc, geometry.inCount);
                    cols = owner.keep(new FloatPointer((long) chunk * geometry.columns() * geometry.inVolume));
                    colsView = cols.asBuffer();
                    fullX = owner.keep(new memory(full.xDesc, OneDnnRuntime.engine(), (Pointer) null));
                    fullArgs = productArgs(full, fullX);
                    tailX = tail == null ? null : owner.keep(new memory(tail.xDesc, OneDnnRuntime.engine(), (Pointer) null));
                    tailArgs = tail == null ? null : productArgs(tail, tailX);
                } catch (Throwable t) {
                    owner.close();
                    throw t;
                }
            }

            /** W^T is oneDNN's source here and the activations its weights: see {@link Product}. */
            private IntMemoryMap productArgs(Product p, memory x) {
                return args(p.wt, x, null, owner.keep(new memory(p.colsDesc, OneDnnRuntime.engine(), cols)),
                    p.scratchpadDesc);
            }

            @Override
            void run(Tensor input, Tensor output) {
                in.bindInput(input);
                Pointer base = in.bound();
                long imageFloats = geometry.layer.inChannels() * geometry.inVolume;
                for (int n0 = 0; n0 < geometry.batch; n0 += chunk) {
                    boolean isTail = geometry.batch - n0 < chunk;
                    Product p = isTail ? tail : full;
                    memory x = isTail ? tailX : fullX;
                    if (n0 == 0 && chunk == geometry.batch) {
                        x.set_data_handle(base);
                    } else {
                        if (base != chunkBase) {
                            chunkInput = new Pointer(base);
                            chunkBase = base;
                        }
                        // set_data_handle takes a void*: JavaCPP adds the position in bytes, whatever the pointer's type
                        x.set_data_handle(chunkInput.position((base.position() + n0 * imageFloats) * Float.BYTES));
                    }
                    p.primitive.execute(stream, isTail ? tailArgs : fullArgs);
                    stream._wait();
                    col2im(output, n0, p.images);
                }
            }

            /** Adds the columns of images {@code [n0, n0 + images)} into the output, which starts from the bias. */
            private void col2im(Tensor out, int n0, int images) {
                int cout = geometry.layer.outChannels();
                long work = (long) images * geometry.columns() * geometry.inVolume;
                if (work < PARALLEL_THRESHOLD) {
                    for (int row = 0; row < images * cout; row++) {
                        col2imPlane(out, n0, row / cout, row % cout);
                    }
                } else {
                    IntStream.range(0, images * cout).parallel()
                        .forEach(row -> col2imPlane(out, n0, row / cout, row % cout));
                }
            }

            /** One output channel of one image: bias, then every tap's column added at its positions. */
            private void col2imPlane(Tensor out, int n0, int local, int co) {
                Geometry g = geometry;
                int cout = g.layer.outChannels();
                int n = n0 + local;
                int outVolume = (int) g.outVolume;
                int inVolume = (int) g.inVolume;
                int kVolume = (int) g.kernelVolume;
                boolean cl = g.channelsLast();
                int step = cl ? cout : 1; // distance between neighbouring positions in the output
                int outBase = cl ? n * outVolume * cout + co : (n * cout + co) * outVolume;
                float b = weights.biasValue(co);
                for (int i = 0; i < outVolume; i++) {
                    out.set(outBase + i * step, b);
                }
                int colBase = (local * cout + co) * kVolume * inVolume;
                for (int t0 = 0; t0 < k[0]; t0++) {
                    int off0 = t0 * d[0] - pb[0];
                    for (int t1 = 0; t1 < k[1]; t1++) {
                        int off1 = t1 * d[1] - pb[1];
                        for (int t2 = 0; t2 < k[2]; t2++) {
                            int off2 = t2 * d[2] - pb[2];
                            int colRow = colBase + ((t0 * k[1] + t1) * k[2] + t2) * inVolume;
                            int lo2 = firstInside(off2, s[2]);
                            int hi2 = lastInside(off2, s[2], outSize[2], inSize[2]);
                            if (lo2 > hi2) {
                                continue;
                            }
                            for (int x0 = firstInside(off0, s[0]); x0 <= lastInside(off0, s[0], outSize[0], inSize[0]); x0++) {
                                int p0 = x0 * s[0] + off0;
                                for (int x1 = firstInside(off1, s[1]); x1 <= lastInside(off1, s[1], outSize[1], inSize[1]); x1++) {
                                    int p1 = x1 * s[1] + off1;
                                    int outRow = outBase + ((p0 * outSize[1] + p1) * outSize[2] + off2) * step;
                                    int colAt = colRow + (x0 * inSize[1] + x1) * inSize[2];
                                    int stride2 = s[2] * step;
                                    for (int x2 = lo2; x2 <= hi2; x2++) {
                                        int at = outRow + x2 * stride2;
                                        out.set(at, out.get(at) + colsView.get(colAt + x2));
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** Smallest input index {@code x >= 0} with {@code x*s + off >= 0}. */
    private static int firstInside(int off, int s) {
        return off >= 0 ? 0 : Math.floorDiv(-off + s - 1, s);
    }

    /** Largest input index {@code x < in} with {@code x*s + off < out}. */
    private static int lastInside(int off, int s, int out, int in) {
        return Math.min(in - 1, Math.floorDiv(out - 1 - off, s));
    }
}
