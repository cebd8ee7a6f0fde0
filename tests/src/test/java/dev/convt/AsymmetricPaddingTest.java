package dev.convt;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The internal form built directly: padBegin/padEnd, the PyTorch view of it, equality, describe(). */
class AsymmetricPaddingTest {

    private static ConvTransposeLayer.Builder b1() {
        return ConvTransposeLayer.builder(1).inChannels(1).outChannels(1).kernelSize(3).stride(2);
    }

    @Test
    void oneShapeFormulaForEveryForm() {
        // (5-1)*2 - padBegin - padEnd + (3-1) + 1
        assertArrayEquals(new long[] {1, 1, 10}, b1().padBegin(0).padEnd(1).build().outputShape(1, 1, 5));
        assertArrayEquals(new long[] {1, 1, 12}, b1().padBegin(-1).padEnd(0).build().outputShape(1, 1, 5));
        assertArrayEquals(new long[] {1, 1, 13}, b1().padBegin(-1).padEnd(-1).build().outputShape(1, 1, 5));
        assertArrayEquals(new long[] {1, 1, 7}, b1().padBegin(2).padEnd(2).build().outputShape(1, 1, 5));
        IllegalArgumentException tooSmall = assertThrows(IllegalArgumentException.class,
            () -> b1().padBegin(6).padEnd(5).build().outputShape(1, 1, 5));
        // PyTorch runs 1d through its 2d path and reports a height of 1
        assertEquals("Given input size per channel: (1 x 5). Calculated output size per channel: (1 x 0). Output size "
            + "is too small", tooSmall.getMessage());
    }

    @Test
    void equalToThePyTorchLayerItReproduces() {
        ConvTransposeLayer pt = b1().padding(1).outputPadding(1).build();
        ConvTransposeLayer ex = b1().padBegin(1).padEnd(0).build();
        assertEquals(pt, ex);
        assertEquals(pt.hashCode(), ex.hashCode());
        assertEquals(pt.toString(), ex.toString());
        assertTrue(ex.hasPyTorchForm());
        assertTrue(ex.hasExplicitPads());
        assertFalse(pt.hasExplicitPads());
        assertArrayEquals(new int[] {1}, ex.padding());
        assertArrayEquals(new int[] {1}, ex.outputPadding());
        assertEquals(1, ex.outputPadding(0));
        assertNotEquals(pt, b1().padBegin(0).padEnd(1).build());
    }

    @Test
    void withoutPyTorchForm() {
        ConvTransposeLayer upper = b1().padBegin(0).padEnd(1).build(); // ONNX SAME_UPPER, odd total
        assertFalse(upper.hasPyTorchForm());
        assertEquals("ConvTranspose1d(1, 1, kernel_size=(3,), stride=(2,), pad_begin=(0,), pad_end=(1,))",
            upper.toString());
        IllegalStateException e = assertThrows(IllegalStateException.class, upper::padding);
        assertEquals("no PyTorch padding reproduces padBegin=[0] padEnd=[1] (stride=[2], dilation=[1]); read "
            + "padBegin()/padEnd() instead", e.getMessage());
        assertThrows(IllegalStateException.class, upper::outputPadding);
        assertFalse(b1().padBegin(-1).padEnd(-1).build().hasPyTorchForm()); // grows at the start
        assertFalse(b1().padBegin(3).padEnd(1).build().hasPyTorchForm()); // output padding 2 >= stride 2
        IllegalStateException rule = assertThrows(IllegalStateException.class,
            () -> upper.outputPaddingFor(new long[] {1, 1, 5}, 10));
        assertEquals("output_size (PyTorch's forward(output_size=...)) applies to layers built from "
            + "padding/output_padding, but ConvTranspose1d(1, 1, kernel_size=(3,), stride=(2,), pad_begin=(0,), "
            + "pad_end=(1,)) was built from padBegin/padEnd", rule.getMessage());
        // a variant keeps the explicit form
        ConvTransposeLayer variant = upper.toBuilder().bias(false).build();
        assertArrayEquals(new int[] {0}, variant.padBegin());
        assertArrayEquals(new int[] {1}, variant.padEnd());
    }

    @Test
    void builderMessages() {
        IllegalArgumentException onlyBegin = assertThrows(IllegalArgumentException.class,
            () -> b1().padBegin(1).build());
        assertEquals("padEnd must be set together with padBegin", onlyBegin.getMessage());
        IllegalArgumentException onlyEnd = assertThrows(IllegalArgumentException.class, () -> b1().padEnd(1).build());
        assertEquals("padBegin must be set together with padEnd", onlyEnd.getMessage());
        IllegalArgumentException both = assertThrows(IllegalArgumentException.class,
            () -> b1().padding(1).padBegin(1).padEnd(0).build());
        assertEquals("padding/output_padding (PyTorch) and padBegin/padEnd (the internal form) are two ways to give "
            + "the same thing: set one of them", both.getMessage());
        IllegalArgumentException length = assertThrows(IllegalArgumentException.class,
            () -> ConvTransposeLayer.builder(2).inChannels(1).outChannels(1).kernelSize(3).padBegin(1, 2, 3).padEnd(0)
                .build());
        assertEquals("expected padBegin to be a single integer value or a list of 2 values to match the convolution "
            + "dimensions, but got padBegin=[1, 2, 3]", length.getMessage());
        // the shared rules still apply to a layer built from padBegin/padEnd
        IllegalArgumentException stride = assertThrows(IllegalArgumentException.class,
            () -> b1().stride(0).padBegin(0).padEnd(0).build());
        assertEquals("non-positive stride is not supported, but got stride=[0]", stride.getMessage());
    }

    @Test
    void describeShowsConventionPadsAndOutputShape() {
        ConvTransposeLayer pt = b1().padding(1).outputPadding(1).build();
        assertEquals(String.join("\n",
            "convention: pytorch",
            "attributes: padding=[1] output_padding=[1] stride=[2] dilation=[1] groups=1 kernel_size=[3]",
            "padBegin: [1]  padEnd: [0]",
            "output padding: [1]",
            "output shape: [1, 1, 10] for input [1, 1, 5] (NCW)",
            "layer: ConvTranspose1d(1, 1, kernel_size=(3,), stride=(2,), padding=(1,), output_padding=(1,))"),
            pt.describe(1, 1, 5));
        assertTrue(pt.describe().contains("output shape: per input"), pt.describe());

        LayerOrigin origin = new LayerOrigin("test convention", Map.of("a", "1"), List.of("step one"), "[7]",
            new long[] {1, 5, 1}, new long[] {1, 10, 1}, Layout.CHANNELS_LAST);
        ConvTransposeLayer ex = b1().padBegin(0).padEnd(1).origin(origin).build();
        assertEquals(String.join("\n",
            "convention: test convention",
            "attributes: a=1",
            "derived: step one",
            "padBegin: [0]  padEnd: [1]",
            "output padding: [7]",
            "output shape: [1, 10, 1] for input [1, 5, 1] (NWC)",
            "layer: ConvTranspose1d(1, 1, kernel_size=(3,), stride=(2,), pad_begin=(0,), pad_end=(1,))"),
            ex.describe());
        assertEquals(ex, b1().padBegin(0).padEnd(1).build()); // the origin is documentation
        assertEquals(origin, ex.origin());
    }
}
