package dev.convt.purejava;

import dev.convt.CompiledConvTranspose;
import dev.convt.ConvTransposeLayer;
import dev.convt.Layout;
import dev.convt.Tensor;

import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * A layer compiled for the {@link JavaBackend}: its weights repacked once into one matrix per (group, phase class),
 * then per input shape a {@link Plan} of tiles, each tile computed completely by one thread.
 *
 * <p>Geometry is lifted to three spatial dimensions (a missing leading dimension has size, kernel, stride and
 * dilation 1 and no padding, which changes nothing). Along dimension {@code i}, output position {@code o} is in phase
 * {@code r = (o + padBegin) mod stride} at phase coordinate {@code q = floor((o + padBegin) / stride)}; the taps of
 * phase {@code r} are the {@code t} with {@code t*dilation mod stride == r}, and tap {@code t} reads input position
 * {@code q - d} with shift {@code d = (t*dilation - r) / stride}. Only {@link ConvTransposeLayer#padBegin} and
 * {@link ConvTransposeLayer#outputSize} are used, so any integer padding (negative included) works: positions no
 * tap reaches get the bias alone.
 *
 * <p>Two ways to turn that into matrix products ({@link Geometry}):
 * <ul>
 *   <li><b>merged</b>: every phase reads the input at the same shifts {@code 0 .. D-1}, so all phases share one
 *       gathered input; one product per group with a row per (phase, output channel) and a reduction over
 *       (shift, input channel), where a phase without a tap at some shift has zero weights there, on the union of
 *       the phases' grids. It gathers the input once instead of once per phase, and gives layers with few output
 *       channels tall products (an inverse-STFT layer: 256 rows instead of 1).</li>
 *   <li><b>per phase</b>: one product per (group, phase) over that phase's own taps and grid: no zero weights and
 *       no extra grid border, which matters for small images (DCGAN's 4x4 to 8x8 layer: a 5x5 union grid would be
 *       56% more work).</li>
 * </ul>
 * Each input shape takes the one with the smaller estimated cost (multiply-adds plus {@link #GATHER_COST} per
 * gathered element), merged only where its zero weights stay under a quarter of the work (kernel a multiple of the
 * stride, the common case). The first geometry's weights are packed at compile time; another is packed from them
 * when an input shape first needs it.
 */
final class JavaOp extends CompiledConvTranspose {

    /** Phases may be merged when the merged product does at most this many times the useful multiply-adds. */
    static final double MERGE_MAX_WORK = 1.25;
    /**
     * What gathering one input element costs, in multiply-adds, for choosing between merged and per-phase
     * products (measured on AVX2: about 0.4 ns per gathered element, 0.025 ns per multiply-add in the vector kernel).
     */
    static final long GATHER_COST = 16;
    static final int MAX_CACHED_SHAPES = 16;

    /** How a plan picks between merged and per-phase products: by cost (always, outside tests), or forced. */
    enum Products { BY_COST, MERGED_WHERE_ALLOWED, PER_PHASE }

    private final Kernel kernel;
    private final Workers workers;
    private final Products products;
    private final String implementation;
    private final float[] bias;
    private final int cin;
    private final int cout;
    private final int groups;
    private final int cinG;
    private final int coutG;
    private final int[] kernelSize = {1, 1, 1};
    private final int[] dilation = {1, 1, 1};
    private final int[] padBegin = new int[3];
    /** The geometry packed at compile time (the source of every other's weights), and all built so far. */
    private final Geometry primary;
    private volatile Geometry[] geometries;
    /** Per input shape, copy-on-write (execute() reads without locking). */
    private volatile Plan[] plans = new Plan[0];

    private JavaOp(ConvTransposeLayer layer, float[] weight, float[] bias, Layout layout, Kernel kernel,
                   Workers workers, int threads, Products products) {
        super(layer, JavaBackend.ID, layout);
        this.kernel = kernel;
        this.workers = workers;
        this.products = products;
        this.bias = bias;
        this.cin = layer.inChannels();
        this.cout = layer.outChannels();
        this.groups = layer.groups();
        this.cinG = cin / groups;
        this.coutG = cout / groups;
        int lead = 3 - layer.rank();
        int[] stride = {1, 1, 1};
        for (int i = 0; i < layer.rank(); i++) {
            kernelSize[lead + i] = layer.kernelSize(i);
            stride[lead + i] = layer.stride(i);
            dilation[lead + i] = layer.dilation(i);
            padBegin[lead + i] = layer.padBegin(i);
        }
        int kVolume = kernelSize[0] * kernelSize[1] * kernelSize[2];
        this.primary = new Geometry(stride, mergeable(stride));
        primary.pack((ci, co, tap) -> weight[(ci * coutG + co) * kVolume + tap]);
        this.geometries = new Geometry[] {primary};
        this.implementation = "java:phase-gemm, " + kernel.describe() + ", " + threads + " thread"
            + (threads == 1 ? "" : "s");
    }

    static JavaOp create(ConvTransposeLayer layer, Tensor weight, Tensor bias, Layout layout, Kernel kernel,
                         Workers workers, int threads) {
        return create(layer, weight, bias, layout, kernel, workers, threads, Products.BY_COST);
    }

    static JavaOp create(ConvTransposeLayer layer, Tensor weight, Tensor bias, Layout layout, Kernel kernel,
                         Workers workers, int threads, Products products) {
        checkParameters(layer, weight, bias);
        return new JavaOp(layer, weight.toArray(), bias == null ? null : bias.toArray(), layout, kernel, workers,
            threads, products);
    }

    /** Whether inputs of this (channels-first) shape run as one merged product per group (for tests). */
    boolean mergedFor(long... inputShape) {
        prepare(layout().fromChannelsFirst(inputShape, layer().rank()));
        long[] spatial = Arrays.copyOfRange(inputShape, inputShape.length - layer().rank(), inputShape.length);
        return planFor(inputShape.length == layer().rank() + 2 ? (int) inputShape[0] : 1, spatial).geometry.merged;
    }

    /** The weight of input channel {@code ci} (of the layer), output channel {@code co} (of its group), tap {@code tap}. */
    private interface Weights {
        float get(int ci, int co, int tap);
    }

    /**
     * The products for one stride vector. A class is a set of phases computed as one product: every phase
     * (merged), or one phase each. Per class: the input shifts of its reduction slots along each dimension, the
     * reduction length (slots x input channels per group), and per group the weight matrix in MR-row panels,
     * {@code [(panel * L + kk) * MR + row]} with {@code kk = slot * cinG + ci} and rows past the last zero.
     */
    private final class Geometry {
        final int[] stride;
        final int phases;
        final boolean merged;
        final int classes;
        /** Rows of a class's product: (phase, output channel) merged, output channels per phase. */
        final int rowsPerGroup;
        final int blockRows;
        final int rowBlocks;
        final int[][] shift0;
        final int[][] shift1;
        final int[][] shift2;
        final int[] length;
        private volatile float[][] packed;
        /** Where each tap's weights live: class, phase (merged rows), slot. */
        private final int[] classOfTap;
        private final int[] phaseOfTap;
        private final int[] slotOfTap;

        Geometry(int[] stride, boolean merged) {
            this.stride = stride.clone();
            this.phases = Math.multiplyExact(Math.multiplyExact(stride[0], stride[1]), stride[2]);
            int[] shifts = new int[3]; // D per dimension: shifts 0 .. D-1 cover every tap of every phase
            long kVolume = 1;
            for (int d = 0; d < 3; d++) {
                shifts[d] = (kernelSize[d] - 1) * dilation[d] / stride[d] + 1;
                kVolume *= kernelSize[d];
            }
            this.merged = merged;
            this.classes = merged ? 1 : phases;
            this.rowsPerGroup = Math.multiplyExact(merged ? phases : 1, coutG);
            int blocks = (rowsPerGroup + Scratch.MB - 1) / Scratch.MB;
            int perBlock = (rowsPerGroup + blocks - 1) / blocks;
            this.blockRows = (perBlock + Scratch.MR - 1) / Scratch.MR * Scratch.MR;
            this.rowBlocks = (rowsPerGroup + blockRows - 1) / blockRows;
            this.shift0 = new int[classes][];
            this.shift1 = new int[classes][];
            this.shift2 = new int[classes][];
            this.length = new int[classes];
            this.classOfTap = new int[(int) kVolume];
            this.phaseOfTap = new int[(int) kVolume];
            this.slotOfTap = new int[(int) kVolume];
            Arrays.fill(slotOfTap, -1);
            if (merged) {
                int slots = shifts[0] * shifts[1] * shifts[2];
                shift0[0] = new int[slots];
                shift1[0] = new int[slots];
                shift2[0] = new int[slots];
                for (int i = 0; i < slots; i++) {
                    shift0[0][i] = i / (shifts[1] * shifts[2]);
                    shift1[0][i] = (i / shifts[2]) % shifts[1];
                    shift2[0][i] = i % shifts[2];
                }
                length[0] = Math.multiplyExact(slots, cinG);
                for (int tap = 0; tap < kVolume; tap++) {
                    int[] t = {tap / (kernelSize[1] * kernelSize[2]), (tap / kernelSize[2]) % kernelSize[1],
                        tap % kernelSize[2]};
                    int phase = 0;
                    int slot = 0;
                    for (int d = 0; d < 3; d++) {
                        int r = (t[d] * dilation[d]) % stride[d];
                        phase = phase * stride[d] + r;
                        slot = slot * shifts[d] + (t[d] * dilation[d] - r) / stride[d];
                    }
                    phaseOfTap[tap] = phase;
                    slotOfTap[tap] = slot;
                }
            } else {
                for (int p = 0; p < phases; p++) {
                    int[] r = residues(p);
                    int n = 0;
                    for (int pass = 0; pass < 2; pass++) {
                        for (int t0 = 0; t0 < kernelSize[0]; t0++) {
                            for (int t1 = 0; t1 < kernelSize[1]; t1++) {
                                for (int t2 = 0; t2 < kernelSize[2]; t2++) {
                                    if ((t0 * dilation[0]) % stride[0] != r[0] || (t1 * dilation[1]) % stride[1] != r[1]
                                        || (t2 * dilation[2]) % stride[2] != r[2]) {
                                        continue;
                                    }
                                    if (pass == 1) {
                                        int tap = (t0 * kernelSize[1] + t1) * kernelSize[2] + t2;
                                        shift0[p][n] = (t0 * dilation[0] - r[0]) / stride[0];
                                        shift1[p][n] = (t1 * dilation[1] - r[1]) / stride[1];
                                        shift2[p][n] = (t2 * dilation[2] - r[2]) / stride[2];
                                        classOfTap[tap] = p;
                                        slotOfTap[tap] = n;
                                    }
                                    n++;
                                }
                            }
                        }
                        if (pass == 0) {
                            shift0[p] = new int[n];
                            shift1[p] = new int[n];
                            shift2[p] = new int[n];
                            length[p] = Math.multiplyExact(n, cinG);
                            n = 0;
                        }
                    }
                }
            }
        }

        /** Residues {@code (r0, r1, r2)} of phase {@code p = (r0 * s1 + r1) * s2 + r2}. */
        int[] residues(int p) {
            return new int[] {p / (stride[1] * stride[2]), (p / stride[2]) % stride[1], p % stride[2]};
        }

        /** The packed weights, packed from the primary geometry's the first time (at plan time, never mid-call). */
        float[][] packed() {
            float[][] p = packed;
            if (p == null) {
                synchronized (JavaOp.this) {
                    if (packed == null) {
                        pack(primary.unpacked());
                    }
                    p = packed;
                }
            }
            return p;
        }

        void pack(Weights weights) {
            int mr = Scratch.MR;
            int rowsPad = (rowsPerGroup + mr - 1) / mr * mr;
            float[][] out = new float[groups * classes][];
            for (int g = 0; g < groups; g++) {
                for (int c = 0; c < classes; c++) {
                    out[g * classes + c] = new float[Math.multiplyExact(rowsPad, length[c])];
                }
                for (int tap = 0; tap < classOfTap.length; tap++) {
                    int c = classOfTap[tap];
                    int len = length[c];
                    float[] a = out[g * classes + c];
                    for (int ci = 0; ci < cinG; ci++) {
                        int kk = slotOfTap[tap] * cinG + ci;
                        for (int co = 0; co < coutG; co++) {
                            int row = phaseOfTap[tap] * coutG + co;
                            a[((row / mr) * len + kk) * mr + row % mr] = weights.get(g * cinG + ci, co, tap);
                        }
                    }
                }
            }
            packed = out;
        }

        /** Reads a weight back out of the packed matrices (every tap is in exactly one place). */
        Weights unpacked() {
            int mr = Scratch.MR;
            float[][] packed = this.packed;
            return (ci, co, tap) -> {
                int g = ci / cinG;
                int c = classOfTap[tap];
                int kk = slotOfTap[tap] * cinG + ci - g * cinG;
                int row = phaseOfTap[tap] * coutG + co;
                return packed[g * classes + c][((row / mr) * length[c] + kk) * mr + row % mr];
            };
        }
    }

    /** Whether merging the phases of {@code stride} costs at most {@link #MERGE_MAX_WORK} times the useful work. */
    private boolean mergeable(int[] stride) {
        long phases = (long) stride[0] * stride[1] * stride[2];
        long work = phases;
        long kVolume = 1;
        for (int d = 0; d < 3; d++) {
            work *= (kernelSize[d] - 1) * dilation[d] / stride[d] + 1;
            kVolume *= kernelSize[d];
        }
        return phases > 1 && work <= MERGE_MAX_WORK * kVolume;
    }

    /** The geometry for {@code stride}, merged or not (its weights not packed yet if new). */
    private Geometry geometry(int[] stride, boolean merged) {
        for (Geometry v : geometries) {
            if (v.merged == merged && Arrays.equals(v.stride, stride)) {
                return v;
            }
        }
        synchronized (this) {
            for (Geometry v : geometries) {
                if (v.merged == merged && Arrays.equals(v.stride, stride)) {
                    return v;
                }
            }
            Geometry v = new Geometry(stride, merged);
            Geometry[] grown = Arrays.copyOf(geometries, geometries.length + 1);
            grown[geometries.length] = v;
            geometries = grown;
            return v;
        }
    }

    @Override
    public String implementation() {
        return implementation;
    }

    @Override
    protected String prepareShape(int batch, long[] spatialIn) {
        planFor(batch, spatialIn);
        return implementation;
    }

    @Override
    protected void execute(Tensor input, Tensor output, int batch, long[] spatialIn) {
        Plan plan = planFor(batch, spatialIn);
        Workers.Job job = workers.job();
        Call call = job.call;
        call.bind(this, plan, input, output);
        try {
            workers.run(job, plan.tiles, plan.macs);
        } finally {
            call.clear();
        }
    }

    @Override
    protected void release() {
        plans = new Plan[0];
        geometries = new Geometry[0];
    }

    private Plan planFor(int batch, long[] spatialIn) {
        for (Plan p : plans) {
            if (p.matches(batch, spatialIn)) {
                return p;
            }
        }
        synchronized (this) {
            for (Plan p : plans) {
                if (p.matches(batch, spatialIn)) {
                    return p;
                }
            }
            Plan p = new Plan(batch, spatialIn);
            if (plans.length < MAX_CACHED_SHAPES) {
                Plan[] grown = Arrays.copyOf(plans, plans.length + 1);
                grown[plans.length] = p;
                plans = grown;
            }
            return p;
        }
    }

    /**
     * Everything about one input shape: the geometry, per class its grid of phase coordinates (for merged phases
     * the union of theirs: a position some phase does not have is computed and not written), and the numbering of
     * tiles (group, then class, then column tile, then row block).
     *
     * <p>Along a dimension where the input has one position the stride does not matter (every output position is
     * {@code t * dilation - padBegin}), so a stride at least the kernel's extent is used instead: each output
     * position is then its own phase with at most one tap, where the layer's own phases would multiply mostly zeros
     * (16 times too much work for DCGAN's 1x1 to 4x4 first layer).
     */
    final class Plan {
        final int batch;
        final long[] spatialIn;
        final int[] in = {1, 1, 1};
        final int[] out = {1, 1, 1};
        final int inVolume;
        final int outVolume;
        final Geometry geometry;
        /** The geometry's packed weights, {@code [group * classes + class]}. */
        final float[][] packed;
        /** Per class: first phase coordinate and count along each dimension. */
        final int[][] qLo;
        final int[][] qCount;
        /** Classes that have output positions, their column counts, and the first tile (within a group) of each. */
        final int[] classOf;
        final int[] columns;
        final int[] firstTile;
        final int tilesPerGroup;
        final int tiles;
        final long macs;

        Plan(int batch, long[] spatialIn) {
            ConvTransposeLayer layer = layer();
            int lead = 3 - layer.rank();
            this.batch = batch;
            this.spatialIn = spatialIn.clone();
            for (int i = 0; i < layer.rank(); i++) {
                in[lead + i] = (int) spatialIn[i];
                out[lead + i] = (int) layer.outputSize(i, spatialIn[i]);
            }
            this.inVolume = in[0] * in[1] * in[2];
            this.outVolume = out[0] * out[1] * out[2];
            int[] stride = primary.stride.clone();
            for (int d = 0; d < 3; d++) {
                stride[d] = in[d] == 1 ? Math.max(stride[d], (kernelSize[d] - 1) * dilation[d] + 1) : stride[d];
            }
            Tiling best = new Tiling(geometry(stride, false));
            if (mergeable(stride) && products != Products.PER_PHASE) {
                Tiling merged = new Tiling(geometry(stride, true));
                if (merged.cost() <= best.cost() || products == Products.MERGED_WHERE_ALLOWED) {
                    best = merged;
                }
            }
            this.geometry = best.geo;
            this.packed = best.geo.packed();
            this.qLo = best.qLo;
            this.qCount = best.qCount;
            this.classOf = best.classOf;
            this.columns = best.columns;
            this.firstTile = best.firstTile;
            this.tilesPerGroup = best.tilesPerGroup;
            this.tiles = Math.multiplyExact(best.tilesPerGroup, groups);
            this.macs = best.macs * groups;
        }

        /** The grids, tiles and costs of one geometry for this input. */
        private final class Tiling {
            final Geometry geo;
            final int[][] qLo;
            final int[][] qCount;
            final int[] classOf;
            final int[] columns;
            final int[] firstTile;
            final int tilesPerGroup;
            /** Per group: multiply-adds (padded rows included) and gathered input elements. */
            final long macs;
            final long gathered;

            Tiling(Geometry geo) {
                this.geo = geo;
                this.qLo = new int[geo.classes][3];
                this.qCount = new int[geo.classes][3];
                int[] list = new int[geo.classes];
                int[] cols = new int[geo.classes];
                int[] first = new int[geo.classes + 1];
                int n = 0;
                int tileCount = 0;
                long work = 0;
                long gather = 0;
                for (int c = 0; c < geo.classes; c++) {
                    long grid = batch;
                    for (int d = 0; d < 3; d++) {
                        int s = geo.stride[d];
                        int lo = Integer.MAX_VALUE;
                        int hi = Integer.MIN_VALUE;
                        // the class's residues along d: all of them (merged), or its phase's one
                        int rFirst = geo.merged ? 0 : geo.residues(c)[d];
                        int rLast = geo.merged ? s - 1 : rFirst;
                        for (int r = rFirst; r <= rLast; r++) {
                            lo = Math.min(lo, -Math.floorDiv(r - padBegin[d], s));          // first q: o >= 0
                            hi = Math.max(hi, Math.floorDiv(out[d] - 1 + padBegin[d] - r, s)); // last q: o < out
                        }
                        qLo[c][d] = lo;
                        qCount[c][d] = Math.max(0, hi - lo + 1);
                        grid *= qCount[c][d];
                    }
                    if (grid == 0) {
                        continue;
                    }
                    int j = Math.toIntExact(grid);
                    list[n] = c;
                    cols[n] = j;
                    first[n] = tileCount;
                    tileCount = Math.addExact(tileCount, (j + Scratch.NC - 1) / Scratch.NC * geo.rowBlocks);
                    work += (long) j * geo.length[c] * geo.rowBlocks * geo.blockRows;
                    gather += (long) j * geo.length[c] * geo.rowBlocks;
                    n++;
                }
                first[n] = tileCount;
                this.classOf = Arrays.copyOf(list, n);
                this.columns = Arrays.copyOf(cols, n);
                this.firstTile = Arrays.copyOf(first, n + 1);
                this.tilesPerGroup = tileCount;
                this.macs = work;
                this.gathered = gather;
            }

            long cost() {
                return macs + GATHER_COST * gathered;
            }
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
    }

    /**
     * One call's arguments, reused by its calling thread from call to call ({@link Workers.Job#call}) and cleared
     * afterwards, so that no reference to a caller's tensor outlives the call.
     */
    static final class Call {
        private JavaOp op;
        private Plan plan;
        private Tensor in;
        private float[] inArray;
        private int inOffset;
        private Tensor out;
        private float[] outArray;
        private int outOffset;

        void bind(JavaOp op, Plan plan, Tensor input, Tensor output) {
            this.op = op;
            this.plan = plan;
            this.in = input;
            this.out = output;
            // Heap tensors: index the backing arrays (buffer() costs one small object, on the heap path only).
            if (!input.isDirect()) {
                FloatBuffer b = input.buffer();
                if (b.hasArray()) {
                    inArray = b.array();
                    inOffset = b.arrayOffset();
                } else {
                    // A read-only or byte-buffer view: its storage cannot be identified, so it may alias the output
                    // (forward() refuses only overlaps it can see), and this backend reads the input tile by tile
                    // while writing the output. Read it whole first: a copy, for such views only.
                    inArray = input.toArray();
                    inOffset = 0;
                }
            }
            if (!output.isDirect()) {
                FloatBuffer b = output.buffer();
                if (b.hasArray()) {
                    outArray = b.array();
                    outOffset = b.arrayOffset();
                }
            }
        }

        void clear() {
            op = null;
            plan = null;
            in = null;
            out = null;
            inArray = null;
            outArray = null;
            inOffset = 0;
            outOffset = 0;
        }

        void runTile(int tile, Scratch s) {
            op.runTile(plan, tile, s, this);
        }
    }

    private void runTile(Plan plan, int tile, Scratch s, Call call) {
        Geometry geo = plan.geometry;
        int g = tile / plan.tilesPerGroup;
        int t = tile - g * plan.tilesPerGroup;
        // the class whose tiles contain t (binary search: with phases one product each there can be many)
        int lo = 0;
        int hi = plan.classOf.length - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (plan.firstTile[mid] <= t) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        int cls = plan.classOf[lo];
        int local = t - plan.firstTile[lo];
        int colTile = local / geo.rowBlocks;
        int block = local - colTile * geo.rowBlocks;
        int j0 = colTile * Scratch.NC;
        int nc = Math.min(Scratch.NC, plan.columns[lo] - j0);
        int m0 = block * geo.blockRows;
        int rows = Math.min(geo.blockRows, geo.rowsPerGroup - m0);
        int ncPad = kernel.padColumns(nc);
        int rowsPad = (rows + Scratch.MR - 1) / Scratch.MR * Scratch.MR;
        boolean channelsLast = layout() == Layout.CHANNELS_LAST;

        setColumns(plan, cls, j0, nc, s);

        float[][] c = s.c;
        for (int m = 0; m < rowsPad; m++) {
            Arrays.fill(c[m], 0, ncPad, m < rows && bias != null ? bias[g * coutG + (m0 + m) % coutG] : 0f);
        }
        int len = geo.length[cls];
        if (len > 0) {
            s.inArray = call.inArray;
            s.inTensor = call.in;
            s.chanStride = channelsLast ? 1 : plan.inVolume;
            s.posStride = channelsLast ? cin : 1;
            s.chanBase = (call.inArray != null ? call.inOffset : 0) + g * cinG * s.chanStride;
            s.cinG = cinG;
            s.in0 = plan.in[0];
            s.in1 = plan.in[1];
            s.in2 = plan.in[2];
            s.shift0 = geo.shift0[cls];
            s.shift1 = geo.shift1[cls];
            s.shift2 = geo.shift2[cls];
            s.nc = nc;
            s.ncPad = ncPad;
            s.tap = -1;
            // virtual offsets v are read as chan + v for every channel of the group: keep them in the tensor
            int groupChan = g * cinG * s.chanStride;
            s.readableFrom = -groupChan;
            s.readableTo = plan.batch * cin * plan.inVolume - groupChan - (cinG - 1) * s.chanStride;
            kernel.compute(s, plan.packed[g * geo.classes + cls], len, m0 / Scratch.MR, rows, nc);
        }
        writeBack(plan, cls, s, call, g, m0, rows, channelsLast);
    }

    /**
     * Columns {@code [j0, j0 + nc)} of class {@code cls} as segments (runs along the grid's last dimension): where
     * each starts, its image's input and output offsets, and the phase coordinates of its first column (which are
     * also the input coordinates its taps shift from). Consecutive columns of a segment are one input position and
     * {@code stride} output positions apart.
     */
    private void setColumns(Plan plan, int cls, int j0, int nc, Scratch s) {
        int n0 = plan.qCount[cls][0];
        int n1 = plan.qCount[cls][1];
        int n2 = plan.qCount[cls][2];
        int lo0 = plan.qLo[cls][0];
        int lo1 = plan.qLo[cls][1];
        int lo2 = plan.qLo[cls][2];
        int grid = n0 * n1 * n2;
        int image = j0 / grid;
        int rem = j0 - image * grid;
        int q0 = rem / (n1 * n2);
        int q1 = (rem / n2) % n1;
        int q2 = rem % n2;
        int inImage = cin * plan.inVolume;
        int outImage = cout * plan.outVolume;
        int g = 0;
        for (int j = 0; j < nc; g++) {
            int len = Math.min(n2 - q2, nc - j);
            s.segStart[g] = j;
            s.segLength[g] = len;
            s.segImage[g] = image * inImage;
            s.segOut[g] = image * outImage;
            s.segX0[g] = lo0 + q0;
            s.segX1[g] = lo1 + q1;
            s.segX2[g] = lo2 + q2;
            j += len;
            q2 += len;
            if (q2 == n2) {
                q2 = 0;
                if (++q1 == n1) {
                    q1 = 0;
                    if (++q0 == n0) {
                        q0 = 0;
                        image++;
                    }
                }
            }
        }
        s.segments = g;
    }

    /**
     * Writes rows {@code [m0, m0 + rows)} of the tile: row {@code m} is output channel {@code m % coutG} of phase
     * {@code m / coutG} (merged) or of the class's phase. Column {@code q} of phase {@code r} is output position
     * {@code q * stride + r - padBegin}; positions outside the output (merged phases share a grid) are skipped.
     */
    private void writeBack(Plan plan, int cls, Scratch s, Call call, int g, int m0, int rows, boolean channelsLast) {
        Geometry geo = plan.geometry;
        float[][] c = s.c;
        float[] o = call.outArray;
        Tensor out = call.out;
        int s0 = geo.stride[0];
        int s1 = geo.stride[1];
        int s2 = geo.stride[2];
        int out0 = plan.out[0];
        int out1 = plan.out[1];
        int out2 = plan.out[2];
        int posScale = channelsLast ? cout : 1;
        int step = s2 * posScale;
        for (int m = 0; m < rows; m++) {
            int row = m0 + m;
            int co = row % coutG;
            int phase = geo.merged ? row / coutG : cls;
            int r0 = phase / (s1 * s2);
            int r1 = (phase / s2) % s1;
            int r2 = phase % s2;
            int chan = g * coutG + co;
            int base = (o != null ? call.outOffset : 0) + (channelsLast ? chan : chan * plan.outVolume);
            float[] values = c[m];
            for (int k = 0; k < s.segments; k++) {
                int o0 = s.segX0[k] * s0 + r0 - padBegin[0];
                int o1 = s.segX1[k] * s1 + r1 - padBegin[1];
                if (o0 < 0 || o0 >= out0 || o1 < 0 || o1 >= out1) {
                    continue;
                }
                int first = s.segX2[k] * s2 + r2 - padBegin[2];
                int len = s.segLength[k];
                int from = first >= 0 ? 0 : (-first + s2 - 1) / s2;
                int to = first >= out2 ? 0 : Math.min(len, (out2 - first + s2 - 1) / s2);
                int at = base + s.segOut[k] + ((o0 * out1 + o1) * out2 + first) * posScale;
                int j = s.segStart[k];
                if (o != null) {
                    if (step == 1) {
                        System.arraycopy(values, j + from, o, at + from, to - from);
                    } else {
                        for (int i = from; i < to; i++) {
                            o[at + i * step] = values[j + i];
                        }
                    }
                } else {
                    for (int i = from; i < to; i++) {
                        out.set(at + i * step, values[j + i]);
                    }
                }
            }
        }
    }
}
