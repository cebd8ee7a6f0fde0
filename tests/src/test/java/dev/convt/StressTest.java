package dev.convt;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Eight threads sharing compiled ops, each op fed more input shapes than the oneDNN op's cache holds (so shapes are
 * built, and built again, under contention): no wrong result, no exception, no deadlock. A few seconds by default;
 * {@code -Dconvt.stress.seconds=30} (the {@code long} profile) for the long form.
 */
class StressTest {

    static final int SECONDS = Integer.getInteger("convt.stress.seconds", 4);
    static final int THREADS = 8;
    static final int SHAPES = 24; // more than OneDnnOp.MAX_CACHED_SHAPES (16)

    record Case(CompiledConvTranspose op, ConvTransposeLayer layer, Tensor input, Tensor expected) {}

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void eightThreadsManyShapes() throws Exception {
        TestSupport.assertOneDnnAvailableWhereRequired();
        Random rnd = new Random(88);
        ConvTransposeLayer[] layers = {
            ConvTransposeLayer.builder(2).inChannels(4).outChannels(4).kernelSize(3).stride(2).padding(1)
                .outputPadding(1).build(),
            ConvTransposeLayer.builder(1).inChannels(3).outChannels(6).kernelSize(4).stride(2).groups(3).build(),
            ConvTransposeLayer.builder(2).inChannels(2).outChannels(2).kernelSize(3).stride(3).outputPadding(2)
                .bias(false).build(),
        };
        List<CompiledConvTranspose> ops = new ArrayList<>();
        List<Case> cases = new ArrayList<>();
        for (ConvTransposeLayer layer : layers) {
            Tensor w = TestSupport.random(rnd, layer.weightShape());
            Tensor b = layer.bias() ? TestSupport.random(rnd, layer.outChannels()) : null;
            try (CompiledConvTranspose ref = Backends.reference().compile(layer, w, b)) {
                for (Backend backend : CrossBackendTest.available()) {
                    CompiledConvTranspose op = backend.compile(layer, w, b);
                    ops.add(op);
                    for (int s = 0; s < SHAPES; s++) {
                        long[] shape = new long[layer.rank() + 2];
                        shape[0] = 1 + s % 2;
                        shape[1] = layer.inChannels();
                        for (int i = 0; i < layer.rank(); i++) {
                            shape[2 + i] = 2 + (s / 2 + i) % 12;
                        }
                        Tensor x = TestSupport.random(rnd, shape);
                        cases.add(new Case(op, layer, x, ref.forward(x)));
                    }
                }
            }
        }
        long shapesPerOp = cases.stream().filter(c -> c.op() == ops.get(0)).map(c -> Arrays.toString(c.input().shape()))
            .distinct().count();
        assertTrue(shapesPerOp > 16, shapesPerOp + " shapes per op");
        ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        AtomicLong forwards = new AtomicLong();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            int seed = t;
            Thread thread = new Thread(() -> {
                Random r = new Random(seed);
                while (System.nanoTime() < deadline && problems.isEmpty()) {
                    Case c = cases.get(r.nextInt(cases.size()));
                    try {
                        boolean direct = r.nextBoolean();
                        Tensor in = direct ? TestSupport.direct(c.input()) : c.input();
                        Tensor out = direct ? Tensor.allocateDirect(c.expected().shape())
                            : Tensor.zeros(c.expected().shape());
                        c.op().forward(in, out);
                        Tolerance.Report rep = Tolerance.forLayer(c.layer()).compare(c.expected(), out);
                        if (!rep.ok()) {
                            problems.add(c.op() + " input " + Arrays.toString(c.input().shape())
                                + ": wrong result, max abs diff " + rep.maxAbs());
                        }
                        forwards.incrementAndGet();
                    } catch (Throwable e) {
                        problems.add(c.op() + " input " + Arrays.toString(c.input().shape()) + ": " + e);
                    }
                }
            }, "stress-" + t);
            threads.add(thread);
            thread.start();
        }
        for (Thread thread : threads) {
            thread.join(TimeUnit.SECONDS.toMillis(SECONDS + 120));
            if (thread.isAlive()) {
                StringBuilder dump = new StringBuilder();
                for (ThreadInfo info : ManagementFactory.getThreadMXBean().dumpAllThreads(true, true)) {
                    dump.append(info);
                }
                fail("deadlock or hang: " + thread.getName() + " still running 2 minutes past the deadline\n" + dump);
            }
        }
        ops.forEach(CompiledConvTranspose::close);
        System.out.println("stress: " + THREADS + " threads, " + SECONDS + " s, " + ops.size() + " ops x " + SHAPES
            + " shapes: " + forwards.get() + " forwards, " + problems.size() + " problems");
        assertTrue(problems.isEmpty(), String.join("\n", problems));
        assertTrue(forwards.get() > THREADS, "the threads ran");
    }
}
