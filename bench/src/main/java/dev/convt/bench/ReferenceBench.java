package dev.convt.bench;

import dev.convt.CompiledConvTranspose;
import dev.convt.Layout;
import dev.convt.ReferenceBackend;
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
 * The reference backend (the oracle: the scatter definition accumulated in double, never optimised) on direct
 * tensors, at batch 1 by default: at the listed batch sizes it needs seconds to a minute per call on the big
 * shapes, so a default run would spend hours here. {@link Report} gives its time per image and GFLOP/s, which
 * compare with {@link ConvTransposeBench}'s at any batch size. Fewer, shorter iterations than the other classes:
 * one call of the 1D HiFi-GAN shape takes seconds even at batch 1 (JMH finishes the call that overruns an
 * iteration), and the figures only need to say how far the fast backends are from the oracle.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 1, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class ReferenceBench {

    @Param({"seed_1d", "dcgan_g1", "dcgan_g2", "dcgan_g4", "dcgan_out", "unet_up", "fcn8x_dw", "hifigan_1d",
        "unet3d_up", "latency", "grouped", "dilated", "output_pad", "stride_gt_k"})
    public String shape;

    @Param({"CHANNELS_FIRST"})
    public Layout layout;

    /** 0: the shape list's batch size (slow). */
    @Param({"1"})
    public int batch;

    private CompiledConvTranspose op;
    private Tensor in;
    private Tensor out;

    @Setup(Level.Trial)
    public void setUp(BenchmarkParams params) {
        BenchSupport.checkShapeParams(ReferenceBench.class);
        Shape s = BenchSupport.shape(shape, batch);
        op = BenchSupport.compile(s, ReferenceBackend.ID, BenchSupport.AUTO, layout);
        long[] inShape = BenchSupport.inputShape(s, layout);
        in = Tensor.allocateDirect(inShape).copyFrom(
            BenchSupport.random(Tensor.elementCount(inShape), BenchSupport.INPUT_SEED));
        out = Tensor.allocateDirect(op.outputShape(inShape));
        BenchSupport.record(params, op.prepare(inShape), false);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (op != null) {
            op.close();
        }
    }

    @Benchmark
    public Tensor direct() {
        op.forward(in, out);
        return out;
    }
}
