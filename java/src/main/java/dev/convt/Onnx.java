package dev.convt;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * ONNX's {@code ConvTranspose} (opsets 11 to 22, whose semantics are the same) onto the internal form.
 *
 * <p>Inputs {@code X [N, C, D1, ...]}, {@code W [C, M/group, k1, ...]} (the internal layout, nothing to convert),
 * optional {@code B [M]}; output {@code Y [N, M, ...]}. Per spatial axis {@code i}, with
 * {@code natural = strides[i]*(in-1) + output_padding[i] + (kernel_shape[i]-1)*dilations[i] + 1}:
 * <ul>
 *   <li>explicit {@code pads} (begin values, then end values): output {@code natural - begin - end};</li>
 *   <li>{@code output_shape}, or {@code auto_pad = SAME_UPPER | SAME_LOWER} (target {@code in*strides[i]}):
 *       {@code total = natural - target}; {@code SAME_UPPER}: {@code begin = total//2, end = total - begin} (the odd
 *       extra at the end); {@code SAME_LOWER}, and {@code NOTSET}/{@code VALID} with {@code output_shape}:
 *       {@code end = total//2, begin = total - end} (the odd extra at the beginning). {@code //} floors, so a negative
 *       total (a target larger than natural) is legal and grows the output; {@code pads} are then ignored, as the
 *       spec says for {@code output_shape}.</li>
 * </ul>
 * The internal form is {@code padBegin = begin}, {@code padEnd = end - output_padding}.
 *
 * <p>Spec-exact by default. {@link Attributes#ortCompat(boolean)} reproduces ONNX Runtime instead, which clamps a
 * negative total to 0: {@code SAME_*} with a stride larger than the dilated kernel then gives the natural size rather
 * than {@code in*stride}, and a too-large {@code output_shape} keeps its size with the whole surplus at the end
 * (begin pad 0; the surplus gets only the bias).
 *
 * <p>Everything the spec forbids is refused with a message naming the attribute, even where ONNX Runtime runs it:
 * negative {@code pads} or {@code output_padding}, {@code strides}/{@code dilations} of 0, lists of the wrong length
 * (ONNX does not broadcast), {@code output_padding} not below {@code max(strides, dilations)}, a {@code B} that is
 * not 1-D of size {@code M}, {@code X} and {@code W} of different ranks, a {@code group} that does not divide
 * {@code C} or a {@code W.shape[0]} other than {@code C}, a {@code kernel_shape} contradicting {@code W}, an unknown
 * {@code auto_pad}, {@code pads} together with {@code auto_pad} {@code SAME_*} (or non-zero {@code pads} with
 * {@code VALID}, which means no padding), and an output size below 1.
 */
public final class Onnx {

    /** The {@code auto_pad} values, exactly as the spec spells them. */
    public static final List<String> AUTO_PADS = List.of("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID");

    private static final String OP = "ONNX ConvTranspose: ";

    private Onnx() {}

    /**
     * The node's attributes; an attribute left {@code null} is absent (its spec default applies). ONNX ints are
     * int64, so values are {@code long}; values beyond what a layer can hold are refused by name.
     */
    public static final class Attributes {
        long[] strides;
        long[] dilations;
        Long group;
        long[] kernelShape;
        long[] pads;
        long[] outputPadding;
        long[] outputShape;
        String autoPad;
        boolean ortCompat;

        /**
         * @param v {@code strides}: one value per spatial axis, each at least 1 (default all 1)
         * @return this
         */
        public Attributes strides(long... v) { strides = copy(v); return this; }
        /**
         * @param v {@code dilations}: one value per spatial axis, each at least 1 (default all 1)
         * @return this
         */
        public Attributes dilations(long... v) { dilations = copy(v); return this; }
        /**
         * @param v {@code group}: positive, dividing the input channels {@code C} (default 1)
         * @return this
         */
        public Attributes group(long v) { group = v; return this; }
        /**
         * @param v {@code kernel_shape}: one value per spatial axis, equal to {@code W}'s spatial shape (default: taken
         *     from {@code W})
         * @return this
         */
        public Attributes kernelShape(long... v) { kernelShape = copy(v); return this; }
        /**
         * {@code [x1_begin, x2_begin, ..., x1_end, x2_end, ...]}.
         *
         * @param v {@code pads}: two non-negative values per spatial axis, begin values then end values (default all
         *     0); ignored when {@link #outputShape} is given
         * @return this
         */
        public Attributes pads(long... v) { pads = copy(v); return this; }
        /**
         * @param v {@code output_padding}: one value per spatial axis, each non-negative and below
         *     {@code max(strides, dilations)} (default all 0)
         * @return this
         */
        public Attributes outputPadding(long... v) { outputPadding = copy(v); return this; }
        /**
         * The spatial output sizes, or the full {@code [N, M, ...]} shape (whose N and M must then match).
         *
         * @param v {@code output_shape}, each size at least 1
         * @return this
         */
        public Attributes outputShape(long... v) { outputShape = copy(v); return this; }
        /**
         * {@code NOTSET}, {@code SAME_UPPER}, {@code SAME_LOWER} or {@code VALID} (exact upper case).
         *
         * @param v {@code auto_pad} (default {@code NOTSET})
         * @return this
         */
        public Attributes autoPad(String v) { autoPad = v; return this; }
        /**
         * Reproduce ONNX Runtime's clamping of a negative total padding instead of the spec (see the class doc).
         *
         * @param v {@code true} for ONNX Runtime's behaviour, {@code false} (the default) for the spec's
         * @return this
         */
        public Attributes ortCompat(boolean v) { ortCompat = v; return this; }

        private static long[] copy(long[] v) {
            return v == null ? null : v.clone();
        }
    }

    /**
     * Converts one {@code ConvTranspose} node for input {@code X} of {@code xShape}, weight {@code W} of
     * {@code wShape} and bias {@code B} of {@code bShape} ({@code null} when the node has no {@code B}).
     *
     * @param a the node's attributes
     * @param xShape the shape of {@code X}, {@code [N, C, D1, ...]} with 1, 2 or 3 spatial axes
     * @param wShape the shape of {@code W}, {@code [C, M/group, k1, ...]}
     * @param bShape the shape of {@code B}, {@code [M]}, or {@code null} when the node has no {@code B}
     * @return the converted layer: channels-first, weight in {@link WeightLayout#PYTORCH} (nothing to convert)
     * @throws IllegalArgumentException naming the attribute (or input) and its values when the node is invalid
     */
    public static ConvertedLayer convTranspose(Attributes a, long[] xShape, long[] wShape, long[] bShape) {
        Objects.requireNonNull(a, "attributes");
        Objects.requireNonNull(xShape, "X shape");
        Objects.requireNonNull(wShape, "W shape");

        // Inputs first: the rank they give decides every attribute's length.
        if (xShape.length < 3 || xShape.length > 5) {
            throw bad("X must be [N, C, D1, ...] with 1, 2 or 3 spatial axes (rank 3, 4 or 5), but has shape "
                + Arrays.toString(xShape));
        }
        if (wShape.length != xShape.length) {
            throw bad("X and W must have the same rank, but X has shape " + Arrays.toString(xShape) + " (rank "
                + xShape.length + ") and W has shape " + Arrays.toString(wShape) + " (rank " + wShape.length + ")");
        }
        int r = xShape.length - 2;
        for (long d : xShape) {
            if (d < 0 || d > Integer.MAX_VALUE) {
                throw bad("X's dimensions must be between 0 and " + Integer.MAX_VALUE + ", but X has shape "
                    + Arrays.toString(xShape));
            }
        }
        for (int i = 0; i < r; i++) {
            if (xShape[2 + i] < 1) {
                throw bad("X's spatial sizes must be positive, but X has shape " + Arrays.toString(xShape));
            }
        }
        for (long d : wShape) {
            if (d < 1 || d > Integer.MAX_VALUE) {
                throw bad("W's dimensions must be between 1 and " + Integer.MAX_VALUE + ", but W has shape "
                    + Arrays.toString(wShape));
            }
        }
        long c = xShape[1];
        long group = a.group == null ? 1 : a.group;
        if (group < 1) {
            throw bad("group must be positive, but got group=" + group);
        }
        if (wShape[0] != c) {
            throw bad("W.shape[0] must equal the input channels C=" + c + " of X (W is [C, M/group, k...]), but W has "
                + "shape " + Arrays.toString(wShape));
        }
        if (c % group != 0) {
            throw bad("group=" + group + " must divide the input channels C=" + c + " of X");
        }
        long m = wShape[1] * group; // both below 2^31: no overflow
        if (m > Integer.MAX_VALUE) {
            throw bad("the output channels M = W.shape[1]*group = " + wShape[1] + "*" + group + " are too many");
        }
        if (bShape != null && (bShape.length != 1 || bShape[0] != m)) {
            throw bad("B must be 1-D of size M = W.shape[1]*group = " + m + ", but B has shape "
                + Arrays.toString(bShape));
        }
        long[] wKernel = Arrays.copyOfRange(wShape, 2, wShape.length);
        if (a.kernelShape != null) {
            checkLength("kernel_shape", a.kernelShape, r, "one per spatial axis");
            if (!Arrays.equals(a.kernelShape, wKernel)) {
                throw bad("kernel_shape=" + Arrays.toString(a.kernelShape) + " contradicts W's spatial shape "
                    + Arrays.toString(wKernel) + " (W has shape " + Arrays.toString(wShape) + ")");
            }
        }
        long[] strides = a.strides == null ? filled(r, 1) : a.strides;
        checkLength("strides", strides, r, "one per spatial axis");
        checkAtLeast("strides", strides, 1);
        long[] dilations = a.dilations == null ? filled(r, 1) : a.dilations;
        checkLength("dilations", dilations, r, "one per spatial axis");
        checkAtLeast("dilations", dilations, 1);
        String autoPad = a.autoPad == null ? "NOTSET" : a.autoPad;
        if (!AUTO_PADS.contains(autoPad)) {
            throw bad("auto_pad must be one of NOTSET, SAME_UPPER, SAME_LOWER, VALID (exact upper case), but got '"
                + autoPad + "'");
        }
        boolean same = autoPad.startsWith("SAME_");
        if (a.pads != null) {
            checkLength("pads", a.pads, 2 * r, "begin values then end values, two per spatial axis");
            checkAtLeast("pads", a.pads, 0);
            if (same) {
                throw bad("pads cannot be given together with auto_pad=" + autoPad + " (which derives them), but got "
                    + "pads=" + Arrays.toString(a.pads));
            }
            if (autoPad.equals("VALID") && Arrays.stream(a.pads).anyMatch(p -> p != 0)) {
                throw bad("auto_pad=VALID means no padding, but got pads=" + Arrays.toString(a.pads));
            }
        }
        long[] outputPadding = a.outputPadding == null ? filled(r, 0) : a.outputPadding;
        checkLength("output_padding", outputPadding, r, "one per spatial axis");
        checkAtLeast("output_padding", outputPadding, 0);
        for (int i = 0; i < r; i++) {
            if (outputPadding[i] >= Math.max(strides[i], dilations[i])) {
                throw bad("output_padding[" + i + "]=" + outputPadding[i] + " must be smaller than max(strides[" + i
                    + "], dilations[" + i + "]) = " + Math.max(strides[i], dilations[i]) + " (output_padding="
                    + Arrays.toString(outputPadding) + ", strides=" + Arrays.toString(strides) + ", dilations="
                    + Arrays.toString(dilations) + ")");
            }
        }
        long[] target = null;
        if (a.outputShape != null) {
            long[] os = a.outputShape;
            if (os.length == r + 2) {
                if (os[0] != xShape[0] || os[1] != m) {
                    throw bad("output_shape=" + Arrays.toString(os) + " has rank " + (r + 2) + ", so its N and M must "
                        + "be X's N=" + xShape[0] + " and M = W.shape[1]*group = " + m);
                }
                target = Arrays.copyOfRange(os, 2, os.length);
            } else if (os.length == r) {
                target = os.clone();
            } else {
                throw bad("output_shape must have " + r + " values (the spatial sizes) or " + (r + 2) + " (the full "
                    + "shape), but got " + os.length + ": " + Arrays.toString(os));
            }
            for (long t : target) {
                if (t < 1 || t > Integer.MAX_VALUE) {
                    throw bad("output_shape sizes must be between 1 and " + Integer.MAX_VALUE + ", but got "
                        + "output_shape=" + Arrays.toString(os));
                }
            }
        }
        // Every size is below 2^31 from here on, so the long arithmetic below cannot overflow.
        int[] k = toInts("kernel_shape", wKernel);
        int[] s = toInts("strides", strides);
        int[] d = toInts("dilations", dilations);
        int g = (int) group;
        if (a.pads != null) {
            toInts("pads", a.pads);
        }

        int[] padBegin = new int[r];
        int[] padEnd = new int[r];
        long[] outSpatial = new long[r];
        List<String> derivation = new ArrayList<>();
        for (int i = 0; i < r; i++) {
            long in = xShape[2 + i];
            long op = outputPadding[i];
            long natural = strides[i] * (in - 1) + op + (wKernel[i] - 1) * dilations[i] + 1;
            String naturalText = "natural = " + strides[i] + "*(" + in + "-1) + " + op + " + (" + wKernel[i] + "-1)*"
                + dilations[i] + " + 1 = " + natural;
            long begin;
            long end;
            long out;
            if (target != null || same) {
                long want = target != null ? target[i] : in * strides[i];
                String wantText = target != null ? "output_shape " + want : autoPad + " target in*stride = " + want;
                long total = natural - want;
                long split = a.ortCompat ? Math.max(0, total) : total;
                if (autoPad.equals("SAME_UPPER")) {
                    begin = Math.floorDiv(split, 2);
                } else {
                    begin = split - Math.floorDiv(split, 2);
                }
                out = target != null ? want : natural - split;
                end = natural - out - begin;
                String rule = autoPad.equals("SAME_UPPER") ? "SAME_UPPER: begin = total//2, end = total - begin"
                    : autoPad + (same ? "" : " with output_shape") + ": end = total//2, begin = total - end";
                String ort = "";
                if (a.ortCompat && total < 0) {
                    ort = "; ONNX Runtime clamps the total to 0" + (target != null
                        ? " and keeps output_shape, so the surplus " + (-total) + " goes at the end"
                        : ", so the output keeps the natural size " + natural);
                }
                derivation.add("axis " + i + ": " + naturalText + "; " + wantText + "; total = " + total + "; "
                    + rule + ort + " -> begin " + begin + ", end " + end
                    + (a.pads != null && target != null ? " (pads ignored: output_shape given)" : ""));
            } else {
                begin = a.pads == null ? 0 : a.pads[i];
                end = a.pads == null ? 0 : a.pads[r + i];
                out = natural - begin - end;
                if (out < 1) {
                    throw bad("pads=" + Arrays.toString(a.pads) + " leave no output on spatial axis " + i + ": "
                        + naturalText + ", minus begin " + begin + " and end " + end + " = " + out);
                }
                derivation.add("axis " + i + ": " + naturalText + "; " + (a.pads == null ? autoPad + ", no pads"
                    : "pads begin " + begin + ", end " + end) + " -> output " + out);
            }
            outSpatial[i] = out;
            padBegin[i] = toInt("the derived begin pad", begin);
            padEnd[i] = toInt("the derived end pad", end - op);
        }

        Map<String, String> given = new LinkedHashMap<>();
        putIfGiven(given, "auto_pad", a.autoPad);
        putIfGiven(given, "strides", a.strides);
        putIfGiven(given, "dilations", a.dilations);
        putIfGiven(given, "group", a.group == null ? null : String.valueOf(a.group));
        putIfGiven(given, "kernel_shape", a.kernelShape);
        putIfGiven(given, "pads", a.pads);
        putIfGiven(given, "output_padding", a.outputPadding);
        putIfGiven(given, "output_shape", a.outputShape);
        long[] yShape = new long[r + 2];
        yShape[0] = xShape[0];
        yShape[1] = m;
        System.arraycopy(outSpatial, 0, yShape, 2, r);
        LayerOrigin origin = new LayerOrigin(
            "onnx ConvTranspose (" + (a.ortCompat ? "ONNX Runtime compatible: negative total padding clamped to 0"
                : "spec-exact") + ")",
            given, derivation,
            Arrays.toString(outputPadding) + (a.outputPadding == null ? " (default)" : ""),
            xShape, yShape, Layout.CHANNELS_FIRST);
        ConvTransposeLayer layer = ConvTransposeLayer.builder(r)
            .inChannels((int) c).outChannels((int) m).kernelSize(k).stride(s).dilation(d).groups(g)
            .bias(bShape != null).padBegin(padBegin).padEnd(padEnd).origin(origin)
            .build();
        ConvertedLayer converted = new ConvertedLayer(layer, Layout.CHANNELS_FIRST, WeightLayout.PYTORCH, xShape,
            wShape);
        if (!Arrays.equals(converted.outputShape(), yShape)) {
            // the one shape formula and the derivation above must agree; a mismatch is a bug here, not bad input
            throw new IllegalStateException("derived output " + Arrays.toString(yShape) + " but the layer computes "
                + Arrays.toString(converted.outputShape()));
        }
        return converted;
    }

    private static IllegalArgumentException bad(String message) {
        return new IllegalArgumentException(OP + message);
    }

    private static long[] filled(int n, long v) {
        long[] out = new long[n];
        Arrays.fill(out, v);
        return out;
    }

    private static void checkLength(String name, long[] v, int n, String what) {
        if (v.length != n) {
            throw bad(name + " must have exactly " + n + " values (" + what + "; ONNX does not broadcast), but got "
                + v.length + ": " + Arrays.toString(v));
        }
    }

    private static void checkAtLeast(String name, long[] v, long min) {
        for (long x : v) {
            if (x < min) {
                throw bad(name + " must be " + (min == 0 ? "non-negative" : "positive") + ", but got " + name + "="
                    + Arrays.toString(v));
            }
        }
    }

    private static int[] toInts(String name, long[] v) {
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = toInt(name, v[i]);
        }
        return out;
    }

    private static int toInt(String name, long v) {
        if (v > Integer.MAX_VALUE || v < Integer.MIN_VALUE) {
            throw bad(name + " value " + v + " is out of the supported range (32-bit)");
        }
        return (int) v;
    }

    private static void putIfGiven(Map<String, String> m, String name, Object v) {
        if (v instanceof long[]) {
            m.put(name, Arrays.toString((long[]) v));
        } else if (v != null) {
            m.put(name, v.toString());
        }
    }
}
