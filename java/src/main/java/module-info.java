/**
 * convt: transposed convolution with PyTorch's {@code ConvTranspose1d/2d/3d} semantics, on oneDNN and in pure Java.
 *
 * <p>Start at {@link dev.convt.ConvTransposeLayer} and {@link dev.convt.Backends}. On the module path, oneDNN also
 * needs its native modules resolved, for example {@code --add-modules org.bytedeco.dnnl.linux.x86_64} (see the
 * README); without them convt runs on its Java backend.
 */
module dev.convt {
    // The JavaCPP classes are always present (a Maven dependency of convt); whether their natives are is decided at
    // run time by dev.convt.onednn.OneDnn, so a consumer without them still runs.
    requires org.bytedeco.javacpp;
    requires org.bytedeco.dnnl;
    // Only the CLI uses picocli, an optional dependency: in the CLI jar, not on a library user's path.
    requires static info.picocli;
    // The java backend reads HotSpot's UseFMA flag through java.management; its Vector API kernel is optional, used
    // only when the JVM runs with --add-modules jdk.incubator.vector.
    requires java.management;
    requires static jdk.incubator.vector;

    exports dev.convt;
    exports dev.convt.onednn;
    exports dev.convt.purejava;
    exports dev.convt.cli;

    // picocli fills the commands' annotated fields by reflection.
    opens dev.convt.cli to info.picocli;
}
