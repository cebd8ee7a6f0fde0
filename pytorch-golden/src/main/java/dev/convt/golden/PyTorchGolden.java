package dev.convt.golden;

import dev.convt.Npy;
import org.bytedeco.pytorch.AbstractTensor;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;

/**
 * Writes what real PyTorch (libtorch 2.7.1, {@code torch::conv_transpose{1,2,3}d}) computes and reports, for the
 * tests to hold every backend to:
 *
 * <ul>
 *   <li>{@code cases.tsv} and {@code <case>.{x,w,b,y}.npy}: small transposed convolutions in 1d, 2d and 3d with
 *       stride, padding, output padding, dilation, groups and bias; the inputs come from a seeded Java generator, the
 *       outputs {@code y} from PyTorch.</li>
 *   <li>{@code errors.tsv}: calls PyTorch accepts or refuses, each with the output shape or the first line of
 *       PyTorch's error message.</li>
 * </ul>
 *
 * <p>Run with {@code mvn -B -Ppytorch-golden -pl pytorch-golden -am process-classes}; the argument is the directory to
 * (re)write.
 */
public final class PyTorchGolden {

    private PyTorchGolden() {}

    /** One call of {@code F.conv_transpose{1,2,3}d}; {@code bias} is a shape, or {@code null} for none. */
    record Call(String name, long[] input, long[] weight, long[] bias, long[] stride, long[] padding,
                long[] outputPadding, long groups, long[] dilation) {}

    private static long[] s(long... v) {
        return v;
    }

    private static Call call(String name, long[] input, long[] weight, long[] bias, long[] stride, long[] padding,
                             long[] outputPadding, long groups, long[] dilation) {
        return new Call(name, input, weight, bias, stride, padding, outputPadding, groups, dilation);
    }

    /** Numeric cases: every one is valid. */
    static final List<Call> VALUES = List.of(
        call("c2d_basic", s(1, 3, 4, 5), s(3, 2, 3, 3), s(2), s(1), s(0), s(0), 1, s(1)),
        call("c2d_stride_pad_outpad_groups", s(2, 4, 3, 4), s(4, 3, 3, 2), s(6), s(2, 3), s(1, 0), s(1, 2), 2, s(1)),
        call("c2d_dilation_groups_nobias", s(1, 6, 5, 4), s(6, 2, 3, 3), null, s(1), s(2), s(0), 3, s(2, 3)),
        call("c2d_depthwise", s(1, 4, 3, 3), s(4, 2, 3, 3), s(8), s(2), s(1), s(1), 4, s(1)),
        call("c2d_unbatched", s(2, 3, 3), s(2, 3, 2, 2), null, s(1), s(0), s(0), 1, s(1)),
        call("c2d_outpad_past_padding", s(1, 2, 3, 3), s(2, 2, 3, 3), s(2), s(3), s(0), s(2), 1, s(1)),
        call("c2d_dcgan", s(1, 8, 4, 4), s(8, 4, 4, 4), s(4), s(2), s(1), s(0), 1, s(1)),
        call("c3d_basic", s(1, 2, 3, 3, 4), s(2, 3, 2, 3, 2), s(3), s(1, 2, 1), s(0, 1, 1), s(0, 1, 0), 1, s(1)),
        call("c3d_dilation_groups", s(2, 4, 2, 3, 2), s(4, 1, 2, 2, 2), s(2), s(2), s(1), s(1), 2, s(2)),
        call("c3d_unbatched_nobias", s(3, 2, 2, 2), s(3, 2, 3, 1, 2), null, s(2, 1, 3), s(1, 0, 0), s(0), 1, s(1, 2, 1)),
        call("c1d_everything", s(2, 3, 5), s(3, 2, 4), s(6), s(3), s(2), s(2), 3, s(2)),
        call("c1d_seed", s(1, 1, 7), s(1, 1, 3), null, s(1), s(0), s(0), 1, s(1)));

