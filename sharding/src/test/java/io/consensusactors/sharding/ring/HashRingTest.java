package io.consensusactors.sharding.ring;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Properties of the ring: placement independent of insertion order, balance, minimal movement on membership change
 * (consistent hashing), distinct preference lists with zone avoidance, and bounded loads. Measurements are printed.
 */
class HashRingTest {

    static final int KEYS = 200_000;

    static List<String> members(int n) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ids.add("pekko://bank@10.0.0." + i + ":25520");
        }
        return ids;
    }

    static byte[] key(int i) {
        return ByteBuffer.allocate(8).putLong(i * 0x9E3779B97F4A7C15L).array();
    }

    static double maxOverMean(HashRing ring, int keys) {
        Map<String, Integer> load = new HashMap<>();
        for (int i = 0; i < keys; i++) {
            load.merge(ring.owner(key(i)), 1, Integer::sum);
        }
        double mean = (double) keys / ring.size();
        return load.values().stream().mapToInt(Integer::intValue).max().orElse(0) / mean;
    }

    @Test
    void placementDoesNotDependOnInsertionOrder() {
        List<String> ids = members(20);
        HashRing a = HashRing.ofIds(64, ids);
        List<String> shuffled = new ArrayList<>(ids);
        Collections.shuffle(shuffled, new Random(7));
        HashRing b = HashRing.empty(64);
        for (String id : shuffled) {
            b = b.with(HashRing.Member.of(id));
        }
        for (int i = 0; i < 20_000; i++) {
            assertEquals(a.owners(key(i), 3), b.owners(key(i), 3));
        }
    }

    @Test
    void balanceMaxOverMeanShrinksWithVirtualNodes() {
        StringBuilder table = new StringBuilder("balance max/mean, " + KEYS + " keys:\n");
        double at128for10 = 0;
        for (int members : new int[] {10, 100}) {
            double previous = Double.MAX_VALUE;
            for (int vnodes : new int[] {16, 64, 128, 256}) {
                double r = maxOverMean(HashRing.ofIds(vnodes, members(members)), KEYS);
                table.append(String.format("  %3d members, %3d vnodes: %.3f%n", members, vnodes, r));
                if (members == 10 && vnodes == 128) {
                    at128for10 = r;
                }
                if (vnodes == 16 || vnodes == 256) {
                    assertTrue(r < previous || vnodes == 16, "more vnodes must balance better");
                    previous = r;
                }
            }
        }
        System.out.print(table);
        // With 128 random tokens per member the load of one member has a relative spread of ~1/sqrt(128) = 9%.
        assertTrue(at128for10 < 1.25, "10 members, 128 vnodes: max/mean " + at128for10);
    }

    @Test
    void addingAMemberMovesOnlyItsShareOfKeys() {
        for (int n : new int[] {10, 50}) {
            HashRing before = HashRing.ofIds(128, members(n));
            HashRing after = before.with(HashRing.Member.of("new-member"));
            int moved = 0;
            for (int i = 0; i < KEYS; i++) {
                String o1 = before.owner(key(i));
                String o2 = after.owner(key(i));
                if (!o1.equals(o2)) {
                    moved++;
                    assertEquals("new-member", o2, "a key may only move to the new member");
                }
            }
            double fraction = (double) moved / KEYS;
            System.out.printf("add 1 member to %d: %.4f of keys moved (ideal %.4f)%n", n, fraction, 1.0 / (n + 1));
            assertTrue(fraction <= 1.3 / (n + 1), "moved " + fraction);
        }
    }

    @Test
    void removingAMemberMovesOnlyItsKeys() {
        HashRing before = HashRing.ofIds(128, members(10));
        String gone = before.members().get(3);
        HashRing after = before.without(gone);
        for (int i = 0; i < KEYS; i++) {
            String o1 = before.owner(key(i));
            if (!o1.equals(gone)) {
                assertEquals(o1, after.owner(key(i)), "keys of surviving members stay put");
            }
        }
    }

    @Test
    void preferenceListHasDistinctMembersAndAvoidsSharedZonesWhenAsked() {
        List<HashRing.Member> ms = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            ms.add(new HashRing.Member("m" + i, 1, "zone-" + (i % 3)));
        }
        HashRing ring = HashRing.of(64, ms);
        Map<String, String> zoneOf = new HashMap<>();
        ms.forEach(m -> zoneOf.put(m.id(), m.zone()));
        for (int i = 0; i < 5000; i++) {
            long pos = HashRing.hash(key(i));
            List<String> plain = ring.preferenceList(pos, 3, false);
            assertEquals(3, new HashSet<>(plain).size());
            assertEquals(plain.get(0), ring.owner(key(i)), "first replica is the owner");
            List<String> zoned = ring.preferenceList(pos, 3, true);
            assertEquals(3, zoned.stream().map(zoneOf::get).distinct().count(), "one replica per zone");
            assertEquals(9, ring.preferenceList(pos, 20, true).size(), "at most all members");
        }
    }

    @Test
    void boundedLoadsCapEveryMember() {
        List<byte[]> keys = new ArrayList<>();
        for (int i = 0; i < 50_000; i++) {
            keys.add(key(i));
        }
        for (int vnodes : new int[] {16, 128}) {
            HashRing ring = HashRing.ofIds(vnodes, members(10));
            String[] owners = ring.assignBounded(keys, 0.25);
            Map<String, Integer> load = new HashMap<>();
            for (String o : owners) {
                load.merge(o, 1, Integer::sum);
            }
            double ratio = load.values().stream().mapToInt(Integer::intValue).max().orElse(0) / (keys.size() / 10.0);
            System.out.printf("bounded loads eps=0.25, %d vnodes: max/mean %.3f (plain ring %.3f)%n", vnodes, ratio,
                    maxOverMean(ring, keys.size()));
            assertTrue(ratio <= 1.25 + 1e-9, "max/mean " + ratio);
            // Deterministic: the same keys and membership give the same assignment.
            assertEquals(List.of(owners), List.of(ring.assignBounded(keys, 0.25)));
        }
    }

    @Test
    void weightsScaleTheShareOfKeys() {
        HashRing ring = HashRing.of(128, List.of(new HashRing.Member("big", 3, ""), new HashRing.Member("small", 1, "")));
        int big = 0;
        for (int i = 0; i < KEYS; i++) {
            if (ring.owner(key(i)).equals("big")) {
                big++;
            }
        }
        double share = (double) big / KEYS;
        assertTrue(share > 0.70 && share < 0.80, "weight 3 of 4 should own ~75%, owns " + share);
    }

    @Test
    void badInputIsRejectedWithAClearMessage() {
        assertTrue(assertThrows(IllegalStateException.class, () -> HashRing.empty(8).owner("k"))
                .getMessage().contains("no members"));
        assertThrows(IllegalArgumentException.class, () -> HashRing.empty(0));
        assertThrows(IllegalArgumentException.class, () -> new HashRing.Member("x", 0, ""));
        assertThrows(IllegalArgumentException.class, () -> HashRing.ofIds(8, List.of("a", "a")));
        assertNotEquals(HashRing.hash(key(1)), HashRing.hash(key(2)));
    }
}
