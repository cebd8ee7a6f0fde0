package dev.convt;

import java.util.Random;

/**
 * A seeded generator of valid layers and input shapes covering rank 1/2/3, stride 1..4, padding, output padding,
 * dilation 1..3, groups (depthwise included), bias on and off, batch 1..3 and odd sizes. Invalid draws (an output
 * that would be empty) are redrawn, so every case is one PyTorch accepts.
 */
final class RandomLayers {

    record Case(ConvTransposeLayer layer, long[] inputShape) {}

    private final Random rnd;
    private final int maxSpatial;

    RandomLayers(long seed, int maxSpatial) {
        this.rnd = new Random(seed);
        this.maxSpatial = maxSpatial;
    }

    Case next() {
        while (true) {
            int rank = 1 + rnd.nextInt(3);
            int groups;
            int cin;
            int cout;
            switch (rnd.nextInt(4)) {
                case 0: // depthwise
                    groups = 1 + rnd.nextInt(4);
                    cin = groups;
                    cout = groups * (1 + rnd.nextInt(2));
                    break;
                case 1: // grouped
                    groups = 2 + rnd.nextInt(2);
                    cin = groups * (1 + rnd.nextInt(3));
                    cout = groups * (1 + rnd.nextInt(3));
                    break;
                default:
                    groups = 1;
                    cin = 1 + rnd.nextInt(5);
                    cout = 1 + rnd.nextInt(5);
            }
            int[] k = new int[rank];
            int[] s = new int[rank];
            int[] p = new int[rank];
            int[] op = new int[rank];
            int[] d = new int[rank];
            long[] in = new long[rank + 2];
            in[0] = 1 + rnd.nextInt(3);
            in[1] = cin;
            int maxK = rank == 3 ? 3 : 5;
            int maxIn = rank == 3 ? Math.min(maxSpatial, 4) : maxSpatial;
            for (int i = 0; i < rank; i++) {
                k[i] = 1 + rnd.nextInt(maxK);
                s[i] = 1 + rnd.nextInt(4);
                d[i] = 1 + rnd.nextInt(3);
                p[i] = rnd.nextInt(4);
                op[i] = rnd.nextInt(Math.max(s[i], d[i]));
                in[2 + i] = 1 + rnd.nextInt(maxIn);
            }
            ConvTransposeLayer layer = ConvTransposeLayer.builder(rank).inChannels(cin).outChannels(cout)
                .kernelSize(k).stride(s).padding(p).outputPadding(op).dilation(d).groups(groups)
                .bias(rnd.nextBoolean()).build();
            try {
                layer.outputShape(in);
            } catch (IllegalArgumentException tooSmall) {
                continue;
            }
            return new Case(layer, in);
        }
    }
}
