package io.consensusactors.testkit.sim;

import java.util.function.LongConsumer;

/**
 * Runs a seeded property over many seeds. The number of seeds is the system property {@code sim.seeds} (default
 * given by the test; {@code -Psoak} raises it to 100,000). {@code -D<replayProperty>=N} runs seed N alone, and a
 * failure names the seed and that flag, so any failing schedule can be replayed exactly.
 */
public final class Seeds {
    private Seeds() {
    }

    public static int count(int defaultCount) {
        String s = System.getProperty("sim.seeds");
        if (s == null || s.isBlank()) {
            return defaultCount;
        }
        try {
            return Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("sim.seeds must be a number, was '" + s + "'");
        }
    }

    public static void forEach(String replayProperty, int defaultCount, LongConsumer body) {
        String replay = System.getProperty(replayProperty);
        if (replay != null && !replay.isBlank()) {
            run(replayProperty, Long.parseLong(replay.trim()), body);
            return;
        }
        long start = Long.parseLong(System.getProperty(replayProperty + ".start", "1"));
        int n = count(defaultCount);
        for (long seed = start; seed < start + n; seed++) {
            run(replayProperty, seed, body);
        }
    }

    private static void run(String replayProperty, long seed, LongConsumer body) {
        try {
            body.accept(seed);
        } catch (Throwable t) {
            AssertionError e = new AssertionError("seed=" + seed + " (replay with -D" + replayProperty + "=" + seed
                    + "): " + t.getMessage(), t);
            throw e;
        }
    }
}
