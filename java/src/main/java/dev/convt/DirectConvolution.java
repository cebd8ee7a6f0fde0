package dev.convt;

import java.util.Arrays;

/**
 * Plain (cross-correlation) convolution with PyTorch's {@code conv1d/2d/3d} semantics, computed directly in double.
 *
 * <p>It is here as the other half of the definition: transposed convolution is the adjoint of this convolution run
 * with the same weight tensor, which in convolution's layout is {@code [outChannels, inChannels/groups, *kernel]}.
 * The demo shows it beside the transposed convolution, and the tests check the adjoint identity with it. It is not a
 * fast path and not a {@link Backend}.
 */
public final class DirectConvolution {

    private DirectConvolution() {}

    /**
     * {@code conv(input, weight)} for a batched {@code input [N, C, *spatial]} and {@code weight [K, C/groups, *k]},
     * giving {@code [N, K, *out]}. {@code outSpatial}, when not {@code null}, fixes the output sizes (positions past
     * PyTorch's {@code floor((in + 2p - d(k-1) - 1)/s) + 1} read padding); otherwise that formula decides.
     *
     * @param input {@code [N, C, *spatial]}
     * @param weight {@code [K, C/groups, *k]}
     * @param stride one value per spatial dimension
     * @param padding one value per spatial dimension
     * @param dilation one value per spatial dimension
     * @param groups the number of groups
     * @param outSpatial the output's spatial sizes, or {@code null} for PyTorch's
     * @return the convolution, {@code [N, K, *out]}
     * @throws IllegalArgumentException when the shapes do not fit together
     */
    public static Tensor conv(Tensor input, Tensor weight, int[] stride, int[] padding, int[] dilation, int groups,
                              long[] outSpatial) {
        int rank = input.rank() - 2;
        if (rank < 1 || rank > 3 || weight.rank() != rank + 2) {
            throw new IllegalArgumentException("expected input [N, C, *spatial] and weight [K, C/groups, *k] of the same"
                + " rank, but got input " + Arrays.toString(input.shape()) + " and weight "
                + Arrays.toString(weight.shape()));
        }
        int n = (int) input.dim(0);
        int c = (int) input.dim(1);
        int k = (int) weight.dim(0);
        int cPerGroup = c / groups;
        int kPerGroup = k / groups;
        if (c % groups != 0 || k % groups != 0 || weight.dim(1) != cPerGroup) {
            throw new IllegalArgumentException("weight " + Arrays.toString(weight.shape()) + " does not fit input "
                + Arrays.toString(input.shape()) + " with groups=" + groups);
        }
        // lift to three spatial dimensions
        int lead = 3 - rank;
        int[] in = {1, 1, 1};
        int[] ker = {1, 1, 1};
        int[] s = {1, 1, 1};
        int[] p = {0, 0, 0};
        int[] d = {1, 1, 1};
        int[] out = {1, 1, 1};
        long[] outShape = new long[rank + 2];
        outShape[0] = n;
        outShape[1] = k;
        for (int i = 0; i < rank; i++) {
            in[lead + i] = (int) input.dim(2 + i);
            ker[lead + i] = (int) weight.dim(2 + i);
            s[lead + i] = stride[i];
            p[lead + i] = padding[i];
            d[lead + i] = dilation[i];
            long natural = Math.floorDiv(in[lead + i] + 2L * padding[i] - (long) dilation[i] * (ker[lead + i] - 1) - 1,
                stride[i]) + 1;
            out[lead + i] = (int) (outSpatial == null ? natural : outSpatial[i]);
            if (out[lead + i] < 1) {
                throw new IllegalArgumentException("convolution output would be empty for input "
                    + Arrays.toString(input.shape()));
            }
            outShape[2 + i] = out[lead + i];
        }
        Tensor result = Tensor.zeros(outShape);
        for (int b = 0; b < n; b++) {
            for (int ko = 0; ko < k; ko++) {
                int g = ko / kPerGroup;
                for (int o0 = 0; o0 < out[0]; o0++) {
                    for (int o1 = 0; o1 < out[1]; o1++) {
                        for (int o2 = 0; o2 < out[2]; o2++) {
                            double acc = 0;
                            for (int cl = 0; cl < cPerGroup; cl++) {
                                int ci = g * cPerGroup + cl;
                                for (int t0 = 0; t0 < ker[0]; t0++) {
                                    int x0 = o0 * s[0] - p[0] + t0 * d[0];
                                    if (x0 < 0 || x0 >= in[0]) {
                                        continue;
                                    }
                                    for (int t1 = 0; t1 < ker[1]; t1++) {
                                        int x1 = o1 * s[1] - p[1] + t1 * d[1];
                                        if (x1 < 0 || x1 >= in[1]) {
                                            continue;
                                        }
                                        for (int t2 = 0; t2 < ker[2]; t2++) {
                                            int x2 = o2 * s[2] - p[2] + t2 * d[2];
                                            if (x2 < 0 || x2 >= in[2]) {
                                                continue;
                                            }
                                            int xi = ((b * c + ci) * in[0] + x0) * in[1] * in[2] + x1 * in[2] + x2;
                                            int wi = ((ko * cPerGroup + cl) * ker[0] + t0) * ker[1] * ker[2]
                                                + t1 * ker[2] + t2;
                                            acc += (double) input.get(xi) * weight.get(wi);
                                        }
                                    }
                                }
                            }
                            int oi = ((b * k + ko) * out[0] + o0) * out[1] * out[2] + o1 * out[2] + o2;
                            result.set(oi, (float) acc);
                        }
                    }
                }
            }
        }
        return result;
    }
}
