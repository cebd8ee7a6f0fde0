package dev.convt;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The PyTorch entry point: the builder plus forward(output_size=...), and its own messages. */
class PyTorchConventionTest {

    @Test
    void shapesAndPads() {
        // ConvTranspose2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 0), output_padding=(1, 0), groups=2):
        // out = ((5-1)*2 - 2 + 2 + 1 + 1, (6-1)*1 - 0 + 1 + 0 + 1) = (10, 7); padBegin (1, 0), padEnd (0, 0)
        ConvertedLayer c = PyTorch.convTranspose(new PyTorch.Attributes().stride(2, 1).padding(1, 0).outputPadding(1, 0)
            .groups(2), new long[] {3, 4, 5, 6}, new long[] {4, 3, 3, 2}, new long[] {6});
        assertArrayEquals(new long[] {3, 6, 10, 7}, c.outputShape());
        assertArrayEquals(new int[] {1, 0}, c.layer().padBegin());
        assertArrayEquals(new int[] {0, 0}, c.layer().padEnd());
        assertEquals(Layout.CHANNELS_FIRST, c.layout());
        // unbatched, with output_size: (7-1)*2 - 2 + 2 + 1 = 13 .. 14; 14 needs output_padding 1
        ConvertedLayer sized = PyTorch.convTranspose(new PyTorch.Attributes().stride(2).padding(1).outputSize(14),
            new long[] {1, 7}, new long[] {1, 1, 3}, null);
        assertArrayEquals(new long[] {1, 14}, sized.outputShape());
        assertArrayEquals(new int[] {1}, sized.layer().outputPadding());
        assertEquals(String.join("\n",
            "convention: pytorch ConvTranspose1d",
            "attributes: stride=[2] padding=[1] output_size=[14]",
            "derived: output_size [14] -> output_padding [1] (PyTorch's forward(output_size=...) rule)",
            "padBegin: [1]  padEnd: [0]",
            "output padding: [1]",
            "output shape: [1, 14] for input [1, 7] (NCW)",
            "layer: ConvTranspose1d(1, 1, kernel_size=(3,), stride=(2,), padding=(1,), output_padding=(1,), "
                + "bias=False)"), sized.layer().describe());
    }

    @Test
    void messages() {
        IllegalArgumentException rank = assertThrows(IllegalArgumentException.class,
            () -> PyTorch.convTranspose(new PyTorch.Attributes(), new long[] {1, 1, 5}, new long[] {1, 1}, null));
        assertEquals("weight must have 3, 4 or 5 dimensions ([in_channels, out_channels/groups, *kernel_size]), but got "
            + "weight of size [1, 1]", rank.getMessage());
        IllegalArgumentException both = assertThrows(IllegalArgumentException.class,
            () -> PyTorch.convTranspose(new PyTorch.Attributes().outputPadding(1).outputSize(9), new long[] {1, 1, 5},
                new long[] {1, 1, 3}, null));
        assertEquals("output_padding and output_size are mutually exclusive: output_size derives the output padding",
            both.getMessage());
        IllegalArgumentException bias = assertThrows(IllegalArgumentException.class,
            () -> PyTorch.convTranspose(new PyTorch.Attributes(), new long[] {1, 1, 5}, new long[] {1, 2, 3},
                new long[] {3}));
        assertEquals("Given transposed=1, weight of size [1, 2, 3], expected bias to be 1-dimensional with 2 elements, "
            + "but got bias of size [3] instead", bias.getMessage()); // F.conv_transpose1d's text
        IllegalArgumentException input = assertThrows(IllegalArgumentException.class,
            () -> PyTorch.convTranspose(new PyTorch.Attributes(), new long[] {1, 2, 5}, new long[] {1, 2, 3}, null));
        assertEquals("Given transposed=1, weight of size [1, 2, 3], expected input[1, 2, 5] to have 1 channels, but got "
            + "2 channels instead", input.getMessage());
    }
}
