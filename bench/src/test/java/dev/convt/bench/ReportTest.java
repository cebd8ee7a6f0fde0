package dev.convt.bench;

import dev.convt.ShapeList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReportTest {

    private static String result(String benchmark, String params, String mode, double score, String raw) {
        return """
            {"jmhVersion":"1.37","benchmark":"%s","mode":"%s","threads":1,"forks":1,"jvm":"/usr/bin/java",
             "jdkVersion":"17.0.15","vmName":"OpenJDK 64-Bit Server VM","vmVersion":"17.0.15+6",
             "warmupIterations":3,"warmupTime":"1 s","measurementIterations":5,"measurementTime":"1 s",
             "params":{%s},
             "primaryMetric":{"score":%s,"scoreError":"NaN","scoreConfidence":[1,2],"scoreUnit":"us/op",
                              "rawData":[[%s]]},
             "secondaryMetrics":{}}
            """.formatted(benchmark, mode, params, score, raw);
    }

    @Test
    void tablesCarryMillisecondsGflopsAndSameRunRatios(@TempDir Path dir) throws IOException {
        String g1 = "\"backend\":\"onednn\",\"batch\":\"0\",\"layout\":\"CHANNELS_FIRST\",\"route\":\"auto\","
            + "\"shape\":\"dcgan_g1\"";
        String json = "[" + String.join(",",
            result("dev.convt.bench.ConvTransposeBench.direct", g1, "avgt", 5000, "5000"),
            result("dev.convt.bench.ConvTransposeBench.fromFloatArray", g1, "avgt", 5600, "5600"),
            result("dev.convt.bench.peers.PeerBench.fromFloatArray",
                "\"batch\":\"0\",\"peer\":\"libtorch\",\"shape\":\"dcgan_g1\"", "avgt", 6900, "6900"),
            result("dev.convt.bench.peers.PeerBench.fromFloatArray",
                "\"batch\":\"0\",\"peer\":\"onnxruntime\",\"shape\":\"dcgan_g1\"", "avgt", 6720, "6720"),
            result("dev.convt.bench.ReferenceBench.direct",
                "\"batch\":\"1\",\"layout\":\"CHANNELS_FIRST\",\"shape\":\"dcgan_g1\"", "avgt", 1000, "1000"),
            result("dev.convt.bench.CompileBench.compileAndPrepare", g1, "ss", 3000, "9000,1000,3000,2000"))
            + "]";
        Path file = dir.resolve("r.json");
        Files.writeString(file, json);
        String key = BenchSupport.key("dev.convt.bench.ConvTransposeBench.direct",
            Map.of("backend", "onednn", "batch", "0", "layout", "CHANNELS_FIRST", "route", "auto", "shape", "dcgan_g1"));
        Map<String, Report.Meta> meta = Report.parseMeta(List.of(
            "2026-01-01T00:00:00Z\t" + key + "\tstale\toneDNN 3.8.1, CPU engine, ISA avx2",
            "2026-01-02T00:00:00Z\t" + key + "\tbrg_deconv:avx2\toneDNN 3.8.1, CPU engine, ISA avx2"));
        String md = new Report(Report.parseResults(json), meta, ShapeList.builtIn(), file)
            .render(Map.of("CPU", "test CPU"));

        // dcgan_g1: 2 * 64 * 100 * 512 * 16 * 1 = 104.9 MFLOP; at 5 ms that is 21.0 GFLOP/s.
        assertTrue(md.contains("| dcgan_g1 | 64 | onednn | auto | CHANNELS_FIRST | 5.00 | 21.0 | 5.60 | 18.7 |"), md);
        assertTrue(md.contains("| 1.12x | 1.00x | `brg_deconv:avx2` |"), md);          // float[]/direct; × best
        assertTrue(md.contains("| dcgan_g1 | 64 | 5.60 | onednn/auto | 6.90 | 6.72 | 1.20x | 5.00 | 1.34x |"), md);
        // Reference at batch 1: 1 ms per image against 5 ms / 64 images for oneDNN.
        assertTrue(md.contains("| dcgan_g1 | 1 | CHANNELS_FIRST | 1.00 | 1.00 | 1.64 | 12.80x |"), md);
        // Compile: the first shot apart, the median of the rest.
        assertTrue(md.contains("| dcgan_g1 | 64 | onednn | auto | CHANNELS_FIRST | 9.00 | 2.00 |"), md);
        assertTrue(md.contains("ISA avx2"), md);
        assertTrue(md.contains("| CPU | test CPU |"), md);
    }

    @Test
    void jsonReadsWhatJmhWrites() {
        Object o = Json.parse("{\"a\":[1,-2.5e3,\"NaN\",true,null],\"b\":\"x\\\"\\u0041\"}");
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) o;
        @SuppressWarnings("unchecked")
        List<Object> a = (List<Object>) m.get("a");
        assertEquals(-2500.0, Json.number(a.get(1)));
        assertTrue(Double.isNaN(Json.number(a.get(2))));
        assertEquals("x\"A", m.get("b"));
    }

    @Test
    void numbersKeepThreeSignificantDigits() {
        assertEquals("0.00340", Report.num(0.0034));
        assertEquals("4.95", Report.num(4.95));
        assertEquals("34.8", Report.num(34.8));
        assertEquals("1,234", Report.num(1234.4));
    }
}
