package dev.convt;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The benchmark shape list (benchdnn style): one named layer and input shape a line, as in {@code bench/shapes.txt},
 * which is bundled in the library as {@link #BUILT_IN}. The JMH suite, {@code convt bench}, the tests and the C++
 * floor all read this format, so every figure is about the same layers.
 *
 * <pre>
 *   # comment
 *   dcgan_g2   n=64 cin=512 cout=256 in=4x4 k=4 s=2 p=1
 * </pre>
 *
 * Keys: {@code n} (batch, default 1), {@code cin}, {@code cout}, {@code in} (spatial sizes joined by {@code x}; their
 * count is the rank), {@code k}, {@code s}, {@code p}, {@code op} (output padding), {@code d} (dilation) (each one
 * value for every axis or one per axis joined by {@code x}), {@code g} (groups) and {@code bias} ({@code 1}/{@code 0}).
 *
 * <pre>{@code
 * ShapeList.Shape s = ShapeList.builtIn().get("dcgan_g2");
 * try (CompiledConvTranspose op = Backends.compile(s.layer(), Tensor.zeros(s.layer().weightShape()), null)) { ... }
 * }</pre>
 */
public final class ShapeList {

    /** Class-path resource holding the built-in list (a copy of {@code bench/shapes.txt} made by the build). */
    public static final String BUILT_IN = "/dev/convt/shapes.txt";

    /**
     * One named benchmark case.
     *
     * @param name its name in the list
     * @param layer the layer
     * @param inputShape its channels-first input shape {@code [n, cin, *in]}
     */
    public record Shape(String name, ConvTransposeLayer layer, long[] inputShape) {
        /**
         * Copies the input shape, so that the record stays immutable.
         *
         * @param name its name in the list
         * @param layer the layer
         * @param inputShape its channels-first input shape {@code [n, cin, *in]}
         */
        public Shape {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(layer, "layer");
            inputShape = inputShape.clone();
        }

        /** {@return the channels-first input shape {@code [n, cin, *in]} (a copy)} */
        @Override
        public long[] inputShape() {
            return inputShape.clone();
        }

        /** {@return the batch size} */
        public long batch() {
            return inputShape[0];
        }

        /**
         * @param n a batch size
         * @return this shape with that batch size
         */
        public Shape withBatch(long n) {
            long[] in = inputShape.clone();
            in[0] = n;
            return new Shape(name, layer, in);
        }

        /** {@return the floating-point operations of one forward: {@code 2 * N * Cin * Cout/groups * prod(k) * prod(in)}} */
        public double flops() {
            double f = 2.0 * inputShape[0] * layer.inChannels() * (layer.outChannels() / layer.groups());
            for (int i = 0; i < layer.rank(); i++) {
                f *= layer.kernelSize(i) * (double) inputShape[2 + i];
            }
            return f;
        }

        @Override
        public String toString() {
            return name + ": " + layer + " on input " + Arrays.toString(inputShape);
        }
    }

    private final Map<String, Shape> shapes;

    private ShapeList(Map<String, Shape> shapes) {
        this.shapes = shapes;
    }

    /** {@return the list bundled with the library} */
    public static ShapeList builtIn() {
        try (InputStream in = ShapeList.class.getResourceAsStream(BUILT_IN)) {
            if (in == null) {
                throw new IllegalStateException("the built-in shape list " + BUILT_IN + " is missing from the class path");
            }
            return parse(new InputStreamReader(in, StandardCharsets.UTF_8), BUILT_IN);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Reads a shape list file.
     *
     * @param file the file
     * @return its shapes
     * @throws IOException when it cannot be read
     * @throws IllegalArgumentException naming the file and line of a malformed or invalid shape
     */
    public static ShapeList read(Path file) throws IOException {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return parse(r, file.toString());
        }
    }

    /**
     * Parses a shape list.
     *
     * @param reader the text
     * @param source what to call it in error messages
     * @return its shapes
     * @throws IOException when reading fails
     * @throws IllegalArgumentException naming the source and line of a malformed or invalid shape
     */
    public static ShapeList parse(Reader reader, String source) throws IOException {
        Map<String, Shape> out = new LinkedHashMap<>();
        BufferedReader br = new BufferedReader(reader);
        String line;
        int lineNo = 0;
        while ((line = br.readLine()) != null) {
            lineNo++;
            int hash = line.indexOf('#');
            String text = (hash >= 0 ? line.substring(0, hash) : line).trim();
            if (text.isEmpty()) {
                continue;
            }
            try {
                Shape s = parseLine(text);
                if (out.putIfAbsent(s.name(), s) != null) {
                    throw new IllegalArgumentException("shape '" + s.name() + "' is defined twice");
                }
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(source + ":" + lineNo + ": " + e.getMessage(), e);
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(source + ": no shapes");
        }
        return new ShapeList(out);
    }

    private static Shape parseLine(String text) {
        String[] parts = text.split("\\s+");
        String name = parts[0];
        if (name.contains("=")) {
            throw new IllegalArgumentException("a line must start with the shape's name, but got '" + name + "'");
        }
        Map<String, String> kv = new LinkedHashMap<>();
        for (int i = 1; i < parts.length; i++) {
            int eq = parts[i].indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("expected key=value, but got '" + parts[i] + "'");
            }
            String key = parts[i].substring(0, eq).toLowerCase(Locale.ROOT);
            if (!List.of("n", "cin", "cout", "g", "in", "k", "s", "p", "op", "d", "bias").contains(key)) {
                throw new IllegalArgumentException("unknown key '" + key + "' in '" + parts[i] + "'");
            }
            if (kv.put(key, parts[i].substring(eq + 1)) != null) {
                throw new IllegalArgumentException("key '" + key + "' given twice");
            }
        }
        for (String required : List.of("cin", "cout", "in", "k")) {
            if (!kv.containsKey(required)) {
                throw new IllegalArgumentException("shape '" + name + "' lacks " + required + "=");
            }
        }
        long[] spatial = longs("in", kv.get("in"));
        int rank = spatial.length;
        if (rank < 1 || rank > 3) {
            throw new IllegalArgumentException("in= must have 1 to 3 sizes, but got '" + kv.get("in") + "'");
        }
        String bias = kv.getOrDefault("bias", "1");
        if (!bias.equals("0") && !bias.equals("1")) {
            throw new IllegalArgumentException("bias= must be 0 or 1, but got '" + bias + "'");
        }
        ConvTransposeLayer layer = ConvTransposeLayer.builder(rank)
            .inChannels(toInt("cin", kv.get("cin")))
            .outChannels(toInt("cout", kv.get("cout")))
            .groups(toInt("g", kv.getOrDefault("g", "1")))
            .kernelSize(ints("k", kv.get("k")))
            .stride(ints("s", kv.getOrDefault("s", "1")))
            .padding(ints("p", kv.getOrDefault("p", "0")))
            .outputPadding(ints("op", kv.getOrDefault("op", "0")))
            .dilation(ints("d", kv.getOrDefault("d", "1")))
            .bias(bias.equals("1"))
            .build();
        long[] input = new long[rank + 2];
        input[0] = toInt("n", kv.getOrDefault("n", "1"));
        input[1] = layer.inChannels();
        System.arraycopy(spatial, 0, input, 2, rank);
        layer.outputShape(input); // validates the input against the layer
        return new Shape(name, layer, input);
    }

    private static long[] longs(String key, String value) {
        String[] parts = value.split("x", -1);
        long[] out = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            out[i] = toInt(key, parts[i]);
        }
        return out;
    }

    private static int[] ints(String key, String value) {
        return Arrays.stream(longs(key, value)).mapToInt(v -> (int) v).toArray();
    }

    private static int toInt(String key, String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + "= expects an integer (or sizes joined by 'x'), but got '"
                + value + "'");
        }
    }

    /** {@return every shape, in file order} */
    public List<Shape> all() {
        return List.copyOf(shapes.values());
    }

    /** {@return the shape names, in file order} */
    public List<String> names() {
        return List.copyOf(shapes.keySet());
    }

    /**
     * @param name a shape's name
     * @return the shape called {@code name}
     * @throws IllegalArgumentException listing the known names when there is none
     */
    public Shape get(String name) {
        Shape s = shapes.get(name);
        if (s == null) {
            throw new IllegalArgumentException("unknown shape '" + name + "'; known shapes: "
                + String.join(", ", shapes.keySet()));
        }
        return s;
    }

    /**
     * @param commaSeparatedNames shape names joined by commas
     * @return those shapes, in the order given
     * @throws IllegalArgumentException listing the known names when one is unknown
     */
    public List<Shape> select(String commaSeparatedNames) {
        List<Shape> out = new ArrayList<>();
        for (String n : commaSeparatedNames.split(",")) {
            out.add(get(n.trim()));
        }
        return out;
    }
}
