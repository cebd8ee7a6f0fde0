package dev.convt;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Where a {@link ConvTransposeLayer} came from: the framework convention, its attributes exactly as given, how the
 * internal {@code padBegin/padEnd} were derived from them, and the input and output shapes the derivation was made
 * for. {@link ConvTransposeLayer#describe()} prints it, so that a user sees why a shape came out as it did.
 *
 * <p>Documentation only: two layers that compute the same thing are equal whatever their origins.
 */
public final class LayerOrigin {

    private final String convention;
    private final Map<String, String> attributes;
    private final List<String> derivation;
    private final String outputPadding;
    private final long[] inputShape;
    private final long[] outputShape;
    private final Layout layout;

    /**
     * @param convention    e.g. {@code "onnx ConvTranspose (spec-exact)"}
     * @param attributes    attribute name to value as the user gave it (insertion order is kept); absent ones omitted
     * @param derivation    one sentence per step of the derivation (may be empty)
     * @param outputPadding the convention's output padding as given, e.g. {@code "[1, 1]"} or {@code "None"}
     * @param inputShape    the input shape (in {@code layout}) the pads were derived for
     * @param outputShape   the resulting output shape (in {@code layout})
     * @param layout        the layout of input and output
     */
    public LayerOrigin(String convention, Map<String, String> attributes, List<String> derivation, String outputPadding,
                       long[] inputShape, long[] outputShape, Layout layout) {
        this.convention = Objects.requireNonNull(convention, "convention");
        this.attributes = Collections.unmodifiableMap(new LinkedHashMap<>(attributes));
        this.derivation = List.copyOf(derivation);
        this.outputPadding = Objects.requireNonNull(outputPadding, "outputPadding");
        this.inputShape = inputShape.clone();
        this.outputShape = outputShape.clone();
        this.layout = Objects.requireNonNull(layout, "layout");
    }

    /** {@return the framework convention, e.g. {@code "onnx ConvTranspose (spec-exact)"}} */
    public String convention() { return convention; }
    /** {@return the attributes as given (name to value), in the order given; absent ones omitted (unmodifiable)} */
    public Map<String, String> attributes() { return attributes; }
    /** {@return one sentence per step of the derivation of {@code padBegin/padEnd}; may be empty (unmodifiable)} */
    public List<String> derivation() { return derivation; }
    /** {@return the convention's output padding as given, e.g. {@code "[1, 1]"} or {@code "None"}} */
    public String outputPadding() { return outputPadding; }
    /** {@return the input shape the pads were derived for, in {@link #layout()} (a copy)} */
    public long[] inputShape() { return inputShape.clone(); }
    /** {@return the resulting output shape, in {@link #layout()} (a copy)} */
    public long[] outputShape() { return outputShape.clone(); }
    /** {@return the layout of the input and output shapes} */
    public Layout layout() { return layout; }

    /** {@return the attributes as {@code name=value} pairs separated by spaces, or {@code (none: every default)}} */
    public String attributesText() {
        if (attributes.isEmpty()) {
            return "(none: every default)";
        }
        StringBuilder sb = new StringBuilder();
        attributes.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : " ").append(k).append('=').append(v));
        return sb.toString();
    }

    @Override
    public String toString() {
        return convention + " " + attributesText() + " for input " + Arrays.toString(inputShape) + " -> "
            + Arrays.toString(outputShape);
    }
}
