package dev.convt;

import dev.convt.cli.ConvtCli;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code convt run} and {@code convt check} with seeded random flags, values, files and paths, mostly bad: every case
 * exits 0 with a correct result or 2 with one line on stderr, writes no output file when it fails, and leaves every
 * file the user had exactly as it was. Never 1 (the backends must agree) nor 3 (nothing unexpected).
 */
class CliFuzzTest {

    static final int CASES = Integer.getInteger("convt.clifuzz.cases", 400);
    static final long SEED = Long.getLong("convt.fuzz.seed", 0x5EED_C0DEL);

    @TempDir
    Path dir;
    List<String> inputs;
    List<String> weights;
    List<String> biases;

    @BeforeEach
    void corpus() throws IOException {
        Random rnd = new Random(SEED);
        Npy.write(dir.resolve("x1.npy"), TestSupport.random(rnd, 1, 2, 7));
        Npy.write(dir.resolve("x1u.npy"), TestSupport.random(rnd, 2, 7));
        Npy.write(dir.resolve("w1.npy"), TestSupport.random(rnd, 2, 3, 3));
        Npy.write(dir.resolve("b3.npy"), TestSupport.random(rnd, 3));
        Npy.write(dir.resolve("x2.npy"), TestSupport.random(rnd, 2, 4, 3, 3));
        Npy.write(dir.resolve("w2.npy"), TestSupport.random(rnd, 4, 2, 2, 3));
        Npy.write(dir.resolve("b4.npy"), TestSupport.random(rnd, 4));
        Npy.write(dir.resolve("x3.npy"), TestSupport.random(rnd, 1, 2, 2, 3, 2));
        Npy.write(dir.resolve("w3.npy"), TestSupport.random(rnd, 2, 1, 2, 2, 2));
        byte[] good = Files.readAllBytes(dir.resolve("x1.npy"));
        Files.write(dir.resolve("truncated.npy"), Arrays.copyOf(good, good.length - 5));
        Files.write(dir.resolve("lying.npy"), new String(good, java.nio.charset.StandardCharsets.ISO_8859_1)
            .replace("(1, 2, 7)", "(1, 2, 9)").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        Files.writeString(dir.resolve("text.npy"), "not an array\n");
        Files.write(dir.resolve("empty.npy"), new byte[0]);
        Files.createDirectory(dir.resolve("folder"));
        Files.writeString(dir.resolve("folder/keep.txt"), "precious");
        Files.createSymbolicLink(dir.resolve("link-to-folder.npy"), dir.resolve("folder"));
        Files.createSymbolicLink(dir.resolve("dangling.npy"), dir.resolve("nowhere"));
        List<String> bad = List.of("truncated.npy", "lying.npy", "text.npy", "empty.npy", "folder", "missing.npy",
            "link-to-folder.npy", "dangling.npy");
        inputs = with(List.of("x1.npy", "x1u.npy", "x2.npy", "x3.npy"), bad);
        weights = with(List.of("w1.npy", "w2.npy", "w3.npy"), bad);
        biases = with(List.of("b3.npy", "b4.npy"), List.of("x1.npy", "missing.npy", "truncated.npy"));
    }

    private static List<String> with(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(a); // good files twice as likely
        out.addAll(b);
        return out;
    }

    /** Every file under the corpus (links not followed), with a digest of its bytes. */
    private Map<String, String> snapshot() throws Exception {
        Map<String, String> files = new TreeMap<>();
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                String key = dir.relativize(p).toString();
                if (Files.isSymbolicLink(p)) {
                    files.put(key, "-> " + Files.readSymbolicLink(p));
                } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    files.put(key, "dir");
                } else {
                    files.put(key, HexFormat.of().formatHex(sha.digest(Files.readAllBytes(p))));
                }
            }
        }
        return files;
    }

    record Result(int code, String out, String err) {}

    static Result cli(List<String> args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = ConvtCli.execute(new PrintWriter(out), new PrintWriter(err), args.toArray(String[]::new));
        return new Result(code, out.toString(), err.toString());
    }

    private static final String[] NUMBERS = {"1", "2", "3", "0", "-1", "1,2", "2,1,1", "1,2,3,4", "", ",", "1,,2",
        "a", "1.5", "99999999999", "-2147483648", "2147483647", " 2", "0x10"};

    private String value(Random rnd) {
        return NUMBERS[rnd.nextInt(NUMBERS.length)];
    }

    private String pick(Random rnd, List<String> files) {
        return dir.resolve(files.get(rnd.nextInt(files.size()))).toString();
    }

    @Test
    void runAndCheckExitZeroOrTwoAndTouchNothing() throws Exception {
        Map<String, String> before = snapshot();
        int[] codes = new int[4];
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < CASES; i++) {
            Random rnd = new Random(SEED * 31 + i);
            boolean run = rnd.nextInt(4) > 0;
            List<String> args = new ArrayList<>();
            args.add(run ? "run" : "check");
            if (rnd.nextInt(5) < 2) { // a consistent call, perhaps with one bad value: the ones that get far
                int c = rnd.nextInt(3);
                args.addAll(List.of("--input", dir.resolve(new String[] {rnd.nextBoolean() ? "x1.npy" : "x1u.npy",
                    "x2.npy", "x3.npy"}[c]).toString(), "--weight",
                    dir.resolve(new String[] {"w1.npy", "w2.npy", "w3.npy"}[c]).toString()));
                if (c == 0 && rnd.nextBoolean()) {
                    args.addAll(List.of("--bias", dir.resolve("b3.npy").toString()));
                }
                if (c == 1 && rnd.nextBoolean()) {
                    args.addAll(List.of("--groups", "2", "--bias", dir.resolve("b4.npy").toString()));
                }
                args.addAll(List.of("--stride", String.valueOf(1 + rnd.nextInt(2)), "--padding",
                    String.valueOf(rnd.nextInt(2))));
                if (rnd.nextInt(3) == 0) {
                    String[] flags = {"--stride", "--padding", "--output-padding", "--dilation", "--output-size"};
                    args.addAll(List.of(flags[rnd.nextInt(flags.length)], value(rnd)));
                }
            } else {
                if (rnd.nextInt(12) > 0) {
                    args.addAll(List.of("--input", pick(rnd, inputs)));
                }
                if (rnd.nextInt(12) > 0) {
                    args.addAll(List.of("--weight", pick(rnd, weights)));
                }
                if (rnd.nextInt(3) == 0) {
                    args.addAll(List.of("--bias", pick(rnd, biases)));
                }
                for (String flag : new String[] {"--stride", "--padding", "--output-padding", "--dilation",
                    "--groups", "--output-size"}) {
                    if (rnd.nextInt(5) == 0) {
                        args.addAll(List.of(flag, value(rnd)));
                    }
                }
            }
            if (rnd.nextInt(10) == 0) {
                args.add(new String[] {"--frobnicate", "--stride", "-x", "--input"}[rnd.nextInt(4)]); // no value
            }
            Path fresh = dir.resolve("out-" + i + ".npy");
            if (run) {
                if (rnd.nextInt(4) == 0) {
                    args.addAll(List.of("--backend", new String[] {"auto", "reference", "onednn", "cuda", ""}[
                        rnd.nextInt(5)]));
                }
                if (rnd.nextInt(15) > 0) {
                    String out = switch (rnd.nextInt(10)) {
                        case 0 -> dir.resolve("folder").toString();
                        case 1 -> dir.resolve("no/such/folder/y.npy").toString();
                        case 2 -> pick(rnd, inputs);
                        case 3 -> dir.resolve("link-to-folder.npy").toString();
                        case 4 -> "/dev/null";
                        default -> fresh.toString();
                    };
                    args.addAll(List.of("--output", out));
                }
            }
            if (rnd.nextInt(8) == 0) {
                args.add("--verbose");
            }
            String what = "case " + i + ": convt " + String.join(" ", args);
            Result r = cli(args);
            codes[Math.min(3, Math.max(0, r.code()))]++;
            if (r.code() != 0 && r.code() != 2) {
                failures.add(what + "\n  exit " + r.code() + "\n  " + r.err() + r.out());
                continue;
            }
            if (r.code() == 2) {
                if (r.err().lines().count() != 1 || !r.err().startsWith("convt: ")) {
                    failures.add(what + "\n  not one line: " + r.err());
                }
                if (Files.exists(fresh, LinkOption.NOFOLLOW_LINKS)) {
                    failures.add(what + "\n  failed but wrote " + fresh);
                }
            } else if (run && args.contains(fresh.toString())) {
                if (!Files.exists(fresh)) {
                    failures.add(what + "\n  exit 0 without an output file");
                    continue;
                }
                // the same call on the reference: the result must be the same
                List<String> refArgs = new ArrayList<>(args);
                refArgs.removeIf(a -> a.equals("--verbose"));
                int b = refArgs.indexOf("--backend");
                if (b >= 0) {
                    refArgs.subList(b, b + 2).clear();
                }
                Path ref = dir.resolve("ref-" + i + ".npy");
                refArgs.set(refArgs.indexOf(fresh.toString()), ref.toString());
                refArgs.addAll(List.of("--backend", "reference"));
                Result rr = cli(refArgs);
                assertEquals(0, rr.code(), what + "\n" + rr.err());
                Tensor got = Npy.read(fresh);
                Tensor expected = Npy.read(ref);
                assertEquals(Arrays.toString(expected.shape()), Arrays.toString(got.shape()), what);
                double scale = 1;
                double diff = 0;
                for (int k = 0; k < expected.elementCount(); k++) {
                    scale = Math.max(scale, Math.abs(expected.get(k)));
                    diff = Math.max(diff, Math.abs(expected.get(k) - got.get(k)));
                }
                assertTrue(diff <= 1e-5 * scale, what + ": differs from the reference by " + diff);
                Files.delete(ref);
            }
            if (Files.exists(fresh)) {
                Files.delete(fresh);
            }
            Map<String, String> after = snapshot();
            if (!after.equals(before)) {
                failures.add(what + "\n  changed the user's files: before " + before + "\n  after " + after);
                before = after;
            }
            if (failures.size() >= 10) {
                break;
            }
        }
        System.out.println("cli fuzz: " + CASES + " cases (seed 0x" + Long.toHexString(SEED).toUpperCase()
            + "): exit 0 " + codes[0] + ", exit 2 " + codes[2] + ", other " + (codes[1] + codes[3]));
        assertTrue(failures.isEmpty(), failures.size() + " cases misbehaved:\n" + String.join("\n\n", failures));
        assertTrue(codes[0] > CASES / 10 && codes[2] > CASES / 2, Arrays.toString(codes));
    }
}
