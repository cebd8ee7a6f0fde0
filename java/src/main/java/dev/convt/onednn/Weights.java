package dev.convt.onednn;

import dev.convt.ConvTransposeLayer;
import dev.convt.Layout;
import dev.convt.Tensor;
import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.reorder;
import org.bytedeco.dnnl.stream;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;

import java.util.ArrayList;
import java.util.List;

/**
 * An op's weight and bias in native memory, and the one place where PyTorch's weight layout
 * {@code [Cin, Cout/G, *k]} is described to oneDNN, for every route:
 *
 * <ul>
 *   <li>deconvolution: oneDNN's {@code [Cout, Cin, *k]} (or {@code [G, Cout/G, Cin/G, *k]} with groups) is exactly
 *       PyTorch's memory with the first dims permuted ({@code bac..} / {@code acbd..} tags), so the user's weights
 *       are described in place;</li>
 *   <li>matrix products (groups 1): PyTorch's weight is the matrix {@code [Cin, Cout*prod(k)]} as it stands, its
 *       columns in (channel, tap) order, which is the channels-first output order; channels-last outputs need the
 *       columns in (tap, channel) order, a permuted copy; and {@code col2im} reads its transpose
 *       {@code [Cout*prod(k), Cin]}, a strided view of the same memory.</li>
 * </ul>
 *
 * Each variant a primitive asks for is reordered once, on first use, and shared by every shape and route that asks
 * for the same layout. Everything is released by {@link #close()}.
 */
final class Weights implements AutoCloseable {

    private final ConvTransposeLayer layer;
    private final engine engine;
    private final Owner owner = new Owner();
    private final FloatPointer data;
    private final memory userDeconv;
    private final memory bias;
    private final float[] biasValues;
    /** Reordered variants; guarded by {@code this}. */
    private final List<Variant> variants = new ArrayList<>();

    private record Variant(String source, memory.desc desc, memory memory) {}

    Weights(ConvTransposeLayer layer, Tensor weight, Tensor bias, engine engine) {
        this.layer = layer;
        this.engine = engine;
        try (PointerScope scope = new PointerScope()) {
            this.data = owner.keep(new FloatPointer(weight.elementCount()));
            weight.copyTo(data.asBuffer());
            this.userDeconv = owner.keep(new memory(new memory.desc(deconvDims(layer), memory.data_type.f32,
                deconvUserTag(layer)), engine, data));
            if (bias != null) {
                this.biasValues = bias.toArray();
                FloatPointer b = owner.keep(new FloatPointer(biasValues.length));
                b.put(biasValues);
                this.bias = owner.keep(new memory(new memory.desc(new long[] {layer.outChannels()},
                    memory.data_type.f32, memory.format_tag.a), engine, b));
            } else {
                this.biasValues = null;
                this.bias = null;
            }
        } catch (Throwable t) { // OutOfMemoryError from a native allocation included: release, then rethrow
            owner.close();
            throw t;
        }
    }

    /** oneDNN's deconvolution weight dims: {@code [Cout, Cin, *k]}, or {@code [G, Cout/G, Cin/G, *k]} with groups. */
    static long[] deconvDims(ConvTransposeLayer layer) {
        int r = layer.rank();
        int g = layer.groups();
        long[] dims;
        int first;
        if (g == 1) {
            dims = new long[r + 2];
            dims[0] = layer.outChannels();
            dims[1] = layer.inChannels();
            first = 2;
        } else {
            dims = new long[r + 3];
            dims[0] = g;
            dims[1] = layer.outChannels() / g;
            dims[2] = layer.inChannels() / g;
            first = 3;
        }
        for (int i = 0; i < r; i++) {
            dims[first + i] = layer.kernelSize(i);
        }
        return dims;
    }

    /** The tag that describes PyTorch's memory order under {@link #deconvDims}. */
    static memory.format_tag deconvUserTag(ConvTransposeLayer layer) {
        boolean grouped = layer.groups() > 1;
        switch (layer.rank()) {
            case 1: return grouped ? memory.format_tag.acbd : memory.format_tag.bac;
            case 2: return grouped ? memory.format_tag.acbde : memory.format_tag.bacd;
            default: return grouped ? memory.format_tag.acbdef : memory.format_tag.bacde;
        }
    }

    boolean hasBias() {
        return bias != null;
    }

    /** The bias {@code [Cout]} as oneDNN memory, or {@code null}. */
    memory bias() {
        return bias;
    }

    /** Bias of output channel {@code c} (0 without bias). */
    float biasValue(int c) {
        return biasValues == null ? 0f : biasValues[c];
    }

