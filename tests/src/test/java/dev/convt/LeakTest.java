package dev.convt;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Nothing leaks over many forwards and many compile/close cycles: JavaCPP's count of native bytes
 * ({@code Pointer.totalBytes()}) returns to its baseline, and the process's resident memory ({@code VmRSS} in
 * /proc/self/status) grows less than 5% after warm-up. The work runs in a child JVM with a fixed, pre-touched heap,
 * so only native memory moves its RSS. Short by default; the {@code long} profile runs 100,000 forwards and 10,000
 * cycles ({@code -Dconvt.leak.forwards}, {@code -Dconvt.leak.cycles}).
 */
class LeakTest {

    static final int FORWARDS = Integer.getInteger("convt.leak.forwards", 20_000);
    static final int CYCLES = Integer.getInteger("convt.leak.cycles", 1_000);

    @Test
    void forwardsAndCompileCloseCyclesDoNotLeak() throws Exception {
        TestSupport.assertOneDnnAvailableWhereRequired();
        for (Backend backend : CrossBackendTest.available()) {
            ChildJvm.Result r = ChildJvm.run(ChildJvm.classPath(), Map.of(),
                List.of("-Xms256m", "-Xmx256m", "-XX:+AlwaysPreTouch", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=4"),
                LeakProbe.class.getName(), backend.id(), String.valueOf(FORWARDS), String.valueOf(CYCLES));
            assertEquals(0, r.code(), r::toString);
            String line = r.out().lines().filter(l -> l.startsWith("LEAK ")).findFirst().orElseThrow(() -> new AssertionError(r.toString()));
            Map<String, Long> f = new HashMap<>();
            for (String kv : line.substring(5).split(" ")) {
                String[] p = kv.split("=");
                if (!p[0].equals("backend")) {
                    f.put(p[0], Long.parseLong(p[1]));
                }
            }
            double forwardGrowth = 100.0 * (f.get("rssAfterForwardsKb") - f.get("rssWarmKb")) / f.get("rssWarmKb");
            double cycleGrowth = 100.0 * (f.get("rssEndKb") - f.get("rssCyclesWarmKb")) / f.get("rssCyclesWarmKb");
            System.out.printf("leaks on %s: %d forwards, %d compile/close cycles; Pointer.totalBytes baseline %d, "
                    + "after forwards %d, at the end %d; RSS after warm-up %d kB -> after forwards %d kB (%+.2f%%); "
                    + "cycles after warm-up %d kB -> end %d kB (%+.2f%%)%n", backend.id(), FORWARDS, CYCLES,
                f.get("totalBytesBaseline"), f.get("totalBytesAfterForwards"), f.get("totalBytesEnd"),
                f.get("rssWarmKb"), f.get("rssAfterForwardsKb"), forwardGrowth, f.get("rssCyclesWarmKb"),
                f.get("rssEndKb"), cycleGrowth);
            assertEquals(f.get("totalBytesBaseline"), f.get("totalBytesAfterForwards"), backend.id() + ": " + line);
            assertEquals(f.get("totalBytesBaseline"), f.get("totalBytesEnd"), backend.id() + ": " + line);
            assertTrue(forwardGrowth < 5, backend.id() + ": RSS grew " + forwardGrowth + "% over the forwards: " + line);
            assertTrue(cycleGrowth < 5, backend.id() + ": RSS grew " + cycleGrowth + "% over the cycles: " + line);
        }
    }
}
