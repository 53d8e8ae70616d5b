package io.consensusactors.testkit.sim;

import java.util.Random;

/**
 * Link faults applied to every send (partitions are separate, see {@link SimNetwork#cut}). Delays are in ticks,
 * uniform in [minDelay, maxDelay]; a range wider than one tick reorders messages.
 */
public record NetworkFaults(double dropRate, double duplicateRate, int minDelay, int maxDelay) {
    public static final NetworkFaults NONE = new NetworkFaults(0, 0, 1, 1);

    public NetworkFaults {
        if (!(dropRate >= 0 && dropRate <= 1) || !(duplicateRate >= 0 && duplicateRate <= 1)) {
            throw new IllegalArgumentException("rates must be in [0, 1], were drop=" + dropRate + " dup=" + duplicateRate);
        }
        if (minDelay < 0 || maxDelay < minDelay) {
            throw new IllegalArgumentException("need 0 <= minDelay <= maxDelay, were " + minDelay + ".." + maxDelay);
        }
    }

    /** A random mix: drop 0–30%, duplicate 0–20%, delay 1..1+[0,10) ticks. */
    public static NetworkFaults random(Random rng) {
        return new NetworkFaults(rng.nextDouble() * 0.3, rng.nextDouble() * 0.2, 1, 1 + rng.nextInt(10));
    }
}
