package dev.convt.bench;

import dev.convt.ConvTransposeLayer;
import dev.convt.ShapeList.Shape;
import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.matmul;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.primitive_attr;
import org.bytedeco.dnnl.stream;
import org.bytedeco.dnnl.global.dnnl;
import org.bytedeco.javacpp.PointerScope;
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

import java.util.concurrent.TimeUnit;

/**
 * The matrix product of a matmul + col2im route, alone, in its two operand arrangements: what a col2im route would
 * gain from the other one. With {@code Cin} input channels, {@code P} input positions per image and
 * {@code CK = Cout * prod(k)} columns per position:
 *
 * <ul>
 *   <li>{@code wt}: {@code cols[n] = W^T [CK, Cin] x x[n] [Cin, P]} (what {@code matmul-col2im} runs): the
 *       activations are oneDNN's "weights" operand, repacked on every call; the result keeps each column's
 *       positions together, which the col2im pass adds with vectorized loops;</li>
 *   <li>{@code rows}: {@code rows[n] = x[n]^T [P, Cin] x W [Cin, CK]} (the C++ floor's {@code matmul-col2im}):
 *       {@code W} is the constant operand, packed once into oneDNN's preferred layout, and {@code x^T} a strided view
 *       of the channels-first input; the result keeps each position's columns together.</li>
 * </ul>
 *
 * No bias, no col2im, data as allocated by oneDNN: only the product's time. Shapes of groups 1 from
 * {@code bench/shapes.txt}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class MatmulFormsBench {

    /** The groups-1 shapes of bench/shapes.txt where a col2im route applies (not the 1x1 or tiny ones). */
    @Param({"dcgan_g2", "dcgan_g4", "dcgan_out", "unet_up", "hifigan_1d", "dilated", "output_pad", "stride_gt_k"})
    public String shape;

    @Param({"wt", "rows"})
    public String form;

    private PointerScope scope;
    private matmul primitive;
    private stream stream;
    private IntMemoryMap args;

    @Setup(Level.Trial)
    public void setUp() {
        Shape s = BenchSupport.shape(shape, 0);
        ConvTransposeLayer l = s.layer();
        if (l.groups() != 1) {
            throw new IllegalArgumentException(shape + " has groups " + l.groups() + "; this benchmark takes groups 1");
        }
        long n = s.inputShape()[0];
        long cin = l.inChannels();
        long p = 1;
        long ck = l.outChannels();
        for (int i = 0; i < l.rank(); i++) {
            p *= s.inputShape()[2 + i];
            ck *= l.kernelSize(i);
        }
        scope = new PointerScope();
        engine eng = new engine(engine.kind.cpu, 0);
        memory.desc a;
        memory.desc b;
        memory.desc c;
        if (form.equals("wt")) {
            a = new memory.desc(new long[] {1, ck, cin}, memory.data_type.f32, memory.format_tag.any);
            b = new memory.desc(new long[] {n, cin, p}, memory.data_type.f32, memory.format_tag.abc);
            c = new memory.desc(new long[] {n, ck, p}, memory.data_type.f32, memory.format_tag.abc);
        } else if (form.equals("rows")) {
            a = new memory.desc(new long[] {n, p, cin}, memory.data_type.f32, new long[] {cin * p, 1, p});
            b = new memory.desc(new long[] {1, cin, ck}, memory.data_type.f32, memory.format_tag.any);
            c = new memory.desc(new long[] {n, p, ck}, memory.data_type.f32, memory.format_tag.abc);
        } else {
            throw new IllegalArgumentException("form must be wt or rows, not " + form);
        }
        primitive_attr attr = new primitive_attr();
        attr.set_scratchpad_mode(dnnl.scratchpad_mode.user); // as the routes run it
        matmul.primitive_desc pd = new matmul.primitive_desc(eng, a, b, c, attr, false);
        primitive = new matmul(pd);
        stream = new stream(eng);
        args = new IntMemoryMap();
        args.put(dnnl.DNNL_ARG_SRC, filled(pd.src_desc(), eng));
        args.put(dnnl.DNNL_ARG_WEIGHTS, filled(pd.weights_desc(), eng));
        args.put(dnnl.DNNL_ARG_DST, new memory(pd.dst_desc(), eng));
        args.put(dnnl.DNNL_ARG_SCRATCHPAD, new memory(pd.scratchpad_desc(), eng));
        System.out.println("# " + shape + " " + form + ": " + pd.impl_info_str().getString() + ", "
            + 2.0 * n * cin * ck * p / 1e9 + " GFLOP");
    }

    /** A memory of {@code d} holding small values (oneDNN leaves a new buffer uninitialised). */
    private static memory filled(memory.desc d, engine eng) {
        memory m = new memory(d, eng);
        java.nio.FloatBuffer f = m.get_data_handle().capacity(d.get_size()).asByteBuffer()
            .order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer();
        for (int i = 0; i < f.capacity(); i++) {
            f.put(i, (i % 7) * 0.125f - 0.375f);
        }
        return m;
    }

    @Benchmark
    public void product() {
        primitive.execute(stream, args);
        stream._wait();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        scope.close();
    }
}
