package dev.convt.bench;

import dev.convt.CompiledConvTranspose;
import dev.convt.Layout;
import dev.convt.ShapeList.Shape;
import dev.convt.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;

import java.util.concurrent.TimeUnit;

/**
 * Forward time of one compiled op per (shape, backend, route, layout), built and prepared once per trial, three ways
 * a caller can feed it:
 *
 * <ul>
 *   <li>{@link #direct}: {@code forward(x, y)} on direct tensors reused across calls, the zero-copy path;</li>
 *   <li>{@link #fromFloatArray}: {@code forward(x, y)} with both tensors wrapping the caller's {@code float[]}
 *       (wrapped once, in setup), the end-to-end cost for a caller holding arrays;</li>
 *   <li>{@link #allocating}: {@code forward(x)} on the wrapped input, which allocates its result every call.</li>
 * </ul>
 *
 * Shapes come from {@code bench/shapes.txt}. The reference backend is left out of the default parameters: at full
 * batch it takes seconds per call on the big shapes; {@link ReferenceBench} runs it at batch 1.
 * {@code batch=0} means the batch size the shape list gives.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ConvTransposeBench {

    /** Every name in bench/shapes.txt, in file order (checked by {@link BenchSupport#checkShapeParams}). */
    @Param({"seed_1d", "dcgan_g1", "dcgan_g2", "dcgan_g4", "dcgan_out", "unet_up", "fcn8x_dw", "hifigan_1d",
        "unet3d_up", "latency", "grouped", "dilated", "output_pad", "stride_gt_k"})
    public String shape;

    /** {@code reference} is accepted too, but see the class comment. */
    @Param({"java", "onednn"})
    public String backend;

    /**
     * oneDNN route: {@code auto}, or one of {@code deconv-any}, {@code deconv-plain}, {@code deconv-channels-last},
     * {@code matmul-1x1}, {@code matmul-shuffle}, {@code matmul-col2im}. A route that does not apply to a shape fails its trial.
     */
    @Param({"auto"})
    public String route;

    @Param({"CHANNELS_FIRST", "CHANNELS_LAST"})
    public Layout layout;

    /** 0: the shape list's batch size. */
    @Param({"0"})
    public int batch;

    private CompiledConvTranspose op;
    private Tensor directIn;
    private Tensor directOut;
    private float[] heapOutArray;
    private Tensor heapIn;
    private Tensor heapOut;

    @Setup(Level.Trial)
    public void setUp(BenchmarkParams params) {
        BenchSupport.checkShapeParams(ConvTransposeBench.class);
        Shape s = BenchSupport.shape(shape, batch);
        op = BenchSupport.compile(s, backend, route, layout);
        long[] in = BenchSupport.inputShape(s, layout);
        long[] out = op.outputShape(in);
        String implementation = op.prepare(in);
        BenchSupport.checkRoute(route, implementation);

        float[] x = BenchSupport.random(Tensor.elementCount(in), BenchSupport.INPUT_SEED);
        heapIn = Tensor.wrap(x, in);
        heapOutArray = new float[(int) Tensor.elementCount(out)];
        heapOut = Tensor.wrap(heapOutArray, out);
        directIn = Tensor.allocateDirect(in).copyFrom(x);
        directOut = Tensor.allocateDirect(out);
        BenchSupport.record(params, implementation, "onednn".equals(backend));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (op != null) {
            op.close();
        }
    }

    @Benchmark
    public Tensor direct() {
        op.forward(directIn, directOut);
        return directOut;
    }

    @Benchmark
    public float[] fromFloatArray() {
        op.forward(heapIn, heapOut);
        return heapOutArray;
    }

    @Benchmark
    public Tensor allocating() {
        return op.forward(heapIn);
    }
}
