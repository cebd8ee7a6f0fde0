package dev.convt.onednn;

import dev.convt.Backends;
import dev.convt.CompiledConvTranspose;
import dev.convt.ConvTransposeLayer;
import dev.convt.Layout;
import dev.convt.Tensor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The oneDNN op's life cycle under contention (issue 9, defects 6 and 7): its lock is private, it keeps no caller
 * tensor alive, its pool of execution contexts is capped, and a concurrent second {@code close()} waits for the
 * release.
 */
class OneDnnOpLifecycleTest {

    static final ConvTransposeLayer LAYER = ConvTransposeLayer.builder(2).inChannels(6).outChannels(4).kernelSize(3)
        .stride(2).padding(1).build();

    @BeforeEach
    void requireOneDnn() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Backends.onednn().isAvailable(), "no oneDNN natives here");
    }

    private static OneDnnOp compile() {
        return (OneDnnOp) OneDnnBackend.INSTANCE.compile(LAYER, Tensor.zeros(LAYER.weightShape()), Tensor.zeros(4),
            Layout.CHANNELS_FIRST, "deconv-any");
    }

    /** A caller holding the op's monitor cannot block another thread building a shape, nor close(). */
    @Test
    void aCallerLockingTheOpCannotDeadlockIt() {
        OneDnnOp op = compile();
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            synchronized (op) {
                Thread builder = new Thread(() -> op.prepare(1, 6, 9, 9));
                builder.start();
                builder.join(20_000);
                assertTrue(!builder.isAlive(), "building a shape waited for the caller's monitor");
                op.close();
            }
        });
        assertTrue(op.isClosed());
    }

    @Test
    void noCallerTensorIsKeptAliveAfterACall() throws InterruptedException {
        // -Dtest=... also runs this in the suite's Epsilon JVM (tests/pom.xml), whose GC never clears a reference
        org.junit.jupiter.api.Assumptions.assumeFalse(java.lang.management.ManagementFactory
            .getGarbageCollectorMXBeans().stream().anyMatch(gc -> gc.getName().startsWith("Epsilon")),
            "needs a collecting GC");
        try (OneDnnOp op = compile()) {
            WeakReference<Tensor>[] refs = runOnce(op);
            for (int i = 0; i < 100 && (refs[0].get() != null || refs[1].get() != null); i++) {
                byte[][] pressure = new byte[64][];
                for (int j = 0; j < pressure.length; j++) {
                    pressure[j] = new byte[1 << 16];
                }
                System.gc();
                Thread.sleep(20);
            }
            boolean inputAlive = refs[0].get() != null;
            boolean outputAlive = refs[1].get() != null;
            assertTrue(!inputAlive && !outputAlive, "tensors still reachable from the op after the call: input "
                + inputAlive + ", output " + outputAlive);
            op.forward(Tensor.allocateDirect(1, 6, 5, 5), Tensor.allocateDirect(1, 4, 9, 9)); // still usable
        }
    }

    @SuppressWarnings("unchecked")
    private static WeakReference<Tensor>[] runOnce(CompiledConvTranspose op) {
        Tensor x = Tensor.allocateDirect(1, 6, 5, 5);
        Tensor y = Tensor.allocateDirect(1, 4, 9, 9);
        op.forward(x, y);
        return new WeakReference[] {new WeakReference<>(x), new WeakReference<>(y)};
    }

    /** A burst of concurrent callers leaves at most {@link Plan#MAX_IDLE} contexts behind. */
    @Test
    void thePoolOfContextsIsCapped() throws Exception {
        int threads = Plan.MAX_IDLE * 4;
        try (OneDnnOp op = compile()) {
            op.prepare(1, 6, 5, 5);
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            CountDownLatch start = new CountDownLatch(1);
            try {
                List<Future<?>> futures = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    futures.add(pool.submit(() -> {
                        start.await();
                        Tensor x = Tensor.allocateDirect(1, 6, 5, 5);
                        Tensor y = Tensor.allocateDirect(1, 4, 9, 9);
                        for (int i = 0; i < 50; i++) {
                            op.forward(x, y);
                        }
                        return null;
                    }));
                }
                start.countDown();
                for (Future<?> f : futures) {
                    f.get();
                }
            } finally {
                pool.shutdown();
            }
            assertTrue(op.liveExecutions() <= Plan.MAX_IDLE, "contexts alive after the burst: "
                + op.liveExecutions() + " (cap " + Plan.MAX_IDLE + ")");
            assertTrue(op.liveExecutions() >= 1);
        }
    }

    /** close() from a second thread returns only once the first close() has released the resources. */
    @Test
    void aConcurrentSecondCloseWaitsForTheRelease() throws Exception {
        CountDownLatch releasing = new CountDownLatch(1);
        AtomicBoolean released = new AtomicBoolean();
        CompiledConvTranspose slow = new CompiledConvTranspose(LAYER, "test", Layout.CHANNELS_FIRST) {
            @Override public String implementation() { return "test"; }
            @Override protected void execute(Tensor input, Tensor output, int batch, long[] spatialIn) {}
            @Override protected void release() {
                releasing.countDown();
                try {
                    Thread.sleep(300);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                released.set(true);
            }
        };
        Thread first = new Thread(slow::close);
        first.start();
        releasing.await();
        slow.close(); // the second close
        assertTrue(released.get(), "the second close() returned before the release had finished");
        first.join();
    }
}
