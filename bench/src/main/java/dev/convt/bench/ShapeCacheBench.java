package dev.convt.bench;

import dev.convt.Backends;
import dev.convt.CompiledConvTranspose;
import dev.convt.ConvTransposeLayer;
import dev.convt.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * What the per-shape primitive cache buys when the batch size changes from call to call (PyTorch issue 133304):
 * one compiled op serving batch sizes 1 and 3 alternately, against compiling the op anew for every call (which is
 * what rebuilding the primitive on a shape change costs). oneDNN backend, U-Net-style 2x upsampling layer.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ShapeCacheBench {

    static final ConvTransposeLayer LAYER = ConvTransposeLayer.builder(2).inChannels(64).outChannels(32)
        .kernelSize(2).stride(2).build();

    private Tensor weight;
    private Tensor bias;
    private CompiledConvTranspose op;
    private final Tensor[] inputs = new Tensor[2];
    private final Tensor[] outputs = new Tensor[2];
    private int call;

    @Setup(Level.Trial)
    public void setUp() {
        Backends.onednn().ensureAvailability();
        weight = Tensor.zeros(LAYER.weightShape());
        bias = Tensor.zeros(LAYER.outChannels());
        op = Backends.onednn().compile(LAYER, weight, bias);
        inputs[0] = Tensor.allocateDirect(1, 64, 32, 32);
        inputs[1] = Tensor.allocateDirect(3, 64, 32, 32);
        for (int i = 0; i < 2; i++) {
            outputs[i] = Tensor.allocateDirect(op.outputShape(inputs[i]));
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        op.close();
    }

    @Benchmark
    public Tensor cachedAlternatingBatch() {
        int i = call++ & 1;
        op.forward(inputs[i], outputs[i]);
        return outputs[i];
    }

    @Benchmark
    public Tensor rebuiltEveryCall() {
        int i = call++ & 1;
        try (CompiledConvTranspose fresh = Backends.onednn().compile(LAYER, weight, bias)) {
            fresh.forward(inputs[i], outputs[i]);
        }
        return outputs[i];
    }
}
