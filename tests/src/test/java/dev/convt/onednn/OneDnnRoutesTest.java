package dev.convt.onednn;

import dev.convt.Backends;
import dev.convt.CompiledConvTranspose;
import dev.convt.ConvTransposeLayer;
import dev.convt.Layout;
import dev.convt.ShapeList;
import dev.convt.Tensor;
import dev.convt.Tolerance;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.convt.TestSupport.random;
import static dev.convt.TestSupport.steadyStateAllocatedBytes;
import static dev.convt.TestSupport.direct;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every oneDNN route, forced, against the reference: random layers where the route applies, the benchmark shapes at
 * batch 1, both layouts, heap and direct tensors. Tolerance: {@link Tolerance} ({@code rtol = max(1e-6, 4 L 2^-24)},
 * L the reduction length).
 */
class OneDnnRoutesTest {

    @BeforeEach
    void requireOneDnn() {
        org.junit.jupiter.api.Assumptions.assumeTrue(!isLinuxX64() || Backends.onednn().isAvailable(),
            "oneDNN must load on linux-x86_64");
        org.junit.jupiter.api.Assumptions.assumeTrue(Backends.onednn().isAvailable(), "no oneDNN natives here");
    }

    private static boolean isLinuxX64() {
        return System.getProperty("os.name").toLowerCase().contains("linux")
            && System.getProperty("os.arch").equals("amd64");
    }

    /** Runs {@code route} on one case; returns false when the route does not apply to it. */
    static boolean check(String route, ConvTransposeLayer layer, long[] inputShape, Layout layout, boolean useDirect,
                         Random rnd) {
        Tensor x = random(rnd, inputShape);
        Tensor w = random(rnd, layer.weightShape());
        Tensor b = layer.bias() ? random(rnd, layer.outChannels()) : null;
        Tensor ref;
        try (CompiledConvTranspose op = Backends.reference().compile(layer, w, b)) {
            ref = op.forward(x);
        }
        int rank = layer.rank();
        Tensor xIn = Layout.CHANNELS_FIRST.convert(x, layout, rank);
        try (CompiledConvTranspose op = OneDnnBackend.INSTANCE.compile(layer, w, b, layout, route)) {
            Tensor got;
            try {
                got = op.forward(useDirect ? direct(xIn) : xIn);
            } catch (UnsupportedOperationException notApplicable) {
                assertTrue(notApplicable.getMessage().startsWith("oneDNN route '" + route + "' was requested but cannot run"),
                    notApplicable.getMessage());
                return false;
            }
            if (!route.equals("auto")) {
                assertTrue(op.implementation().startsWith(route + ":"), op.implementation());
            }
            Tolerance.Report r = Tolerance.forLayer(layer).compare(ref, layout.convert(got, Layout.CHANNELS_FIRST, rank));
            assertTrue(r.ok(), () -> route + " (" + op.implementation() + ", " + layout + (useDirect ? ", direct" : ", heap")
                + ") on " + layer + " input " + Arrays.toString(inputShape) + ": max abs diff " + r.maxAbs()
                + " > " + r.allowedAbs());
            return true;
        }
    }