    /** Calls to record PyTorch's verdict on: its message, or the output shape when it accepts. */
    static final List<Call> VERDICTS = List.of(
        call("ok_1d", s(1, 1, 7), s(1, 1, 3), null, s(1), s(0), s(0), 1, s(1)),
        call("ok_outpad_below_dilation", s(1, 1, 5), s(1, 1, 3), null, s(1), s(0), s(1), 1, s(2)),
        call("ok_zero_batch", s(0, 4, 5, 5), s(4, 2, 3, 3), null, s(1), s(0), s(0), 1, s(1)),
        call("ok_zero_batch_zero_size", s(0, 1, 0, 3), s(1, 1, 1, 1), null, s(1), s(0), s(0), 1, s(1)),
        call("ok_unbatched_3d", s(2, 2, 2, 2), s(2, 1, 2, 2, 2), s(1), s(2), s(0), s(1), 1, s(1)),
        call("outpad_1d", s(1, 1, 7), s(1, 1, 3), null, s(1), s(0), s(1), 1, s(1)),
        call("outpad_1d_batch2", s(2, 1, 7), s(1, 1, 3), null, s(1), s(0), s(1), 1, s(1)),
        call("outpad_2d", s(1, 4, 5, 5), s(4, 2, 3, 3), null, s(2), s(0), s(2, 0), 1, s(1)),
        call("outpad_3d", s(1, 1, 3, 3, 3), s(1, 1, 3, 3, 3), null, s(1), s(0), s(0, 0, 3), 1, s(3)),
        call("groups_not_dividing", s(1, 3, 7), s(3, 1, 3), null, s(1), s(0), s(0), 2, s(1)),
        call("groups_zero", s(1, 3, 7), s(3, 1, 3), null, s(1), s(0), s(0), 0, s(1)),
        call("groups_negative", s(1, 3, 7), s(3, 1, 3), null, s(1), s(0), s(0), -1, s(1)),
        call("groups_above_weight", s(1, 3, 7), s(3, 1, 3), null, s(1), s(0), s(0), 4, s(1)),
        call("bias_size", s(1, 2, 3, 3), s(2, 4, 2, 2), s(3), s(1), s(0), s(0), 1, s(1)),
        call("bias_rank", s(1, 2, 3, 3), s(2, 4, 2, 2), s(4, 1), s(1), s(0), s(0), 1, s(1)),
        call("bias_groups", s(1, 4, 5), s(4, 3, 3), s(3), s(1), s(0), s(0), 2, s(1)),
        call("bias_unbatched", s(2, 3, 3), s(2, 4, 2, 2), s(3), s(1), s(0), s(0), 1, s(1)),
        call("channels", s(1, 3, 5, 5), s(4, 2, 3, 3), null, s(1), s(0), s(0), 1, s(1)),
        call("channels_unbatched", s(3, 5, 5), s(4, 2, 3, 3), null, s(1), s(0), s(0), 1, s(1)),
        call("input_rank_2d", s(1, 7), s(4, 2, 3, 3), null, s(1), s(0), s(0), 1, s(1)),
        call("input_rank_1d", s(7), s(1, 1, 3), null, s(1), s(0), s(0), 1, s(1)),
        call("input_rank_3d", s(1, 4, 5), s(4, 2, 3, 3, 3), null, s(1), s(0), s(0), 1, s(1)),
        call("too_small_1d", s(1, 1, 1), s(1, 1, 1), null, s(1), s(1), s(0), 1, s(1)),
        call("too_small_1d_unbatched", s(1, 7), s(1, 1, 1), null, s(1), s(4), s(0), 1, s(1)),
        call("too_small_2d", s(1, 1, 1, 1), s(1, 1, 1, 1), null, s(1), s(1), s(0), 1, s(1)),
        call("too_small_3d", s(1, 1, 2, 2, 2), s(1, 1, 1, 1, 1), null, s(1), s(1), s(0), 1, s(1)),
        call("padding_negative", s(1, 1, 7), s(1, 1, 3), null, s(1), s(-1), s(0), 1, s(1)),
        call("outpad_negative", s(1, 1, 7), s(1, 1, 3), null, s(2), s(0), s(-1), 1, s(1)),
        call("stride_zero", s(1, 1, 7), s(1, 1, 3), null, s(0), s(0), s(0), 1, s(1)),
        call("stride_negative", s(1, 1, 7), s(1, 1, 3), null, s(-1), s(0), s(0), 1, s(1)),
        call("dilation_zero_1d", s(1, 1, 7), s(1, 1, 3), null, s(1), s(0), s(0), 1, s(0)),
        call("dilation_negative_1d", s(1, 1, 7), s(1, 1, 3), null, s(1), s(0), s(0), 1, s(-1)),
        call("dilation_zero_3d", s(1, 1, 3, 3, 3), s(1, 1, 3, 3, 3), null, s(1), s(0), s(0), 1, s(1, 1, 0)),
        call("dilation_negative_3d", s(1, 1, 3, 3, 3), s(1, 1, 3, 3, 3), null, s(1), s(0), s(0), 1, s(1, 1, -1)),
        call("kernel_zero_1d", s(1, 4, 5), s(4, 2, 0), null, s(1), s(0), s(0), 1, s(1)),
        call("kernel_zero_2d", s(1, 4, 5, 5), s(4, 2, 0, 3), null, s(1), s(0), s(0), 1, s(1)),
        call("kernel_zero_3d", s(1, 4, 5, 5, 5), s(4, 2, 0, 3, 3), null, s(1), s(0), s(0), 1, s(1)),
        call("out_channels_zero_1d", s(1, 4, 5), s(4, 0, 3), null, s(1), s(0), s(0), 1, s(1)),
        call("out_channels_zero_2d", s(1, 4, 5, 5), s(4, 0, 3, 3), null, s(1), s(0), s(0), 1, s(1)),
        call("out_channels_zero_3d", s(1, 4, 5, 5, 5), s(4, 0, 3, 3, 3), null, s(1), s(0), s(0), 1, s(1)),
        call("in_channels_zero", s(1, 0, 5), s(0, 2, 3), null, s(1), s(0), s(0), 1, s(1)),
        call("stride_length", s(1, 1, 5, 5), s(1, 1, 3, 3), null, s(1, 2, 3), s(0), s(0), 1, s(1)),
        call("padding_length", s(1, 1, 5, 5), s(1, 1, 3, 3), null, s(1), s(1, 2, 3), s(0), 1, s(1)),
        call("dilation_length", s(1, 1, 5, 5), s(1, 1, 3, 3), null, s(1), s(0), s(0), 1, s(1, 2, 3)),
        call("outpad_length", s(1, 1, 5, 5), s(1, 1, 3, 3), null, s(1), s(0), s(1, 2, 3), 1, s(1)),
        call("zero_size_input", s(1, 4, 0, 5), s(4, 2, 3, 3), null, s(1), s(0), s(0), 1, s(1)),
        call("zero_size_input_unbatched", s(4, 0, 5), s(4, 2, 3, 3), null, s(1), s(0), s(0), 1, s(1)),
        call("weight_rank_2", s(1, 4, 5), s(4, 2), null, s(1), s(0), s(0), 1, s(1)),
        // which check PyTorch makes first when several fail
        call("first_stride_length_then_padding", s(1, 1, 5, 5), s(1, 1, 3, 3), null, s(1, 2, 3), s(-1), s(0), 1, s(1)),
        call("first_padding_then_groups", s(1, 3, 7), s(3, 1, 3), null, s(1), s(-1), s(0), 2, s(1)),
        call("first_stride_then_padding", s(1, 1, 5), s(1, 1, 3), null, s(0), s(-1), s(0), 1, s(1)),
        call("first_groups_then_channels", s(1, 2, 7), s(3, 1, 3), null, s(1), s(0), s(0), 2, s(1)),
        call("first_channels_then_bias", s(1, 2, 7), s(3, 1, 3), s(5), s(1), s(0), s(0), 1, s(1)),
        call("first_bias_then_too_small", s(1, 3, 1), s(3, 1, 1), s(5), s(1), s(1), s(0), 1, s(1)),
        call("first_outpad_then_too_small", s(1, 1, 1), s(1, 1, 1), null, s(1), s(1), s(1), 1, s(1)),
        call("first_kernel_then_outpad", s(1, 1, 5), s(1, 1, 0), null, s(1), s(0), s(1), 1, s(1)),
        call("first_dilation_then_outpad", s(1, 1, 5), s(1, 1, 3), null, s(1), s(0), s(1), 1, s(0)),
        call("first_zero_size_then_kernel", s(1, 4, 0, 5), s(4, 2, 0, 3), null, s(1), s(0), s(0), 1, s(1)));