    /** The deconvolution weights in the layout {@code wanted} (a primitive's {@code weights_desc()}). */
    memory deconv(memory.desc wanted) {
        return variant("deconv", wanted, () -> userDeconv);
    }

    /**
     * The matrix {@code [Cin, Cout*prod(k)]} in the layout {@code wanted}, its columns in (channel, tap) order for
     * channels-first outputs and (tap, channel) order for channels-last ones.
     */
    memory matmul(Layout layout, memory.desc wanted) {
        long cin = layer.inChannels();
        long cols = layer.outChannels() * kernelVolume();
        boolean batched = wanted.get_ndims() == 3; // a 3D product takes its weights as [1, Cin, cols]
        long[] dims = batched ? new long[] {1, cin, cols} : new long[] {cin, cols};
        memory.format_tag plain = batched ? memory.format_tag.abc : memory.format_tag.ab;
        if (layout == Layout.CHANNELS_FIRST) {
            return variant("matmul-cf", wanted, () -> new memory(new memory.desc(dims, memory.data_type.f32, plain),
                engine, data));
        }
        return variant("matmul-cl", wanted, () -> {
            // (tap, channel) columns: permute PyTorch's [Cin, Cout, P] into a plain [Cin, P, Cout] first
            long p = kernelVolume();
            long cout = layer.outChannels();
            memory.desc permutedView = new memory.desc(new long[] {cin, p, cout}, memory.data_type.f32,
                new long[] {cout * p, 1, p});
            memory permuted = new memory(new memory.desc(new long[] {cin, p, cout}, memory.data_type.f32,
                memory.format_tag.abc), engine);
            runReorder(new memory(permutedView, engine, data), permuted);
            return new memory(new memory.desc(dims, memory.data_type.f32, plain), engine, permuted.get_data_handle());
        });
    }

    /** The transpose {@code [1, Cout*prod(k), Cin]} (rows in (channel, tap) order) in the layout {@code wanted}. */
    memory transposed(memory.desc wanted) {
        long cin = layer.inChannels();
        long cols = layer.outChannels() * kernelVolume();
        return variant("transposed", wanted, () -> new memory(new memory.desc(new long[] {1, cols, cin},
            memory.data_type.f32, new long[] {cols * cin, 1, cols}), engine, data));
    }

    /**
     * The bias repeated over the kernel taps, {@code [1, Cout*prod(k)]} ({@code dims} gives the exact shape), in the
     * column order of {@link #matmul} for {@code layout}; {@code null} without bias.
     */
    memory expandedBias(Layout layout, long[] dims) {
        if (biasValues == null) {
            return null;
        }
        long p = kernelVolume();
        int cout = layer.outChannels();
        memory.desc plain = new memory.desc(dims, memory.data_type.f32,
            dims.length == 2 ? memory.format_tag.ab : memory.format_tag.abc);
        return variant("bias-" + layout, plain, () -> {
            float[] expanded = new float[(int) (cout * p)];
            for (int c = 0; c < cout; c++) {
                for (int t = 0; t < p; t++) {
                    expanded[layout == Layout.CHANNELS_FIRST ? (int) (c * p + t) : (int) (t * cout + c)] = biasValues[c];
                }
            }
            FloatPointer values = new FloatPointer(expanded.length);
            values.put(expanded);
            return new memory(plain, engine, values);
        });
    }

    private long kernelVolume() {
        long p = 1;
        for (int i = 0; i < layer.rank(); i++) {
            p *= layer.kernelSize(i);
        }
        return p;
    }

    private interface Source {
        memory get();
    }

    /**
     * The variant of {@code source} in layout {@code wanted}: reordered once and kept. Temporaries made while
     * building it (the source view, an intermediate permutation) are freed with the scope; what is kept is owned.
     */
    private synchronized memory variant(String source, memory.desc wanted, Source from) {
        for (Variant v : variants) {
            if (v.source().equals(source) && v.desc().equals(wanted)) {
                return v.memory();
            }
        }
        memory.desc kept = owner.keep(new memory.desc(wanted));
        memory result = owner.keep(new memory(kept, engine));
        try (PointerScope scope = new PointerScope()) {
            runReorder(from.get(), result);
        }
        variants.add(new Variant(source, kept, result));
        return result;
    }

    private void runReorder(memory src, memory dst) {
        try (PointerScope scope = new PointerScope()) {
            reorder r = new reorder(src, dst);
            stream s = new stream(engine);
            r.execute(s, src, dst);
            s._wait();
        }
    }

    @Override
    public synchronized void close() {
        variants.clear();
        owner.close();
    }
}
