package dev.convt.onednn;

import dev.convt.Backends;
import dev.convt.ChildJvm;
import dev.convt.CompiledConvTranspose;
import dev.convt.ConvTransposeLayer;
import dev.convt.Layout;
import dev.convt.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The warning for oneDNN's slow reference implementation, against names oneDNN really reports.
 *
 * <p>oneDNN builds an f32 deconvolution from a convolution and names it after both: {@code ref_deconvolution.hpp}
 * starts its name with {@code "conv:any+"} and appends the convolution's, so the reference one is
 * {@code "conv:any+ref:any"} ({@code ref_convolution.hpp}: {@code DECLARE_COMMON_PD_T("ref:any", ...)}). benchdnn
 * recognises references the same way, by {@code "ref:any"} / {@code "ref_int8:any"} anywhere in the name
 * ({@code tests/benchdnn/utils/impl_filter.cpp}); {@code src/cpu/gemm/gemm.hpp} names the portable GEMM
 * {@code "gemm:ref"}.
 */
class ReferenceImplementationWarningTest {

    /**
     * oneDNN's own primitive: below AVX-512 nothing but its reference convolution reads the nCw16c layout, so with
     * the ISA capped at AVX2 (in a child JVM: the cap must precede oneDNN's first use) this is built from it.
     */
    @Test
    void aPrimitiveOneDnnBuildsFromItsReferenceIsRecognised() throws Exception {
        requireOneDnn();
        ChildJvm.Result r = ChildJvm.run(ChildJvm.classPath(), Map.of("ONEDNN_MAX_CPU_ISA", "AVX2"), List.of(),
            ReferencePrimitiveProbe.class.getName());
        assertEquals(0, r.code(), r::toString);
        String name = r.out().lines().findFirst().orElseThrow();
        assertEquals("conv:any+ref:any", name, r::toString);
        assertTrue(ImplementationNames.isReference(name));
        assertTrue(ImplementationNames.isReference(name + " (+ bias tail for output_padding)"));
    }

    /** What the op reports for the JIT routes it takes on this machine must not raise the alarm. */
    @Test
    void jitImplementationsOfRealOpsAreNotReferences() {
        requireOneDnn();
        ConvTransposeLayer[] layers = {
            ConvTransposeLayer.builder(1).inChannels(1).outChannels(1).kernelSize(3).build(),
            ConvTransposeLayer.builder(1).inChannels(1).outChannels(3).kernelSize(4).stride(3).padding(4)
                .outputPadding(1).bias(false).build(),
            ConvTransposeLayer.builder(2).inChannels(3).outChannels(3).kernelSize(3).groups(3).build(),
            ConvTransposeLayer.builder(1).inChannels(2).outChannels(16).kernelSize(3).groups(2).build(),
            ConvTransposeLayer.builder(1).inChannels(2).outChannels(3).kernelSize(2).outputPadding(2).dilation(3)
                .build(),
        };
        List<String> seen = new ArrayList<>();
        for (ConvTransposeLayer l : layers) {
            for (Layout layout : Layout.values()) {
                try (CompiledConvTranspose op = Backends.onednn().compile(l, Tensor.zeros(l.weightShape()),
                    l.bias() ? Tensor.zeros(l.outChannels()) : null, layout)) {
                    long[] in = l.rank() == 1 ? new long[] {2, l.inChannels(), 6}
                        : new long[] {1, l.inChannels(), 5, 5};
                    String impl = op.prepare(layout.fromChannelsFirst(in, l.rank()));
                    seen.add(impl);
                    assertFalse(ImplementationNames.isReference(impl), impl + " for " + l + " " + layout);
                }
            }
        }
        assertTrue(seen.stream().anyMatch(s -> s.contains(": conv:any+")), seen::toString); // after the route id
    }

    /** The natives ship for linux-x86_64: there oneDNN must load; elsewhere these checks have nothing to run on. */
    private static void requireOneDnn() {
        boolean shipped = System.getProperty("os.name").toLowerCase().contains("linux")
            && List.of("amd64", "x86_64").contains(System.getProperty("os.arch"));
        assertTrue(!shipped || Backends.onednn().isAvailable(), () -> "oneDNN must load on linux-x86_64: "
            + Backends.onednn().unavailabilityCause());
        org.junit.jupiter.api.Assumptions.assumeTrue(Backends.onednn().isAvailable(), "no oneDNN natives here");
    }

    @Test
    void warnsForReferenceNamesWithTheLayerAndInput() {
        Logger logger = Logger.getLogger(ImplementationNames.class.getName());
        List<LogRecord> records = new ArrayList<>();
        Handler h = new Handler() {
            @Override public void publish(LogRecord r) { records.add(r); }
            @Override public void flush() {}
            @Override public void close() {}
        };
        logger.addHandler(h);
        try {
            ConvTransposeLayer l = ConvTransposeLayer.builder(1).inChannels(1).outChannels(1).kernelSize(3).build();
            long[] in = {1, 1, 7};
            for (String jit : new String[] {"conv:any+jit:avx2", "brg_deconv:avx2+brg_conv_fwd:avx2",
                "conv:any+x64:gemm:jit", "jit_uni_int8:avx2", "conv:any+jit_dw:avx2 (+ bias tail for output_padding)",
                "bias-only (the whole output lies past the scatter's extent)"}) {
                assertFalse(ImplementationNames.warnIfReference(jit, l, in), jit);
            }
            assertTrue(records.isEmpty());
            for (String ref : new String[] {"conv:any+ref:any", "ref:any", "conv:any+ref_int8:any",
                "conv:any+gemm:ref", "conv:any+ref:any (+ bias tail for output_padding)"}) {
                assertTrue(ImplementationNames.warnIfReference(ref, l, in), ref);
            }
            assertEquals(5, records.size());
            assertEquals(Level.WARNING, records.get(0).getLevel());
            assertEquals("oneDNN chose its reference implementation 'conv:any+ref:any' for " + l
                + " with input [1, 1, 7]: expect it to be orders of magnitude slower", records.get(0).getMessage());
        } finally {
            logger.removeHandler(h);
        }
    }
}
