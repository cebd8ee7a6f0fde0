package dev.convt.purejava;

import dev.convt.Backends;
import dev.convt.CompiledConvTranspose;
import dev.convt.ConvTransposeLayer;
import dev.convt.Layout;
import dev.convt.ShapeList;
import dev.convt.Tensor;
import dev.convt.Tolerance;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static dev.convt.TestSupport.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Both ways the Java backend turns phases into products (one merged product, or one per phase) against the
 * reference, forced, on random layers; and which one the cost rule picks for shapes where the answer is clear.
 */
class ProductsTest {

    @Test
    void mergedAndPerPhaseProductsMatchTheReference() {
        Random rnd = new Random(31);
        Workers workers = new Workers(2);
        Kernel kernel = Kernels.plain();
        int merged = 0;
        int cases = 0;
        while (cases < 150) {
            int rank = 1 + rnd.nextInt(3);
            int groups = 1 + rnd.nextInt(3);
            int[] k = new int[rank];
            int[] s = new int[rank];
            int[] d = new int[rank];
            int[] p = new int[rank];
            int[] op = new int[rank];
            long[] in = new long[rank + 2];
            in[0] = 1 + rnd.nextInt(3);
            in[1] = groups * (1 + rnd.nextInt(3));
            for (int i = 0; i < rank; i++) {
                s[i] = 1 + rnd.nextInt(3);
                k[i] = s[i] * (1 + rnd.nextInt(rank == 3 ? 1 : 3)) - (rnd.nextInt(4) == 0 ? 1 : 0); // mostly k % s == 0
                k[i] = Math.max(1, k[i]);
                d[i] = rnd.nextInt(5) == 0 ? 2 : 1;
                p[i] = rnd.nextInt(3);
                op[i] = rnd.nextInt(Math.max(s[i], d[i]));
                in[2 + i] = 1 + rnd.nextInt(rank == 3 ? 4 : 9);
            }
            ConvTransposeLayer layer;
            try {
                layer = ConvTransposeLayer.builder(rank).inChannels((int) in[1]).outChannels(groups * (1 + rnd.nextInt(3)))
                    .groups(groups).kernelSize(k).stride(s).dilation(d).padding(p).outputPadding(op)
                    .bias(rnd.nextBoolean()).build();
                layer.outputShape(in);
            } catch (IllegalArgumentException invalid) {
                continue;
            }
            cases++;
            Tensor w = random(rnd, layer.weightShape());
            Tensor b = layer.bias() ? random(rnd, layer.outChannels()) : null;
            Tensor x = random(rnd, in);
            Tensor ref;
            try (CompiledConvTranspose r = Backends.reference().compile(layer, w, b)) {
                ref = r.forward(x);
            }
            Layout layout = cases % 2 == 0 ? Layout.CHANNELS_FIRST : Layout.CHANNELS_LAST;
            for (JavaOp.Products products : JavaOp.Products.values()) {
                try (JavaOp java = JavaOp.create(layer, w, b, layout, kernel, workers, 2, products)) {
                    boolean m = java.mergedFor(in);
                    if (products == JavaOp.Products.PER_PHASE) {
                        assertFalse(m);
                    }
                    merged += products == JavaOp.Products.MERGED_WHERE_ALLOWED && m ? 1 : 0;
                    Tensor got = layout.convert(java.forward(Layout.CHANNELS_FIRST.convert(x, layout, rank)),
                        Layout.CHANNELS_FIRST, rank);
                    Tolerance.Report rep = Tolerance.forLayer(layer).compare(ref, got);
                    assertTrue(rep.ok(), products + " " + layout + " " + layer + " on " + Arrays.toString(in) + ": "
                        + rep);
                }
            }
        }
        assertTrue(merged > 60, "cases run merged: " + merged);
    }

    @Test
    void costRulePicksTheCheaperProducts() {
        Workers workers = new Workers(1);
        Kernel kernel = Kernels.plain();
        ShapeList shapes = ShapeList.builtIn();
        // small images: the union grid's border (5x5 for 4x4 phases) would cost more than gathering per phase
        assertFalse(merged(shapes.get("dcgan_g2"), kernel, workers));
        // one output channel per group, 64 phases: gather once, not 64 times
        assertTrue(merged(shapes.get("fcn8x_dw"), kernel, workers));
        // the inverse-STFT layer: 256 phases of one channel each become one product of 256 rows
        ShapeList.Shape istft = new ShapeList.Shape("istft", ConvTransposeLayer.builder(1).inChannels(513)
            .outChannels(1).kernelSize(1024).stride(256).build(), new long[] {1, 513, 40});
        assertTrue(merged(istft, kernel, workers));
        // kernel 3, stride 2: merging would add a third more work in zero weights: never
        assertFalse(merged(shapes.get("grouped"), kernel, workers));
        assertEquals(1.25, JavaOp.MERGE_MAX_WORK);
    }

    private static boolean merged(ShapeList.Shape s, Kernel kernel, Workers workers) {
        ConvTransposeLayer l = s.layer();
        try (JavaOp op = JavaOp.create(l, Tensor.zeros(l.weightShape()), l.bias() ? Tensor.zeros(l.outChannels())
            : null, Layout.CHANNELS_FIRST, kernel, workers, 1)) {
            return op.mergedFor(s.inputShape());
        }
    }

    @Test
    void forcedProductsGiveTheSameOutputShape() {
        ConvTransposeLayer l = ConvTransposeLayer.builder(2).inChannels(2).outChannels(2).kernelSize(4).stride(2)
            .padding(1).build();
        try (JavaOp op = JavaOp.create(l, Tensor.zeros(l.weightShape()), Tensor.zeros(2), Layout.CHANNELS_FIRST,
            Kernels.plain(), new Workers(1), 1, JavaOp.Products.MERGED_WHERE_ALLOWED)) {
            assertTrue(op.mergedFor(1, 2, 3, 3));
            assertArrayEquals(new long[] {1, 2, 6, 6}, op.outputShape(1, 2, 3, 3));
        }
    }
}
