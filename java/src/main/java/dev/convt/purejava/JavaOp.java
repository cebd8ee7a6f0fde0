package dev.convt.purejava;

import dev.convt.CompiledConvTranspose;
import dev.convt.ConvTransposeLayer;
import dev.convt.Layout;
import dev.convt.Tensor;

import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * A layer compiled for the {@link JavaBackend}: its weights repacked once per (group, phase), then per input shape a
 * {@link Plan} of tiles, each tile computed completely by one thread.
 *
 * <p>Geometry is lifted to three spatial dimensions (a missing leading dimension has size, kernel, stride and
 * dilation 1 and no padding, which changes nothing). Along dimension {@code i}, output position {@code o} is in phase
 * {@code r = (o + padBegin) mod stride} at phase coordinate {@code q = floor((o + padBegin) / stride)}; the taps of
 * phase {@code r} are the {@code t} with {@code t*dilation mod stride == r}, and tap {@code t} reads input position
 * {@code q - (t*dilation - r) / stride}. Only {@link ConvTransposeLayer#padBegin} and
 * {@link ConvTransposeLayer#outputSize} are used, so any integer padding (negative included) works: positions no
 * tap reaches get the bias alone.
 */
final class JavaOp extends CompiledConvTranspose {

    private final Kernel kernel;
    private final Workers workers;
    private final String implementation;
    private final float[] bias;
    private final int cin;
    private final int cout;
    private final int groups;
    private final int cinG;
    private final int coutG;
    private final int[] kernelSize = new int[3];
    private final int[] dilation = new int[3];
    private final int[] padBegin = new int[3];
    /** Output channels per tile (a multiple of MR) and the number of such blocks per group. */
    private final int blockRows;
    private final int coBlocks;
    /** The layer's own phases, and (built when an input needs them) variants with other strides: see {@link Plan}. */
    private final Geometry geometry;
    private volatile Geometry[] variants = new Geometry[0];

    /** Per input shape, copy-on-write (execute() reads without locking). */
    private volatile Plan[] plans = new Plan[0];
    static final int MAX_CACHED_SHAPES = 16;

    private JavaOp(ConvTransposeLayer layer, float[] weight, float[] bias, Layout layout, Kernel kernel,
                   Workers workers, int threads) {
        super(layer, JavaBackend.ID, layout);
        this.kernel = kernel;
        this.workers = workers;
        this.implementation = "java:phase-gemm, " + kernel.describe() + ", " + threads + " thread"
            + (threads == 1 ? "" : "s");
        this.bias = bias;
        this.cin = layer.inChannels();
        this.cout = layer.outChannels();
        this.groups = layer.groups();
        this.cinG = cin / groups;
        this.coutG = cout / groups;
        int lead = 3 - layer.rank();
        int[] stride = {1, 1, 1};
        Arrays.fill(kernelSize, 1);
        Arrays.fill(dilation, 1);
        for (int i = 0; i < layer.rank(); i++) {
            kernelSize[lead + i] = layer.kernelSize(i);
            stride[lead + i] = layer.stride(i);
            dilation[lead + i] = layer.dilation(i);
            padBegin[lead + i] = layer.padBegin(i);
        }
        int blocks = (coutG + Scratch.MB - 1) / Scratch.MB;
        int perBlock = (coutG + blocks - 1) / blocks;
        this.blockRows = (perBlock + Scratch.MR - 1) / Scratch.MR * Scratch.MR;
        this.coBlocks = (coutG + blockRows - 1) / blockRows;
        int kVolume = kernelSize[0] * kernelSize[1] * kernelSize[2];
        this.geometry = new Geometry(stride, (ci, co, tap) -> weight[(ci * coutG + co) * kVolume + tap]);
    }

    /** The weight of input channel {@code ci} (of the layer), output channel {@code co} (of its group), tap {@code tap}. */
    private interface Weights {
        float get(int ci, int co, int tap);
    }

    /**
     * The phase decomposition for one stride vector: per phase its taps, their input shifts and weight matrices.
     * Phases: {@code p = (r0 * s1 + r1) * s2 + r2}; the taps of residue {@code r} along a dimension are the
     * {@code t} with {@code t * dilation mod s == r}, read from input position {@code q - (t * dilation - r) / s}.
     */
    private final class Geometry {
        final int[] stride;
        final int phases;
        /** Per phase, per tap: the input shift along each dimension, and the tap's flat index in the kernel. */
        final int[][] shift0;
        final int[][] shift1;
        final int[][] shift2;
        final int[][] tapIndex;
        /** Reduction length of each phase: taps x input channels per group. */
        final int[] length;
        /** Weights of (group g, phase p) at {@code [g * phases + p]}, in MR-row panels: {@code [(panel*L + kk)*MR + row]}. */
        final float[][] packed;

        Geometry(int[] stride, Weights weights) {
            this.stride = stride.clone();
            int[][][] taps = new int[3][][];
            int[][][] shifts = new int[3][][];
            for (int dim = 0; dim < 3; dim++) {
                int s = stride[dim];
                taps[dim] = new int[s][];
                shifts[dim] = new int[s][];
                for (int r = 0; r < s; r++) {
                    int n = 0;
                    for (int t = 0; t < kernelSize[dim]; t++) {
                        n += (t * dilation[dim]) % s == r ? 1 : 0;
                    }
                    taps[dim][r] = new int[n];
                    shifts[dim][r] = new int[n];
                    n = 0;
                    for (int t = 0; t < kernelSize[dim]; t++) {
                        if ((t * dilation[dim]) % s == r) {
                            taps[dim][r][n] = t;
                            shifts[dim][r][n] = (t * dilation[dim] - r) / s;
                            n++;
                        }
                    }
                }
            }
            this.phases = Math.multiplyExact(Math.multiplyExact(stride[0], stride[1]), stride[2]);
            this.shift0 = new int[phases][];
            this.shift1 = new int[phases][];
            this.shift2 = new int[phases][];
            this.tapIndex = new int[phases][];
            this.length = new int[phases];
            for (int p = 0; p < phases; p++) {
                int r2 = p % stride[2];
                int r1 = (p / stride[2]) % stride[1];
                int r0 = p / (stride[2] * stride[1]);
                int n = taps[0][r0].length * taps[1][r1].length * taps[2][r2].length;
                tapIndex[p] = new int[n];
                shift0[p] = new int[n];
                shift1[p] = new int[n];
                shift2[p] = new int[n];
                int i = 0;
                for (int a = 0; a < taps[0][r0].length; a++) {
                    for (int b = 0; b < taps[1][r1].length; b++) {
                        for (int c = 0; c < taps[2][r2].length; c++) {
                            tapIndex[p][i] = (taps[0][r0][a] * kernelSize[1] + taps[1][r1][b]) * kernelSize[2]
                                + taps[2][r2][c];
                            shift0[p][i] = shifts[0][r0][a];
                            shift1[p][i] = shifts[1][r1][b];
                            shift2[p][i] = shifts[2][r2][c];
                            i++;
                        }
                    }
                }
                length[p] = Math.multiplyExact(n, cinG);
            }
            this.packed = pack(weights);
        }

        /**
         * The weights as one matrix per (group, phase): row {@code co} (of the group), column
         * {@code kk = tap * cinG + ci}, in panels of MR rows, rows past {@code coutG} zero.
         */
        private float[][] pack(Weights weights) {
            int mr = Scratch.MR;
            int panels = (coutG + mr - 1) / mr;
            float[][] out = new float[groups * phases][];
            for (int g = 0; g < groups; g++) {
                for (int p = 0; p < phases; p++) {
                    int len = length[p];
                    float[] a = new float[Math.multiplyExact(panels * mr, len)];
                    int[] taps = tapIndex[p];
                    for (int ti = 0; ti < taps.length; ti++) {
                        for (int ci = 0; ci < cinG; ci++) {
                            int kk = ti * cinG + ci;
                            for (int co = 0; co < coutG; co++) {
                                a[((co / mr) * len + kk) * mr + co % mr] = weights.get(g * cinG + ci, co, taps[ti]);
                            }
                        }
                    }
                    out[g * phases + p] = a;
                }
            }
            return out;
        }

        /** Reads a weight back out of the packed matrices (every tap is in exactly one phase). */
        Weights unpacked() {
            int kVolume = kernelSize[0] * kernelSize[1] * kernelSize[2];
            int[] phaseOfTap = new int[kVolume];
            int[] slotOfTap = new int[kVolume];
            for (int p = 0; p < phases; p++) {
                for (int ti = 0; ti < tapIndex[p].length; ti++) {
                    phaseOfTap[tapIndex[p][ti]] = p;
                    slotOfTap[tapIndex[p][ti]] = ti;
                }
            }
            int mr = Scratch.MR;
            return (ci, co, tap) -> {
                int g = ci / cinG;
                int p = phaseOfTap[tap];
                int kk = slotOfTap[tap] * cinG + ci - g * cinG;
                return packed[g * phases + p][((co / mr) * length[p] + kk) * mr + co % mr];
            };
        }
    }

    /**
     * The geometry for an input of {@code in} (lifted to 3 dimensions). Along a dimension where the input has one
     * position, the stride does not matter (every output position is {@code t * dilation - padBegin}), so a stride
     * at least the kernel's extent is used instead: each output position is then its own phase with at most one
     * tap, where the layer's own phases would multiply mostly zeros (16 times too much work for DCGAN's 1x1 to 4x4
     * first layer).
     */
    private Geometry geometryFor(int[] in) {
        int[] wanted = geometry.stride.clone();
        boolean same = true;
        for (int d = 0; d < 3; d++) {
            int extent = (kernelSize[d] - 1) * dilation[d] + 1;
            if (in[d] == 1 && wanted[d] < extent) {
                wanted[d] = extent;
                same = false;
            }
        }
        if (same) {
            return geometry;
        }
        for (Geometry v : variants) {
            if (Arrays.equals(v.stride, wanted)) {
                return v;
            }
        }
        synchronized (this) {
            for (Geometry v : variants) {
                if (Arrays.equals(v.stride, wanted)) {
                    return v;
                }
            }
            Geometry v = new Geometry(wanted, geometry.unpacked());
            Geometry[] grown = Arrays.copyOf(variants, variants.length + 1);
            grown[variants.length] = v;
            variants = grown;
            return v;
        }
    }

    static JavaOp create(ConvTransposeLayer layer, Tensor weight, Tensor bias, Layout layout, Kernel kernel,
                         Workers workers, int threads) {
        checkParameters(layer, weight, bias);
        return new JavaOp(layer, weight.toArray(), bias == null ? null : bias.toArray(), layout, kernel, workers,
            threads);
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
        variants = new Geometry[0];
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
     * Everything about one input shape: per phase its output grid and column tiles, and the numbering of tiles
     * (group, then phase, then column tile, then channel block).
     */
    final class Plan {
        final int batch;
        final long[] spatialIn;
        final int[] in = {1, 1, 1};
        final int[] out = {1, 1, 1};
        final Geometry geometry;
        final int inVolume;
        final int outVolume;
        /** Per phase: first phase coordinate and count along each dimension. */
        final int[][] qLo = new int[3][];
        final int[][] qCount = new int[3][];
        /** Phases that have output positions, and the first tile (within a group) of each. */
        final int[] phaseOf;
        final int[] firstTile;
        final int[] columns;
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
            this.geometry = geometryFor(in);
            int[] stride = geometry.stride;
            int phases = geometry.phases;
            this.inVolume = in[0] * in[1] * in[2];
            this.outVolume = out[0] * out[1] * out[2];
            for (int d = 0; d < 3; d++) {
                int s = stride[d];
                qLo[d] = new int[s];
                qCount[d] = new int[s];
                for (int r = 0; r < s; r++) {
                    int lo = -Math.floorDiv(r - padBegin[d], s);                    // first q with o >= 0
                    int hi = Math.floorDiv(out[d] - 1 + padBegin[d] - r, s);        // last q with o < out
                    qLo[d][r] = lo;
                    qCount[d][r] = Math.max(0, hi - lo + 1);
                }
            }
            int[] phaseList = new int[phases];
            int[] first = new int[phases + 1];
            int[] cols = new int[phases];
            int n = 0;
            int tileCount = 0;
            long work = 0;
            for (int p = 0; p < phases; p++) {
                int r2 = p % stride[2];
                int r1 = (p / stride[2]) % stride[1];
                int r0 = p / (stride[2] * stride[1]);
                long grid = (long) qCount[0][r0] * qCount[1][r1] * qCount[2][r2];
                if (grid == 0) {
                    continue;
                }
                int j = Math.toIntExact(grid * batch);
                phaseList[n] = p;
                cols[n] = j;
                first[n] = tileCount;
                tileCount += (j + Scratch.NC - 1) / Scratch.NC * coBlocks;
                work += (long) j * geometry.length[p] * coutG;
                n++;
            }
            first[n] = tileCount;
            this.phaseOf = Arrays.copyOf(phaseList, n);
            this.firstTile = Arrays.copyOf(first, n + 1);
            this.columns = Arrays.copyOf(cols, n);
            this.tilesPerGroup = tileCount;
            this.tiles = Math.multiplyExact(tileCount, groups);
            this.macs = work * groups;
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
        // the phase whose tiles contain t (few phases have many tiles: binary search)
        int lo = 0;
        int hi = plan.phaseOf.length - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (plan.firstTile[mid] <= t) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        int p = plan.phaseOf[lo];
        int local = t - plan.firstTile[lo];
        int colTile = local / coBlocks;
        int block = local - colTile * coBlocks;
        int j0 = colTile * Scratch.NC;
        int nc = Math.min(Scratch.NC, plan.columns[lo] - j0);
        int m0 = block * blockRows;
        int rows = Math.min(blockRows, coutG - m0);
        int ncPad = kernel.padColumns(nc);
        int rowsPad = (rows + Scratch.MR - 1) / Scratch.MR * Scratch.MR;
        boolean channelsLast = layout() == Layout.CHANNELS_LAST;

        setColumns(plan, p, j0, nc, s, channelsLast);

        float[][] c = s.c;
        int co0 = g * coutG + m0;
        for (int m = 0; m < rowsPad; m++) {
            Arrays.fill(c[m], 0, ncPad, m < rows && bias != null ? bias[co0 + m] : 0f);
        }
        int len = geo.length[p];
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
            s.shift0 = geo.shift0[p];
            s.shift1 = geo.shift1[p];
            s.shift2 = geo.shift2[p];
            s.nc = nc;
            s.ncPad = ncPad;
            s.tap = -1;
            // virtual offsets v are read as chan + v for every channel of the group: keep them in the tensor
            int groupChan = g * cinG * s.chanStride;
            s.readableFrom = -groupChan;
            s.readableTo = plan.batch * cin * plan.inVolume - groupChan - (cinG - 1) * s.chanStride;
            kernel.compute(s, geo.packed[g * geo.phases + p], len, m0 / Scratch.MR, rows, nc);
        }
        writeBack(plan, s, call, co0, rows, channelsLast);
    }

    /**
     * Columns {@code [j0, j0 + nc)} of phase {@code p} as segments (runs along the grid's last dimension): where
     * each starts, its image's input offset, the input coordinates of its first column before the tap shift, and
     * the output offset of its first column (channel 0). Consecutive columns of a segment are one input position
     * and {@code stride} output positions apart.
     */
    private void setColumns(Plan plan, int p, int j0, int nc, Scratch s, boolean channelsLast) {
        int[] stride = plan.geometry.stride;
        int r2 = p % stride[2];
        int r1 = (p / stride[2]) % stride[1];
        int r0 = p / (stride[2] * stride[1]);
        int n0 = plan.qCount[0][r0];
        int n1 = plan.qCount[1][r1];
        int n2 = plan.qCount[2][r2];
        int lo0 = plan.qLo[0][r0];
        int lo1 = plan.qLo[1][r1];
        int lo2 = plan.qLo[2][r2];
        int grid = n0 * n1 * n2;
        int image = j0 / grid;
        int rem = j0 - image * grid;
        int q0 = rem / (n1 * n2);
        int q1 = (rem / n2) % n1;
        int q2 = rem % n2;
        int out1 = plan.out[1];
        int out2 = plan.out[2];
        int inImage = cin * plan.inVolume;
        int outImage = cout * plan.outVolume;
        int g = 0;
        for (int j = 0; j < nc; g++) {
            int len = Math.min(n2 - q2, nc - j);
            int x0 = lo0 + q0;
            int x1 = lo1 + q1;
            int x2 = lo2 + q2;
            // output position o = q * stride + r - padBegin
            int o = ((x0 * stride[0] + r0 - padBegin[0]) * out1 + x1 * stride[1] + r1 - padBegin[1]) * out2
                + x2 * stride[2] + r2 - padBegin[2];
            s.segStart[g] = j;
            s.segLength[g] = len;
            s.segImage[g] = image * inImage;
            s.segX0[g] = x0;
            s.segX1[g] = x1;
            s.segX2[g] = x2;
            s.segDst[g] = channelsLast ? (image * plan.outVolume + o) * cout : image * outImage + o;
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

    private void writeBack(Plan plan, Scratch s, Call call, int co0, int rows, boolean channelsLast) {
        float[][] c = s.c;
        float[] o = call.outArray;
        Tensor out = call.out;
        int step = plan.geometry.stride[2];
        if (channelsLast) {
            int base = (o != null ? call.outOffset : 0) + co0;
            int posStep = step * cout;
            for (int g = 0; g < s.segments; g++) {
                int j0 = s.segStart[g];
                int len = s.segLength[g];
                int at = base + s.segDst[g];
                for (int j = j0; j < j0 + len; j++, at += posStep) {
                    if (o != null) {
                        for (int m = 0; m < rows; m++) {
                            o[at + m] = c[m][j];
                        }
                    } else {
                        for (int m = 0; m < rows; m++) {
                            out.set(at + m, c[m][j]);
                        }
                    }
                }
            }
            return;
        }
        for (int m = 0; m < rows; m++) {
            float[] row = c[m];
            int base = (o != null ? call.outOffset : 0) + (co0 + m) * plan.outVolume;
            for (int g = 0; g < s.segments; g++) {
                int j0 = s.segStart[g];
                int len = s.segLength[g];
                int at = base + s.segDst[g];
                if (o != null) {
                    if (step == 1) {
                        System.arraycopy(row, j0, o, at, len);
                    } else {
                        for (int i = 0; i < len; i++) {
                            o[at + i * step] = row[j0 + i];
                        }
                    }
                } else {
                    for (int i = 0; i < len; i++) {
                        out.set(at + i * step, row[j0 + i]);
                    }
                }
            }
        }
    }
}
