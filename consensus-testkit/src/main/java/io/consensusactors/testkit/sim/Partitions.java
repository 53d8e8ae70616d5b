package io.consensusactors.testkit.sim;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

/** Random partition shapes for a cluster of n nodes. */
public final class Partitions {
    private Partitions() {
    }

    /** A random minority side (1..n/2 nodes). */
    public static Set<Integer> randomHalf(Random rng, int n) {
        List<Integer> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            all.add(i);
        }
        Collections.shuffle(all, rng);
        int size = 1 + rng.nextInt(Math.max(1, n / 2));
        return new TreeSet<>(all.subList(0, size));
    }

    /**
     * Bridge: one node talks to everyone, the others are split in two halves that cannot talk to each other
     * (the classic "bridge" partition of Jepsen). Returns the bridge node.
     */
    public static int bridge(SimNetwork<?> net, Random rng, int n) {
        List<Integer> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            all.add(i);
        }
        Collections.shuffle(all, rng);
        int bridge = all.remove(0);
        List<Integer> left = all.subList(0, all.size() / 2);
        List<Integer> right = all.subList(all.size() / 2, all.size());
        for (int a : left) {
            for (int b : right) {
                net.cut(a, b);
            }
        }
        return bridge;
    }
}
