package dev.convt.onednn;

import org.bytedeco.dnnl.dnnl_version_t;
import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.global.dnnl;
import org.bytedeco.javacpp.Loader;

/**
 * The process-wide oneDNN state: the natives and one CPU engine, created on first use and kept for the life of
 * the process (oneDNN's own advice: engine once, primitives many). Only reached after {@link OneDnn} has found
 * the natives, or from its probe.
 */
final class OneDnnRuntime {

    private OneDnnRuntime() {}

    private static final class EngineHolder {
        static final engine ENGINE = create();

        private static engine create() {
            Loader.load(dnnl.class);
            engine e = new engine(engine.kind.cpu, 0);
            e.retainReference(); // process-lifetime object: never closed, never left to the GC
            return e;
        }
    }

    static engine engine() {
        return EngineHolder.ENGINE;
    }

    static String version() {
        dnnl_version_t v = dnnl.dnnl_version();
        return v.major() + "." + v.minor() + "." + v.patch();
    }

    static String isa() {
        return dnnl.get_effective_cpu_isa().toString();
    }

    static String describe() {
        return "oneDNN " + version() + ", CPU engine, ISA " + isa()
            + ", platform " + Loader.getPlatform() + ", OpenMP " + openMpSettings();
    }

    /**
     * The OpenMP environment oneDNN's threads run under (libgomp reads it once, when it loads), or {@code defaults}.
     * Timings depend on it: {@code GOMP_SPINCOUNT} decides how long an idle worker spins on a core after a primitive,
     * which a route's Java pass then shares (README, "Performance").
     */
    static String openMpSettings() {
        StringBuilder sb = new StringBuilder();
        for (String name : new String[] {"OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_PROC_BIND"}) {
            String value = System.getenv(name);
            if (value != null) {
                sb.append(sb.length() == 0 ? "" : " ").append(name).append('=').append(value);
            }
        }
        return sb.length() == 0 ? "defaults" : sb.toString();
    }
}