    public static void main(String[] args) throws IOException {
        Path dir = Paths.get(args.length > 0 ? args[0] : "tests/src/test/resources/pytorch");
        Files.createDirectories(dir);
        torch.set_num_threads(1);
        Random rnd = new Random(20250709);
        List<String> cases = new ArrayList<>();
        cases.add("# name\tstride\tpadding\toutput_padding\tgroups\tdilation   (libtorch " + version()
            + "; regenerate: mvn -B -Ppytorch-golden -pl pytorch-golden -am process-classes)");
        for (Call c : VALUES) {
            float[] x = random(rnd, c.input());
            float[] w = random(rnd, c.weight());
            float[] b = c.bias() == null ? null : random(rnd, c.bias());
            Tensor y = run(c, AbstractTensor.create(x, c.input()), AbstractTensor.create(w, c.weight()),
                b == null ? null : AbstractTensor.create(b, c.bias()));
            Npy.write(dir.resolve(c.name() + ".x.npy"), dev.convt.Tensor.of(x, c.input()));
            Npy.write(dir.resolve(c.name() + ".w.npy"), dev.convt.Tensor.of(w, c.weight()));
            if (b != null) {
                Npy.write(dir.resolve(c.name() + ".b.npy"), dev.convt.Tensor.of(b, c.bias()));
            }
            Npy.write(dir.resolve(c.name() + ".y.npy"), dev.convt.Tensor.of(values(y), y.shape()));
            cases.add(String.join("\t", c.name(), list(c.stride()), list(c.padding()), list(c.outputPadding()),
                String.valueOf(c.groups()), list(c.dilation())));
        }
        Files.write(dir.resolve("cases.tsv"), cases, StandardCharsets.UTF_8);

        List<String> verdicts = new ArrayList<>();
        verdicts.add("# name\tinput\tweight\tbias\tstride\tpadding\toutput_padding\tgroups\tdilation\tpytorch   "
            + "(libtorch " + version() + ": OK and the output shape, or ERROR and the first line of its message)");
        for (Call c : VERDICTS) {
            String verdict;
            try {
                Tensor y = run(c, AbstractTensor.create(new float[(int) count(c.input())], c.input()),
                    AbstractTensor.create(new float[(int) count(c.weight())], c.weight()),
                    c.bias() == null ? null : AbstractTensor.create(new float[(int) count(c.bias())], c.bias()));
                verdict = "OK " + list(y.shape());
            } catch (RuntimeException e) {
                verdict = "ERROR " + e.getMessage().lines().findFirst().orElse("");
            }
            verdicts.add(String.join("\t", c.name(), list(c.input()), list(c.weight()),
                c.bias() == null ? "-" : list(c.bias()), list(c.stride()), list(c.padding()),
                list(c.outputPadding()), String.valueOf(c.groups()), list(c.dilation()), verdict));
        }
        Files.write(dir.resolve("errors.tsv"), verdicts, StandardCharsets.UTF_8);
        System.out.println("wrote " + VALUES.size() + " cases and " + VERDICTS.size() + " verdicts of libtorch "
            + version() + " to " + dir);
    }

