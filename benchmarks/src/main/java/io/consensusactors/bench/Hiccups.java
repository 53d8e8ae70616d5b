package io.consensusactors.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

/**
 * A jHiccup-style probe, on with {@code -Draftload.hiccup-ms=N}: a daemon thread sleeps 1 ms at a time and appends
 * every wake-up later than N ms (epoch ms when it woke, delay in ms) to {@code <file>}. What stalls a whole JVM — a
 * collection, a safepoint, the scheduler not running it — shows here; what stalls one actor does not.
 */
final class Hiccups {
    private Hiccups() {
    }

    static void startIfAsked(Path file) {
        long thresholdNanos = TimeUnit.MILLISECONDS.toNanos(Long.getLong("raftload.hiccup-ms", 0));
        if (thresholdNanos <= 0) {
            return;
        }
        Thread t = new Thread(() -> {
            while (true) {
                long before = System.nanoTime();
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    return;
                }
                long late = System.nanoTime() - before - TimeUnit.MILLISECONDS.toNanos(1);
                if (late > thresholdNanos) {
                    try {
                        Files.writeString(file, System.currentTimeMillis() + " " + late / 1_000_000 + "\n",
                                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
            }
        }, "hiccup-probe");
        t.setDaemon(true);
        t.start();
    }
}
