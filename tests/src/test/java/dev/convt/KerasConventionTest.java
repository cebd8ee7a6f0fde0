package dev.convt;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Keras Conv{1,2,3}DTranspose on TensorFlow: hand-worked lengths and pads (arithmetic written out per case), the
 * kernel layout conversion, and every validation message.
 */
class KerasConventionTest {

    private static Keras.Attributes attrs() {
        return new Keras.Attributes();
    }

    private static void expect(ConvertedLayer c, long[] outputShape, int[] padBegin, int[] padEnd) {
        assertArrayEquals(outputShape, c.outputShape(), "output shape of " + c);
        assertArrayEquals(padBegin, c.layer().padBegin(), "padBegin of " + c);
        assertArrayEquals(padEnd, c.layer().padEnd(), "padEnd of " + c);
    }

    private static long[] s(long... v) {
        return v;
    }

    private static int[] i(int... v) {
        return v;
    }

    @Test
    void sameWithoutOutputPaddingIsTheDcganLayer() {
        // Conv2DTranspose(32, 4, strides=2, padding="same") on 4x4, channels_last: out = in*stride = 8;
        // TF SAME: natural (4-1)*2 + 4 = 10, total 10 - 8 = 2, begin 1, end 1 = ConvTranspose2d(k=4, s=2, p=1)
        ConvertedLayer c = Keras.convTranspose(attrs().strides(2).padding("same"), s(8, 4, 4, 16), s(4, 4, 32, 16),
            s(32));
        expect(c, s(8, 8, 8, 32), i(1, 1), i(1, 1));
        assertEquals(Layout.CHANNELS_LAST, c.layout());
        assertEquals(ConvTransposeLayer.builder(2).inChannels(16).outChannels(32).kernelSize(4).stride(2).padding(1)
            .build(), c.layer());
    }

    @Test
    void sameOddTotalGoesAtTheEnd() {
        // Conv1DTranspose(k=3, s=2, same) on 5: out 10; natural 8 + 3 = 11; total 1: begin 0, end 1
        expect(Keras.convTranspose(attrs().strides(2).padding("same"), s(1, 5, 2), s(3, 3, 2), null), s(1, 10, 3),
            i(0), i(1));
        // with output_padding=1 on 4: out = (4-1)*2 + 3 - 2*(3//2) + 1 = 8; natural 9; total 1: begin 0, end 1,
        // padEnd 1. PyTorch's padding=1, output_padding=1 gives the same length 8 but padBegin 1: other values.
        ConvertedLayer c = Keras.convTranspose(attrs().strides(2).padding("same").outputPadding(1), s(1, 4, 2),
            s(3, 3, 2), null);
        expect(c, s(1, 8, 3), i(0), i(1));
    }

    @Test
    void validWithoutOutputPaddingAndStrideLargerThanKernel() {
        // Conv1DTranspose(k=2, s=3, valid) on 4: out = 4*3 + max(2 - 3, 0) = 12; natural 9 + 2 = 11; padEnd -1
        expect(Keras.convTranspose(attrs().strides(3), s(1, 4, 1), s(2, 1, 1), null), s(1, 12, 1), i(0), i(-1));
        // k=3, s=2: out = 8 + max(3 - 2, 0) = 9 = natural (4-1)*2 + 3
        expect(Keras.convTranspose(attrs().strides(2), s(1, 4, 1), s(3, 1, 1), null), s(1, 9, 1), i(0), i(0));
    }

    @Test
    void validWithOutputPaddingIsPyTorchsOutputPadding() {
        // k=3, s=2, output_padding=1 on 4: out = 3*2 + 3 - 0 + 1 = 10; natural 9: padEnd -1 = PyTorch (p=0, op=1)
        ConvertedLayer c = Keras.convTranspose(attrs().strides(2).outputPadding(1), s(1, 4, 1), s(3, 1, 1), null);
        expect(c, s(1, 10, 1), i(0), i(-1));
        assertEquals(ConvTransposeLayer.builder(1).inChannels(1).outChannels(1).kernelSize(3).stride(2).outputPadding(1)
            .bias(false).build(), c.layer());
    }

    @Test
    void dilationWithStrideOne() {
        // Conv2DTranspose(k=3, dilation_rate=2, same) on 5x5: kd = 5; out = 5; natural 4 + 5 = 9; total 4: 2, 2
        expect(Keras.convTranspose(attrs().padding("same").dilationRate(2), s(1, 5, 5, 1), s(3, 3, 1, 1), null),
            s(1, 5, 5, 1), i(2, 2), i(2, 2));
        // valid, output_padding 0, dilation 2, k 2: kd 3, out = (5-1) + 3 + 0 = 7 = natural
        expect(Keras.convTranspose(attrs().dilationRate(2).outputPadding(0), s(1, 5, 1), s(2, 1, 1), null),
            s(1, 7, 1), i(0), i(0));
    }

