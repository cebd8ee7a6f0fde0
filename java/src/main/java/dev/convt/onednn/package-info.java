/**
 * The oneDNN backend, through the JavaCPP Presets for oneDNN ({@code org.bytedeco:dnnl}).
 *
 * <p>{@link dev.convt.onednn.OneDnn} decides once per process whether the natives load, and says why not: a project
 * depending on {@code dev.convt:convt} alone has the JavaCPP classes but no natives, and needs
 * {@code dev.convt:convt-platform} (or {@code org.bytedeco:dnnl-platform}) to run here.
 *
 * <pre>{@code
 * System.Logger log = System.getLogger("app");
 * if (OneDnn.isAvailable()) {
 *     log.log(System.Logger.Level.INFO, OneDnn.describe()); // oneDNN 3.11.0, CPU engine, ISA avx2, platform linux-x86_64, OpenMP defaults
 * } else {
 *     log.log(System.Logger.Level.WARNING, OneDnn.unavailabilityCause().getMessage());
 * }
 * }</pre>
 */
package dev.convt.onednn;
