package dev.convt.bench.peers;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import dev.convt.ConvTransposeLayer;
import dev.convt.Tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Map;

/**
 * ONNX Runtime's Java API on a one-node {@code ConvTranspose} model ({@link OnnxModel}) with every graph
 * optimisation on and a fixed number of intra-op threads. Its fastest path from a {@code float[]}: the input and
 * output {@code OnnxTensor}s wrap direct buffers made once (ONNX Runtime reads and writes them in place; the output
 * is "pinned" so the session writes into it instead of allocating), so a call is one copy in, the run, one copy out.
 */
final class OnnxRuntimePeer implements Peer {

    private final OrtEnvironment env;
    private final SessionOptions options;
    private final OrtSession session;
    private final FloatBuffer inBuf;
    private final FloatBuffer outBuf;
    private final OnnxTensor in;
    private final OnnxTensor out;
    private final Map<String, OnnxTensor> inputs;
    private final Map<String, OnnxTensor> outputs;
    private final int threads;

    OnnxRuntimePeer(ConvTransposeLayer layer, float[] weight, float[] bias, long[] inputShape, int threads) {
        this.threads = threads;
        try {
            env = OrtEnvironment.getEnvironment();
            options = new SessionOptions();
            options.setOptimizationLevel(OptLevel.ALL_OPT);
            options.setIntraOpNumThreads(threads);
            session = env.createSession(OnnxModel.convTranspose(layer, weight, bias, inputShape), options);
            long[] outputShape = layer.outputShape(inputShape);
            inBuf = direct(Tensor.elementCount(inputShape));
            outBuf = direct(Tensor.elementCount(outputShape));
            in = OnnxTensor.createTensor(env, inBuf, inputShape);
            out = OnnxTensor.createTensor(env, outBuf, outputShape);
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime could not build the ConvTranspose session: " + e, e);
        }
        inputs = Map.of("x", in);
        outputs = Map.of("y", out);
    }

    private static FloatBuffer direct(long n) {
        return ByteBuffer.allocateDirect(Math.toIntExact(n * Float.BYTES)).order(ByteOrder.nativeOrder())
            .asFloatBuffer();
    }

    @Override
    public void run(float[] input, float[] output) {
        inBuf.put(0, input);
        try (OrtSession.Result r = session.run(inputs, outputs)) {
            // Nothing to read from the result: the pinned output already holds y.
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime run failed: " + e, e);
        }
        outBuf.get(0, output);
    }

    @Override
    public String describe() {
        return "ONNX Runtime " + env.getVersion() + " (Java), ConvTranspose opset " + OnnxModel.OPSET
            + ", ALL_OPT, " + threads + " intra-op threads, pinned direct input/output";
    }

    @Override
    public void close() {
        in.close();
        out.close();
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException(e);
        }
        options.close();
    }
}
