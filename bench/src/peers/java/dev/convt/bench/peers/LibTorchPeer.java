package dev.convt.bench.peers;

import dev.convt.ConvTransposeLayer;
import dev.convt.Tensor;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

import java.util.Arrays;

/**
 * libtorch through the JavaCPP Presets: {@code torch::conv_transpose{1,2,3}d} under an inference-mode guard, as a
 * C++ or Python caller would run it. The input tensor views a native buffer allocated once, which each call fills
 * from the caller's array (the one copy in); libtorch allocates the output, which is copied to the caller's array
 * (the one copy out) and released. Weights and bias are native copies made once.
 */
final class LibTorchPeer implements Peer {

    private final int rank;
    private final long[] stride;
    private final long[] padding;
    private final long[] outputPadding;
    private final long[] dilation;
    private final long groups;
    private final FloatPointer inMem;
    private final FloatPointer weightMem;
    private final FloatPointer biasMem;
    private final org.bytedeco.pytorch.Tensor in;
    private final org.bytedeco.pytorch.Tensor weight;
    private final org.bytedeco.pytorch.Tensor biasTensor;
    private final TensorOptional bias;
    private final long outCount;

    LibTorchPeer(ConvTransposeLayer layer, float[] weight, float[] bias, long[] inputShape, int threads) {
        torch.set_num_threads(threads);
        rank = layer.rank();
        stride = longs(layer.stride());
        padding = longs(layer.padding());
        outputPadding = longs(layer.outputPadding());
        dilation = longs(layer.dilation());
        groups = layer.groups();
        TensorOptions f32 = new TensorOptions(torch.ScalarType.Float);
        inMem = new FloatPointer(Tensor.elementCount(inputShape));
        in = torch.from_blob(inMem, inputShape, f32);
        weightMem = new FloatPointer(weight);
        this.weight = torch.from_blob(weightMem, layer.weightShape(), f32);
        if (bias == null) {
            biasMem = null;
            biasTensor = null;
            this.bias = new TensorOptional();
        } else {
            biasMem = new FloatPointer(bias);
            biasTensor = torch.from_blob(biasMem, new long[] {bias.length}, f32);
            this.bias = new TensorOptional(biasTensor);
        }
        outCount = Tensor.elementCount(layer.outputShape(inputShape));
        f32.close(); // from_blob copied the options
    }

    private static long[] longs(int[] v) {
        return Arrays.stream(v).asLongStream().toArray();
    }

    @Override
    public void run(float[] input, float[] output) {
        inMem.put(input);
        try (InferenceMode guard = new InferenceMode(); org.bytedeco.pytorch.Tensor y = convTranspose()) {
            // A JNI call or two against libtorch's own dispatch: cheap enough to check every call, so a layout
            // surprise can never be timed as a result.
            if (!y.is_contiguous() || y.numel() != outCount || output.length != outCount) {
                throw new IllegalStateException("libtorch returned " + y.numel() + " elements (contiguous: "
                    + y.is_contiguous() + "), expected " + outCount);
            }
            FloatPointer data = y.data_ptr_float();
            data.get(output);
            data.close();
        }
    }

    private org.bytedeco.pytorch.Tensor convTranspose() {
        return switch (rank) {
            case 1 -> torch.conv_transpose1d(in, weight, bias, stride, padding, outputPadding, groups, dilation);
            case 2 -> torch.conv_transpose2d(in, weight, bias, stride, padding, outputPadding, groups, dilation);
            default -> torch.conv_transpose3d(in, weight, bias, stride, padding, outputPadding, groups, dilation);
        };
    }

    @Override
    public String describe() {
        return "libtorch " + torch.TORCH_VERSION + " (JavaCPP Presets), " + torch.get_num_threads() + " threads, CPU "
            + torch.get_cpu_capability().getString() + ", conv_transpose" + rank + "d under InferenceMode";
    }

    @Override
    public void close() {
        in.close();
        weight.close();
        bias.close();
        if (biasTensor != null) {
            biasTensor.close();
        }
        inMem.close();
        weightMem.close();
        if (biasMem != null) {
            biasMem.close();
        }
    }
}
