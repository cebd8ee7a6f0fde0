package dev.convt.cli;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * Progress on stderr for a step that runs longer than a second: nothing for a quick step; after a second, a line
 * saying what runs, then the elapsed time every few seconds, and how long it took. stdout stays the result's.
 */
final class Progress {

    private static final long FIRST_NOTICE_MS = 1000;
    private static final long EVERY_MS = 5000;

    private Progress() {}

    static <T> T around(PrintWriter err, String what, Callable<T> step) throws Exception {
        long start = System.nanoTime();
        Object lock = new Object();
        boolean[] state = {false, false}; // {done, announced}
        Thread notifier = new Thread(() -> {
            long wait = FIRST_NOTICE_MS;
            synchronized (lock) {
                while (!state[0]) {
                    try {
                        lock.wait(wait);
                    } catch (InterruptedException e) {
                        return;
                    }
                    if (!state[0]) {
                        err.println(String.format(Locale.ROOT, "convt: %s ... %.0f s", what,
                            (System.nanoTime() - start) / 1e9));
                        err.flush();
                        state[1] = true;
                        wait = EVERY_MS;
                    }
                }
            }
        }, "convt-progress");
        notifier.setDaemon(true);
        notifier.start();
        try {
            return step.call();
        } finally {
            synchronized (lock) {
                state[0] = true;
                lock.notifyAll();
                if (state[1]) {
                    err.println(String.format(Locale.ROOT, "convt: %s done in %.1f s", what,
                        (System.nanoTime() - start) / 1e9));
                    err.flush();
                }
            }
        }
    }
}
