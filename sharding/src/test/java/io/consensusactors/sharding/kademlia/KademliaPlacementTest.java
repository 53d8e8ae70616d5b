package io.consensusactors.sharding.kademlia;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** XOR-closest placement over a known membership: order independence and minimal movement; balance is printed. */
class KademliaPlacementTest {

    static List<String> members(int n) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ids.add("pekko://bank@10.0.0." + i + ":25520");
        }
        return ids;
    }

    @Test
    void placementDoesNotDependOnTheOrderOfMembers() {
        List<String> ids = members(30);
        List<String> shuffled = new ArrayList<>(ids);
        Collections.shuffle(shuffled, new Random(3));
        KademliaPlacement a = KademliaPlacement.of(ids);
        KademliaPlacement b = KademliaPlacement.of(shuffled);
        for (int i = 0; i < 5000; i++) {
            List<String> owners = a.owners("key-" + i, 5);
            assertEquals(owners, b.owners("key-" + i, 5));
            assertEquals(5, new HashSet<>(owners).size(), "distinct owners");
        }
        assertEquals(a.members(), b.members());
    }

    @Test
    void aJoiningMemberTakesKeysOnlyForItselfAndALeavingOneGivesUpOnlyItsOwn() {
        KademliaPlacement before = KademliaPlacement.of(members(20));
        List<String> more = new ArrayList<>(members(20));
        more.add("newcomer");
        KademliaPlacement after = KademliaPlacement.of(more);
        List<String> fewer = new ArrayList<>(members(20));
        String gone = fewer.remove(7);
        KademliaPlacement without = KademliaPlacement.of(fewer);
        int moved = 0;
        Map<String, Integer> load = new HashMap<>();
        int keys = 50_000;
        for (int i = 0; i < keys; i++) {
            String key = "key-" + i;
            String owner = before.owner(key);
            load.merge(owner, 1, Integer::sum);
            if (!after.owner(key).equals(owner)) {
                moved++;
                assertEquals("newcomer", after.owner(key));
            }
            if (!owner.equals(gone)) {
                assertEquals(owner, without.owner(key));
            }
        }
        double maxOverMean = load.values().stream().mapToInt(Integer::intValue).max().orElse(0) / (keys / 20.0);
        System.out.printf("XOR placement, 20 members: a join moved %.4f of the keys; max/mean load %.3f (one id per "
                + "member: no virtual nodes)%n", (double) moved / keys, maxOverMean);
        assertTrue(moved > 0);
    }

    @Test
    void badInputIsRejectedWithAClearMessage() {
        assertThrows(IllegalArgumentException.class, () -> KademliaPlacement.of(List.of("a", "a")));
        assertTrue(assertThrows(IllegalStateException.class, () -> KademliaPlacement.of(List.of()).owner("k"))
                .getMessage().contains("no members"));
        assertEquals(List.of("a"), KademliaPlacement.of(List.of("a")).owners("k", 3));
    }
}
