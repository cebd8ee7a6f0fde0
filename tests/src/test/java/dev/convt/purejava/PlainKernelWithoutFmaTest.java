package dev.convt.purejava;

import dev.convt.Backends;
import dev.convt.CompiledConvTranspose;
import dev.convt.Layout;
import dev.convt.ShapeList;
import dev.convt.Tensor;
import dev.convt.Tolerance;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static dev.convt.TestSupport.random;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The plain kernel's multiply-then-add variant, which runs only where HotSpot reports no hardware FMA (so the
 * cross-backend suite never reaches it on this machine): against the reference on the benchmark shapes.
 */
class PlainKernelWithoutFmaTest {

    @Test
    void multiplyAddVariantMatchesTheReference() {
        Random rnd = new Random(21);
        Kernel kernel = new PlainKernel(false, null);
        assertTrue(kernel.describe().contains("multiply-add"), kernel.describe());
        Workers workers = new Workers(2);
        int checked = 0;
        for (ShapeList.Shape s : ShapeList.builtIn().all()) {
            ShapeList.Shape one = s.withBatch(1);
            if (one.flops() > 1e8) {
                continue; // the reference is slow; the smaller shapes cover every code path
            }
            Tensor w = random(rnd, s.layer().weightShape());
            Tensor b = s.layer().bias() ? random(rnd, s.layer().outChannels()) : null;
            Tensor x = random(rnd, one.inputShape());
            Tensor ref;
            try (CompiledConvTranspose op = Backends.reference().compile(s.layer(), w, b)) {
                ref = op.forward(x);
            }
            for (Layout layout : Layout.values()) {
                try (CompiledConvTranspose op = JavaOp.create(s.layer(), w, b, layout, kernel, workers, 2)) {
                    Tensor got = layout.convert(op.forward(Layout.CHANNELS_FIRST.convert(x, layout, s.layer().rank())),
                        Layout.CHANNELS_FIRST, s.layer().rank());
                    Tolerance.Report r = Tolerance.forLayer(s.layer()).compare(ref, got);
                    assertTrue(r.ok(), s + " " + layout + ": " + r);
                    assertTrue(op.implementation().contains("multiply-add"), op.implementation());
                    checked++;
                }
            }
        }
        assertTrue(checked >= 16, "shapes checked: " + checked);
    }
}
