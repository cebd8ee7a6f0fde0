package dev.convt.bench.peers;

import dev.convt.ConvTransposeLayer;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * A one-node ONNX model, {@code y = ConvTranspose(x, w[, b])}, encoded by hand: the handful of protobuf fields it
 * needs do not justify the onnx and protobuf-java dependencies. Field numbers are those of {@code onnx.proto}
 * (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto, TypeProto, TensorShapeProto,
 * OperatorSetIdProto). The weight and bias are initializers, so ONNX Runtime may pre-pack them as it does for a
 * real exported model.
 */
final class OnnxModel {

    static final long IR_VERSION = 8; // the lowest that opset 17 allows
    static final long OPSET = 17;
    private static final int FLOAT = 1; // TensorProto.DataType.FLOAT
    private static final int ATTR_INT = 2;
    private static final int ATTR_INTS = 7;

    private OnnxModel() {}

    /**
     * PyTorch's ConvTranspose maps one to one: ONNX's weight is also {@code [Cin, Cout/groups, *k]}, {@code pads}
     * are the begin paddings then the end paddings (PyTorch pads both ends by {@code padding}), and the extra
     * output rows are {@code output_padding}.
     */
    static byte[] convTranspose(ConvTransposeLayer layer, float[] weight, float[] bias, long[] inputShape) {
        int rank = layer.rank();
        long[] pads = new long[2 * rank];
        for (int i = 0; i < rank; i++) {
            pads[i] = layer.padding(i);
            pads[rank + i] = layer.padding(i);
        }
        Proto node = new Proto().string(1, "x").string(1, "w");
        if (bias != null) {
            node.string(1, "b");
        }
        node.string(2, "y").string(3, "convt").string(4, "ConvTranspose")
            .message(5, ints("kernel_shape", layer.kernelSize()))
            .message(5, ints("strides", layer.stride()))
            .message(5, ints("pads", pads))
            .message(5, ints("dilations", layer.dilation()))
            .message(5, ints("output_padding", layer.outputPadding()))
            .message(5, new Proto().string(1, "group").varint(3, layer.groups()).varint(20, ATTR_INT));
        Proto graph = new Proto().message(1, node).string(2, "convt_bench")
            .message(5, tensor("w", layer.weightShape(), weight));
        if (bias != null) {
            graph.message(5, tensor("b", new long[] {bias.length}, bias));
        }
        graph.message(11, valueInfo("x", inputShape)).message(12, valueInfo("y", layer.outputShape(inputShape)));
        return new Proto()
            .varint(1, IR_VERSION)
            .string(2, "convt-bench")
            .message(7, graph)
            .message(8, new Proto().string(1, "").varint(2, OPSET))
            .bytes();
    }

    private static Proto ints(String name, int[] values) {
        long[] l = new long[values.length];
        for (int i = 0; i < l.length; i++) {
            l[i] = values[i];
        }
        return ints(name, l);
    }

    private static Proto ints(String name, long[] values) {
        Proto p = new Proto().string(1, name);
        for (long v : values) {
            p.varint(8, v);
        }
        return p.varint(20, ATTR_INTS);
    }

    private static Proto tensor(String name, long[] dims, float[] data) {
        Proto t = new Proto();
        for (long d : dims) {
            t.varint(1, d);
        }
        ByteBuffer raw = ByteBuffer.allocate(data.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        raw.asFloatBuffer().put(data);
        return t.varint(2, FLOAT).string(8, name).bytes(9, raw.array());
    }

    private static Proto valueInfo(String name, long[] shape) {
        Proto dims = new Proto();
        for (long d : shape) {
            dims.message(1, new Proto().varint(1, d));
        }
        Proto tensorType = new Proto().varint(1, FLOAT).message(2, dims);
        return new Proto().string(1, name).message(2, new Proto().message(1, tensorType));
    }

    /** A protobuf message being written: tag-length-value fields in the order appended. */
    static final class Proto {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Proto varint(int field, long value) {
            tag(field, 0);
            raw(value);
            return this;
        }

        Proto bytes(int field, byte[] value) {
            tag(field, 2);
            raw(value.length);
            out.writeBytes(value);
            return this;
        }

        Proto string(int field, String value) {
            return bytes(field, value.getBytes(StandardCharsets.UTF_8));
        }

        Proto message(int field, Proto value) {
            return bytes(field, value.bytes());
        }

        byte[] bytes() {
            return out.toByteArray();
        }

        private void tag(int field, int wireType) {
            raw(((long) field << 3) | wireType);
        }

        /** Base-128 varint; negative values take ten bytes, as protobuf encodes int64. */
        private void raw(long v) {
            while ((v & ~0x7FL) != 0) {
                out.write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
        }
    }
}
