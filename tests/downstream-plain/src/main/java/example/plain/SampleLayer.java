package example.plain;

import dev.convt.ConvTransposeLayer;
import dev.convt.Tensor;

/**
 * The layer both downstream projects run, with deterministic values (tests/run-downstream.sh checks that this file is
 * the same in both, package line aside). Groups and an output padding past the padding make it more than a toy.
 */
final class SampleLayer {
    private SampleLayer() {}

    /** PyTorch: ConvTranspose2d(8, 6, 3, stride=2, padding=1, output_padding=1, groups=2). */
    static final ConvTransposeLayer LAYER = ConvTransposeLayer.builder(2)
        .inChannels(8).outChannels(6).kernelSize(3).stride(2).padding(1).outputPadding(1).groups(2)
        .build();

    static Tensor input() {
        return fill(Tensor.zeros(2, 8, 5, 7), 0.37, 1.0);
    }

    static Tensor weight() {
        return fill(Tensor.zeros(LAYER.weightShape()), 0.11, 0.25);
    }

    static Tensor bias() {
        return fill(Tensor.zeros(LAYER.outChannels()), 1.3, 0.1);
    }

    private static Tensor fill(Tensor t, double step, double scale) {
        for (int i = 0; i < t.elementCount(); i++) {
            t.set(i, (float) (scale * Math.sin(step * i + 0.5)));
        }
        return t;
    }
}
