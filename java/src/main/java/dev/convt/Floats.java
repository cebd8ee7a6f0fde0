package dev.convt;

/** Number formatting shared by {@link Tensor#toString()} and the CLI. */
public final class Floats {
    private Floats() {}

    /**
     * @param v a value
     * @return it without a trailing {@code .0} when it is integral: {@code 4} rather than {@code 4.0}
     */
    public static String format(float v) {
        if (v == Math.rint(v) && !Float.isInfinite(v) && Math.abs(v) < 1e7f) {
            return Long.toString((long) v);
        }
        return Float.toString(v);
    }

    /**
     * @param values some values
     * @return them as {@code [1, 2, 4.5]}
     */
    public static String format(float[] values) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < values.length; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(format(values[i]));
        }
        return sb.append(']').toString();
    }
}
