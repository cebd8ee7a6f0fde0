package dev.convt;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;

/**
 * The files real PyTorch wrote (tests/src/test/resources/pytorch, by pytorch-golden's generator with libtorch 2.7.1;
 * regenerate with {@code mvn -B -Ppytorch-golden -pl pytorch-golden -am process-classes}).
 */
final class PyTorchFiles {
    private PyTorchFiles() {}

    static Path dir() {
        try {
            return Paths.get(PyTorchFiles.class.getResource("/pytorch/cases.tsv").toURI()).getParent();
        } catch (java.net.URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("the PyTorch golden files are missing from the test class path", e);
        }
    }

    /** The rows of a .tsv, comments dropped, each split on tabs. */
    static List<String[]> rows(String name) {
        try (InputStream in = PyTorchFiles.class.getResourceAsStream("/pytorch/" + name)) {
            if (in == null) {
                throw new IllegalStateException("/pytorch/" + name + " is missing from the test class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                .filter(l -> !l.isBlank() && !l.startsWith("#"))
                .map(l -> l.split("\t", -1))
                .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static long[] longs(String csv) {
        return csv.equals("-") ? null : csv.isEmpty() ? new long[0]
            : Arrays.stream(csv.split(",")).mapToLong(Long::parseLong).toArray();
    }

    static int[] ints(String csv) {
        return Arrays.stream(csv.split(",")).mapToInt(Integer::parseInt).toArray();
    }

    static Tensor read(String file) {
        try {
            Path p = dir().resolve(file);
            return Files.exists(p) ? Npy.read(p) : null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