    @Test
    void everyRouteOnRandomLayers() {
        Random rnd = new Random(11);
        Random gen = new Random(12);
        Map<String, Integer> ran = new HashMap<>();
        for (int c = 0; c < 250; c++) {
            int rank = 1 + gen.nextInt(3);
            int[] k = new int[rank];
            int[] s = new int[rank];
            int[] p = new int[rank];
            int[] op = new int[rank];
            int[] d = new int[rank];
            long[] in = new long[rank + 2];
            int family = gen.nextInt(4); // 0: 1x1 input, 1: kernel <= stride (output padding), 2/3: general
            in[0] = 1 + gen.nextInt(3);
            in[1] = 1 + gen.nextInt(6);
            for (int i = 0; i < rank; i++) {
                k[i] = 1 + gen.nextInt(4);
                s[i] = family == 1 ? k[i] + gen.nextInt(2) : 1 + gen.nextInt(3);
                d[i] = family >= 2 ? 1 + gen.nextInt(2) : 1;
                p[i] = family >= 2 ? gen.nextInt(2) : 0;
                op[i] = family >= 1 ? gen.nextInt(Math.max(s[i], d[i])) : 0;
                in[2 + i] = family == 0 ? 1 : 1 + gen.nextInt(rank == 3 ? 3 : 6);
            }
            int groups = family == 3 && in[1] % 2 == 0 ? 2 : 1;
            int cout = groups * (1 + gen.nextInt(4));
            ConvTransposeLayer layer;
            try {
                layer = ConvTransposeLayer.builder(rank).inChannels((int) in[1]).outChannels(cout).kernelSize(k)
                    .stride(s).padding(p).outputPadding(op).dilation(d).groups(groups).bias(gen.nextBoolean()).build();
                layer.outputShape(in);
            } catch (IllegalArgumentException invalid) {
                continue;
            }
            Layout layout = gen.nextBoolean() ? Layout.CHANNELS_LAST : Layout.CHANNELS_FIRST;
            boolean useDirect = gen.nextBoolean();
            for (String route : OneDnnBackend.routeIds()) {
                if (check(route, layer, in, layout, useDirect, rnd)) {
                    ran.merge(route, 1, Integer::sum);
                }
            }
            assertTrue(check("auto", layer, in, layout, useDirect, rnd), "auto runs every layer");
        }
        for (String route : OneDnnBackend.routeIds()) {
            assertTrue(ran.getOrDefault(route, 0) >= 30, "route " + route + " ran on " + ran.get(route) + " cases");
        }
    }

    /**
     * matmul-shuffle where some output positions belong to no input's block (kernel below stride, or output padding
     * growing the end): those hold the bias, in both layouts, on heap and direct tensors, over repeated calls that
     * alternate the two (a heap output's staging buffer keeps its gaps between calls, a direct output is refilled).
     */
    @Test
    void shuffleFillsPositionsNoBlockCovers() {
        Random rnd = new Random(17);
        int[][] cases = { // rank, kernel, stride, output padding, bias
            {2, 1, 2, 1, 1}, {2, 2, 3, 1, 1}, {2, 2, 2, 1, 0}, {1, 3, 4, 2, 1}, {3, 2, 2, 1, 1}, {1, 1, 3, 2, 0}};
        for (int[] c : cases) {
            int rank = c[0];
            ConvTransposeLayer layer = ConvTransposeLayer.builder(rank).inChannels(5).outChannels(3).kernelSize(c[1])
                .stride(c[2]).outputPadding(c[3]).bias(c[4] == 1).build();
            long[] in = new long[rank + 2];
            in[0] = 2;
            in[1] = 5;
            for (int i = 0; i < rank; i++) {
                in[2 + i] = 3 + i;
            }
            for (Layout layout : Layout.values()) {
                for (int round = 0; round < 3; round++) {
                    assertTrue(check("matmul-shuffle", layer, in, layout, round % 2 == 0, rnd), layer + " " + layout);
                }
            }
        }
    }

