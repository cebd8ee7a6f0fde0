package dev.convt.onednn;

import dev.convt.Layout;
import dev.convt.Tensor;
import org.bytedeco.javacpp.FloatPointer;

import java.nio.FloatBuffer;

/**
 * For a channels-first caller: oneDNN's deconvolution on channels-last descriptors ({@code NWC/NHWC/NDHWC}), which
 * the C++ floor measured faster than both the channels-first kernel and the layouts {@code any} picks on several
 * shapes (dilated: 2.45 against 2.89 ms; the 16-channel 8x8 latency layer: 4 to 7 us against 14 us).
 *
 * <p>Up to {@link #MAX_FLOATS} floats on either side the two transpositions run in Java on the calling thread: each
 * oneDNN reorder is a parallel region of its own whose fixed cost (waking the OpenMP threads) exceeds the whole
 * transposition of a few thousand floats. Above that, oneDNN's parallel reorders do them
 * ({@link DeconvRoute#CHANNELS_LAST_REORDERED}). {@link Routes}' timing decides whether the route is kept.
 *
 * <p>The primitive itself is {@link DeconvRoute#PLAIN}'s plan for the same shape in channels-last layout, so every
 * case that route handles (negative padding, the bias outside the computed box) is handled here too.
 */
final class DeconvChannelsLastRoute extends Route {

    static final DeconvChannelsLastRoute INSTANCE = new DeconvChannelsLastRoute();

    /** Largest input or output (floats) transposed on the calling thread: 256 KiB, about L2-sized. */
    static final int MAX_FLOATS = 1 << 16;

    private DeconvChannelsLastRoute() {}

    @Override
    String id() {
        return "deconv-channels-last";
    }

    @Override
    String unsupportedReason(Geometry g) {
        if (g.channelsLast()) {
            return "the caller is channels-last already (that is deconv-plain)";
        }
        return null;
    }

    @Override
    Plan plan(Weights weights, Geometry g) {
        if (g.inCount > MAX_FLOATS || g.outCount > MAX_FLOATS) {
            return DeconvRoute.CHANNELS_LAST_REORDERED.plan(weights, g);
        }
        return new TransposingPlan(weights, g);
    }

    private final class TransposingPlan extends Plan {
        private final Plan inner;
        private final String implementation;

        TransposingPlan(Weights weights, Geometry g) {
            super(g);
            this.inner = DeconvRoute.PLAIN.plan(weights, new Geometry(g.layer, Layout.CHANNELS_LAST, g.batch,
                g.spatialIn));
            String impl = inner.implementation();
            this.implementation = id() + ": " + impl.substring(impl.indexOf(':') + 2)
                + " (channels-last primitive; transposed in Java)";
        }

        @Override
        String implementation() {
            return implementation;
        }

        @Override
        Exec newExec() {
            return new TransposingExec(inner.newExec());
        }

        @Override
        public void close() {
            super.close();
            inner.close();
        }

        private final class TransposingExec extends Exec {
            private final Exec inner;
            private final FloatPointer clIn;
            private final FloatPointer clOut;
            private final Tensor clInTensor;
            private final Tensor clOutTensor;
            /** Staging on the heap: bulk copies in and out of native memory, the transposition between arrays. */
            private final float[] plain;
            private final float[] transposed;
            private final FloatBuffer transposedView;

            TransposingExec(Exec inner) {
                this.inner = inner;
                try {
                    Geometry g = geometry;
                    clIn = owner.keep(new FloatPointer(g.inCount));
                    clOut = owner.keep(new FloatPointer(g.outCount));
                    clInTensor = Tensor.wrap(clIn.asBuffer(), Layout.CHANNELS_LAST.fromChannelsFirst(g.inDims, g.rank));
                    clOutTensor = Tensor.wrap(clOut.asBuffer(),
                        Layout.CHANNELS_LAST.fromChannelsFirst(g.outDims, g.rank));
                    int most = Math.max(g.inCount, g.outCount);
                    plain = new float[most];
                    transposed = new float[most];
                    transposedView = FloatBuffer.wrap(transposed);
                } catch (Throwable t) {
                    close();
                    throw t;
                }
            }

            @Override
            void run(Tensor input, Tensor output) {
                Geometry g = geometry;
                int cin = g.layer.inChannels();
                int cout = g.layer.outChannels();
                input.get(0, plain, 0, g.inCount);
                toChannelsLast(plain, transposed, g.batch, cin, (int) g.inVolume);
                clInTensor.copyFrom(transposedView);
                inner.run(clInTensor, clOutTensor);
                clOutTensor.get(0, plain, 0, g.outCount);
                toChannelsFirst(plain, transposed, g.batch, cout, (int) g.outVolume);
                output.copyFrom(transposedView);
            }

            @Override
            public void close() {
                inner.close();
                super.close();
            }
        }
    }

    /** {@code [N, C, V] -> [N, V, C]}. */
    static void toChannelsLast(float[] src, float[] dst, int batch, int channels, int volume) {
        for (int n = 0; n < batch; n++) {
            int base = n * channels * volume;
            for (int c = 0; c < channels; c++) {
                int from = base + c * volume;
                for (int v = 0; v < volume; v++) {
                    dst[base + v * channels + c] = src[from + v];
                }
            }
        }
    }

    /** {@code [N, V, C] -> [N, C, V]}. */
    static void toChannelsFirst(float[] src, float[] dst, int batch, int channels, int volume) {
        for (int n = 0; n < batch; n++) {
            int base = n * channels * volume;
            for (int c = 0; c < channels; c++) {
                int to = base + c * volume;
                for (int v = 0; v < volume; v++) {
                    dst[to + v] = src[base + v * channels + c];
                }
            }
        }
    }
}
