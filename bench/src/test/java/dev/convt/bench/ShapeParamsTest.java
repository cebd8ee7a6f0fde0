package dev.convt.bench;

import dev.convt.ShapeList;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** JMH needs literal @Param defaults; these must stay the names in bench/shapes.txt, in file order. */
class ShapeParamsTest {

    private static List<String> fileNames() throws IOException {
        return ShapeList.read(Path.of("shapes.txt")).names(); // surefire runs in bench/
    }

    @Test
    void everyBenchmarkClassListsEveryShapeOfTheFile() throws IOException {
        for (Class<?> c : List.of(ConvTransposeBench.class, ReferenceBench.class, CompileBench.class, KeepLayoutBench.class)) {
            assertEquals(fileNames(), BenchSupport.shapeParamValues(c), c.getSimpleName());
            assertDoesNotThrow(() -> BenchSupport.checkShapeParams(c));
        }
    }

    /** PeerBench compiles only under -Ppeers, so read its annotation from the source. */
    @Test
    void peerBenchListsEveryShapeOfTheFile() throws IOException {
        String src = Files.readString(Path.of("src/peers/java/dev/convt/bench/peers/PeerBench.java"));
        Matcher m = Pattern.compile("@Param\\(\\{([^}]*)\\}\\)\\s*public String shape;").matcher(src);
        assertTrue(m.find(), "PeerBench's shape @Param not found");
        List<String> names = Arrays.stream(m.group(1).split(",")).map(s -> s.trim().replace("\"", "")).toList();
        assertEquals(fileNames(), names);
    }
}
