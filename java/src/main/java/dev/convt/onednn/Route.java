package dev.convt.onednn;

/**
 * One way of computing a transposed convolution with oneDNN primitives (ONNX Runtime's kernel registry: one small
 * class per route, and one place, {@link Routes}, that picks among them).
 */
abstract class Route {

    /** Stable id, used by {@code -Dconvt.onednn.route} and at the start of {@code implementation()}. */
    abstract String id();

    /** {@code null} when this route can compute {@code g}, otherwise why not. */
    abstract String unsupportedReason(Geometry g);

    /**
     * Builds the primitives for {@code g}.
     *
     * @throws OneDnnException when oneDNN refuses the configuration
     */
    abstract Plan plan(Weights weights, Geometry g);

    @Override
    public String toString() {
        return id();
    }
}
