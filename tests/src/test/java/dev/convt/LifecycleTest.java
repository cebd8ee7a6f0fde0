package dev.convt;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code close()} racing {@code forward()} and {@code prepare()} on other threads, many times over: each call either
 * completes with the right result or throws {@link IllegalStateException} ("closed"); nothing else, no crash (native
 * memory freed under a running primitive would show as a crash or a wrong result).
 */
class LifecycleTest {

    static final int ITERATIONS = Integer.getInteger("convt.lifecycle.iterations", 150);

    static final ConvTransposeLayer LAYER = ConvTransposeLayer.builder(2).inChannels(4).outChannels(3).kernelSize(3)
        .stride(2).padding(1).outputPadding(1).build();

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void closeRacingForward() throws Exception {
        TestSupport.assertOneDnnAvailableWhereRequired();
        Random rnd = new Random(77);
        Tensor w = TestSupport.random(rnd, LAYER.weightShape());
        Tensor b = TestSupport.random(rnd, LAYER.outChannels());
        long[][] shapes = {{1, 4, 5, 5}, {2, 4, 3, 4}, {4, 6, 2}};
        Tensor[] inputs = new Tensor[shapes.length];
        Tensor[] expected = new Tensor[shapes.length];
        try (CompiledConvTranspose ref = Backends.reference().compile(LAYER, w, b)) {
            for (int s = 0; s < shapes.length; s++) {
                inputs[s] = TestSupport.random(rnd, shapes[s]);
                expected[s] = ref.forward(inputs[s]);
            }
        }
        List<Backend> backends = CrossBackendTest.available();
        AtomicInteger completed = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        ConcurrentLinkedQueue<String> wrong = new ConcurrentLinkedQueue<>();
        int threads = 3;
        for (int it = 0; it < ITERATIONS && wrong.isEmpty(); it++) {
            Backend backend = backends.get(it % backends.size());
            CompiledConvTranspose op = backend.compile(LAYER, w, b);
            CountDownLatch started = new CountDownLatch(threads);
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int seed = it * threads + t;
                Thread worker = new Thread(() -> {
                    Random r = new Random(seed);
                    Tensor[] in = new Tensor[shapes.length];
                    for (int s = 0; s < shapes.length; s++) {
                        in[s] = r.nextBoolean() ? TestSupport.direct(inputs[s]) : inputs[s];
                    }
                    started.countDown();
                    while (true) {
                        int s = r.nextInt(shapes.length);
                        try {
                            if (r.nextInt(8) == 0) {
                                op.prepare(shapes[s]);
                                continue;
                            }
                            Tensor out = in[s].isDirect() ? Tensor.allocateDirect(expected[s].shape())
                                : Tensor.zeros(expected[s].shape());
                            op.forward(in[s], out);
                            Tolerance.Report rep = Tolerance.forLayer(LAYER).compare(expected[s], out);
                            if (!rep.ok()) {
                                wrong.add(backend.id() + ": wrong result, max abs diff " + rep.maxAbs());
                                return;
                            }
                            completed.incrementAndGet();
                        } catch (IllegalStateException closed) {
                            if (!closed.getMessage().endsWith(" is closed")) {
                                wrong.add(backend.id() + ": " + closed);
                            }
                            refused.incrementAndGet();
                            return;
                        } catch (Throwable other) {
                            wrong.add(backend.id() + ": " + other);
                            return;
                        }
                    }
                }, "forward-" + t);
                workers.add(worker);
                worker.start();
            }
            started.await();
            if (rnd.nextBoolean()) {
                Thread.sleep(rnd.nextInt(3));
            }
            op.close();
            for (Thread worker : workers) {
                worker.join(60_000);
                assertTrue(!worker.isAlive(), "a forward is still running a minute after close(): a hang");
            }
        }
        System.out.println("lifecycle: " + ITERATIONS + " close() races on " + backends.stream().map(Backend::id)
            .toList() + ": " + completed.get() + " forwards completed, " + refused.get() + " refused as closed");
        assertTrue(wrong.isEmpty(), String.join("\n", wrong));
        assertTrue(refused.get() >= ITERATIONS * threads, "every worker ends on a closed op");
        assertTrue(completed.get() > 0, "some forwards ran before the close");
    }
}
