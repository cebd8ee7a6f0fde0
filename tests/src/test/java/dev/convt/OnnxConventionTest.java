package dev.convt;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ONNX ConvTranspose: hand-worked shapes and pads (the arithmetic is written out next to each case), the
 * ORT-compatible variants, and every validation message.
 */
class OnnxConventionTest {

    private static Onnx.Attributes attrs() {
        return new Onnx.Attributes();
    }

    private static void expect(ConvertedLayer c, long[] outputShape, int[] padBegin, int[] padEnd) {
        assertArrayEquals(outputShape, c.outputShape(), "output shape of " + c);
        assertArrayEquals(padBegin, c.layer().padBegin(), "padBegin of " + c);
        assertArrayEquals(padEnd, c.layer().padEnd(), "padEnd of " + c);
        assertEquals(Layout.CHANNELS_FIRST, c.layout());
        assertArrayEquals(outputShape, c.layer().origin().outputShape());
    }

    private static long[] s(long... v) {
        return v;
    }

    private static int[] i(int... v) {
        return v;
    }

    @Test
    void sameUpperAndLowerWithAnOddTotal() {
        // in 5, k 3, s 2: natural = 2*(5-1) + 0 + (3-1)*1 + 1 = 11; target 5*2 = 10; total 1
        // SAME_UPPER: begin 1//2 = 0, end 1 (odd extra at the end); SAME_LOWER: end 0, begin 1
        long[] x = {1, 2, 5};
        long[] w = {2, 3, 3};
        expect(Onnx.convTranspose(attrs().strides(2).autoPad("SAME_UPPER"), x, w, null), s(1, 3, 10), i(0), i(1));
        ConvertedLayer lower = Onnx.convTranspose(attrs().strides(2).autoPad("SAME_LOWER"), x, w, null);
        expect(lower, s(1, 3, 10), i(1), i(0));
        // SAME_LOWER here is exactly ConvTranspose1d(2, 3, 3, stride=2, padding=1, output_padding=1)
        assertEquals(ConvTransposeLayer.builder(1).inChannels(2).outChannels(3).kernelSize(3).stride(2).padding(1)
            .outputPadding(1).bias(false).build(), lower.layer());
        // the ORT variant agrees whenever the total is not negative
        expect(Onnx.convTranspose(attrs().strides(2).autoPad("SAME_UPPER").ortCompat(true), x, w, null),
            s(1, 3, 10), i(0), i(1));
    }

    @Test
    void sameWithStrideLargerThanKernel() {
        // in 4, k 2, s 3: natural = 3*3 + 0 + 1 + 1 = 11; target 12; total -1
        // spec SAME_UPPER: begin -1//2 = -1, end 0 (grows at the start); SAME_LOWER: end -1, begin 0
        long[] x = {1, 1, 4};
        long[] w = {1, 1, 2};
        expect(Onnx.convTranspose(attrs().strides(3).autoPad("SAME_UPPER"), x, w, null), s(1, 1, 12), i(-1), i(0));
        expect(Onnx.convTranspose(attrs().strides(3).autoPad("SAME_LOWER"), x, w, null), s(1, 1, 12), i(0), i(-1));
        // ONNX Runtime clamps the total to 0: natural size 11, no pads
        expect(Onnx.convTranspose(attrs().strides(3).autoPad("SAME_UPPER").ortCompat(true), x, w, null),
            s(1, 1, 11), i(0), i(0));
        expect(Onnx.convTranspose(attrs().strides(3).autoPad("SAME_LOWER").ortCompat(true), x, w, null),
            s(1, 1, 11), i(0), i(0));
    }

    @Test
    void outputShapeLargerThanNatural() {
        // 2D in (3, 4), k 3, s 2: natural (2*2+3, 2*3+3) = (7, 9); output_shape (9, 12); total (-2, -3)
        // NOTSET: end = total//2 = (-1, -2), begin = total - end = (-1, -1)
        long[] x = {2, 4, 3, 4};
        long[] w = {4, 1, 3, 3};
        expect(Onnx.convTranspose(attrs().strides(2, 2).outputShape(9, 12), x, w, null),
            s(2, 1, 9, 12), i(-1, -1), i(-1, -2));
        // ORT: total clamped to 0, output_shape kept: the whole surplus (2, 3) at the end, begin 0
        expect(Onnx.convTranspose(attrs().strides(2, 2).outputShape(9, 12).ortCompat(true), x, w, null),
            s(2, 1, 9, 12), i(0, 0), i(-2, -3));
    }

