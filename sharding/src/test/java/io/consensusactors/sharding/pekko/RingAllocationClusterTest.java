package io.consensusactors.sharding.pekko;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.consensusactors.sharding.ShardingSerializable;
import io.consensusactors.sharding.ring.HashRing;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
import org.apache.pekko.cluster.sharding.typed.ShardingMessageExtractor;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.StreamSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link RingAllocationStrategy} under real Cluster Sharding: ActorSystems in one JVM over Artery (127.0.0.1, port
 * 0). With two nodes every shard lands on its ring owner; when a third joins, exactly the shards the ring gives to
 * the newcomer move to it, and no other entity is restarted anywhere (entities report every start).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RingAllocationClusterTest {

    static final Config CONFIG = ConfigFactory.parseString("""
            pekko.loglevel = WARNING
            pekko.actor.provider = cluster
            pekko.remote.artery.canonical.hostname = 127.0.0.1
            pekko.remote.artery.canonical.port = 0
            pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
            pekko.cluster.seed-node-timeout = 1s
            pekko.coordinated-shutdown.exit-jvm = off
            pekko.cluster.sharding.rebalance-interval = 1s
            pekko.cluster.sharding.distributed-data.durable.keys = []
            """).withFallback(ConfigFactory.load());

    static final int SHARDS = 30;
    static final int VNODES = 128;
    static final EntityTypeKey<Where> TYPE = EntityTypeKey.create(Where.class, "RingAllocationClusterTest");

    /** Asks an entity on which node it runs. */
    public record Where(ActorRef<String> replyTo) implements ShardingSerializable {}

    record Started(String entity, String node) {}

    static final ConcurrentLinkedQueue<Started> STARTS = new ConcurrentLinkedQueue<>();

    private final List<ActorTestKit> kits = new ArrayList<>();

    @AfterAll
    void shutdown() {
        kits.forEach(ActorTestKit::shutdownTestKit);
    }

    static String node(ActorTestKit kit) {
        return Cluster.get(kit.system()).selfMember().address().toString();
    }

    static Behavior<Where> entity(String entityId) {
        return Behaviors.setup(ctx -> {
            String node = Cluster.get(ctx.getSystem()).selfMember().address().toString();
            STARTS.add(new Started(entityId, node));
            return Behaviors.receiveMessage(w -> {
                w.replyTo().tell(node);
                return Behaviors.same();
            });
        });
    }

    /** Entity "e-7" lives in shard "7". */
    static final class Extractor extends ShardingMessageExtractor<ShardingEnvelope<Where>, Where> {
        @Override
        public String entityId(ShardingEnvelope<Where> envelope) {
            return envelope.entityId();
        }

        @Override
        public String shardId(String entityId) {
            return entityId.substring(2);
        }

        @Override
        public Where unwrapMessage(ShardingEnvelope<Where> envelope) {
            return envelope.message();
        }
    }

    private ActorTestKit startNode(String seed) {
        ActorTestKit kit = ActorTestKit.create("RingAllocationClusterTest", CONFIG);
        kits.add(kit);
        Cluster.get(kit.system()).manager().tell(Join.create(seed == null
                ? Cluster.get(kit.system()).selfMember().address()
                : org.apache.pekko.actor.AddressFromURIString.parse(seed)));
        ClusterSharding.get(kit.system()).init(Entity.of(TYPE, ctx -> entity(ctx.getEntityId()))
                .withMessageExtractor(new Extractor())
                .withAllocationStrategy(new RingAllocationStrategy(VNODES, 100, 1, null)));
        return kit;
    }

    /** Shard id → node that answers for the shard's entity. */
    private Map<String, String> locations(ActorTestKit from) throws Exception {
        Map<String, String> where = new TreeMap<>();
        for (int s = 0; s < SHARDS; s++) {
            String node = ClusterSharding.get(from.system()).entityRefFor(TYPE, "e-" + s)
                    .<String>ask(Where::new, Duration.ofSeconds(5)).toCompletableFuture().get(10, TimeUnit.SECONDS);
            where.put(String.valueOf(s), node);
        }
        return where;
    }

    private Map<String, String> locationsOrFail(ActorTestKit from) {
        try {
            return locations(from);
        } catch (Exception e) {
            throw new AssertionError("an entity did not answer", e);
        }
    }

    private Map<String, String> ringOwners() {
        TreeSet<String> members = new TreeSet<>();
        kits.forEach(k -> members.add(node(k)));
        HashRing ring = HashRing.ofIds(VNODES, members);
        Map<String, String> owners = new TreeMap<>();
        for (int s = 0; s < SHARDS; s++) {
            owners.put(String.valueOf(s), ring.owner(String.valueOf(s)));
        }
        return owners;
    }

    private void awaitUp(int count) throws InterruptedException {
        eventually(Duration.ofSeconds(20), () -> kits.forEach(k -> assertEquals(count,
                StreamSupport.stream(Cluster.get(k.system()).state().getMembers().spliterator(), false)
                        .filter(m -> m.status().equals(MemberStatus.up())).count())));
    }

    @Test
    void shardsLandOnTheirRingOwnerAndAJoinMovesOnlyTheShardsTheNewcomerOwns() throws Exception {
        ActorTestKit a = startNode(null);
        startNode(node(a));
        awaitUp(2);
        // A shard asked for before the second region registered sits on the first node until the next rebalance.
        eventually(Duration.ofSeconds(30), () -> assertEquals(ringOwners(), locationsOrFail(a),
                "every shard on its ring owner"));
        Map<String, String> before = locations(a);
        assertTrue(new TreeSet<>(before.values()).size() == 2, "both nodes have shards");
        int startsBefore = STARTS.size();

        ActorTestKit c = startNode(node(a));
        awaitUp(3);
        Map<String, String> expected = ringOwners();
        String newcomer = node(c);
        List<String> shouldMove = new ArrayList<>();
        expected.forEach((shard, owner) -> {
            if (!owner.equals(before.get(shard))) {
                shouldMove.add(shard);
                assertEquals(newcomer, owner, "with a ring, a join moves keys only to the newcomer");
            }
        });
        assertFalse(shouldMove.isEmpty(), "the newcomer owns some of the " + SHARDS + " shards");
        eventually(Duration.ofSeconds(30), () -> assertEquals(expected, locationsOrFail(a),
                "after rebalancing every shard is on its ring owner"));
        List<Started> restarts = new ArrayList<>(STARTS).subList(startsBefore, STARTS.size());
        System.out.printf("join of a third node: %d of %d shards moved (ring: %s), restarts %s%n", shouldMove.size(),
                SHARDS, shouldMove, restarts);
        assertEquals(new TreeSet<>(shouldMove),
                new TreeSet<>(restarts.stream().map(r -> r.entity().substring(2)).toList()),
                "only the entities of the moved shards were restarted");
        assertTrue(restarts.stream().allMatch(r -> r.node().equals(newcomer)), "and only on the newcomer");
    }

    static void eventually(Duration max, Runnable assertion) throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        while (true) {
            try {
                assertion.run();
                return;
            } catch (AssertionError e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(300);
            }
        }
    }
}
