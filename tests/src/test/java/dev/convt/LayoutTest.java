package dev.convt;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Shape permutations and the explicit tensor conversion between layouts. */
class LayoutTest {

    @Test
    void shapes() {
        assertArrayEquals(new long[] {8, 3, 32, 16}, Layout.CHANNELS_LAST.toChannelsFirst(new long[] {8, 32, 16, 3}, 2));
        assertArrayEquals(new long[] {8, 32, 16, 3}, Layout.CHANNELS_LAST.fromChannelsFirst(new long[] {8, 3, 32, 16}, 2));
        assertArrayEquals(new long[] {3, 7}, Layout.CHANNELS_LAST.toChannelsFirst(new long[] {7, 3}, 1));
        assertArrayEquals(new long[] {1, 2}, Layout.CHANNELS_LAST.toChannelsFirst(new long[] {1, 2}, 2)); // left to validation
        assertEquals("NDHWC", Layout.CHANNELS_LAST.formatName(3));
        assertEquals("NCW", Layout.CHANNELS_FIRST.formatName(1));
    }

    @Test
    void convertRoundTrips() {
        Tensor cf = Tensor.of(new float[] {0, 1, 2, 10, 11, 12}, 1, 2, 3); // [N=1, C=2, W=3]
        Tensor cl = Layout.CHANNELS_FIRST.convert(cf, Layout.CHANNELS_LAST, 1);
        assertArrayEquals(new long[] {1, 3, 2}, cl.shape());
        assertArrayEquals(new float[] {0, 10, 1, 11, 2, 12}, cl.toArray());
        assertArrayEquals(cf.toArray(), Layout.CHANNELS_LAST.convert(cl, Layout.CHANNELS_FIRST, 1).toArray());
    }

    @Test
    void channelsLastOpGivesTheSameValues() {
        ConvTransposeLayer l = ConvTransposeLayer.builder(1).inChannels(1).outChannels(1).kernelSize(3).bias(false)
            .build();
        for (Backend b : CrossBackendTest.available()) {
            try (CompiledConvTranspose op = b.compile(l, Tensor.of(new float[] {1, 2, 3}, 1, 1, 3), null,
                Layout.CHANNELS_LAST)) {
                Tensor y = op.forward(Tensor.of(GoldenTest.X, 1, 7, 1));
                assertArrayEquals(new long[] {1, 9, 1}, y.shape());
                TestSupport.assertExactly(new float[] {1, 2, 4, 3, 5, 4, 2, 3, 0}, y);
            }
        }
    }
}