    @Test
    void outputShapeSmallerThanNatural() {
        // in 5, k 4, s 2: natural = 8 + 3 + 1 = 12; output_shape 9: total 3
        // NOTSET / VALID / SAME_LOWER: end 3//2 = 1, begin 2; SAME_UPPER: begin 1, end 2
        long[] x = {1, 1, 5};
        long[] w = {1, 1, 4};
        expect(Onnx.convTranspose(attrs().strides(2).outputShape(9), x, w, null), s(1, 1, 9), i(2), i(1));
        expect(Onnx.convTranspose(attrs().strides(2).outputShape(9).autoPad("VALID"), x, w, null), s(1, 1, 9),
            i(2), i(1));
        expect(Onnx.convTranspose(attrs().strides(2).outputShape(9).autoPad("SAME_UPPER"), x, w, null), s(1, 1, 9),
            i(1), i(2));
        expect(Onnx.convTranspose(attrs().strides(2).outputShape(9).ortCompat(true), x, w, null), s(1, 1, 9), i(2),
            i(1));
        // pads are ignored when output_shape is given (the spec says so), and describe() says it
        ConvertedLayer ignored = Onnx.convTranspose(attrs().strides(2).outputShape(9).pads(4, 4), x, w, null);
        expect(ignored, s(1, 1, 9), i(2), i(1));
        assertTrue(ignored.layer().describe().contains("(pads ignored: output_shape given)"),
            ignored.layer().describe());
    }

    @Test
    void fullRankOutputShapeAndOutputPadding() {
        // in 5, k 3, s 2, output_padding 1: natural = 8 + 1 + 3 = 12; output_shape [2, 3, 10]: total 2
        // NOTSET: end 1, begin 1; internal padEnd = end - output_padding = 0
        long[] x = {2, 4, 5};
        long[] w = {4, 3, 3};
        expect(Onnx.convTranspose(attrs().strides(2).outputPadding(1).outputShape(2, 3, 10), x, w, s(3)),
            s(2, 3, 10), i(1), i(0));
    }

    @Test
    void validWithStrideLargerThanKernel() {
        // in 4, k 2, s 3: natural = 9 + 0 + 2 = 11, no pads
        expect(Onnx.convTranspose(attrs().strides(3).autoPad("VALID"), s(1, 1, 4), s(1, 1, 2), null), s(1, 1, 11),
            i(0), i(0));
        expect(Onnx.convTranspose(attrs().strides(3).autoPad("VALID").pads(0, 0), s(1, 1, 4), s(1, 1, 2), null),
            s(1, 1, 11), i(0), i(0));
    }

    @Test
    void dilationWithOutputPaddingAndExplicitPads() {
        // 2D in (4, 5), k (3, 2), s (1, 2), d (2, 1), output_padding (1, 1), pads begin (1, 0) end (2, 1)
        // natural: axis 0 = 1*3 + 1 + 2*2 + 1 = 9; axis 1 = 2*4 + 1 + 1*1 + 1 = 11
        // output (9 - 1 - 2, 11 - 0 - 1) = (6, 10); padEnd = end - output_padding = (1, 0)
        ConvertedLayer c = Onnx.convTranspose(attrs().strides(1, 2).dilations(2, 1).outputPadding(1, 1)
            .pads(1, 0, 2, 1), s(1, 2, 4, 5), s(2, 2, 3, 2), null);
        expect(c, s(1, 2, 6, 10), i(1, 0), i(1, 0));
    }

    @Test
    void threeDimensionsAndGroups() {
        // X [1, 4, 3, 4, 5], W [4, 2, 2, 3, 4], group 2 -> M = 4; SAME_UPPER s 2:
        // axis 0: natural 2*2 + 2 = 6, target 6, total 0; axis 1: 2*3 + 3 = 9, target 8, total 1 -> (0, 1);
        // axis 2: 2*4 + 4 = 12, target 10, total 2 -> (1, 1)
        expect(Onnx.convTranspose(attrs().strides(2, 2, 2).group(2).autoPad("SAME_UPPER"), s(1, 4, 3, 4, 5),
            s(4, 2, 2, 3, 4), s(4)), s(1, 4, 6, 8, 10), i(0, 0, 1), i(0, 1, 1));
    }

