package dev.convt.onednn;

import dev.convt.ConvTransposeLayer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The warning for oneDNN's slow reference implementation. On this machine oneDNN never picks {@code ref:any} for the
 * suite's 600 generated layers, so the warning is exercised with the implementation names oneDNN reports.
 */
class ReferenceImplementationWarningTest {

    @Test
    void warnsForReferenceImplementationsOnly() {
        Logger logger = Logger.getLogger(OneDnnOp.class.getName());
        List<LogRecord> records = new ArrayList<>();
        Handler h = new Handler() {
            @Override public void publish(LogRecord r) { records.add(r); }
            @Override public void flush() {}
            @Override public void close() {}
        };
        logger.addHandler(h);
        try {
            ConvTransposeLayer l = ConvTransposeLayer.builder(1).inChannels(1).outChannels(1).kernelSize(3).build();
            assertFalse(OneDnnOp.warnIfReference("brg_deconv:avx2", l, new long[] {1, 1, 7}));
            assertFalse(OneDnnOp.warnIfReference("conv:any+x64:gemm:jit", l, new long[] {1, 1, 7}));
            assertTrue(records.isEmpty());
            assertTrue(OneDnnOp.warnIfReference("ref:any", l, new long[] {1, 1, 7}));
            assertEquals(1, records.size());
            assertEquals(Level.WARNING, records.get(0).getLevel());
            assertEquals("oneDNN chose its reference implementation 'ref:any' for " + l + " with input [1, 1, 7]: "
                + "expect it to be orders of magnitude slower", records.get(0).getMessage());
        } finally {
            logger.removeHandler(h);
        }
    }
}
