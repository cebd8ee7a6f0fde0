package dev.convt.bench;

import dev.convt.Backend;
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
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * One compiled op per (backend, shape), executed with direct tensors reused across calls: the steady state of an
 * inference engine. The Java reference backend is the baseline every ratio in {@code RESULTS.md} is against.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ConvTransposeBench {

    /** Named shapes: N, Cin, Cout, spatial size, kernel, stride, padding. */
    @Param({"dcgan_512x256_4x4_k4s2p1", "unet_64x32_32x32_k2s2", "vocoder1d_256x128_L64_k16s8p4"})
    public String shape;

    @Param({"reference", "onednn"})
    public String backend;

    private CompiledConvTranspose op;
    private Tensor input;
    private Tensor output;

    static ConvTransposeLayer layer(String shape) {
        switch (shape) {
            case "dcgan_512x256_4x4_k4s2p1":
                return ConvTransposeLayer.builder(2).inChannels(512).outChannels(256).kernelSize(4).stride(2)
                    .padding(1).build();
            case "unet_64x32_32x32_k2s2":
                return ConvTransposeLayer.builder(2).inChannels(64).outChannels(32).kernelSize(2).stride(2).build();
            case "vocoder1d_256x128_L64_k16s8p4":
                return ConvTransposeLayer.builder(1).inChannels(256).outChannels(128).kernelSize(16).stride(8)
                    .padding(4).build();
            default:
                throw new IllegalArgumentException(shape);
        }
    }

    static long[] inputShape(String shape) {
        switch (shape) {
            case "dcgan_512x256_4x4_k4s2p1": return new long[] {8, 512, 4, 4};
            case "unet_64x32_32x32_k2s2": return new long[] {1, 64, 32, 32};
            case "vocoder1d_256x128_L64_k16s8p4": return new long[] {1, 256, 64};
            default: throw new IllegalArgumentException(shape);
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        ConvTransposeLayer layer = layer(shape);
        Backend b = Backends.byId(backend);
        b.ensureAvailability();
        Random rnd = new Random(1);
        Tensor w = Tensor.zeros(layer.weightShape());
        for (int i = 0; i < w.elementCount(); i++) {
            w.set(i, rnd.nextFloat() - 0.5f);
        }
        Tensor bias = Tensor.zeros(layer.outChannels());
        op = b.compile(layer, w, bias);
        input = Tensor.allocateDirect(inputShape(shape));
        for (int i = 0; i < input.elementCount(); i++) {
            input.set(i, rnd.nextFloat() - 0.5f);
        }
        output = Tensor.allocateDirect(op.outputShape(input));
        op.prepare(inputShape(shape));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        op.close();
    }

    @Benchmark
    public Tensor forward() {
        op.forward(input, output);
        return output;
    }
}
