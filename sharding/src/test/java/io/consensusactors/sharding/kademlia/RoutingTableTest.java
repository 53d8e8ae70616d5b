package io.consensusactors.sharding.kademlia;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** k-buckets (Kademlia §2.2) with the replacement cache and stale contacts (§4.1). */
class RoutingTableTest {

    /** A contact in bucket 159 of {@link NodeId#ZERO} (top bit set). */
    static Contact far(int i) {
        return new Contact(new NodeId(0x80000000L, 0, i), "far-" + i);
    }

    @Test
    void leastRecentlySeenIsEvictedOnlyAfterItFailsAPing() {
        RoutingTable t = new RoutingTable(NodeId.ZERO, 3, 2, 5);
        for (int i = 1; i <= 3; i++) {
            assertNull(t.observe(far(i)), "room in the bucket: no ping");
        }
        assertEquals(far(1), t.observe(far(4)), "bucket full: ping the least recently seen");
        assertFalse(t.contains(far(4).id()), "the newcomer waits in the replacement cache");
        assertEquals(List.of(far(4)), t.replacements(159));
        assertNull(t.observe(far(5)), "one eviction ping at a time");

        t.pingAnswered(far(1));
        assertEquals(List.of(far(2), far(3), far(1)), t.bucketContents(159), "a live contact stays, moved to the tail");

        assertEquals(far(2), t.observe(far(6)));
        t.failed(far(2).id());
        assertEquals(List.of(far(3), far(1), far(6)), t.bucketContents(159),
                "a failed ping evicts; the most recently seen replacement takes the place");
    }

    @Test
    void liveContactsAreNeverDisplacedByAFloodOfNewIds() {
        RoutingTable t = new RoutingTable(NodeId.ZERO, 3, 2, 5);
        for (int i = 1; i <= 3; i++) {
            t.observe(far(i));
        }
        for (int i = 100; i < 200; i++) {
            Contact toPing = t.observe(far(i));
            if (toPing != null) {
                t.pingAnswered(toPing);
            }
        }
        assertEquals(List.of(far(1).id(), far(2).id(), far(3).id()),
                t.bucketContents(159).stream().map(Contact::id).sorted().toList());
        assertEquals(5, t.replacements(159).size(), "the replacement cache is bounded");
    }

    @Test
    void staleContactsAreReplacedOnlyWhenAReplacementIsCached() {
        RoutingTable t = new RoutingTable(NodeId.ZERO, 2, 2, 5);
        t.observe(far(1));
        t.observe(far(2));
        t.failed(far(1).id());
        t.failed(far(1).id());
        assertTrue(t.contains(far(1).id()), "no replacement: the stale contact stays (a node offline keeps its table)");
        assertEquals(List.of(far(2)), t.closest(far(1).id(), 5, null), "but is no longer handed out");
        t.observe(far(3));
        assertFalse(t.contains(far(1).id()), "replaced as soon as a replacement exists");
        assertTrue(t.contains(far(3).id()));
        t.observe(far(2));
        t.failed(far(2).id());
        assertTrue(t.contains(far(2).id()), "one failure is not stale");
    }

    @Test
    void closestAgreesWithSortingEveryContactByXorDistance() {
        SplittableRandom r = new SplittableRandom(5);
        NodeId self = NodeId.random(r);
        RoutingTable t = new RoutingTable(self, 20, 2, 5);
        for (int i = 0; i < 5000; i++) {
            // random ids fill the far buckets; ids near self fill the near ones
            NodeId id = i % 2 == 0 ? NodeId.random(r) : self.randomInBucket(r.nextInt(40), r);
            t.observe(new Contact(id, "n" + i));
        }
        List<Contact> all = t.all();
        for (int i = 0; i < 500; i++) {
            NodeId target = i % 3 == 0 ? self.randomInBucket(r.nextInt(160), r) : NodeId.random(r);
            List<Contact> expected = new ArrayList<>(all);
            expected.sort((a, b) -> NodeId.compareDistance(a.id(), b.id(), target));
            assertEquals(expected.subList(0, 20), t.closest(target, 20, null), "target " + target);
        }
        assertEquals(all.size(), t.size());
    }

    @Test
    void refreshCoversTheBucketsFromTheClosestNeighbourOutwardsThatNoLookupTouched() {
        RoutingTable t = new RoutingTable(NodeId.ZERO, 20, 2, 5);
        t.observe(new Contact(new NodeId(0, 0, 1L << 40), "near"));
        assertEquals(40, t.lowestNonEmpty());
        t.touch(150, 95);
        List<Integer> due = t.bucketsToRefresh(100, 10);
        assertEquals(160 - 40 - 1, due.size());
        assertFalse(due.contains(150), "touched by a lookup 5 ticks ago");
        assertTrue(due.contains(40) && due.contains(159));
    }
}
