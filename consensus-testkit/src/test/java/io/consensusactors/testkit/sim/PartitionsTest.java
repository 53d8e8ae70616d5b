package io.consensusactors.testkit.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;

class PartitionsTest {

    @Test
    void randomHalfIsAlwaysANonEmptyMinority() {
        Random rng = new Random(1);
        for (int n = 1; n <= 9; n++) {
            boolean sawLargest = false;
            for (int i = 0; i < 500; i++) {
                Set<Integer> side = Partitions.randomHalf(rng, n);
                assertTrue(side.size() >= 1 && side.size() <= Math.max(1, n / 2), n + ": " + side);
                for (int x : side) {
                    assertTrue(x >= 0 && x < n, n + ": " + side);
                }
                sawLargest |= side.size() == Math.max(1, n / 2);
            }
            assertTrue(sawLargest, "sizes up to n/2 occur for n=" + n);
        }
    }

    @Test
    void bridgeLeavesOneNodeConnectedToTwoHalvesThatCannotTalk() {
        for (int n : new int[] {3, 5, 7}) {
            SimNetwork<String> net = new SimNetwork<>(n, new Random(n));
            int bridge = Partitions.bridge(net, net.random(), n);
            List<Integer> others = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                if (i != bridge) {
                    others.add(i);
                    assertTrue(net.linked(bridge, i) && net.linked(i, bridge), "bridge talks to " + i);
                }
            }
            // every other node can talk to exactly (n-1)/2 - 1 peers besides the bridge: its own half
            int cutPairs = 0;
            for (int a : others) {
                for (int b : others) {
                    if (a != b && !net.linked(a, b)) {
                        cutPairs++;
                    }
                }
            }
            int half = (n - 1) / 2;
            assertEquals(2 * half * (n - 1 - half), cutPairs, "n=" + n);
        }
    }
}
