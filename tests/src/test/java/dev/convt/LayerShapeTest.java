package dev.convt;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The shape formula and PyTorch's output_size rule against hand-worked cases. */
class LayerShapeTest {

    @Test
    void oneDimensional() {
        ConvTransposeLayer l = ConvTransposeLayer.builder(1).inChannels(1).outChannels(1).kernelSize(3).build();
        assertArrayEquals(new long[] {1, 1, 9}, l.outputShape(1, 1, 7)); // (7-1)*1 + 2 + 1
        assertArrayEquals(new long[] {1, 9}, l.outputShape(1, 7));        // unbatched
        ConvTransposeLayer s = ConvTransposeLayer.builder(1).inChannels(2).outChannels(4).kernelSize(5).stride(3)
            .padding(2).outputPadding(1).dilation(2).build();
        // (10-1)*3 - 4 + 2*4 + 1 + 1 = 33
        assertArrayEquals(new long[] {2, 4, 33}, s.outputShape(2, 2, 10));
    }

    @Test
    void twoDimensionalDcgan() {
        ConvTransposeLayer l = ConvTransposeLayer.builder(2).inChannels(512).outChannels(256).kernelSize(4).stride(2)
            .padding(1).build();
        assertArrayEquals(new long[] {8, 256, 8, 8}, l.outputShape(8, 512, 4, 4)); // (4-1)*2 - 2 + 3 + 1
        assertArrayEquals(new long[] {512, 256, 4, 4}, l.weightShape());
        assertEquals("ConvTranspose2d(512, 256, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1))", l.toString());
    }

    @Test
    void threeDimensionalMixed() {
        ConvTransposeLayer l = ConvTransposeLayer.builder(3).inChannels(4).outChannels(6).groups(2)
            .kernelSize(3, 2, 1).stride(2, 1, 3).padding(1, 0, 0).outputPadding(1, 0, 2).dilation(1, 2, 1).build();
        // D: (2-1)*2 - 2 + 1*2 + 1 + 1 = 4; H: (3-1)*1 + 2*1 + 1 = 5; W: (4-1)*3 + 0 + 2 + 1 = 12
        assertArrayEquals(new long[] {1, 6, 4, 5, 12}, l.outputShape(1, 4, 2, 3, 4));
        assertArrayEquals(new long[] {4, 3, 3, 2, 1}, l.weightShape());
        assertEquals(1, l.padBegin(0));
        assertEquals(0, l.padEnd(0));
        assertEquals(-2, l.padEnd(2));
    }

    @Test
    void broadcastsASingleValue() {
        ConvTransposeLayer l = ConvTransposeLayer.builder(3).inChannels(1).outChannels(1).kernelSize(2).stride(3)
            .build();
        assertArrayEquals(new int[] {2, 2, 2}, l.kernelSize());
        assertArrayEquals(new int[] {3, 3, 3}, l.stride());
        assertArrayEquals(new int[] {0, 0, 0}, l.padding());
        assertArrayEquals(new int[] {1, 1, 1}, l.dilation());
    }

    @Test
    void outputPaddingForRequestedSize() {
        ConvTransposeLayer l = ConvTransposeLayer.builder(2).inChannels(16).outChannels(8).kernelSize(3).stride(2)
            .padding(1).build();
        // min = (4-1)*2 - 2 + 2 + 1 = 7, max = 8
        assertArrayEquals(new int[] {1, 1}, l.outputPaddingFor(new long[] {1, 16, 4, 4}, 8, 8));
        assertArrayEquals(new int[] {0, 0}, l.outputPaddingFor(new long[] {1, 16, 4, 4}, 7, 7));
        assertArrayEquals(new int[] {1, 0}, l.outputPaddingFor(new long[] {1, 16, 4, 4}, 1, 8, 8, 7)); // full shape
        assertArrayEquals(new int[] {0, 1}, l.outputPaddingFor(new long[] {16, 4, 4}, 8, 7, 8));       // unbatched
        ConvTransposeLayer withOp = l.withOutputPadding(l.outputPaddingFor(new long[] {1, 16, 4, 4}, 8, 7));
        assertArrayEquals(new long[] {1, 8, 8, 7}, withOp.outputShape(1, 16, 4, 4));

        // 1D with stride 3: min = (5-1)*3 + 2 + 1 = 15, max = 17
        ConvTransposeLayer l1 = ConvTransposeLayer.builder(1).inChannels(1).outChannels(1).kernelSize(3).stride(3)
            .build();
        assertArrayEquals(new int[] {2}, l1.outputPaddingFor(new long[] {1, 1, 5}, 17));
        // 3D
        ConvTransposeLayer l3 = ConvTransposeLayer.builder(3).inChannels(2).outChannels(2).kernelSize(2).stride(2)
            .build();
        assertArrayEquals(new int[] {0, 1, 1}, l3.outputPaddingFor(new long[] {1, 2, 3, 3, 3}, 6, 7, 7));
    }

    @Test
    void outputPaddingForOutOfRange() {
        ConvTransposeLayer l = ConvTransposeLayer.builder(2).inChannels(16).outChannels(8).kernelSize(3).stride(2)
            .padding(1).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> l.outputPaddingFor(new long[] {1, 16, 4, 4}, 9, 9));
        assertEquals("requested an output size of [9, 9], but valid sizes range from [7, 7] to [8, 8] "
            + "(for an input of torch.Size([4, 4]))", e.getMessage());
        IllegalArgumentException small = assertThrows(IllegalArgumentException.class,
            () -> l.outputPaddingFor(new long[] {1, 16, 4, 4}, 6, 8));
        assertEquals("requested an output size of [6, 8], but valid sizes range from [7, 7] to [8, 8] "
            + "(for an input of torch.Size([4, 4]))", small.getMessage());
        // sic: PyTorch prints input.size()[2:] also for an unbatched input (torch/nn/modules/conv.py, _output_padding)
        IllegalArgumentException unbatched = assertThrows(IllegalArgumentException.class,
            () -> l.outputPaddingFor(new long[] {16, 4, 4}, 9, 9));
        assertEquals("requested an output size of [9, 9], but valid sizes range from [7, 7] to [8, 8] "
            + "(for an input of torch.Size([4]))", unbatched.getMessage());
        IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
            () -> l.outputPaddingFor(new long[] {1, 16, 4, 4}, 8, 8, 8));
        assertEquals("ConvTranspose2D: for 4D input, output_size must have 2 or 4 elements (got 3)",
            count.getMessage());
    }
}
