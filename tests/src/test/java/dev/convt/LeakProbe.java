package dev.convt;

import org.bytedeco.javacpp.Pointer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Random;

/**
 * Run in a child JVM with a fixed, pre-touched heap by {@link LeakTest}, so that the process's resident memory moves
 * only with native memory: many forwards on one op, then many compile/forward/close cycles, on the backend named by
 * the first argument. Prints its figures on one line.
 */
public final class LeakProbe {

    static final ConvTransposeLayer LAYER = ConvTransposeLayer.builder(2).inChannels(6).outChannels(4).kernelSize(3)
        .stride(2).padding(1).outputPadding(1).build();
    static final ConvTransposeLayer TAIL = ConvTransposeLayer.builder(1).inChannels(2).outChannels(3).kernelSize(3)
        .dilation(3).outputPadding(2).bias(false).build();

    static long rssKb() throws IOException {
        for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    public static void main(String[] args) throws Exception {
        Backend backend = Backends.byId(args[0]);
        int forwards = Integer.parseInt(args[1]);
        int cycles = Integer.parseInt(args[2]);
        Random rnd = new Random(5);
        Tensor w = TestSupport.random(rnd, LAYER.weightShape());
        Tensor b = TestSupport.random(rnd, LAYER.outChannels());
        Tensor tw = TestSupport.random(rnd, TAIL.weightShape());
        Tensor[] inputs = new Tensor[8];
        Tensor[] outputs = new Tensor[8];
        for (int i = 0; i < inputs.length; i++) {
            Tensor x = TestSupport.random(rnd, 1 + i % 2, 6, 4 + i % 3, 5);
            inputs[i] = i % 2 == 0 ? TestSupport.direct(x) : x;
        }
        Tensor tx = TestSupport.random(rnd, 1, 2, 5);
        // the process-wide oneDNN engine and the JIT's code exist before the baseline
        try (CompiledConvTranspose op = backend.compile(LAYER, w, b)) {
            for (int i = 0; i < inputs.length; i++) {
                outputs[i] = inputs[i].isDirect() ? Tensor.allocateDirect(op.outputShape(inputs[i]))
                    : Tensor.zeros(op.outputShape(inputs[i]));
                op.forward(inputs[i], outputs[i]);
            }
        }
        long baseline = Pointer.totalBytes();
        int warmForwards = forwards / 5;
        int warmCycles = cycles / 2; // past JIT compilation of every route the cycles take
        long rssWarm = 0;
        try (CompiledConvTranspose op = backend.compile(LAYER, w, b)) {
            for (int i = 0; i < forwards; i++) {
                if (i == warmForwards) {
                    rssWarm = rssKb();
                }
                int k = i % inputs.length;
                op.forward(inputs[k], outputs[k]);
            }
        }
        long afterForwards = Pointer.totalBytes();
        long rssForwards = rssKb();
        long rssCyclesWarm = 0;
        for (int i = 0; i < cycles; i++) {
            if (i == warmCycles) {
                rssCyclesWarm = rssKb();
            }
            try (CompiledConvTranspose op = backend.compile(LAYER, w, b);
                 CompiledConvTranspose tail = backend.compile(TAIL, tw, null)) {
                int k = i % inputs.length;
                op.forward(inputs[k], outputs[k]);
                tail.forward(tx);
            }
        }
        long end = Pointer.totalBytes();
        long rssEnd = rssKb();
        System.out.println("LEAK backend=" + backend.id() + " forwards=" + forwards + " cycles=" + cycles
            + " totalBytesBaseline=" + baseline + " totalBytesAfterForwards=" + afterForwards
            + " totalBytesEnd=" + end + " rssWarmKb=" + rssWarm + " rssAfterForwardsKb=" + rssForwards
            + " rssCyclesWarmKb=" + rssCyclesWarm + " rssEndKb=" + rssEnd);
    }
}