    @Test
    void shuffleReusesOneOpAcrossHeapAndDirectOutputs() {
        Random rnd = new Random(19);
        ConvTransposeLayer layer = ConvTransposeLayer.builder(2).inChannels(4).outChannels(3).kernelSize(2).stride(3)
            .outputPadding(1).build();
        long[] in = {2, 4, 4, 5};
        Tensor w = random(rnd, layer.weightShape());
        Tensor b = random(rnd, 3);
        try (CompiledConvTranspose ref = Backends.reference().compile(layer, w, b);
             CompiledConvTranspose op = OneDnnBackend.INSTANCE.compile(layer, w, b, Layout.CHANNELS_FIRST,
                 "matmul-shuffle")) {
            long[] outShape = layer.outputShape(in);
            for (int round = 0; round < 6; round++) {
                Tensor x = random(rnd, in);
                // outputs start from garbage: every position must be written, the gaps included
                Tensor y = round % 3 == 2 ? Tensor.allocateDirect(outShape) : Tensor.zeros(outShape);
                for (int i = 0; i < y.elementCount(); i++) {
                    y.set(i, Float.NaN);
                }
                op.forward(x, y);
                Tolerance.Report r = Tolerance.forLayer(layer).compare(ref.forward(x), y);
                assertTrue(r.ok(), "round " + round + ": max abs diff " + r.maxAbs());
            }
            assertTrue(op.implementation().endsWith("+ bias fill"), op.implementation());
            for (boolean direct : new boolean[] {true, false}) {
                Tensor x = direct ? direct(random(rnd, in)) : random(rnd, in);
                Tensor y = direct ? Tensor.allocateDirect(outShape) : Tensor.zeros(outShape);
                long allocated = steadyStateAllocatedBytes(op, x, y);
                assertTrue(allocated < 1024, "the gap fill (" + (direct ? "direct" : "heap") + ") allocated "
                    + allocated + " bytes in 100 calls");
            }
        }
    }

    @Test
    void everyRouteOnTheBenchmarkShapesAtBatchOne() {
        Random rnd = new Random(13);
        for (ShapeList.Shape s : ShapeList.builtIn().all()) {
            long[] in = s.withBatch(1).inputShape();
            if (s.flops() / s.batch() > 5e8) {
                continue; // the double-precision reference needs seconds for these; CrossBackendTest covers auto
            }
            for (String route : OneDnnBackend.routeIds()) {
                check(route, s.layer(), in, Layout.CHANNELS_FIRST, true, rnd);
            }
        }
    }

    @Test
    void routesApplyWhereTheyShould() {
        ShapeList shapes = ShapeList.builtIn();
        Map<String, List<String>> expected = Map.of(
            "dcgan_g1", List.of("matmul-1x1", "matmul-col2im", "deconv-any", "deconv-plain", "deconv-channels-last"),
            "unet_up", List.of("matmul-shuffle", "matmul-col2im", "deconv-any", "deconv-plain", "deconv-channels-last"),
            "fcn8x_dw", List.of("deconv-any", "deconv-plain", "deconv-channels-last"),
            "dcgan_g2", List.of("matmul-col2im", "deconv-any", "deconv-plain", "deconv-channels-last"),
            "latency", List.of("matmul-col2im", "deconv-any", "deconv-plain", "deconv-channels-last"),
            "stride_gt_k", List.of("matmul-col2im", "deconv-any", "deconv-plain",
                "deconv-channels-last"),
            "output_pad", List.of("matmul-col2im", "deconv-any", "deconv-plain", "deconv-channels-last"));
        for (Map.Entry<String, List<String>> e : expected.entrySet()) {
            ShapeList.Shape s = shapes.get(e.getKey());
            Geometry g = new Geometry(s.layer(), Layout.CHANNELS_FIRST, 1,
                Arrays.copyOfRange(s.inputShape(), 2, s.inputShape().length));
            List<String> applicable = Routes.ALL.stream().filter(r -> r.unsupportedReason(g) == null)
                .map(Route::id).toList();
            assertEquals(e.getValue(), applicable, e.getKey());
        }
    }

    @Test
    void unknownRouteIsRefused() {
        ConvTransposeLayer l = ConvTransposeLayer.builder(1).inChannels(1).outChannels(1).kernelSize(3).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OneDnnBackend.INSTANCE.compile(
            l, Tensor.zeros(1, 1, 3), Tensor.zeros(1), Layout.CHANNELS_FIRST, "gemm"));
        assertEquals("unknown oneDNN route 'gemm'; expected auto, rule or one of matmul-1x1, matmul-shuffle, "
            + "matmul-col2im, deconv-any, deconv-plain, deconv-channels-last", e.getMessage());
    }
}
