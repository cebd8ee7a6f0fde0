package dev.convt;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The versions recorded by the build, e.g. for a caller's log line: {@code "convt " + Version.get()}. */
public final class Version {
    private Version() {}

    /** {@return convt's version, e.g. {@code 0.1.0}, or {@code unknown}} */
    public static String get() {
        return property("version");
    }

    /**
     * {@return the version of the JavaCPP Presets for oneDNN that convt was built against, e.g. {@code 3.11-1.5.13}}
     * The oneDNN actually loaded is in {@link dev.convt.onednn.OneDnn#describe()}.
     */
    public static String dnnlPresets() {
        return property("dnnl");
    }

    private static String property(String key) {
        try (InputStream in = Version.class.getResourceAsStream("version.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty(key, "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
