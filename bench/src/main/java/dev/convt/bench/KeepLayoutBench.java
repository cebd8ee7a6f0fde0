package dev.convt.bench;

import dev.convt.ConvTransposeLayer;
import dev.convt.Layout;
import dev.convt.ShapeList.Shape;
import dev.convt.Tensor;
import dev.convt.onednn.OneDnnBackend;
import dev.convt.onednn.OneDnnOp;
import dev.convt.onednn.OneDnnTensor;
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
 * One oneDNN op inside a chain of oneDNN ops: the keep-layout path ({@link OneDnnOp#forwardKeepLayout(OneDnnTensor,
 * OneDnnTensor)}), where the op reads its predecessor's output in place and keeps its own output in the layout its
 * primitive writes, next to the same op's {@code forward(x, y)} on plain direct tensors in the same trial.
 *
 * <ul>
 *   <li>{@link #keepLayout}: the input is the output of a producer op kept in oneDNN's layout, the output a
 *       {@link OneDnnTensor} reused across calls; no plain tensor on either side. The producer, run once in setup, is
 *       a 1x1 transposed convolution ({@code Cin -> Cin}) whose output is in a layout the measured op reads in place,
 *       as a preceding layer's output would be when the two agree: the first of {@code deconv-any} channels-first
 *       (oneDNN's blocked layout for that layer, e.g. {@code nChw8c}), {@code deconv-plain} channels-last
 *       ({@code nhwc}, what the strided {@code brg_deconv} kernels read and write) and {@code deconv-plain}
 *       channels-first ({@code nchw}, what the matrix-product routes read) that the op reads without a reorder
 *       ({@link OneDnnOp#reordersInput}); if none, the last, reordered on every call. Which one, and whether it is
 *       reordered, is printed with the implementation.</li>
 *   <li>{@link #direct}: {@code forward(x, y)} on plain direct tensors, the same op, for the ratio.</li>
 * </ul>
 *
 * Channels-first only. {@code route=auto} keeps the route the op's timing picks on plain tensors; a forced
 * {@code deconv-any} shows what that route gives when nothing is reordered.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class KeepLayoutBench {

    /** Every name in bench/shapes.txt, in file order (checked by {@link BenchSupport#checkShapeParams}). */
    @Param({"seed_1d", "dcgan_g1", "dcgan_g2", "dcgan_g4", "dcgan_out", "unet_up", "fcn8x_dw", "hifigan_1d",
        "unet3d_up", "latency", "grouped", "dilated", "output_pad", "stride_gt_k"})
    public String shape;

    /** oneDNN route of the measured op ({@code auto} or a route id, as in {@link ConvTransposeBench}). */
    @Param({"auto", "deconv-any"})
    public String route;

    /** 0: the shape list's batch size. */
    @Param({"0"})
    public int batch;

    /** Producer candidates, in the order tried; {@code @cl}: a channels-last op. */
    private static final String[] PRODUCERS = {"deconv-any", "deconv-plain@cl", "deconv-plain"};

    private OneDnnOp producer;
    private OneDnnOp op;
    private OneDnnTensor keptIn;
    private OneDnnTensor keptOut;
    private Tensor directIn;
    private Tensor directOut;

    @Setup(Level.Trial)
    public void setUp(BenchmarkParams params) {
        BenchSupport.checkShapeParams(KeepLayoutBench.class);
        Shape s = BenchSupport.shape(shape, batch);
        ConvTransposeLayer layer = s.layer();
        long[] in = s.inputShape();
        float[] x = BenchSupport.random(Tensor.elementCount(in), BenchSupport.INPUT_SEED);
        try {
            BenchSupport.Parameters p = BenchSupport.Parameters.of(layer);
            op = OneDnnBackend.INSTANCE.compile(layer, p.weight(), p.bias(), Layout.CHANNELS_FIRST, route);
            String implementation = op.prepare(in);
            BenchSupport.checkRoute(route, implementation);
            ConvTransposeLayer pointwise = ConvTransposeLayer.builder(layer.rank())
                .inChannels(layer.inChannels()).outChannels(layer.inChannels()).kernelSize(1).build();
            BenchSupport.Parameters pp = BenchSupport.Parameters.of(pointwise);
            String producerRoute = null;
            boolean reordered = true;
            for (String candidate : PRODUCERS) {
                closeInput();
                Layout layout = candidate.endsWith("@cl") ? Layout.CHANNELS_LAST : Layout.CHANNELS_FIRST;
                producerRoute = candidate.replace("@cl", "");
                producer = OneDnnBackend.INSTANCE.compile(pointwise, pp.weight(), pp.bias(), layout, producerRoute);
                keptIn = producer.forwardKeepLayout(Tensor.wrap(x, layout.fromChannelsFirst(in, layer.rank())));
                reordered = op.reordersInput(keptIn);
                if (!reordered) {
                    break;
                }
            }
            keptOut = op.forwardKeepLayout(keptIn);
            directIn = Tensor.allocateDirect(in).copyFrom(x);
            directOut = Tensor.allocateDirect(op.outputShape(in));
            BenchSupport.record(params, implementation + " | keep-layout: input " + keptIn.layoutDescription()
                + " (from a 1x1 " + producerRoute + " " + producer.layout().formatName(layer.rank()) + " op)"
                + (reordered ? ", reordered first" : ", read in place") + "; output "
                + keptOut.layoutDescription(), true);
        } catch (RuntimeException | Error e) {
            tearDown();
            throw e;
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        closeInput();
        if (keptOut != null) {
            keptOut.close();
        }
        if (op != null) {
            op.close();
        }
    }

    /** Closes the producer and its output (a candidate that did not fit, or at the end of the trial). */
    private void closeInput() {
        if (keptIn != null) {
            keptIn.close();
            keptIn = null;
        }
        if (producer != null) {
            producer.close();
            producer = null;
        }
    }

    @Benchmark
    public OneDnnTensor keepLayout() {
        op.forwardKeepLayout(keptIn, keptOut);
        return keptOut;
    }

    @Benchmark
    public Tensor direct() {
        op.forward(directIn, directOut);
        return directOut;
    }
}
