package dev.convt.bench.peers;

import dev.convt.ConvTransposeLayer;

/**
 * Another library's transposed convolution, bound to one layer, its weights and one input shape, run from the
 * caller's {@code float[]} into the caller's {@code float[]} like convt's {@code fromFloatArray} benchmark.
 */
interface Peer extends AutoCloseable {

    /** Threads each peer may use: {@code -Dconvt.bench.peerThreads}, default 2 (the setting). */
    int THREADS = Integer.getInteger("convt.bench.peerThreads", 2);

    /** {@code in} holds the channels-first input, {@code out} receives the channels-first output. */
    void run(float[] in, float[] out);

    /** Library, version and settings, for the report. */
    String describe();

    @Override
    void close();

    static Peer create(String id, ConvTransposeLayer layer, float[] weight, float[] bias, long[] inputShape) {
        return switch (id) {
            case "libtorch" -> new LibTorchPeer(layer, weight, bias, inputShape, THREADS);
            case "onnxruntime" -> new OnnxRuntimePeer(layer, weight, bias, inputShape, THREADS);
            default -> throw new IllegalArgumentException("unknown peer '" + id + "'; expected libtorch or onnxruntime");
        };
    }
}