    private static String version() {
        return torch.TORCH_VERSION_MAJOR + "." + torch.TORCH_VERSION_MINOR + "." + torch.TORCH_VERSION_PATCH;
    }

    private static Tensor run(Call c, Tensor x, Tensor w, Tensor b) {
        TensorOptional bias = b == null ? new TensorOptional() : new TensorOptional(b);
        long k = Math.max(1, w.dim() - 2);
        if (k == 1) {
            return torch.conv_transpose1d(x, w, bias, c.stride(), c.padding(), c.outputPadding(), c.groups(),
                c.dilation());
        }
        if (k == 2) {
            return torch.conv_transpose2d(x, w, bias, c.stride(), c.padding(), c.outputPadding(), c.groups(),
                c.dilation());
        }
        return torch.conv_transpose3d(x, w, bias, c.stride(), c.padding(), c.outputPadding(), c.groups(),
            c.dilation());
    }

    private static float[] values(Tensor t) {
        Tensor c = t.contiguous();
        float[] out = new float[(int) c.numel()];
        FloatBuffer buf = c.createBuffer();
        buf.get(out);
        return out;
    }

    private static float[] random(Random rnd, long[] shape) {
        float[] v = new float[(int) count(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = rnd.nextFloat() * 2 - 1;
        }
        return v;
    }

    private static long count(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= Math.max(d, 0);
        }
        return n;
    }

    private static String list(long[] v) {
        return Arrays.stream(v).mapToObj(Long::toString).collect(Collectors.joining(","));
    }
}
