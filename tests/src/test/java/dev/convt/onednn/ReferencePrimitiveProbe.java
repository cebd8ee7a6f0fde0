package dev.convt.onednn;

import org.bytedeco.dnnl.deconvolution_forward;
import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.primitive_attr;
import org.bytedeco.dnnl.global.dnnl;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.PointerScope;

/**
 * Prints the implementation oneDNN picks for an f32 deconvolution whose source and destination are forced into the
 * 16-channel blocked layout ({@code nCw16c}). Below AVX-512 no JIT kernel reads that layout, so oneDNN can only
 * build it from its reference convolution: a primitive with a real reference implementation, for
 * {@link ReferenceImplementationWarningTest} (run with {@code ONEDNN_MAX_CPU_ISA=AVX2}).
 */
public final class ReferencePrimitiveProbe {
    public static void main(String[] args) {
        Loader.load(dnnl.class);
        try (PointerScope scope = new PointerScope()) {
            engine e = new engine(engine.kind.cpu, 0);
            memory.data_type f32 = memory.data_type.f32;
            deconvolution_forward.primitive_desc pd = new deconvolution_forward.primitive_desc(e,
                dnnl.prop_kind.forward_inference, dnnl.algorithm.deconvolution_direct,
                new memory.desc(new long[] {1, 1, 7}, f32, memory.format_tag.nCw16c),
                new memory.desc(new long[] {1, 1, 3}, f32, memory.format_tag.any),
                new memory.desc(new long[] {1, 1, 9}, f32, memory.format_tag.nCw16c),
                new long[] {1}, new long[] {0}, new long[] {0}, new long[] {0}, new primitive_attr(), false);
            System.out.println(pd.impl_info_str().getString());
            System.out.println(dnnl.get_effective_cpu_isa());
        }
    }
}
