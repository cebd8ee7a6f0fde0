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

    @Test
    void autoPrefersOneDnnWhenAvailable() {
        Backends.Selection s = Backends.select("auto", LAYER);
        if (Backends.onednn().isAvailable()) {
            assertSame(Backends.onednn(), s.backend());
            assertEquals("auto: oneDNN is available and supports the layer", s.reason());
        } else {
            assertSame(Backends.java(), s.backend(), "auto falls back to the fast Java backend, not the reference");
            assertTrue(s.reason().startsWith("auto: oneDNN is not available ("), s.reason());
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
