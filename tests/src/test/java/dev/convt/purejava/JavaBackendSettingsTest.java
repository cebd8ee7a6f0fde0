package dev.convt.purejava;

import dev.convt.ConvTransposeLayer;
import dev.convt.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code -Dconvt.threads} and {@code -Dconvt.java.kernel}: parsed, and invalid values reported, not thrown at startup. */
class JavaBackendSettingsTest {

    @Test
    void validSettings() {
        JavaBackend b = JavaBackend.fromSettings("3", "plain");
        assertTrue(b.isAvailable());
        assertEquals(3, b.threads());
        assertEquals("plain", b.kernel());
        assertSame(b, JavaBackend.fromSettings(" 3 ", "PLAIN"), "one backend (and pool) per setting");
        JavaBackend defaults = JavaBackend.fromSettings(null, " ");
        assertEquals(Runtime.getRuntime().availableProcessors(), defaults.threads());
        assertEquals(Kernels.vectorModulePresent() ? "vector" : "plain", defaults.kernel());
    }

    @Test
    void invalidSettingsMakeTheBackendUnavailableWithTheCause() {
        ConvTransposeLayer layer = ConvTransposeLayer.builder(1).inChannels(1).outChannels(1).kernelSize(3).build();
        for (String[] bad : new String[][] {{"0", "auto"}, {"two", "auto"}, {"2", "avx512"}}) {
            JavaBackend b = JavaBackend.fromSettings(bad[0], bad[1]);
            assertFalse(b.isAvailable());
            assertNull(b.kernel());
            String cause = b.unavailabilityCause().getMessage();
            assertTrue(cause.startsWith("invalid Java backend setting: "), cause);
            assertTrue(b.unsupportedReason(layer).contains(cause), b.unsupportedReason(layer));
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> b.compile(layer, Tensor.zeros(1, 1, 3), Tensor.zeros(1)));
            assertTrue(e.getMessage().startsWith("backend 'java' is not available: "), e.getMessage());
        }
        assertEquals("invalid Java backend setting: -Dconvt.threads must be a positive integer, but got 'two'",
            JavaBackend.fromSettings("two", null).unavailabilityCause().getMessage());
        assertEquals("invalid Java backend setting: unknown Java kernel 'avx512'; expected auto, plain or vector",
            JavaBackend.fromSettings(null, "avx512").unavailabilityCause().getMessage());
    }
}