    @Test
    void describeNamesTheConventionAndTheDerivation() {
        String d = Onnx.convTranspose(attrs().strides(3).autoPad("SAME_UPPER").ortCompat(true), s(1, 1, 4),
            s(1, 1, 2), null).layer().describe();
        assertEquals(String.join("\n",
            "convention: onnx ConvTranspose (ONNX Runtime compatible: negative total padding clamped to 0)",
            "attributes: auto_pad=SAME_UPPER strides=[3]",
            "derived: axis 0: natural = 3*(4-1) + 0 + (2-1)*1 + 1 = 11; SAME_UPPER target in*stride = 12; "
                + "total = -1; SAME_UPPER: begin = total//2, end = total - begin; ONNX Runtime clamps the total to 0, "
                + "so the output keeps the natural size 11 -> begin 0, end 0",
            "padBegin: [0]  padEnd: [0]",
            "output padding: [0] (default)",
            "output shape: [1, 1, 11] for input [1, 1, 4] (NCW)",
            "layer: ConvTranspose1d(1, 1, kernel_size=(2,), stride=(3,), bias=False)"), d);
    }

    private static void fails(String message, Executable e) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        assertEquals("ONNX ConvTranspose: " + message, ex.getMessage());
    }

    @Test
    void everyValidationMessage() {
        long[] x = {1, 4, 5, 5};
        long[] w = {4, 2, 3, 3};
        fails("X must be [N, C, D1, ...] with 1, 2 or 3 spatial axes (rank 3, 4 or 5), but has shape [4, 5]",
            () -> Onnx.convTranspose(attrs(), s(4, 5), s(4, 2), null));
        fails("X and W must have the same rank, but X has shape [1, 4, 5, 5] (rank 4) and W has shape [4, 2, 3] "
            + "(rank 3)", () -> Onnx.convTranspose(attrs(), x, s(4, 2, 3), null));
        fails("X's dimensions must be between 0 and 2147483647, but X has shape [1, -4, 5, 5]",
            () -> Onnx.convTranspose(attrs(), s(1, -4, 5, 5), w, null));
        fails("X's spatial sizes must be positive, but X has shape [1, 4, 0, 5]",
            () -> Onnx.convTranspose(attrs(), s(1, 4, 0, 5), w, null));
        fails("W's dimensions must be between 1 and 2147483647, but W has shape [4, 0, 3, 3]",
            () -> Onnx.convTranspose(attrs(), x, s(4, 0, 3, 3), null));
        fails("group must be positive, but got group=0", () -> Onnx.convTranspose(attrs().group(0), x, w, null));
        fails("W.shape[0] must equal the input channels C=4 of X (W is [C, M/group, k...]), but W has shape "
            + "[2, 2, 3, 3]", () -> Onnx.convTranspose(attrs(), x, s(2, 2, 3, 3), null));
        fails("group=3 must divide the input channels C=4 of X", () -> Onnx.convTranspose(attrs().group(3), x, w, null));
        fails("B must be 1-D of size M = W.shape[1]*group = 4, but B has shape [2]",
            () -> Onnx.convTranspose(attrs().group(2), x, w, s(2)));
        fails("B must be 1-D of size M = W.shape[1]*group = 2, but B has shape [1, 2]",
            () -> Onnx.convTranspose(attrs(), x, w, s(1, 2)));
        fails("kernel_shape must have exactly 2 values (one per spatial axis; ONNX does not broadcast), but got 1: [3]",
            () -> Onnx.convTranspose(attrs().kernelShape(3), x, w, null));
        fails("kernel_shape=[3, 4] contradicts W's spatial shape [3, 3] (W has shape [4, 2, 3, 3])",
            () -> Onnx.convTranspose(attrs().kernelShape(3, 4), x, w, null));
        fails("strides must have exactly 2 values (one per spatial axis; ONNX does not broadcast), but got 1: [2]",
            () -> Onnx.convTranspose(attrs().strides(2), x, w, null));
        fails("strides must be positive, but got strides=[2, 0]", () -> Onnx.convTranspose(attrs().strides(2, 0), x, w,
            null));
        fails("strides value 4294967296 is out of the supported range (32-bit)",
            () -> Onnx.convTranspose(attrs().strides(1L << 32, 1), x, w, null));
        fails("dilations must have exactly 2 values (one per spatial axis; ONNX does not broadcast), but got 3: "
            + "[1, 1, 1]", () -> Onnx.convTranspose(attrs().dilations(1, 1, 1), x, w, null));
        fails("dilations must be positive, but got dilations=[0, 1]",
            () -> Onnx.convTranspose(attrs().dilations(0, 1), x, w, null));
        fails("auto_pad must be one of NOTSET, SAME_UPPER, SAME_LOWER, VALID (exact upper case), but got 'same_upper'",
            () -> Onnx.convTranspose(attrs().autoPad("same_upper"), x, w, null));
        fails("pads must have exactly 4 values (begin values then end values, two per spatial axis; ONNX does not "
            + "broadcast), but got 2: [1, 1]", () -> Onnx.convTranspose(attrs().pads(1, 1), x, w, null));
        fails("pads must be non-negative, but got pads=[1, -1, 0, 0]",
            () -> Onnx.convTranspose(attrs().pads(1, -1, 0, 0), x, w, null));
        fails("pads cannot be given together with auto_pad=SAME_UPPER (which derives them), but got pads=[0, 0, 0, 0]",
            () -> Onnx.convTranspose(attrs().pads(0, 0, 0, 0).autoPad("SAME_UPPER"), x, w, null));
        fails("auto_pad=VALID means no padding, but got pads=[0, 1, 0, 0]",
            () -> Onnx.convTranspose(attrs().pads(0, 1, 0, 0).autoPad("VALID"), x, w, null));
        fails("pads value 3000000000 is out of the supported range (32-bit)",
            () -> Onnx.convTranspose(attrs().pads(3_000_000_000L, 0, 0, 0), x, w, null));
        fails("output_padding must have exactly 2 values (one per spatial axis; ONNX does not broadcast), but got 1: "
            + "[1]", () -> Onnx.convTranspose(attrs().strides(2, 2).outputPadding(1), x, w, null));
        fails("output_padding must be non-negative, but got output_padding=[-1, 0]",
            () -> Onnx.convTranspose(attrs().outputPadding(-1, 0), x, w, null));
        fails("output_padding[1]=2 must be smaller than max(strides[1], dilations[1]) = 2 (output_padding=[0, 2], "
            + "strides=[2, 2], dilations=[1, 1])",
            () -> Onnx.convTranspose(attrs().strides(2, 2).outputPadding(0, 2), x, w, null));
        fails("output_shape must have 2 values (the spatial sizes) or 4 (the full shape), but got 3: [1, 10, 10]",
            () -> Onnx.convTranspose(attrs().outputShape(1, 10, 10), x, w, null));
        fails("output_shape=[1, 3, 10, 10] has rank 4, so its N and M must be X's N=1 and M = W.shape[1]*group = 2",
            () -> Onnx.convTranspose(attrs().outputShape(1, 3, 10, 10), x, w, null));
        fails("output_shape sizes must be between 1 and 2147483647, but got output_shape=[0, 10]",
            () -> Onnx.convTranspose(attrs().outputShape(0, 10), x, w, null));
        fails("pads=[3, 0, 5, 0] leave no output on spatial axis 0: natural = 1*(5-1) + 0 + (3-1)*1 + 1 = 7, minus "
            + "begin 3 and end 5 = -1", () -> Onnx.convTranspose(attrs().pads(3, 0, 5, 0), x, w, null));
        fails("the output channels M = W.shape[1]*group = 1073741824*4 are too many",
            () -> Onnx.convTranspose(attrs().group(4), s(1, 4, 5), s(4, 1L << 30, 1), null));
        // natural = 2^30*(2^30 - 1) + 1, output_shape 1: the begin pad would be about 2^59
        fails("the derived begin pad value 576460751766552576 is out of the supported range (32-bit)",
            () -> Onnx.convTranspose(attrs().strides(1L << 30).outputShape(1), s(1, 1, 1L << 30), s(1, 1, 1), null));
    }
}
