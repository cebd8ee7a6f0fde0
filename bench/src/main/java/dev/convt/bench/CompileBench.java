package dev.convt.bench;

import dev.convt.CompiledConvTranspose;
import dev.convt.Layout;
import dev.convt.ShapeList.Shape;
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
 * What a caller pays before the first forward: {@code compile} (copying the weights; oneDNN: descriptors) plus
 * {@code prepare(inputShape)} (oneDNN: primitive descriptor, primitive, weight reorder, and any route timing),
 * closed again outside the measured call. Single shots without warm-up: the first shot of each fork is the cold
 * cost in a fresh JVM (JIT and oneDNN's process-wide primitive cache both cold); the later shots are a recompile of
 * a layer oneDNN has seen, where its primitive cache helps. {@link Report} shows the first shot and the median of
 * the rest separately.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 0)
@Measurement(iterations = 10)
@Fork(1)
public class CompileBench {

    @Param({"seed_1d", "dcgan_g1", "dcgan_g2", "dcgan_g4", "dcgan_out", "unet_up", "fcn8x_dw", "hifigan_1d",
        "unet3d_up", "latency", "grouped", "dilated", "output_pad", "stride_gt_k"})
    public String shape;

    @Param({"java", "onednn"})
    public String backend;

    @Param({"auto"})
    public String route;

    @Param({"CHANNELS_FIRST", "CHANNELS_LAST"})
    public Layout layout;

    @Param({"0"})
    public int batch;

    private Shape s;
    private long[] in;
    private BenchSupport.Parameters parameters;
    private CompiledConvTranspose op;
    private String implementation;

    @Setup(Level.Trial)
    public void setUp() {
        BenchSupport.checkShapeParams(CompileBench.class);
        s = BenchSupport.shape(shape, batch);
        in = BenchSupport.inputShape(s, layout);
        parameters = BenchSupport.Parameters.of(s.layer());
        BenchSupport.backend(backend); // an unknown or unavailable backend fails here, before any shot
    }

    @Benchmark
    public String compileAndPrepare() {
        op = BenchSupport.compile(s, backend, route, layout, parameters);
        implementation = op.prepare(in);
        // Checked in the shot itself (a string search, noise next to a compile): checking in setup would compile
        // once beforehand and warm the caches the first shot is meant to find cold.
        BenchSupport.checkRoute(route, implementation);
        return implementation;
    }

    @TearDown(Level.Iteration)
    public void closeOp() {
        if (op != null) {
            op.close();
            op = null;
        }
    }

    @TearDown(Level.Trial)
    public void tearDown(BenchmarkParams params) {
        if (implementation != null) {
            BenchSupport.record(params, implementation, "onednn".equals(backend));
        }
    }
}
