package dev.convt.internal;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The life cycle of an object that owns native resources and may be used from several threads: calls in flight
 * are counted without locks, {@link #close(Runnable)} is idempotent, releases once after the calls in flight have
 * finished, and makes every later call throw {@link IllegalStateException}. Shared by
 * {@link dev.convt.CompiledConvTranspose} and {@link dev.convt.onednn.OneDnnTensor}.
 *
 * <p>Internal: this package is not exported by the {@code dev.convt} module and may change in any release.
 */
public final class CloseGuard {

    private static final long CLOSED = 1L << 62;

    /** {@link #CLOSED} bit plus the number of calls in flight. */
    private final AtomicLong state = new AtomicLong();
    /** Opened once the release has finished, for concurrent second callers of {@link #close(Runnable)}. */
    private final CountDownLatch released = new CountDownLatch(1);
    private final Supplier<String> name;

    /**
     * @param name what is guarded, for the exception's message: "{@code <name> is closed}"
     */
    public CloseGuard(Supplier<String> name) {
        this.name = name;
    }

    /** {@return whether {@link #close(Runnable)} has been called} */
    public boolean isClosed() {
        return (state.get() & CLOSED) != 0;
    }

    /**
     * Throws when closed.
     *
     * @throws IllegalStateException when closed
     */
    public void checkOpen() {
        if (isClosed()) {
            throw closedError();
        }
    }

    /**
     * Marks a call in flight, which {@link #close(Runnable)} waits for. Pair with {@link #exit()} in a finally block.
     *
     * @throws IllegalStateException when closed
     */
    public void enter() {
        while (true) {
            long s = state.get();
            if ((s & CLOSED) != 0) {
                throw closedError();
            }
            if (state.compareAndSet(s, s + 1)) {
                return;
            }
        }
    }

    /** Ends a call marked by {@link #enter()}. */
    public void exit() {
        state.decrementAndGet();
    }

    /**
     * Closes: waits for the calls in flight, then runs {@code release}. Only the first call releases; a concurrent
     * second call returns once the release has finished (an interrupt meanwhile is kept for later, not thrown).
     *
     * @param release frees the resources; run at most once
     */
    public void close(Runnable release) {
        long before = state.getAndUpdate(s -> s | CLOSED);
        if ((before & CLOSED) != 0) {
            awaitReleased();
            return;
        }
        try {
            while ((state.get() & ~CLOSED) != 0) {
                Thread.yield(); // calls in flight finish in microseconds to milliseconds
            }
            release.run();
        } finally {
            released.countDown();
        }
    }

    private void awaitReleased() {
        boolean interrupted = false;
        while (true) {
            try {
                released.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true; // close() must not return before the release; keep the interrupt for later
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private IllegalStateException closedError() {
        return new IllegalStateException(name.get() + " is closed");
    }
}
