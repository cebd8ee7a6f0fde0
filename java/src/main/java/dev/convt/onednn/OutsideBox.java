package dev.convt.onednn;

import dev.convt.Tensor;

/**
 * Writes the bias (or zero) into every output position outside a box, the region a primitive computed. Where oneDNN
 * refuses a negative padding (output padding larger than padding at stride 1, or an ONNX output_shape larger than the
 * natural one), the route computes the scatter's natural extent into the box, and the positions outside it, which no
 * input reaches, get only the bias. Positions are visited as runs (whole planes, rows, or the ends of a row), so only
 * the outside is touched.
 */
final class OutsideBox {

    private final int batch;
    private final int channels;
    private final boolean channelsLast;
    /** Full output extents and the box, lifted to three spatial dimensions (leading 1s, box covering them). */
    private final int[] full = {1, 1, 1};
    private final int[] from = {0, 0, 0};
    private final int[] to = {1, 1, 1};

    OutsideBox(Geometry g, long[] boxOffset, long[] boxExtent) {
        this.batch = g.batch;
        this.channels = (int) g.outDims[1];
        this.channelsLast = g.channelsLast();
        int lead = 3 - g.rank;
        for (int i = 0; i < g.rank; i++) {
            full[lead + i] = (int) g.spatialOut[i];
            from[lead + i] = (int) Math.min(boxOffset[i], g.spatialOut[i]);
            to[lead + i] = (int) Math.min(boxOffset[i] + Math.max(0, boxExtent[i]), g.spatialOut[i]);
        }
    }

    void fill(Tensor out, Weights w) {
        int row = full[2];
        int plane = full[1] * row;
        int volume = full[0] * plane;
        for (int n = 0; n < batch; n++) {
            for (int c = 0; c < (channelsLast ? 1 : channels); c++) {
                int base = channelsLast ? n * volume : (n * channels + c) * volume;
                for (int o0 = 0; o0 < full[0]; o0++) {
                    int start0 = base + o0 * plane;
                    if (o0 < from[0] || o0 >= to[0]) {
                        run(out, w, start0, plane, c);
                        continue;
                    }
                    for (int o1 = 0; o1 < full[1]; o1++) {
                        int start1 = start0 + o1 * row;
                        if (o1 < from[1] || o1 >= to[1]) {
                            run(out, w, start1, row, c);
                        } else {
                            run(out, w, start1, from[2], c);
                            run(out, w, start1 + to[2], row - to[2], c);
                        }
                    }
                }
            }
        }
    }

    /** Positions {@code [start, start + count)}: one channel's values, or every channel of each channels-last position. */
    private void run(Tensor out, Weights w, int start, int count, int channel) {
        if (!channelsLast) {
            float b = w.biasValue(channel);
            for (int i = start; i < start + count; i++) {
                out.set(i, b);
            }
            return;
        }
        for (int pos = start; pos < start + count; pos++) {
            for (int c = 0; c < channels; c++) {
                out.set(pos * channels + c, w.biasValue(c));
            }
        }
    }
}
