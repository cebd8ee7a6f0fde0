package dev.convt;

/**
 * The oracle: transposed convolution computed straight from its scatter definition, accumulating in double.
 *
 * <p>For every input position {@code x} and kernel tap {@code t}, the output position is
 * {@code o = x*stride - padding + t*dilation}; when {@code 0 <= o < out} it receives
 * {@code input[n, ci, x] * weight[ci, coLocal, t]} in output channel {@code g*outChannels/groups + coLocal}, where
 * {@code g = ci / (inChannels/groups)}. Output padding needs no code of its own: it only lengthens {@code out}.
 *
 * <p>This backend is written to be read, not to be fast; every other backend is checked against it. Ranks 1 and 2
 * run as rank 3 with leading spatial dimensions of size 1 (kernel 1, stride 1, no padding), which changes nothing.
 * A channels-last op differs only in where it reads each input element and writes each output element.
 *
 * <pre>{@code
 * try (CompiledConvTranspose oracle = Backends.reference().compile(layer, weight, bias)) {
 *     Tensor expected = oracle.forward(x);
 * }
 * }</pre>
 */
public final class ReferenceBackend implements Backend {

    /** This backend's id. */
    public static final String ID = "reference";

    static final ReferenceBackend INSTANCE = new ReferenceBackend();

    private ReferenceBackend() {}

    @Override public String id() { return ID; }
    @Override public boolean isAvailable() { return true; }
    @Override public Throwable unavailabilityCause() { return null; }
    @Override public String unsupportedReason(ConvTransposeLayer layer) { return null; }
    @Override public String describe() { return "pure Java, the scatter definition accumulated in double"; }

    @Override
    public CompiledConvTranspose compile(ConvTransposeLayer layer, Tensor weight, Tensor bias, Layout layout) {
        CompiledConvTranspose.checkParameters(layer, weight, bias);
        return new Compiled(layer, weight.toArray(), bias == null ? null : bias.toArray(), layout);
    }

    private static final class Compiled extends CompiledConvTranspose {
        private final float[] weight;
        private final float[] bias;
        // The layer lifted to three spatial dimensions.
        private final int[] kernel = new int[3];
        private final int[] stride = new int[3];
        private final int[] padBegin = new int[3];
        private final int[] dilation = new int[3];

        Compiled(ConvTransposeLayer layer, float[] weight, float[] bias, Layout layout) {
            super(layer, ID, layout);
            this.weight = weight;
            this.bias = bias;
            int lead = 3 - layer.rank();
            for (int d = 0; d < 3; d++) {
                boolean real = d >= lead;
                kernel[d] = real ? layer.kernelSize(d - lead) : 1;
                stride[d] = real ? layer.stride(d - lead) : 1;
                padBegin[d] = real ? layer.padBegin(d - lead) : 0;
                dilation[d] = real ? layer.dilation(d - lead) : 1;
            }
        }

        @Override
        public String implementation() {
            return "reference:scatter-f64";
        }

        @Override
        protected void execute(Tensor input, Tensor output, int batch, long[] spatialIn) {
            ConvTransposeLayer layer = layer();
            int rank = layer.rank();
            int lead = 3 - rank;
            int[] in = {1, 1, 1};
            int[] out = {1, 1, 1};
            for (int d = 0; d < rank; d++) {
                in[lead + d] = (int) spatialIn[d];
                out[lead + d] = (int) layer.outputSize(d, spatialIn[d]);
            }
            int cin = layer.inChannels();
            int cout = layer.outChannels();
            int groups = layer.groups();
            int cinPerGroup = cin / groups;
            int coutPerGroup = cout / groups;
            int inVolume = in[0] * in[1] * in[2];
            int outVolume = out[0] * out[1] * out[2];
            int kVolume = kernel[0] * kernel[1] * kernel[2];
            boolean channelsLast = layout() == Layout.CHANNELS_LAST;

            double[] acc = new double[batch * cout * outVolume];
            for (int n = 0; n < batch; n++) {
                for (int ci = 0; ci < cin; ci++) {
                    int g = ci / cinPerGroup;
                    for (int x0 = 0; x0 < in[0]; x0++) {
                        for (int x1 = 0; x1 < in[1]; x1++) {
                            for (int x2 = 0; x2 < in[2]; x2++) {
                                int x = (x0 * in[1] + x1) * in[2] + x2;
                                double v = input.get(channelsLast ? (n * inVolume + x) * cin + ci
                                    : (n * cin + ci) * inVolume + x);
                                for (int coLocal = 0; coLocal < coutPerGroup; coLocal++) {
                                    int co = g * coutPerGroup + coLocal;
                                    for (int t0 = 0; t0 < kernel[0]; t0++) {
                                        int o0 = x0 * stride[0] - padBegin[0] + t0 * dilation[0];
                                        if (o0 < 0 || o0 >= out[0]) {
                                            continue;
                                        }
                                        for (int t1 = 0; t1 < kernel[1]; t1++) {
                                            int o1 = x1 * stride[1] - padBegin[1] + t1 * dilation[1];
                                            if (o1 < 0 || o1 >= out[1]) {
                                                continue;
                                            }
                                            for (int t2 = 0; t2 < kernel[2]; t2++) {
                                                int o2 = x2 * stride[2] - padBegin[2] + t2 * dilation[2];
                                                if (o2 < 0 || o2 >= out[2]) {
                                                    continue;
                                                }
                                                int w = (ci * coutPerGroup + coLocal) * kVolume
                                                    + (t0 * kernel[1] + t1) * kernel[2] + t2;
                                                int o = (n * cout + co) * outVolume + (o0 * out[1] + o1) * out[2] + o2;
                                                acc[o] += v * weight[w];
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            for (int n = 0; n < batch; n++) {
                for (int co = 0; co < cout; co++) {
                    double b = bias == null ? 0.0 : bias[co];
                    int base = (n * cout + co) * outVolume;
                    for (int i = 0; i < outVolume; i++) {
                        int o = channelsLast ? (n * outVolume + i) * cout + co : base + i;
                        output.set(o, (float) (acc[base + i] + b));
                    }
                }
            }
        }

        @Override
        protected void release() {
            // heap only: nothing to release
        }
    }
}