    @Test
    void channelsFirst3d() {
        // Conv3DTranspose(k=(2, 3, 1), strides=(1, 2, 3), valid) on (3, 4, 5), channels_first:
        // out = (3*1 + max(2-1, 0), 4*2 + max(3-2, 0), 5*3 + max(1-3, 0)) = (4, 9, 15)
        // natural = (2 + 2, 6 + 3, 12 + 1) = (4, 9, 13): padEnd (0, 0, -2)
        ConvertedLayer c = Keras.convTranspose(attrs().strides(1, 2, 3).dataFormat("channels_first"),
            s(2, 6, 3, 4, 5), s(2, 3, 1, 7, 6), s(7));
        expect(c, s(2, 7, 4, 9, 15), i(0, 0, 0), i(0, 0, -2));
        assertEquals(Layout.CHANNELS_FIRST, c.layout());
        assertArrayEquals(s(6, 7, 2, 3, 1), c.layer().weightShape());
    }

    @Test
    void kernelLayoutConversion() {
        // Keras kernel [k=2, Cout=3, Cin=2]: value = 100*t + 10*co + ci; internal [Cin, Cout, k]
        float[] keras = new float[2 * 3 * 2];
        for (int t = 0; t < 2; t++) {
            for (int co = 0; co < 3; co++) {
                for (int ci = 0; ci < 2; ci++) {
                    keras[(t * 3 + co) * 2 + ci] = 100 * t + 10 * co + ci;
                }
            }
        }
        Tensor internal = WeightLayout.KERAS.toInternal(Tensor.of(keras, 2, 3, 2));
        assertArrayEquals(s(2, 3, 2), internal.shape());
        assertArrayEquals(new float[] {0, 100, 10, 110, 20, 120, 1, 101, 11, 111, 21, 121}, internal.toArray());
        assertArrayEquals(keras, WeightLayout.KERAS.fromInternal(internal).toArray());
        ConvertedLayer c = Keras.convTranspose(attrs(), s(1, 4, 2), s(2, 3, 2), null);
        assertArrayEquals(internal.toArray(), c.weight(Tensor.of(keras, 2, 3, 2)).toArray());
        IllegalArgumentException wrong = assertThrows(IllegalArgumentException.class,
            () -> c.weight(Tensor.zeros(2, 2, 3)));
        assertEquals("the weight was converted for shape [2, 3, 2] [*kernel_size, filters, input_channels], but got "
            + "[2, 2, 3]", wrong.getMessage());
    }

    @Test
    void describeShowsNoneAndTheTensorFlowRule() {
        String d = Keras.convTranspose(attrs().strides(2).padding("same"), s(1, 5, 2), s(3, 3, 2), null).layer()
            .describe();
        assertEquals(String.join("\n",
            "convention: keras Conv1DTranspose (on TensorFlow)",
            "attributes: strides=(2,) padding=\"same\"",
            "derived: axis 0: kd = (3-1)*1 + 1 = 3; same, output_padding None: in*stride = 5*2 = 10; TensorFlow SAME "
                + "padding: total max((in-1)*stride + kd - out, 0) = 1, begin total//2 -> padBegin 0, padEnd 1",
            "padBegin: [0]  padEnd: [1]",
            "output padding: None (the output length is inferred)",
            "output shape: [1, 10, 3] for input [1, 5, 2] (NWC)",
            "layer: ConvTranspose1d(2, 3, kernel_size=(3,), stride=(2,), pad_begin=(0,), pad_end=(1,), bias=False)"),
            d);
    }

