package dev.convt.onednn;

import dev.convt.ConvTransposeLayer;
import dev.convt.Layout;
import dev.convt.Tensor;
import org.bytedeco.dnnl.memory;

import java.util.Arrays;

/**
 * Everything derived once from (layer, layout, input shape) that the routes need: oneDNN's dims (always
 * channels-first, {@code [N, C, *spatial]}), the caller's memory order, and oneDNN's padding, stride and dilation
 * (oneDNN's dilation is PyTorch's minus one). Immutable.
 */
final class Geometry {

    private static final memory.format_tag[] CHANNELS_FIRST_TAGS = {
        null, memory.format_tag.abc, memory.format_tag.abcd, memory.format_tag.abcde
    };
    private static final memory.format_tag[] CHANNELS_LAST_TAGS = {
        null, memory.format_tag.acb, memory.format_tag.acdb, memory.format_tag.acdeb
    };

    final ConvTransposeLayer layer;
    final Layout layout;
    final int rank;
    final int batch;
    final long[] spatialIn;
    final long[] spatialOut;
    final long[] inDims;
    final long[] outDims;
    final int inCount;
    final int outCount;
    final long inVolume;
    final long outVolume;
    final long kernelVolume;
    /** oneDNN's padding_l / padding_r (the layer's padBegin / padEnd; either may be negative), strides, dilates. */
    final long[] padL;
    final long[] padR;
    final long[] strides;
    final long[] dilates;

    Geometry(ConvTransposeLayer layer, Layout layout, int batch, long[] spatialIn) {
        this.layer = layer;
        this.layout = layout;
        this.rank = layer.rank();
        this.batch = batch;
        this.spatialIn = spatialIn.clone();
        this.spatialOut = new long[rank];
        this.inDims = new long[rank + 2];
        this.outDims = new long[rank + 2];
        this.padL = new long[rank];
        this.padR = new long[rank];
        this.strides = new long[rank];
        this.dilates = new long[rank];
        inDims[0] = batch;
        inDims[1] = layer.inChannels();
        outDims[0] = batch;
        outDims[1] = layer.outChannels();
        long inV = 1;
        long outV = 1;
        long kV = 1;
        for (int i = 0; i < rank; i++) {
            spatialOut[i] = layer.outputSize(i, spatialIn[i]);
            inDims[2 + i] = spatialIn[i];
            outDims[2 + i] = spatialOut[i];
            inV *= spatialIn[i];
            outV *= spatialOut[i];
            kV *= layer.kernelSize(i);
            padL[i] = layer.padBegin(i);
            padR[i] = layer.padEnd(i);
            strides[i] = layer.stride(i);
            dilates[i] = layer.dilation(i) - 1;
        }
        this.inVolume = inV;
        this.outVolume = outV;
        this.kernelVolume = kV;
        this.inCount = (int) Tensor.elementCount(inDims);
        this.outCount = (int) Tensor.elementCount(outDims);
    }

    boolean channelsLast() {
        return layout == Layout.CHANNELS_LAST;
    }

    /** The caller's memory order for tensors of this rank. */
    memory.format_tag userTag() {
        return plainTag(layout, rank);
    }

    /** The plain memory order of {@code layout} for tensors of {@code rank} spatial dimensions. */
    static memory.format_tag plainTag(Layout layout, int rank) {
        return layout == Layout.CHANNELS_LAST ? CHANNELS_LAST_TAGS[rank] : CHANNELS_FIRST_TAGS[rank];
    }

    /** The channels-last memory order for tensors of this rank, whatever the caller's. */
    memory.format_tag channelsLastTag() {
        return CHANNELS_LAST_TAGS[rank];
    }

    memory.desc userSrcDesc() {
        return new memory.desc(inDims, memory.data_type.f32, userTag());
    }

    memory.desc userDstDesc() {
        return new memory.desc(outDims, memory.data_type.f32, userTag());
    }

    /** Output columns of one input position: {@code outChannels * prod(kernel)} (groups == 1). */
    long columns() {
        return layer.outChannels() * kernelVolume;
    }

    boolean allPadding(long value) {
        for (int i = 0; i < rank; i++) {
            if (padL[i] != value || padR[i] != value) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return layer + " on input " + Arrays.toString(inDims) + " (" + layout.formatName(rank) + ") -> output "
            + Arrays.toString(outDims);
    }
}
