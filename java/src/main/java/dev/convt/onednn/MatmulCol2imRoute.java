package dev.convt.onednn;

import dev.convt.Tensor;
import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.matmul;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.stream;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * The general route for groups 1 (any stride, padding, output padding, dilation): oneDNN's matmul computes the
 * columns {@code cols[n] = W^T [Cout*prod(k), Cin] x x[n] [Cin, prod(in)]}, then a col2im pass adds every column
 * into its output position, which starts from the bias. This is what ONNX Runtime does with MLAS; it wins where
 * oneDNN's deconvolution kernels fit the shape badly, e.g. few output channels (DCGAN's RGB output layer), because
 * the matrix product stays dense whatever the channel counts.
 *
 * <p>The col2im pass works on plain {@code float[]} scratch, one band of an output plane at a time (a whole plane
 * when it is small): it copies each tap's columns out of native memory in bulk, adds them into the band, and writes
 * the band into the output in bulk. Where output positions take several taps each, the band is kept split by output
 * phase (position modulo the stride, on every axis): one tap's contributions then land on consecutive floats, at the
 * same pitch as its columns, and adding a tap is a plain array loop the JIT vectorizes; one pass puts the band back in
 * output order. Bands are claimed by the calling thread and by {@link Helper}s (one fewer than the cores, at most
 * {@link #MAX_THREADS} in all, shared by every plan) when the pass is large enough to pay for a hand-off.
 *
 * <p>Memory is bounded: the column buffer holds at most {@link #MAX_COLUMN_FLOATS} floats, so the batch is run in
 * chunks when it would not fit, and the route declines layers where a single image's columns exceed it. A chunk also
 * holds at most {@link #MAX_INPUT_CHUNK_FLOATS} input floats (or one image): a heap input is copied chunk by chunk
 * into a buffer of that size, which stays in cache for the matmul that reads it, instead of all at once. Each thread's
 * scratch is three arrays of about {@link #BAND_FLOATS} floats (one band, its staged columns, the band in output
 * order; channels-last bands carry up to {@link #CHANNEL_GROUP} channels). Each output element is summed in a fixed order (the
 * bias, then the taps in order), and a band is computed whole by one thread, so results do not depend on threads.
 * The steady state allocates nothing.
 */
final class MatmulCol2imRoute extends Route {

    static final MatmulCol2imRoute INSTANCE = new MatmulCol2imRoute();

    /** 64 MiB of columns per execution context. */
    static final long MAX_COLUMN_FLOATS = 16L << 20;

    /**
     * Input floats per chunk (2 MiB): the heap path copies a chunk into a buffer the matmul then reads from cache. In
     * an interleaved A/B on DCGAN out (RESULTS.md, fourth run) this took the caller's-array call from 1.22-1.26x the
     * direct call's time to 1.10-1.19x, and the direct call itself, whose col2im pass then reads columns the matmul
     * has just written, from 0 to 13% faster.
     */
    static final long MAX_INPUT_CHUNK_FLOATS = 1L << 19;

    /** Floats of one band's accumulator: small enough to stay in a core's L1/L2 cache while the taps add into it. */
    static final int BAND_FLOATS = 1 << 13;

    /**
     * Channels-last output channels a band carries together: one bulk write per band when there are no more, instead
     * of one per position and channel.
     */
    static final int CHANNEL_GROUP = 32;

    /** Threads on one col2im pass, the calling thread included: the pass is bound by memory bandwidth. */
    static final int MAX_THREADS = 8;

    /** Band levels: see {@code Col2imPlan.level}. */
    private static final int SLICES = 0;
    private static final int ROWS = 1;
    private static final int RUN = 2;

    /** Taps per output position (on average) from which a band is split by phase: see {@code Col2imPlan.split}. */
    private static final int SPLIT_TAPS = 2;

    /** Below this many column elements per call the col2im pass stays on the calling thread. */
    private static final long PARALLEL_THRESHOLD = 1L << 18;

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
        private final int cout;
        private final int inVolume;
        private final int outVolume;
        private final int kVolume;
        private final boolean channelsLast;
        /**
         * Each axis split by output phase: position {@code p = j*s + r} is cell {@code j} of phase {@code r}, with
         * {@code r < phases[i]} and {@code j < phaseLength[i]}.
         */
        private final int[] phases = new int[3];
        private final int[] phaseLength = new int[3];
        /**
         * Whether the band is split by phase at all: it pays when each output position takes several taps (adding a
         * tap is then one vectorized loop, and putting the band back in output order one pass); with fewer taps the
         * band stays in output order ({@code sigma} all 1) and a tap is added position by position, every
         * {@code s}-th.
         */
        private final boolean split;
        /** The strides of the band's layout: the layer's when split, else 1. */
        private final int[] sigma = {1, 1, 1};
        /**
         * How a plane is cut into bands: {@link #SLICES} (bands of whole o0 slices), {@link #ROWS} (bands of rows of
         * one slice) or {@link #RUN} (bands of one row).
         */
        private final int level;
        /** A band's extent in cells along the axis it cuts, and how many bands that axis has. */
        private final int bandCells;
        private final int bandsAlong;
        /** Floats from one accumulator row to the next, in SLICES and ROWS bands (RUN bands use bandCells). */
        private final int pitch;
        private final int bandsPerPlane;
        /** Channels per tile: 1 channels-first, up to {@link #CHANNEL_GROUP} channels-last. */
        private final int group;
        private final int tilesPerImage;
        private final int accFloats;
        /** Whether a channels-first band's accumulator is already in output order (stride 1, no padding cells). */
        private final boolean inOrder;
        /** Whether a full chunk is large enough for helpers (a tail chunk is smaller and decides for itself). */
        private final boolean mayShare;

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
            cout = g.layer.outChannels();
            inVolume = (int) g.inVolume;
            outVolume = (int) g.outVolume;
            kVolume = (int) g.kernelVolume;
            channelsLast = g.channelsLast();
            group = channelsLast ? Math.min(cout, CHANNEL_GROUP) : 1;
            // channels-last bands carry `group` channels: fewer positions keep the band's floats about the same
            int budget = channelsLast ? Math.max(512, 2 * BAND_FLOATS / group) : BAND_FLOATS;
            split = (long) kVolume * inVolume >= SPLIT_TAPS * outVolume;
            for (int i = 0; i < 3; i++) {
                sigma[i] = split ? s[i] : 1;
                phases[i] = Math.min(sigma[i], outSize[i]);
                phaseLength[i] = ceilDiv(outSize[i], sigma[i]);
            }
            // rows as long as the column rows (when a phase's cells fit in one) let one tap's columns be added with
            // one loop over all its input rows, where the tap's input rows land on consecutive band rows
            boolean consecutive = split || s[1] == 1 && s[2] == 1;
            pitch = consecutive ? Math.max(phaseLength[2], inSize[2]) : phaseLength[2];
            long row = (long) phases[2] * pitch;
            long slice = (long) phases[0] * phases[1] * phaseLength[1] * row;
            long rows = phases[1] * row;
            if (slice <= budget) {
                level = SLICES;
                bandCells = (int) Math.min(phaseLength[0], budget / slice);
                bandsAlong = ceilDiv(phaseLength[0], bandCells);
                bandsPerPlane = bandsAlong;
                accFloats = (int) (bandCells * slice);
            } else if (rows <= budget) {
                level = ROWS;
                bandCells = (int) Math.min(phaseLength[1], budget / rows);
                bandsAlong = ceilDiv(phaseLength[1], bandCells);
                bandsPerPlane = outSize[0] * bandsAlong;
                accFloats = (int) (bandCells * rows);
            } else {
                level = RUN;
                bandCells = Math.min(phaseLength[2], Math.max(1, budget / phases[2]));
                bandsAlong = ceilDiv(phaseLength[2], bandCells);
                bandsPerPlane = outSize[0] * outSize[1] * bandsAlong;
                accFloats = phases[2] * bandCells;
            }
            tilesPerImage = bandsPerPlane * ceilDiv(cout, group);
            inOrder = !channelsLast && phases[0] == 1 && phases[1] == 1 && phases[2] == 1
                && (level == RUN || pitch == outSize[2]);
            try (PointerScope scope = new PointerScope()) {
                long perImage = g.columns() * g.inVolume;
                long imageFloats = g.layer.inChannels() * g.inVolume;
                this.chunk = (int) Math.max(1, Math.min(g.batch, Math.min(MAX_COLUMN_FLOATS / perImage,
                    MAX_INPUT_CHUNK_FLOATS / imageFloats)));
                this.mayShare = chunk * perImage >= PARALLEL_THRESHOLD && Helper.count() > 0;
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

        /** One thread's scratch for this plan's bands. */
        Scratch newScratch() {
            return new Scratch(accFloats, channelsLast ? accFloats * group : inOrder ? 0 : accFloats, new Band());
        }

        @Override
        Exec newExec() {
            return new Col2imExec();
        }

        private final class Col2imExec extends Exec implements Tiles {
            final stream stream;
            final Binding in;
            final FloatPointer cols;
            final FloatBuffer colsView;
            final memory fullX;
            final memory tailX;
            final IntMemoryMap fullArgs;
            final IntMemoryMap tailArgs;
            final Scratch scratch = newScratch();
            /** One offer per helper, with the scratch that helper uses for this execution's bands. */
            final Offer[] offers;
            /** A heap input's current chunk (allocated on the first heap call), and a view of it. */
            FloatPointer staging;
            FloatBuffer stagingView;
            /** Views of the last heap input's and of the last output's elements. */
            final TensorView inView = new TensorView();
            final TensorView outView = new TensorView();
            /** A byte cursor over the input binding's pointer {@code chunkBase}, moved to each chunk's images. */
            Pointer chunkBase;
            Pointer chunkInput;
            /** The pass in progress: helpers read these after they see their offer made. */
            private final AtomicInteger next = new AtomicInteger();
            private int tileCount;
            private int passN0;
            private FloatBuffer passOut;

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
                offers = new Offer[mayShare ? Helper.count() : 0];
                for (int h = 0; h < offers.length; h++) {
                    offers[h] = new Offer(this, newScratch());
                }
            }

            /** W^T is oneDNN's source here and the activations its weights: see {@link Product}. */
            private IntMemoryMap productArgs(Product p, memory x) {
                return args(p.wt, x, null, owner.keep(new memory(p.colsDesc, OneDnnRuntime.engine(), cols)),
                    p.scratchpadDesc);
            }

            @Override
            void run(Tensor input, Tensor output) {
                // a direct input is read in place; a heap one is copied a chunk at a time into the staging buffer
                boolean heap = !input.isDirect();
                Pointer base = null;
                FloatBuffer source = null;
                if (heap) {
                    source = inView.of(input);
                    if (staging == null) {
                        staging = owner.keep(new FloatPointer((long) chunk * imageFloats()));
                        stagingView = staging.asBuffer();
                    }
                } else {
                    in.bindInput(input);
                    base = in.bound();
                }
                // oneDNN never writes the output here: a heap output is written in place, with no staging buffer
                FloatBuffer target = outView.of(output);
                long imageFloats = imageFloats();
                for (int n0 = 0; n0 < geometry.batch; n0 += chunk) {
                    boolean isTail = geometry.batch - n0 < chunk;
                    Product p = isTail ? tail : full;
                    memory x = isTail ? tailX : fullX;
                    if (heap) {
                        stagingView.put(0, source, (int) (n0 * imageFloats), (int) (p.images * imageFloats));
                        x.set_data_handle(staging);
                    } else if (n0 == 0 && chunk == geometry.batch) {
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
                    col2im(target, n0, p.images);
                }
            }

            private long imageFloats() {
                return geometry.layer.inChannels() * geometry.inVolume;
            }

            /** Adds the columns of images {@code [n0, n0 + images)} into the output, which starts from the bias. */
            private void col2im(FloatBuffer target, int n0, int images) {
                passN0 = n0;
                passOut = target;
                next.set(0);
                tileCount = images * tilesPerImage;
                int offered = (long) images * geometry.columns() * inVolume < PARALLEL_THRESHOLD ? 0
                    : Math.min(offers.length, tileCount - 1);
                for (int h = 0; h < offered; h++) {
                    offers[h].make(h);
                }
                Throwable failure = null;
                try {
                    work(scratch);
                } catch (RuntimeException | Error e) {
                    next.set(tileCount); // the helpers stop claiming bands
                    failure = e;
                }
                for (int h = 0; h < offered; h++) {
                    Throwable helperFailure = offers[h].withdraw();
                    if (failure == null) {
                        failure = helperFailure;
                    } else if (helperFailure != null) {
                        failure.addSuppressed(helperFailure);
                    }
                }
                passOut = null;
                if (failure instanceof RuntimeException e) {
                    throw e;
                }
                if (failure != null) {
                    throw (Error) failure;
                }
            }

            @Override
            public void work(Scratch sc) {
                int n = tileCount;
                for (int t = next.getAndIncrement(); t < n; t = next.getAndIncrement()) {
                    tile(t, sc);
                }
            }

            /** One tile: a band of one output plane (channels-first) or of a group of channels (channels-last). */
            private void tile(int t, Scratch sc) {
                int local = t / tilesPerImage;
                int rest = t - local * tilesPerImage;
                int firstChannel = rest / bandsPerPlane * group;
                Band b = sc.geometry;
                b.set(rest % bandsPerPlane);
                int n = passN0 + local;
                int endChannel = Math.min(cout, firstChannel + group);
                int cg = endChannel - firstChannel;
                FloatBuffer target = passOut;
                for (int co = firstChannel; co < endChannel; co++) {
                    accumulate(sc, local, co);
                    if (channelsLast) {
                        b.reorder(sc.acc, sc.band, cg, co - firstChannel);
                    } else if (inOrder) {
                        target.put((n * cout + co) * outVolume + b.first, sc.acc, 0, b.positions);
                    } else {
                        b.reorder(sc.acc, sc.band, 1, 0);
                        target.put((n * cout + co) * outVolume + b.first, sc.band, 0, b.positions);
                    }
                }
                if (channelsLast) {
                    int at = (n * outVolume + b.first) * cout + firstChannel;
                    if (cg == cout) {
                        target.put(at, sc.band, 0, b.positions * cg);
                    } else {
                        for (int p = 0; p < b.positions; p++) {
                            target.put(at + p * cout, sc.band, p * cg, cg);
                        }
                    }
                }
            }

            /**
             * One channel's band in {@code sc.acc}: the bias, then each tap's columns, the taps in order. Where a
             * tap's input positions land on consecutive cells, its columns are first copied into {@code sc.stage} at
             * the very indices they are added to, so that the adding loop reads both arrays at one index (C2
             * vectorizes only that); otherwise they are added every {@code s2}-th cell.
             */
            private void accumulate(Scratch sc, int local, int co) {
                Band b = sc.geometry;
                float[] acc = sc.acc;
                float[] stage = sc.stage;
                Arrays.fill(acc, 0, b.classes * b.block, weights.biasValue(co));
                int in1 = inSize[1];
                int in2 = inSize[2];
                int w = b.pitch;
                // input x of a tap at offset off lands on cell x*m + a of phase r: (x + q, off - q*s) split, else
                // (x*s + off, 0)
                int m0 = split ? 1 : s[0];
                int m1 = split ? 1 : s[1];
                int m2 = split ? 1 : s[2];
                int colPlane = (local * cout + co) * kVolume * inVolume;
                for (int t0 = 0; t0 < k[0]; t0++) {
                    int off0 = t0 * d[0] - pb[0];
                    int a0 = split ? Math.floorDiv(off0, s[0]) : off0;
                    int c0 = off0 - a0 * sigma[0] - b.phase0;
                    if (c0 < 0 || c0 >= b.phases0) {
                        continue;
                    }
                    int x0lo = Math.max(0, ceilDiv(b.cell0 - a0, m0));
                    int x0hi = Math.min(inSize[0] - 1,
                        Math.floorDiv(Math.min(b.cell0 + b.cells0, b.end(0, c0 + b.phase0)) - 1 - a0, m0));
                    for (int t1 = 0; t1 < k[1] && x0lo <= x0hi; t1++) {
                        int off1 = t1 * d[1] - pb[1];
                        int a1 = split ? Math.floorDiv(off1, s[1]) : off1;
                        int c1 = off1 - a1 * sigma[1] - b.phase1;
                        if (c1 < 0 || c1 >= b.phases1) {
                            continue;
                        }
                        int x1lo = Math.max(0, ceilDiv(b.cell1 - a1, m1));
                        int x1hi = Math.min(in1 - 1,
                            Math.floorDiv(Math.min(b.cell1 + b.cells1, b.end(1, c1 + b.phase1)) - 1 - a1, m1));
                        for (int t2 = 0; t2 < k[2] && x1lo <= x1hi; t2++) {
                            int off2 = t2 * d[2] - pb[2];
                            int a2 = split ? Math.floorDiv(off2, s[2]) : off2;
                            int r2 = off2 - a2 * sigma[2];
                            int x2lo = Math.max(0, ceilDiv(b.cell2 - a2, m2));
                            int x2hi = Math.min(in2 - 1,
                                Math.floorDiv(Math.min(b.cell2 + b.cells2, b.end(2, r2)) - 1 - a2, m2));
                            if (x2lo > x2hi) {
                                continue;
                            }
                            int len = x2hi - x2lo + 1;
                            int colRow = colPlane + ((t0 * k[1] + t1) * k[2] + t2) * inVolume;
                            int block = ((c0 * b.phases1 + c1) * phases[2] + r2) * b.block;
                            for (int x0 = x0lo; x0 <= x0hi; x0++) {
                                // the cell of (x0, x1lo, x2lo), and where the next input row's cells start
                                int at = block + ((x0 * m0 + a0 - b.cell0) * b.cells1 + x1lo * m1 + a1 - b.cell1) * w
                                    + x2lo * m2 + a2 - b.cell2;
                                int rowStep = m1 * w;
                                int from = colRow + (x0 * in1 + x1lo) * in2 + x2lo;
                                if (m2 == 1 && (rowStep == in2 || x1lo == x1hi)) {
                                    // the tap's rows of columns and of cells have one pitch: one copy, one loop
                                    int span = (x1hi - x1lo) * in2 + len;
                                    colsView.get(from, stage, at, span);
                                    if (len < in2) {
                                        // between this tap's parts of two rows lie cells it does not reach: adding
                                        // -0.0 leaves every value as it was
                                        for (int gap = at + len; gap < at + span; gap += in2) {
                                            Arrays.fill(stage, gap, gap + in2 - len, -0.0f);
                                        }
                                    }
                                    add(acc, stage, at, span);
                                } else if (m2 == 1) {
                                    for (int x1 = x1lo; x1 <= x1hi; x1++, at += rowStep, from += in2) {
                                        colsView.get(from, stage, at, len);
                                        add(acc, stage, at, len);
                                    }
                                } else {
                                    for (int x1 = x1lo; x1 <= x1hi; x1++, at += rowStep, from += in2) {
                                        colsView.get(from, stage, 0, len);
                                        add(acc, at, m2, stage, len);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }

        /**
         * One band of a plane and where its cells are in the accumulator: a block of
         * {@code cells0 x cells1 x pitch} floats per phase class, the classes in (r0, r1, r2) order.
         */
        final class Band {
            /** Phases and cells of the band along each axis: phases {@code [phaseI, phaseI + phasesI)}. */
            int phase0;
            int phases0;
            int phase1;
            int phases1;
            int cell0;
            int cells0;
            int cell1;
            int cells1;
            int cell2;
            int cells2;
            int pitch;
            int block;
            int classes;
            /** The band's first output position in its plane, and how many consecutive positions it covers. */
            int first;
            int positions;
            /** Output positions of the band per o0 slice and per row. */
            private int sliceSize;
            private int rowSize;
            private int firstP0;
            private int firstP1;
            private int firstP2;

            /** Moves to band {@code index} of a plane. */
            void set(int index) {
                int out1 = outSize[1];
                int out2 = outSize[2];
                phase0 = 0;
                phases0 = phases[0];
                phase1 = 0;
                phases1 = phases[1];
                cell0 = 0;
                cells0 = phaseLength[0];
                cell1 = 0;
                cells1 = phaseLength[1];
                cell2 = 0;
                cells2 = phaseLength[2];
                pitch = MatmulCol2imRoute.Col2imPlan.this.pitch;
                int along = index % bandsAlong * bandCells;
                int line = index / bandsAlong; // the o0 slice (ROWS), or the (o0, o1) row (RUN)
                if (level == SLICES) {
                    cell0 = along;
                    cells0 = Math.min(bandCells, phaseLength[0] - along);
                    firstP0 = along * sigma[0];
                    firstP1 = 0;
                    firstP2 = 0;
                    sliceSize = out1 * out2;
                    rowSize = out2;
                    positions = (Math.min(outSize[0], (along + cells0) * sigma[0]) - firstP0) * sliceSize;
                } else {
                    int p0 = level == ROWS ? line : line / out1;
                    phase0 = p0 % sigma[0];
                    phases0 = 1;
                    cell0 = p0 / sigma[0];
                    cells0 = 1;
                    firstP0 = p0;
                    if (level == ROWS) {
                        cell1 = along;
                        cells1 = Math.min(bandCells, phaseLength[1] - along);
                        firstP1 = along * sigma[1];
                        firstP2 = 0;
                        rowSize = out2;
                        sliceSize = (Math.min(out1, (along + cells1) * sigma[1]) - firstP1) * out2;
                        positions = sliceSize;
                    } else {
                        int p1 = line % out1;
                        phase1 = p1 % sigma[1];
                        phases1 = 1;
                        cell1 = p1 / sigma[1];
                        cells1 = 1;
                        cell2 = along;
                        cells2 = Math.min(bandCells, phaseLength[2] - along);
                        pitch = bandCells;
                        firstP1 = p1;
                        firstP2 = along * sigma[2];
                        positions = Math.min(out2, (along + cells2) * sigma[2]) - firstP2;
                        rowSize = positions;
                        sliceSize = positions;
                    }
                }
                block = cells0 * cells1 * pitch;
                classes = phases0 * phases1 * phases[2];
                first = (firstP0 * out1 + firstP1) * out2 + firstP2;
            }

            /** One past the last cell of phase {@code r} along {@code axis} (the phase's cell count). */
            int end(int axis, int r) {
                return ceilDiv(outSize[axis] - r, sigma[axis]);
            }

            /**
             * Copies the accumulator's cells to output order: position {@code p} of the band (from its first) goes to
             * {@code out[p*step + offset]}.
             */
            void reorder(float[] acc, float[] out, int step, int offset) {
                int s2 = sigma[2];
                for (int c0 = 0; c0 < phases0; c0++) {
                    int r0 = phase0 + c0;
                    int n0 = Math.min(cells0, end(0, r0) - cell0);
                    for (int c1 = 0; c1 < phases1; c1++) {
                        int r1 = phase1 + c1;
                        int n1 = Math.min(cells1, end(1, r1) - cell1);
                        for (int r2 = 0; r2 < phases[2]; r2++) {
                            int n2 = Math.min(cells2, end(2, r2) - cell2);
                            int block = ((c0 * phases1 + c1) * phases[2] + r2) * this.block;
                            for (int j0 = 0; j0 < n0; j0++) {
                                int p0 = (cell0 + j0) * sigma[0] + r0 - firstP0;
                                for (int j1 = 0; j1 < n1; j1++) {
                                    int p1 = (cell1 + j1) * sigma[1] + r1 - firstP1;
                                    int from = block + (j0 * cells1 + j1) * pitch;
                                    int to = (p0 * sliceSize + p1 * rowSize + cell2 * s2 + r2 - firstP2) * step + offset;
                                    if (s2 == 1 && step == 1) {
                                        System.arraycopy(acc, from, out, to, n2);
                                    } else {
                                        int stride = s2 * step;
                                        for (int j2 = 0; j2 < n2; j2++) {
                                            out[to + j2 * stride] = acc[from + j2];
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** {@code acc[a + i*step] += src[i]} for {@code i < n}. */
    private static void add(float[] acc, int a, int step, float[] src, int n) {
        for (int i = 0; i < n; i++) {
            acc[a + i * step] += src[i];
        }
    }

    /** {@code acc[i] += stage[i]} for {@code i} in {@code [from, from + n)}: one index for both, which C2 vectorizes. */
    private static void add(float[] acc, float[] stage, int from, int n) {
        for (int i = from; i < from + n; i++) {
            acc[i] += stage[i];
        }
    }

    private static int ceilDiv(int a, int b) {
        return -Math.floorDiv(-a, b);
    }

    /** One thread's col2im scratch: a band's accumulator, the columns staged at its indices, the band in output order. */
    static final class Scratch {
        final float[] acc;
        final float[] stage;
        final float[] band;
        final Col2imPlan.Band geometry;

        Scratch(int accFloats, int bandFloats, Col2imPlan.Band geometry) {
            acc = new float[accFloats];
            stage = new float[accFloats];
            band = new float[bandFloats];
            this.geometry = geometry;
        }
    }

    /** The bands of one col2im pass, claimed one at a time until none is left. */
    interface Tiles {
        void work(Scratch scratch);
    }

    /**
     * One execution's standing offer of its current pass to one helper. The calling thread makes it before its own
     * share of the work and withdraws it after: a helper that has not started by then never will, one that has is
     * waited for. Re-armed on every pass, so the steady state allocates nothing.
     */
    static final class Offer {
        private static final int IDLE = 0;
        private static final int MADE = 1;
        private static final int TAKEN = 2;
        private static final int DONE = 3;
        private static final VarHandle STATE;

        static {
            try {
                STATE = MethodHandles.lookup().findVarHandle(Offer.class, "state", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        private final Tiles tiles;
        private final Scratch scratch;
        private volatile int state = IDLE;
        private volatile Thread caller;
        private Throwable failure;

        Offer(Tiles tiles, Scratch scratch) {
            this.tiles = tiles;
            this.scratch = scratch;
        }

        /** Offers the pass to helper {@code h}; a busy helper just does not take it. */
        void make(int h) {
            caller = Thread.currentThread();
            state = MADE; // after the pass was set up: a helper that sees MADE sees the pass
            Helper helper = Helper.get(h);
            if (helper.slot.compareAndSet(null, this)) {
                LockSupport.unpark(helper);
            }
            // else the slot holds another execution's offer, or this one from an earlier pass that the helper has
            // yet to drop: either way the helper takes this offer only while it is MADE, which withdraw() settles
        }

        /** Withdraws the offer, or waits for the helper's bands if it took it; returns what the helper threw. */
        Throwable withdraw() {
            if (STATE.compareAndSet(this, MADE, IDLE)) {
                return null;
            }
            for (int spin = 0; state != DONE; spin++) {
                if (spin < 1 << 14) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            state = IDLE;
            Throwable f = failure;
            failure = null;
            return f;
        }

        /** On a helper: the pass's bands, if the offer still stands. */
        void take() {
            if (!STATE.compareAndSet(this, MADE, TAKEN)) {
                return;
            }
            try {
                tiles.work(scratch);
            } catch (Throwable e) {
                failure = e;
            } finally {
                Thread waiting = caller;
                state = DONE;
                LockSupport.unpark(waiting);
            }
        }
    }

    /**
     * A daemon thread that takes offers; the helpers are started on first use and shared by every plan. Right after
     * the matmul, oneDNN's OpenMP workers keep spinning for a while (libgomp's default wait policy), so where OpenMP
     * runs a thread per core a helper mostly shares a core with one of them: on 2 cores it then neither gained nor
     * lost (median); with a core to spare ({@code OMP_WAIT_POLICY=passive}) it took the pass down 1.6 to 1.9 times.
     */
    static final class Helper extends Thread {
        final AtomicReference<Offer> slot = new AtomicReference<>();

        private Helper(int index) {
            super("convt-col2im-" + index);
            setDaemon(true);
        }

        /** How many helpers there are: one fewer than the cores, at most {@link #MAX_THREADS} - 1. */
        static int count() {
            return All.HELPERS.length;
        }

        static Helper get(int h) {
            return All.HELPERS[h];
        }

        @Override
        public void run() {
            for (;;) {
                Offer o = slot.get();
                if (o == null) {
                    LockSupport.park(this);
                    continue;
                }
                slot.compareAndSet(o, null);
                o.take();
            }
        }

        private static final class All {
            static final Helper[] HELPERS = start();

            private static Helper[] start() {
                int n = Math.min(Runtime.getRuntime().availableProcessors(), MAX_THREADS) - 1;
                Helper[] helpers = new Helper[Math.max(0, n)];
                for (int i = 0; i < helpers.length; i++) {
                    helpers[i] = new Helper(i + 1);
                    helpers[i].start();
                }
                return helpers;
            }
        }
    }
}
