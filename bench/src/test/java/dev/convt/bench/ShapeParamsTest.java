package dev.convt.bench;

import dev.convt.ShapeList;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** JMH needs literal @Param defaults; these must stay the names in bench/shapes.txt, in file order. */
class ShapeParamsTest {

    private static List<String> fileNames() throws IOException {
        return ShapeList.read(Path.of("shapes.txt")).names(); // surefire runs in bench/
    }

    @Test
    void everyBenchmarkClassListsEveryShapeOfTheFile() throws IOException {
        for (Class<?> c : List.of(ConvTransposeBench.class, ReferenceBench.class, CompileBench.class)) {
            assertEquals(fileNames(), BenchSupport.shapeParamValues(c), c.getSimpleName());
            assertDoesNotThrow(() -> BenchSupport.checkShapeParams(c));
        }
    }
}
