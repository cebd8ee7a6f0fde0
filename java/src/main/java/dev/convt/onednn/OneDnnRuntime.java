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
            + ", platform " + Loader.getPlatform();
    }
}
