package dev.convt.purejava;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Runs the tiles of one call on the calling thread and up to {@code threads - 1} workers of a
 * {@link ForkJoinPool} of {@code threads - 1} daemon threads, shared by every op of a backend. Tiles are claimed
 * from a counter, so which thread computes a tile varies from call to call; each tile is computed completely by
 * one thread, which is why the result does not.
 *
 * <p>Allocation-free in the steady state: each calling thread keeps one {@link Job} (its {@link JavaOp.Call} and
 * helper tasks) and re-arms it per call. The caller never waits for a busy pool to reach a helper: once it has
 * run out of tiles it revokes every helper that has not started (a revoked helper does nothing when the pool gets
 * to it; if the next call comes first, the helper is re-armed where it waits instead of submitted again), and
 * waits (spinning briefly, then parked) only for helpers that are computing a tile. Completion is
 * tracked here rather than with {@link ForkJoinTask#join()}, which allocates a wait node when it blocks.
 */
final class Workers {

    /** Below this many multiply-adds a call runs on the calling thread: a hand-off costs more than it saves. */
    static final long PARALLEL_MIN_MACS = 1L << 20;

    private final int threads;
    private final ForkJoinPool pool;
    private final ThreadLocal<Job> jobs;

    Workers(int threads) {
        this.threads = threads;
        if (threads > 1) {
            this.pool = new ForkJoinPool(threads - 1, p -> {
                ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
                t.setName("convt-java-" + threads + "-" + t.getPoolIndex());
                t.setDaemon(true);
                return t;
            }, null, false);
        } else {
            this.pool = null;
        }
        this.jobs = ThreadLocal.withInitial(() -> new Job(threads - 1));
    }

    int threads() {
        return threads;
    }

    /** The calling thread's job; fill its {@link Job#call} and pass it to {@link #run}. */
    Job job() {
        return jobs.get();
    }

    /** Runs tiles {@code [0, tiles)} of {@code job.call}; returns when all are done. */
    void run(Job job, int tiles, long macs) {
        int helpers = pool == null || macs < PARALLEL_MIN_MACS ? 0 : Math.min(threads - 1, tiles - 1);
        job.start(tiles);
        if (helpers <= 0) {
            job.work();
            return;
        }
        for (int h = 0; h < helpers; h++) {
            Helper t = job.arm(h);
            if (t != null) {
                pool.execute(t);
            }
        }
        Throwable failure = null;
        try {
            job.work();
        } catch (RuntimeException | Error e) {
            failure = e;
        }
        for (int h = 0; h < helpers; h++) {
            job.finish(h);
        }
        Throwable helperFailure = job.failure;
        job.failure = null;
        if (failure == null) {
            failure = helperFailure;
        } else if (helperFailure != null && helperFailure != failure) {
            failure.addSuppressed(helperFailure);
        }
        if (failure instanceof RuntimeException) {
            throw (RuntimeException) failure;
        }
        if (failure != null) {
            throw (Error) failure;
        }
    }

    /** One calling thread's reusable state: the call being run, the tile counter, the helper tasks. */
    static final class Job {
        final JavaOp.Call call = new JavaOp.Call();
        private final AtomicInteger next = new AtomicInteger();
        private final Helper[] helpers;
        private final Thread owner = Thread.currentThread();
        private volatile int tiles;
        private volatile Throwable failure;

        private Job(int helperCount) {
            helpers = new Helper[Math.max(0, helperCount)];
        }

        private void start(int n) {
            next.set(0);
            tiles = n; // volatile write after the reset (and after the call was filled): helpers see both
        }

        /**
         * Arms helper {@code h} for the current call and returns it to be submitted, or {@code null} when it is
         * still waiting in the pool from an earlier call (revoked, never run): re-arming it there is enough.
         */
        private Helper arm(int h) {
            Helper t = helpers[h];
            if (t != null && Helper.STATE.compareAndSet(t, Helper.REVOKED, Helper.QUEUED)) {
                // Not yet run by the pool (or being dropped right now: then finish() simply revokes it again).
                if (!t.isDone()) {
                    return null;
                }
                t.state = Helper.REVOKED; // it had already been run and dropped: resubmit below
            }
            if (t == null || !t.isDone()) {
                t = new Helper(this); // first call only: finish() waits until a started helper is done
                helpers[h] = t;
            } else {
                t.reinitialize();
            }
            t.state = Helper.QUEUED;
            return t;
        }

        /** Revokes helper {@code h} if it has not started; otherwise waits for it to finish its tiles. */
        private void finish(int h) {
            Helper t = helpers[h];
            if (Helper.STATE.compareAndSet(t, Helper.QUEUED, Helper.REVOKED)) {
                return;
            }
            for (int spin = 0; t.state != Helper.FINISHED; spin++) {
                if (spin < 1 << 12) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            // The helper's tiles are done; the pool marks the task done a moment later. Wait for that too (never
            // parked: nothing would wake us), so that the next call can re-arm the task instead of allocating one.
            for (int spin = 0; !t.isDone(); spin++) {
                if (spin < 1 << 10) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield();
                }
            }
        }

        private void work() {
            int n = tiles;
            Scratch s = Scratch.get();
            try {
                int i;
                while ((i = next.getAndIncrement()) < n) {
                    call.runTile(i, s);
                }
            } catch (RuntimeException | Error e) {
                next.set(n); // the others stop claiming tiles
                throw e;
            } finally {
                s.release();
            }
        }
    }

    private static final class Helper extends ForkJoinTask<Void> {
        private static final long serialVersionUID = 1L;
        static final int QUEUED = 0;
        static final int RUNNING = 1;
        static final int FINISHED = 2;
        static final int REVOKED = 3;
        static final VarHandle STATE;

        static {
            try {
                STATE = MethodHandles.lookup().findVarHandle(Helper.class, "state", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        private final transient Job job;
        volatile int state;

        Helper(Job job) {
            this.job = job;
        }

        @Override
        protected boolean exec() {
            if (!STATE.compareAndSet(this, QUEUED, RUNNING)) {
                return true; // revoked: the caller finished without us
            }
            try {
                job.work();
            } catch (Throwable e) {
                job.failure = e;
            } finally {
                state = FINISHED;
                LockSupport.unpark(job.owner);
            }
            return true;
        }

        @Override
        public Void getRawResult() {
            return null;
        }

        @Override
        protected void setRawResult(Void value) {
            // no result
        }
    }
}
