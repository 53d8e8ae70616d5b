package io.consensusactors.sharding.pekko;

import io.consensusactors.sharding.ring.HashRing;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import scala.collection.immutable.IndexedSeq;
import scala.concurrent.Future;
import scala.jdk.javaapi.CollectionConverters;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Shard allocation follows the ring: every shard lands on its ring owner, a join moves only the shards the new
 * member owns, at most maxPerRound per round, and nothing moves while the membership is unsettled or a rebalance is
 * in progress. Regions are test probes named node-a, node-b, ...
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RingAllocationStrategyTest {

    private final ActorTestKit kit = ActorTestKit.create();
    private final Map<ActorRef, String> names = new HashMap<>();

    @AfterAll
    void shutdown() {
        kit.shutdownTestKit();
    }

    private ActorRef region(String name) {
        ActorRef ref = Adapter.toClassic(kit.createTestProbe(name).ref());
        names.put(ref, name);
        return ref;
    }

    private RingAllocationStrategy strategy(int maxPerRound, int stableRounds) {
        return new RingAllocationStrategy(128, maxPerRound, stableRounds, names::get);
    }

    private static <T> T now(Future<T> f) {
        return f.value().get().get();
    }

    private static Map<ActorRef, IndexedSeq<String>> view(Map<ActorRef, List<String>> alloc) {
        Map<ActorRef, IndexedSeq<String>> out = new LinkedHashMap<>();
        alloc.forEach((r, shards) -> out.put(r, CollectionConverters.asScala(shards).toIndexedSeq()));
        return out;
    }

    private Map<ActorRef, List<String>> allocateAll(RingAllocationStrategy s, List<ActorRef> regions, int shards) {
        Map<ActorRef, List<String>> alloc = new LinkedHashMap<>();
        regions.forEach(r -> alloc.put(r, new ArrayList<>()));
        for (int i = 0; i < shards; i++) {
            String shard = String.valueOf(i);
            ActorRef to = now(s.allocateShard(regions.get(0), shard, view(alloc)));
            alloc.get(to).add(shard);
        }
        return alloc;
    }

    @Test
    void everyShardLandsOnItsRingOwner() {
        List<ActorRef> regions = List.of(region("node-a"), region("node-b"), region("node-c"));
        Map<ActorRef, List<String>> alloc = allocateAll(strategy(5, 0), regions, 100);
        HashRing ring = HashRing.ofIds(128, List.of("node-a", "node-b", "node-c"));
        alloc.forEach((region, shards) -> shards.forEach(
                shard -> assertEquals(ring.owner(shard), names.get(region), "shard " + shard)));
        alloc.values().forEach(shards -> assertTrue(shards.size() > 15, "each region gets a share: " + shards.size()));
    }

    @Test
    void aJoinMovesOnlyTheShardsTheNewMemberOwnsAtMostMaxPerRound() {
        RingAllocationStrategy s = strategy(4, 1);
        ActorRef a = region("join-a");
        ActorRef b = region("join-b");
        ActorRef c = region("join-c");
        Map<ActorRef, List<String>> alloc = allocateAll(s, List.of(a, b, c), 100);
        assertTrue(now(s.rebalance(view(alloc), Set.of())).isEmpty(), "balanced ring: nothing to move");
        ActorRef d = region("join-d");
        alloc.put(d, new ArrayList<>());
        HashRing after = HashRing.ofIds(128, List.of("join-a", "join-b", "join-c", "join-d"));
        long shouldMove = alloc.values().stream().flatMap(List::stream)
                .filter(shard -> after.owner(shard).equals("join-d")).count();
        assertTrue(now(s.rebalance(view(alloc), Set.of())).isEmpty(), "membership just changed: wait a round");
        int moved = 0;
        for (int round = 0; round < 100; round++) {
            Set<String> batch = now(s.rebalance(view(alloc), Set.of()));
            if (batch.isEmpty()) {
                break;
            }
            assertTrue(batch.size() <= 4, "at most maxPerRound per round");
            assertTrue(now(s.rebalance(view(alloc), batch)).isEmpty(), "nothing more while a rebalance runs");
            for (String shard : batch) {
                assertEquals("join-d", after.owner(shard), "only shards the new member owns move");
                alloc.values().forEach(list -> list.remove(shard));
                alloc.get(now(s.allocateShard(a, shard, view(alloc)))).add(shard);
                moved++;
            }
        }
        assertEquals(shouldMove, moved, "exactly the new member's shards moved");
        assertTrue(shouldMove > 10 && shouldMove < 40, "about a quarter of 100 shards: " + shouldMove);
        alloc.forEach((region, shards) -> shards.forEach(
                shard -> assertEquals(after.owner(shard), names.get(region))));
    }
}