    private static void fails(String message, Executable e) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        assertEquals(message, ex.getMessage());
    }

    @Test
    void everyValidationMessage() {
        long[] x = {1, 5, 5, 2};
        long[] k = {3, 3, 4, 2};
        fails("Keras ConvTranspose: the kernel must be [*kernel_size, filters, input_channels] of rank 3, 4 or 5 "
            + "(Conv1DTranspose, Conv2DTranspose, Conv3DTranspose), but has shape (4, 2)",
            () -> Keras.convTranspose(attrs(), x, s(4, 2), null));
        fails("Conv2DTranspose: the kernel's dimensions must be between 1 and 2147483647, but the kernel has shape "
            + "(3, 0, 4, 2)", () -> Keras.convTranspose(attrs(), x, s(3, 0, 4, 2), null));
        fails("The `data_format` argument must be one of \"channels_first\", \"channels_last\". Received: "
            + "data_format=NHWC", () -> Keras.convTranspose(attrs().dataFormat("NHWC"), x, k, null));
        fails("The `padding` argument must be one of \"valid\", \"same\". Received: padding=full",
            () -> Keras.convTranspose(attrs().padding("full"), x, k, null));
        fails("The `strides` argument must be a tuple of 2 integers. Received strides=(1, 2, 3)",
            () -> Keras.convTranspose(attrs().strides(1, 2, 3), x, k, null));
        fails("The `strides` argument must be a tuple of 2 integers. Received strides=(1, 0), including values {0} "
            + "that do not satisfy `value > 0`", () -> Keras.convTranspose(attrs().strides(1, 0), x, k, null));
        fails("The `dilation_rate` argument must be a tuple of 2 integers. Received dilation_rate=0, including values "
            + "{0} that do not satisfy `value > 0`", () -> Keras.convTranspose(attrs().dilationRate(0), x, k, null));
        fails("The `output_padding` argument must be a tuple of 2 integers. Received output_padding=(0, -1), "
            + "including values {-1} that do not satisfy `value >= 0`",
            () -> Keras.convTranspose(attrs().outputPadding(0, -1), x, k, null));
        fails("Strides must be greater than output padding. Received strides=(2, 2), output_padding=(1, 2).",
            () -> Keras.convTranspose(attrs().strides(2).outputPadding(1, 2), x, k, null));
        fails("`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: strides=(1, 2) and "
            + "dilation_rate=(2, 1)", () -> Keras.convTranspose(attrs().strides(1, 2).dilationRate(2, 1), x, k, null));
        fails("Input 0 of layer \"conv2d_transpose\" is incompatible with the layer: expected ndim=4, found ndim=3. "
            + "Full shape received: (5, 5, 2)", () -> Keras.convTranspose(attrs(), s(5, 5, 2), k, null));
        fails("Input 0 of layer \"conv2d_transpose\": dimensions must be between 0 and 2147483647, but got input "
            + "with shape (1, -5, 5, 2)", () -> Keras.convTranspose(attrs(), s(1, -5, 5, 2), k, null));
        fails("Input 0 of layer \"conv2d_transpose\" is incompatible with the layer: expected axis -1 of input shape "
            + "to have value 2 (the kernel's input_channels, kernel shape (3, 3, 4, 2)), but received input with "
            + "shape (1, 5, 5, 3)", () -> Keras.convTranspose(attrs(), s(1, 5, 5, 3), k, null));
        fails("Input 0 of layer \"conv2d_transpose\" is incompatible with the layer: expected axis 1 of input shape "
            + "to have value 2 (the kernel's input_channels, kernel shape (3, 3, 4, 2)), but received input with "
            + "shape (1, 5, 5, 2)", () -> Keras.convTranspose(attrs().dataFormat("channels_first"), x, k, null));
        fails("Input 0 of layer \"conv2d_transpose\": spatial sizes must be positive, but got input with shape "
            + "(1, 0, 5, 2)", () -> Keras.convTranspose(attrs(), s(1, 0, 5, 2), k, null));
        fails("Conv2DTranspose: the bias must have shape (filters,) = (4,), but got shape (2,)",
            () -> Keras.convTranspose(attrs(), x, k, s(2)));
        // same, k 4, s 2, output_padding 0 on 4: Keras's out = 3*2 + 4 - 2*2 + 0 = 6; ceil(6/2) = 3 != 4
        fails("Conv2DBackpropInput: Size of out_backprop doesn't match computed: actual = 4, computed = 3 spatial_dim: "
            + "1 input: 6 filter: 4 output: 4 stride: 2 dilation: 1 (TensorFlow's padding=\"same\" needs "
            + "ceil(out/stride) == in; Keras's length with output_padding=(0, 0) and the even dilated kernel 4 is 6)",
            () -> Keras.convTranspose(attrs().strides(2).padding("same").outputPadding(0), s(1, 4, 4, 2),
                s(4, 4, 3, 2), null));
        fails("Conv3DBackpropInputOpV2: Size of out_backprop doesn't match computed: actual = 3, computed = 2 "
            + "spatial_dim: 4 input: 2 filter: 2 output: 3 stride: 1 dilation: 1 (TensorFlow's padding=\"same\" needs "
            + "ceil(out/stride) == in; Keras's length with output_padding=(0, 0, 0) and the even dilated kernel 2 is 2)",
            () -> Keras.convTranspose(attrs().padding("same").outputPadding(0).dataFormat("channels_first"),
                s(1, 1, 3, 3, 3), s(1, 1, 2, 1, 1), null));
    }

    @Test
    void caseOfStringArgumentsFollowsKeras() {
        // Keras lower-cases padding and data_format
        expect(Keras.convTranspose(attrs().strides(2).padding("SAME").dataFormat("Channels_Last"), s(1, 5, 2),
            s(3, 3, 2), null), s(1, 10, 3), i(0), i(1));
    }
}
