package dev.convt;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Every validation error of the module form (builder, compile, forward): its type and its exact message. Where PyTorch
 * has a message the text starts with it: the module constructor's (torch/nn/modules/conv.py, _ConvNd.__init__:
 * "groups must be a positive integer", "in_channels must be divisible by groups", "out_channels must be divisible by
 * groups"; torch.empty: "Trying to create tensor with negative dimension"), and F.conv_transposeNd's, which libtorch's
 * own verdicts in errors.tsv check (PyTorchErrorsTest).
 */
class ValidationTest {

    private static void fails(String message, Executable e) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        assertEquals(message, ex.getMessage());
    }

    private static ConvTransposeLayer.Builder b2() {
        return ConvTransposeLayer.builder(2).inChannels(4).outChannels(2).kernelSize(3);
    }

    @Test
    void spec() {
        fails("spatial rank must be 1, 2 or 3, but got 4", () -> ConvTransposeLayer.builder(4));
        fails("in_channels must be set",
            () -> ConvTransposeLayer.builder(1).outChannels(1).kernelSize(1).build());
        fails("out_channels must be set",
            () -> ConvTransposeLayer.builder(1).inChannels(1).kernelSize(1).build());
        fails("kernel_size must be set", () -> ConvTransposeLayer.builder(1).inChannels(1).outChannels(1).build());
        fails("groups must be a positive integer, but got groups=0", () -> b2().groups(0).build());
        // the constructor judges groups before the out_channels it often produces (weight.size(1) * groups)
        fails("groups must be a positive integer, but got groups=0", () -> b2().outChannels(0).groups(0).build());
        fails("in_channels must be divisible by groups, but got in_channels=4 groups=3", () -> b2().groups(3).build());
        fails("out_channels must be divisible by groups, but got out_channels=2 groups=4",
            () -> b2().groups(4).build());
        fails("Trying to create tensor with negative dimension -1: [4, -1, 3, 3]", () -> b2().outChannels(-1).build());
        fails("Trying to create tensor with negative dimension -4: [-4, 2, 3, 3]", () -> b2().inChannels(-4).build());
        fails("Trying to create tensor with negative dimension -3: [4, 2, 3, -3]", () -> b2().kernelSize(3, -3).build());
        fails("Given groups=1, expected weight to be at least 1 at dimension 0, but got weight of size [0, 2, 3, 3] "
            + "instead", () -> b2().inChannels(0).build());
        fails("non-empty 2D or 4D weight tensor expected, but got: [4, 0, 3, 3]", () -> b2().outChannels(0).build());
        fails("non-empty 2D or 4D weight tensor expected, but got: [4, 0, 1, 3]",
            () -> ConvTransposeLayer.builder(1).inChannels(4).outChannels(0).kernelSize(3).build());
        fails("non-empty 5D (n_output_plane x n_input_plane x kernel_depth x kernel_height x kernel_width) tensor "
                + "expected for weight, but got: [4, 2, 0, 3, 3]",
            () -> ConvTransposeLayer.builder(3).inChannels(4).outChannels(2).kernelSize(0, 3, 3).build());
        fails("kernel size should be greater than zero, but got kernel_height: 0 kernel_width: 3",
            () -> b2().kernelSize(0, 3).build());
        fails("kernel size should be greater than zero, but got kernel_height: 1 kernel_width: 0",
            () -> ConvTransposeLayer.builder(1).inChannels(4).outChannels(2).kernelSize(0).build());
        fails("non-positive stride is not supported, but got stride=[1, 0]", () -> b2().stride(1, 0).build());
        fails("negative padding is not supported, but got padding=[-1, -1]", () -> b2().padding(-1).build());
        fails("negative output_padding is not supported, but got output_padding=[0, -1]",
            () -> b2().outputPadding(0, -1).build());
        fails("dilation should be greater than zero, but got dilation_height: 0, dilation_width: 0",
            () -> b2().dilation(0).build());
        fails("dilation should be greater than zero, but got dilation_height: 1, dilation_width: -2",
            () -> ConvTransposeLayer.builder(1).inChannels(4).outChannels(2).kernelSize(3).dilation(-2).build());
        fails("dilation should be greater than zero, but got dilation_depth: 1, dilation_height: 1, dilation_width: 0",
            () -> ConvTransposeLayer.builder(3).inChannels(4).outChannels(2).kernelSize(3).dilation(1, 1, 0).build());
        fails("expected stride to be a single integer value or a list of 2 values to match the convolution "
            + "dimensions, but got stride=[1, 2, 3]", () -> b2().stride(1, 2, 3).build());
        fails("expected kernel_size to be a single integer value or a list of 2 values to match the convolution "
            + "dimensions, but got kernel_size=[1, 2, 3]", () -> b2().kernelSize(1, 2, 3).build());
        // PyTorch's order: negative padding before a non-positive stride, a negative dilation before the kernel
        fails("negative padding is not supported, but got padding=[-1, -1]", () -> b2().stride(0).padding(-1).build());
        fails("dilation should be greater than zero, but got dilation_height: -1, dilation_width: -1",
            () -> b2().kernelSize(0).dilation(-1).build());
    }

    /** The functional form's own refusals (the ones PyTorch shares are in errors.tsv, PyTorchErrorsTest). */
    @Test
    void functional() {
        fails("weight should have 3, 4 or 5 dimensions ([in_channels, out_channels/groups, *kernel_size] of a 1d, 2d "
                + "or 3d layer), but got weight of size [1, 1, 1, 1, 1, 1]",
            () -> ConvTransposeLayer.functional(new long[] {1, 1, 1, 1, 1, 1}, new long[] {1, 1, 1, 1, 1, 1}, null,
                new int[] {1}, new int[] {0}, new int[] {0}, 1, new int[] {1}));
        fails("weight should have at least three dimensions, but got weight of size [4, 2]",
            () -> ConvTransposeLayer.functional(new long[] {1, 4, 5}, new long[] {4, 2}, null,
                new int[] {1}, new int[] {0}, new int[] {0}, 1, new int[] {1}));
        fails("kernel_size 3000000000 is larger than 2147483647",
            () -> ConvTransposeLayer.functional(new long[] {1, 1, 5}, new long[] {1, 1, 3_000_000_000L}, null,
                new int[] {1}, new int[] {0}, new int[] {0}, 1, new int[] {1}));
        fails("stride must be set", () -> b2().stride((int[]) null).build());
    }

    @Test
    void outputPaddingMustBeSmallerThanStrideOrDilation() {
        fails("output padding must be smaller than either stride or dilation, but got output_padding_height: 2 "
                + "output_padding_width: 0 stride_height: 2 stride_width: 2 dilation_height: 1 dilation_width: 1",
            () -> b2().stride(2).outputPadding(2, 0).build());
        // PyTorch runs a 1d layer through its 2d path: a height of 1 appears in the message
        fails("output padding must be smaller than either stride or dilation, but got output_padding_height: 0 "
                + "output_padding_width: 1 stride_height: 1 stride_width: 1 dilation_height: 1 dilation_width: 1",
            () -> ConvTransposeLayer.builder(1).inChannels(1).outChannels(1).kernelSize(3).outputPadding(1).build());
        fails("output padding must be smaller than either stride or dilation, but got output_padding_depth: 0 "
                + "output_padding_height: 0 output_padding_width: 3 stride_depth: 1 stride_height: 1 stride_width: 1 "
                + "dilation_depth: 3 dilation_height: 3 dilation_width: 3",
            () -> ConvTransposeLayer.builder(3).inChannels(1).outChannels(1).kernelSize(3).dilation(3)
                .outputPadding(0, 0, 3).build());
        // allowed because of dilation, as in PyTorch
        ConvTransposeLayer.builder(1).inChannels(1).outChannels(1).kernelSize(3).dilation(2).outputPadding(1).build();
    }

    @Test
    void input() {
        ConvTransposeLayer l = b2().build();
        fails("Expected 3D (unbatched) or 4D (batched) input to conv_transpose2d, but got input of size: [1, 7]",
            () -> l.outputShape(1, 7));
        fails("Given transposed=1, weight of size [4, 2, 3, 3], expected input[1, 3, 5, 5] to have 4 channels, "
            + "but got 3 channels instead", () -> l.outputShape(1, 3, 5, 5));
        // PyTorch judges an unbatched input in its batched form
        fails("Given transposed=1, weight of size [4, 2, 3, 3], expected input[1, 3, 5, 5] to have 4 channels, "
            + "but got 3 channels instead", () -> l.outputShape(3, 5, 5));
        fails("Only zero batch or zero channel inputs are supported, but got input shape: [1, 4, 0, 5]",
            () -> l.outputShape(1, 4, 0, 5));
        fails("Only zero batch or zero channel inputs are supported, but got input shape: [1, 4, 0, 5]",
            () -> l.outputShape(4, 0, 5));
        fails("input size must be non-negative, but got input of size: [-1, 4, 5, 5]",
            () -> l.outputShape(-1, 4, 5, 5));
        ConvTransposeLayer cropped = ConvTransposeLayer.builder(2).inChannels(1).outChannels(1).kernelSize(1)
            .padding(1).build();
        fails("Given input size per channel: (1 x 1). Calculated output size per channel: (-1 x -1). "
            + "Output size is too small", () -> cropped.outputShape(1, 1, 1, 1));
        ConvTransposeLayer k2 = ConvTransposeLayer.builder(2).inChannels(1).outChannels(1).kernelSize(2)
            .padding(1).build();
        fails("Given input size per channel: (1 x 1). Calculated output size per channel: (0 x 0). "
            + "Output size is too small", () -> k2.outputShape(1, 1, 1, 1));
        ConvTransposeLayer oneD = ConvTransposeLayer.builder(1).inChannels(1).outChannels(1).kernelSize(1)
            .padding(4).build();
        fails("Given input size per channel: (1 x 7). Calculated output size per channel: (1 x -1). "
            + "Output size is too small", () -> oneD.outputShape(1, 1, 7));
        fails("Given input size per channel: (1 x 7). Calculated output size per channel: (1 x -1). "
            + "Output size is too small", () -> oneD.outputShape(1, 7));
        // an empty batch is computed as PyTorch does: an empty output, even with empty spatial sizes
        org.junit.jupiter.api.Assertions.assertArrayEquals(new long[] {0, 2, 7, 7}, l.outputShape(0, 4, 5, 5));
        org.junit.jupiter.api.Assertions.assertArrayEquals(new long[] {0, 2, 2, 7}, l.outputShape(0, 4, 0, 5));
        fails("output of size [1, 2, 2147483649, 7] has 30064771086 elements, more than the 536870911 a tensor can "
            + "hold", () -> l.outputShape(1, 4, Integer.MAX_VALUE, 5));
        // a size no int or long product can hold saturates rather than wrapping around to a small, valid-looking one
        ConvTransposeLayer s3 = b2().stride(3).build();
        fails("output of size [1, 2, 9223372036854775807, 15] has 9223372036854775807 elements, more than the "
            + "536870911 a tensor can hold", () -> s3.outputShape(1, 4, Long.MAX_VALUE / 2, 5));
    }

    @Test
    void weightAndBias() {
        ConvTransposeLayer l = b2().build();
        fails("weight should be of size [4, 2, 3, 3] ([in_channels, out_channels/groups, *kernel_size] for "
                + "in_channels=4, out_channels=2, groups=1, kernel_size=[3, 3]), but got weight of size [2, 4, 3, 3]",
            () -> Backends.reference().compile(l, Tensor.zeros(2, 4, 3, 3), Tensor.zeros(2)));
        fails("Given transposed=1, weight of size [4, 2, 3, 3], expected bias to be 1-dimensional with 2 elements, but "
            + "got bias of size [3] instead", () -> Backends.reference().compile(l, Tensor.zeros(4, 2, 3, 3),
            Tensor.zeros(3)));
        fails("the layer was built with bias=true, so a bias of size [2] is required, but none was given",
            () -> Backends.reference().compile(l, Tensor.zeros(4, 2, 3, 3), null));
        ConvTransposeLayer nb = b2().bias(false).build();
        fails("the layer was built with bias=false, but a bias of size [2] was given",
            () -> Backends.reference().compile(nb, Tensor.zeros(4, 2, 3, 3), Tensor.zeros(2)));
    }

    @Test
    void forwardShapesAndLifecycleOnEveryBackend() {
        ConvTransposeLayer l = b2().bias(false).build();
        for (Backend b : Backends.all()) {
            if (!b.isAvailable()) {
                continue;
            }
            CompiledConvTranspose op = b.compile(l, Tensor.zeros(4, 2, 3, 3), null);
            fails("output should be of size [1, 2, 7, 7] for input of size [1, 4, 5, 5], but got output of size "
                + "[1, 2, 7, 6]", () -> op.forward(Tensor.zeros(1, 4, 5, 5), Tensor.zeros(1, 2, 7, 6)));
            fails("Given transposed=1, weight of size [4, 2, 3, 3], expected input[1, 2, 5, 5] to have 4 channels, "
                + "but got 2 channels instead", () -> op.forward(Tensor.zeros(1, 2, 5, 5)));
            Tensor square = Tensor.zeros(1, 4, 5, 5);
            try (CompiledConvTranspose same = b.compile(ConvTransposeLayer.builder(2).inChannels(4).outChannels(4)
                .kernelSize(1).bias(false).build(), Tensor.zeros(4, 4, 1, 1), null)) {
                fails("output must not be the input tensor (in-place is not supported)",
                    () -> same.forward(square, square));
            }
            fails("output tensor is read-only", () -> op.forward(square,
                Tensor.wrap(java.nio.FloatBuffer.allocate(98).asReadOnlyBuffer(), 1, 2, 7, 7)));
            op.close();
            op.close(); // idempotent
            IllegalStateException closed = assertThrows(IllegalStateException.class,
                () -> op.forward(Tensor.zeros(1, 4, 5, 5)));
            assertEquals("compiled op " + l + " on " + b.id() + " is closed", closed.getMessage());
            assertThrows(IllegalStateException.class, () -> op.prepare(1, 4, 5, 5));
        }
    }

    @Test
    void tensors() {
        // PyTorch's texts (libtorch 2.7.1: torch.zeros(3).view(2, 2), torch.zeros(2, -1), reshape)
        fails("shape '[2, 2]' is invalid for input of size 3 (data has 3 elements, the shape needs 4)",
            () -> Tensor.wrap(new float[3], 2, 2));
        fails("shape '[2, 2]' is invalid for input of size 5 (the buffer has 5 remaining elements, the shape needs 4)",
            () -> Tensor.wrap(java.nio.FloatBuffer.allocate(5), 2, 2));
        fails("Trying to create tensor with negative dimension -1: [2, -1]", () -> Tensor.zeros(2, -1));
        fails("Trying to create tensor with negative dimension -1: [2, -1]", () -> Tensor.allocateDirect(2, -1));
        fails("shape [65536, 65536] has 4294967296 elements, more than the 536870911 a tensor can hold",
            () -> Tensor.zeros(65536, 65536));
        fails("shape '[3]' is invalid for input of size 4", () -> Tensor.zeros(2, 2).reshape(3));
        fails("invalid shape dimension -2 (convt infers no dimension: give every size)",
            () -> Tensor.zeros(2, 2).reshape(-2, 2));
        fails("a direct buffer must be in native byte order (" + java.nio.ByteOrder.nativeOrder() + "), but got "
            + "BIG_ENDIAN", () -> Tensor.wrap(java.nio.ByteBuffer.allocateDirect(16).order(java.nio.ByteOrder.BIG_ENDIAN)
            .asFloatBuffer(), 4));
    }
}
