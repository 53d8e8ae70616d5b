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
        return count("sim.seeds", defaultCount);
    }

    private static int count(String countProperty, int defaultCount) {
        String s = System.getProperty(countProperty);
        if (s == null || s.isBlank()) {
            return defaultCount;
        }
        try {
            return Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(countProperty + " must be a number, was '" + s + "'");
        }
    }

    /**
     * As {@link #forEach(String, int, LongConsumer)}, for a property too slow per seed to follow {@code sim.seeds}
     * (e.g. one that runs actors): the number of seeds is the system property {@code countProperty}.
     */
    public static void forEach(String replayProperty, String countProperty, int defaultCount, LongConsumer body) {
        runSeeds(replayProperty, count(countProperty, defaultCount), body);
    }

    public static void forEach(String replayProperty, int defaultCount, LongConsumer body) {
        runSeeds(replayProperty, count(defaultCount), body);
    }

    private static void runSeeds(String replayProperty, int n, LongConsumer body) {
        String replay = System.getProperty(replayProperty);
        if (replay != null && !replay.isBlank()) {
            run(replayProperty, Long.parseLong(replay.trim()), body);
            return;
        }
        long start = Long.parseLong(System.getProperty(replayProperty + ".start", "1"));
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
