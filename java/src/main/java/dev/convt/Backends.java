package dev.convt;

import dev.convt.onednn.OneDnnBackend;
import dev.convt.purejava.JavaBackend;

import java.lang.System.Logger.Level;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The factory of interchangeable backends, and the one place that chooses between them.
 *
 * <pre>{@code
 * Backends.Selection s = Backends.select(layer);   // e.g. "onednn (auto: oneDNN is available and supports the layer)"
 * try (CompiledConvTranspose op = s.backend().compile(layer, weight, bias)) {
 *     Tensor y = op.forward(x);
 * }
 * }</pre>
 *
 * <p>The choice comes from {@code -Dconvt.backend=auto|reference|java|onednn}, else the {@code CONVT_BACKEND}
 * environment variable, else {@code auto}. {@code auto} takes oneDNN when it loaded and supports the layer, otherwise
 * the fast pure-Java backend ({@code java}), and records why in {@link Selection#reason()}. A tiny layer
 * ({@link JavaBackend#fasterThanNativeOn}) goes to {@code java} even with oneDNN, whose fixed cost per call is larger
 * there. A forced backend that cannot run throws with the cause;
 * there is never a silent fallback.
 */
public final class Backends {

    /** System property naming the backend: {@code auto} or a backend id ({@link #ids()}). */
    public static final String PROPERTY = "convt.backend";
    /** Environment variable read when {@link #PROPERTY} is not set. */
    public static final String ENV = "CONVT_BACKEND";
    /** The default choice: oneDNN when it can run the layer, else the portable Java backend. */
    public static final String AUTO = "auto";

    private static final System.Logger LOG = System.getLogger(Backends.class.getName());
    private static final AtomicBoolean FALLBACK_LOGGED = new AtomicBoolean();

    private Backends() {}

    /** {@return the pure-Java reference backend (the oracle)} Always available. */
    public static Backend reference() {
        return ReferenceBackend.INSTANCE;
    }

    /**
     * The fast pure-Java backend (multi-threaded, deterministic); always available. Configured by
     * {@code -Dconvt.threads} and {@code -Dconvt.java.kernel} (see {@link JavaBackend}).
     *
     * @return the fast pure-Java backend
     */
    public static Backend java() {
        return JavaBackend.instance();
    }

    /** The backend {@code auto} falls back to when oneDNN cannot run a layer. */
    static Backend portable() {
        return java();
    }

    /** {@return the oneDNN backend} Check {@link Backend#isAvailable()}. */
    public static Backend onednn() {
        return OneDnnBackend.INSTANCE;
    }

    /** {@return every backend, available or not, the reference first: reference, java, onednn} */
    public static List<Backend> all() {
        return List.of(reference(), java(), onednn());
    }

    /** {@return the ids {@link #byId} accepts besides {@code auto}, in {@link #all()} order} */
    public static List<String> ids() {
        return all().stream().map(Backend::id).toList();
    }

    /**
     * Looks a backend up by id.
     *
     * @param id a backend id, case-insensitive ({@link #ids()})
     * @return the backend with this id
     * @throws IllegalArgumentException for an unknown id
     */
    public static Backend byId(String id) {
        Objects.requireNonNull(id, "id");
        for (Backend b : all()) {
            if (b.id().equals(id.toLowerCase(Locale.ROOT))) {
                return b;
            }
        }
        throw new IllegalArgumentException("unknown backend '" + id + "'; expected one of auto, " + String.join(", ", ids()));
    }

    /** {@return the configured choice: the system property, else the environment variable, else {@code auto}} */
    public static String configured() {
        String p = System.getProperty(PROPERTY);
        if (p != null && !p.isBlank()) {
            return p.trim().toLowerCase(Locale.ROOT);
        }
        String e = System.getenv(ENV);
        if (e != null && !e.isBlank()) {
            return e.trim().toLowerCase(Locale.ROOT);
        }
        return AUTO;
    }

    /**
     * A chosen backend and why it was chosen.
     *
     * @param backend the backend chosen
     * @param reason why, in a sentence (for logs, {@code convt run --verbose} and error messages)
     */
    public record Selection(Backend backend, String reason) {
        @Override
        public String toString() {
            return backend.id() + " (" + reason + ")";
        }
    }

    /**
     * Chooses a backend for {@code layer} as configured (see {@link #configured()}).
     *
     * @param layer the layer to run
     * @return the backend and why it was chosen
     * @throws IllegalArgumentException when the configured id is unknown
     * @throws UnsupportedOperationException when a forced backend is unavailable or cannot run the layer
     */
    public static Selection select(ConvTransposeLayer layer) {
        return select(configured(), layer);
    }

    /**
     * Chooses a backend for {@code layer}: {@code requested} is {@code auto} or a backend id.
     *
     * @param requested {@code auto}, a backend id, or {@code null} for {@code auto}
     * @param layer the layer to run
     * @return the backend and why it was chosen
     * @throws IllegalArgumentException for an unknown id
     * @throws UnsupportedOperationException when a forced backend is unavailable or cannot run the layer
     */
    public static Selection select(String requested, ConvTransposeLayer layer) {
        Objects.requireNonNull(layer, "layer");
        String choice = requested == null ? AUTO : requested.trim().toLowerCase(Locale.ROOT);
        if (!choice.equals(AUTO)) {
            Backend forced = byId(choice);
            forced.ensureAvailability();
            String why = forced.unsupportedReason(layer);
            if (why != null) {
                throw new UnsupportedOperationException("backend '" + forced.id() + "' was requested but cannot run "
                    + layer + ": " + why);
            }
            return new Selection(forced, "requested explicitly");
        }
        Backend oneDnn = onednn();
        Selection s;
        if (!oneDnn.isAvailable()) {
            s = new Selection(portable(), "auto: oneDNN is not available (" + oneDnn.unavailabilityCause() + ")");
            if (FALLBACK_LOGGED.compareAndSet(false, true)) {
                // once per process: every layer falls back for the same reason, and a server compiles many
                LOG.log(Level.INFO, "oneDNN is not available, so backend auto runs '" + s.backend().id() + "': "
                    + oneDnn.unavailabilityCause());
            }
        } else {
            String why = oneDnn.unsupportedReason(layer);
            if (why != null) {
                s = new Selection(portable(), "auto: oneDNN cannot run the layer (" + why + ")");
            } else if (java().isAvailable() && JavaBackend.fasterThanNativeOn(layer)) {
                s = new Selection(java(), "auto: the layer is tiny (" + JavaBackend.weightsPerGroup(layer)
                    + " weights per group, at most " + JavaBackend.TINY_LAYER_WEIGHTS + "), where the Java backend "
                    + "measured faster than oneDNN (whose fixed cost per call dominates)");
            } else {
                s = new Selection(oneDnn, "auto: oneDNN is available and supports the layer");
            }
        }
        LOG.log(Level.DEBUG, () -> "backend for " + layer + ": " + s);
        return s;
    }

    /**
     * Selects a backend as configured and compiles {@code layer} on it.
     *
     * @param layer the layer
     * @param weight its weight, {@code [inChannels, outChannels/groups, *kernelSize]}
     * @param bias its bias, {@code [outChannels]}, or {@code null}
     * @return the compiled op; close it
     * @see Backend#compile(ConvTransposeLayer, Tensor, Tensor)
     */
    public static CompiledConvTranspose compile(ConvTransposeLayer layer, Tensor weight, Tensor bias) {
        return select(layer).backend().compile(layer, weight, bias);
    }
}
