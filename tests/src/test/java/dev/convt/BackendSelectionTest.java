package dev.convt;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Backend choice: forced reference, java or onednn, auto, the system property, and unknown names. */
class BackendSelectionTest {

    static final ConvTransposeLayer LAYER = ConvTransposeLayer.builder(2).inChannels(4).outChannels(4).kernelSize(3)
        .stride(2).build();

    @AfterEach
    void clearProperty() {
        System.clearProperty(Backends.PROPERTY);
    }

    @Test
    void forcedReference() {
        Backends.Selection s = Backends.select("reference", LAYER);
        assertSame(Backends.reference(), s.backend());
        assertEquals("requested explicitly", s.reason());
    }

    @Test
    void forcedJava() {
        Backends.Selection s = Backends.select("java", LAYER);
        assertSame(Backends.java(), s.backend());
        assertEquals("requested explicitly", s.reason());
        try (CompiledConvTranspose op = s.backend().compile(LAYER, Tensor.zeros(LAYER.weightShape()),
            Tensor.zeros(4))) {
            assertEquals("java", op.backendId());
            assertTrue(op.prepare(1, 4, 5, 5).startsWith("java:phase-gemm, "), op.implementation());
        }
    }

    @Test
    void everyBackendInOrder() {
        assertEquals(java.util.List.of("reference", "java", "onednn"), Backends.ids());
    }

    @Test
    void forcedOneDnn() {
        TestSupport.assertOneDnnAvailableWhereRequired();
        if (Backends.onednn().isAvailable()) {
            Backends.Selection s = Backends.select("onednn", LAYER);
            assertSame(Backends.onednn(), s.backend());
            try (CompiledConvTranspose op = s.backend().compile(LAYER, Tensor.zeros(LAYER.weightShape()),
                Tensor.zeros(4))) {
                assertEquals("onednn", op.backendId());
                assertTrue(op.prepare(1, 4, 5, 5).length() > 0);
            }
        } else {
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> Backends.select("onednn", LAYER));
            assertTrue(e.getMessage().startsWith("backend 'onednn' is not available: "), e.getMessage());
        }
    }

    /** A layer above the tiny-layer threshold: 64 x 64 x 9 weights. */
    static final ConvTransposeLayer BIG = ConvTransposeLayer.builder(2).inChannels(64).outChannels(64).kernelSize(3)
        .stride(2).build();

    @Test
    void autoPrefersOneDnnWhenAvailable() {
        Backends.Selection s = Backends.select("auto", BIG);
        if (Backends.onednn().isAvailable()) {
            assertSame(Backends.onednn(), s.backend());
            assertEquals("auto: oneDNN is available and supports the layer", s.reason());
        } else {
            assertSame(Backends.java(), s.backend(), "auto falls back to the fast Java backend, not the reference");
            assertTrue(s.reason().startsWith("auto: oneDNN is not available ("), s.reason());
        }
    }

    /** Tiny layers go to the Java backend even with oneDNN there: its fixed cost per call dominates them. */
    @Test
    void autoPicksJavaForTinyLayers() {
        ConvTransposeLayer seed = ConvTransposeLayer.builder(1).inChannels(1).outChannels(1).kernelSize(3).bias(false)
            .build();
        ConvTransposeLayer depthwise = ConvTransposeLayer.builder(2).inChannels(21).outChannels(21).groups(21)
            .kernelSize(16).stride(8).padding(4).build();
        ConvTransposeLayer limit = ConvTransposeLayer.builder(2).inChannels(4).outChannels(4).kernelSize(4).build();
        ConvTransposeLayer above = ConvTransposeLayer.builder(2).inChannels(4).outChannels(4).kernelSize(4, 5).build();
        assertEquals(256, dev.convt.purejava.JavaBackend.weightsPerGroup(limit));
        for (ConvTransposeLayer tiny : new ConvTransposeLayer[] {seed, depthwise, limit, LAYER}) {
            Backends.Selection s = Backends.select("auto", tiny);
            assertSame(Backends.java(), s.backend(), tiny.toString());
            if (Backends.onednn().isAvailable()) {
                assertTrue(s.reason().startsWith("auto: the layer is tiny ("), s.reason());
                assertTrue(s.reason().contains("measured faster than oneDNN"), s.reason());
            }
        }
        if (Backends.onednn().isAvailable()) {
            assertSame(Backends.onednn(), Backends.select("auto", above).backend());
            assertSame(Backends.onednn(), Backends.select("onednn", seed).backend(), "forcing still wins");
        }
    }

    @Test
    void systemPropertyDecides() {
        System.setProperty(Backends.PROPERTY, "reference");
        assertEquals("reference", Backends.configured());
        assertSame(Backends.reference(), Backends.select(LAYER).backend());
        try (CompiledConvTranspose op = Backends.compile(LAYER, Tensor.zeros(LAYER.weightShape()), Tensor.zeros(4))) {
            assertEquals("reference", op.backendId());
        }
        System.setProperty(Backends.PROPERTY, "ONEDNN");
        assertEquals("onednn", Backends.configured());
    }

    @Test
    void unknownBackend() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> Backends.select("cuda", LAYER));
        assertEquals("unknown backend 'cuda'; expected one of auto, " + String.join(", ", Backends.ids()), e.getMessage());
    }
}
