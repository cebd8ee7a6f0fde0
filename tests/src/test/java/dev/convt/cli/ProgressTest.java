package dev.convt.cli;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Progress lines on stderr: none for a quick step, a notice and the duration for one over a second. */
class ProgressTest {

    @Test
    void quietForAQuickStep() throws Exception {
        StringWriter err = new StringWriter();
        assertEquals(7, Progress.around(new PrintWriter(err, true), "quick", () -> 7));
        assertEquals("", err.toString());
    }

    @Test
    void reportsAStepLongerThanASecond() throws Exception {
        StringWriter err = new StringWriter();
        String result = Progress.around(new PrintWriter(err, true), "running slow", () -> {
            Thread.sleep(1300);
            return "ok";
        });
        assertEquals("ok", result);
        assertTrue(err.toString().startsWith("convt: running slow ... 1 s"), err.toString());
        assertTrue(err.toString().lines().reduce((a, b) -> b).orElseThrow().matches("convt: running slow done in 1\\.[0-9] s"),
            err.toString());
    }
}
