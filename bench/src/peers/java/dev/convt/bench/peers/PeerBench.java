package dev.convt.bench.peers;

import dev.convt.Backends;
import dev.convt.CompiledConvTranspose;
import dev.convt.ConvTransposeLayer;
import dev.convt.ShapeList.Shape;
import dev.convt.Tensor;
import dev.convt.Tolerance;
import dev.convt.bench.BenchSupport;
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

import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * libtorch and ONNX Runtime on the same shapes, weights and inputs as {@code ConvTransposeBench}, with the same JMH
 * settings, from the caller's {@code float[]} into the caller's {@code float[]}; compare with
 * {@code ConvTransposeBench.fromFloatArray} of the same run ({@code Report} does). Built only by the Maven profile
 * {@code peers}.
 *
 * <p>Before anything is timed, the peer must agree with convt's reference backend, within {@link Tolerance}, on the
 * same layer at batch 1 with the spatial input cut to at most 5 per axis (so the reference takes milliseconds):
 * a peer that computes something else (a mis-encoded attribute, a wrong weight layout) fails its trial instead of
 * producing a number.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PeerBench {

    @Param({"seed_1d", "dcgan_g1", "dcgan_g2", "dcgan_g4", "dcgan_out", "unet_up", "fcn8x_dw", "hifigan_1d",
        "unet3d_up", "latency", "grouped", "dilated", "output_pad", "stride_gt_k"})
    public String shape;

    @Param({"libtorch", "onnxruntime"})
    public String peer;

    /** 0: the shape list's batch size. */
    @Param({"0"})
    public int batch;

    private Peer impl;
    private float[] x;
    private float[] y;

    @Setup(Level.Trial)
    public void setUp(BenchmarkParams params) {
        BenchSupport.checkShapeParams(PeerBench.class);
        Shape s = BenchSupport.shape(shape, batch);
        ConvTransposeLayer layer = s.layer();
        float[] w = BenchSupport.weights(layer);
        float[] b = BenchSupport.bias(layer);
        verify(peer, layer, w, b, s.inputShape());
        long[] in = s.inputShape();
        impl = Peer.create(peer, layer, w, b, in);
        x = BenchSupport.random(Tensor.elementCount(in), BenchSupport.INPUT_SEED);
        y = new float[Math.toIntExact(Tensor.elementCount(layer.outputShape(in)))];
        BenchSupport.record(params, impl.describe(), false);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (impl != null) {
            impl.close();
        }
    }

    @Benchmark
    public float[] fromFloatArray() {
        impl.run(x, y);
        return y;
    }

    /**
     * Runs the peer twice on a small input of the layer (the first time on other data, so an output left over
     * from an earlier call cannot pass) and compares the second result with the reference backend's.
     */
    static void verify(String peerId, ConvTransposeLayer layer, float[] w, float[] b, long[] fullInput) {
        long[] in = fullInput.clone();
        in[0] = 1;
        for (int i = 2; i < in.length; i++) {
            in[i] = Math.min(in[i], 5);
        }
        long[] out;
        try {
            out = layer.outputShape(in);
        } catch (IllegalArgumentException e) {
            in = fullInput.clone(); // a layer whose output would be empty on the cut input: check at full size
            in[0] = 1;
            out = layer.outputShape(in);
        }
        float[] other = BenchSupport.random(Tensor.elementCount(in), BenchSupport.INPUT_SEED + 100);
        float[] xs = BenchSupport.random(Tensor.elementCount(in), BenchSupport.INPUT_SEED + 101);
        float[] got = new float[Math.toIntExact(Tensor.elementCount(out))];
        try (Peer p = Peer.create(peerId, layer, w, b, in)) {
            p.run(other, got);
            p.run(xs, got);
        }
        Tensor ref;
        try (CompiledConvTranspose op = Backends.reference().compile(layer, Tensor.wrap(w, layer.weightShape()),
                b == null ? null : Tensor.wrap(b, layer.outChannels()))) {
            ref = op.forward(Tensor.wrap(xs, in));
        }
        Tolerance tol = Tolerance.forLayer(layer);
        Tolerance.Report r = tol.compare(ref, Tensor.wrap(got, out));
        String line = String.format("peer check: %s on %s, input %s: max|got - ref| = %.3g, allowed %.3g: %s",
            peerId, layer, Arrays.toString(in), r.maxAbs(), r.allowedAbs(), r.ok() ? "ok" : "WRONG");
        System.out.println("# convt: " + line);
        if (!r.ok()) {
            throw new IllegalStateException(line + " (" + tol + "); not timing a peer that computes something else");
        }
    }
}
