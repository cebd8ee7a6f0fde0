package dev.convt;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The benchmark shape list: the bundled copy equals bench/shapes.txt, parsing, and its errors. */
class ShapeListTest {

    @Test
    void builtInIsTheRepositoryFile() throws IOException {
        ShapeList file = ShapeList.read(Path.of("..", "bench", "shapes.txt"));
        assertEquals(file.names(), ShapeList.builtIn().names());
        for (String required : List.of("seed_1d", "dcgan_g1", "dcgan_g2", "dcgan_g4", "dcgan_out", "unet_up",
            "fcn8x_dw", "hifigan_1d", "unet3d_up", "latency", "grouped", "dilated", "output_pad")) {
            assertTrue(file.names().contains(required), required);
        }
    }

    @Test
    void parsesEveryKey() throws IOException {
        ShapeList l = ShapeList.parse(new StringReader(
            "# comment\n\n  x  n=2 cin=4 cout=6 in=5x7 k=3x2 s=2 p=1 op=1x0 d=1x2 g=2 bias=0  # tail\n"), "t");
        ShapeList.Shape s = l.get("x");
        assertArrayEquals(new long[] {2, 4, 5, 7}, s.inputShape());
        ConvTransposeLayer expected = ConvTransposeLayer.builder(2).inChannels(4).outChannels(6).kernelSize(3, 2)
            .stride(2).padding(1).outputPadding(1, 0).dilation(1, 2).groups(2).bias(false).build();
        assertEquals(expected, s.layer());
        assertEquals(2.0 * 2 * 4 * 3 * 6 * 35, s.flops());
        assertEquals(5, s.withBatch(5).batch());
    }

    @Test
    void errorsNameTheLine() {
        assertEquals("t:2: unknown key 'q' in 'q=1'", assertThrows(IllegalArgumentException.class,
            () -> ShapeList.parse(new StringReader("a cin=1 cout=1 in=3 k=3\nb q=1\n"), "t")).getMessage());
        assertEquals("t:1: shape 'a' lacks k=", assertThrows(IllegalArgumentException.class,
            () -> ShapeList.parse(new StringReader("a cin=1 cout=1 in=3\n"), "t")).getMessage());
        assertEquals("t:2: shape 'a' is defined twice", assertThrows(IllegalArgumentException.class,
            () -> ShapeList.parse(new StringReader("a cin=1 cout=1 in=3 k=1\na cin=1 cout=1 in=3 k=1\n"), "t"))
            .getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class,
            () -> ShapeList.builtIn().get("nope")).getMessage().startsWith("unknown shape 'nope'; known shapes: seed_1d"));
    }
}
