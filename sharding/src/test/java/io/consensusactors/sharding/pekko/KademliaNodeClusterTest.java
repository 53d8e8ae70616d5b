package io.consensusactors.sharding.pekko;

import io.consensusactors.sharding.kademlia.*;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.StreamSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kademlia nodes as typed actors on a real three-node Pekko cluster in one JVM (Artery on 127.0.0.1, port 0): nodes
 * find each other through the Receptionist, a value STOREd through a node on one ActorSystem is found by FIND_VALUE
 * from a node on another, and a node stopped without warning (it just disappears: no message says so) does not
 * break lookups — its RPCs time out and the lookup routes around it (§2.3) to the other replicas.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KademliaNodeClusterTest {

    static final Config CONFIG = ConfigFactory.parseString("""
            pekko.loglevel = WARNING
            pekko.actor.provider = cluster
            pekko.remote.artery.canonical.hostname = 127.0.0.1
            pekko.remote.artery.canonical.port = 0
            pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
            pekko.cluster.seed-node-timeout = 1s
            pekko.coordinated-shutdown.exit-jvm = off
            pekko.cluster.distributed-data.gossip-interval = 200ms
            pekko.cluster.typed.receptionist.distributed-data.gossip-interval = 200ms
            """).withFallback(ConfigFactory.load());

    /** k = 4 among 9 nodes, so that a value lives on a minority of them; ticks of 100 ms, RPC timeout 1 s. */
    static final KademliaConfig NODE = KademliaConfig.paper().withK(4).withTimes(10, 6000, 300, 6000, 3000);

    record Node(ActorTestKit kit, ActorRef<KademliaNode.Command> ref, String address) {}

    private final List<ActorTestKit> kits = new ArrayList<>();
    private final List<Node> nodes = new ArrayList<>();

    @AfterAll
    void shutdown() {
        kits.forEach(ActorTestKit::shutdownTestKit);
    }

    @Test
    void aValueStoredOnOneActorSystemIsFoundFromAnotherEvenAfterAHolderVanishes() throws Exception {
        for (int i = 0; i < 3; i++) {
            kits.add(ActorTestKit.create("KademliaClusterTest", CONFIG));
        }
        var seed = Cluster.get(kits.get(0).system()).selfMember().address();
        kits.forEach(kit -> Cluster.get(kit.system()).manager().tell(Join.create(seed)));
        eventually(Duration.ofSeconds(20), () -> kits.forEach(kit -> assertEquals(3,
                StreamSupport.stream(Cluster.get(kit.system()).state().getMembers().spliterator(), false)
                        .filter(m -> m.status().equals(MemberStatus.up())).count())));

        for (ActorTestKit kit : kits) {
            for (int j = 0; j < 3; j++) {
                ActorRef<KademliaNode.Command> ref = kit.spawn(KademliaNode.create(NODE, Duration.ofMillis(100)));
                nodes.add(new Node(kit, ref, ActorRefResolver.get(kit.system()).toSerializationFormat(ref)));
            }
        }
        // Bootstrap through the Receptionist: every node joins and knows at least k others.
        eventually(Duration.ofSeconds(20), () -> nodes.forEach(n -> {
            TestProbe<KademliaNode.Stats> probe = n.kit().createTestProbe();
            n.ref().tell(new KademliaNode.GetStats(probe.getRef()));
            KademliaNode.Stats stats = probe.receiveMessage(Duration.ofSeconds(3));
            assertTrue(stats.joined() && stats.contacts() >= NODE.k(), stats.toString());
        }));

        Node writer = nodes.get(0); // on the first ActorSystem
        Node reader = nodes.get(7); // on the third
        TestProbe<KademliaNode.PutResult> put = writer.kit().createTestProbe();
        writer.ref().tell(new KademliaNode.Put("account-42", bytes("balance=100"), put.getRef()));
        KademliaNode.PutResult stored = put.receiveMessage(Duration.ofSeconds(10));
        assertEquals(NODE.k(), stored.storedAt().size(), "stored at the k closest nodes");
        assertEquals(KademliaPlacement.of(nodes.stream().map(Node::address).toList()).owners("account-42", NODE.k()),
                stored.storedAt(), "the k closest by XOR distance of SHA-1(address) to SHA-1(key)");
        assertEquals("balance=100", get(reader, "account-42"));

        // The closest holder vanishes without a word; a reader that is not a holder still finds the value.
        Node holder = nodes.stream().filter(n -> n.address().equals(stored.storedAt().get(0))).findFirst()
                .orElseThrow();
        holder.kit().stop(holder.ref());
        List<Node> nonHolders = nodes.stream().filter(n -> !stored.storedAt().contains(n.address())).toList();
        assertTrue(nonHolders.size() >= 2);
        for (Node other : nonHolders.subList(0, 2)) {
            assertNotEquals(holder, other);
            assertEquals("balance=100", get(other, "account-42"));
        }

        // New STOREs and FIND_VALUEs work with the dead node still in the routing tables.
        Node writer2 = nodes.stream().filter(n -> n != holder).skip(4).findFirst().orElseThrow();
        TestProbe<KademliaNode.PutResult> put2 = writer2.kit().createTestProbe();
        writer2.ref().tell(new KademliaNode.Put("account-7", bytes("balance=7"), put2.getRef()));
        KademliaNode.PutResult stored2 = put2.receiveMessage(Duration.ofSeconds(15));
        assertTrue(!stored2.storedAt().contains(holder.address()), "the vanished node is not a STORE target");
        Node reader2 = nodes.stream().filter(n -> n != holder && n != writer2).findFirst().orElseThrow();
        assertEquals("balance=7", get(reader2, "account-7"));
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String get(Node from, String key) {
        TestProbe<KademliaNode.GetResult> probe = from.kit().createTestProbe();
        from.ref().tell(new KademliaNode.Get(key, probe.getRef()));
        KademliaNode.GetResult result = probe.receiveMessage(Duration.ofSeconds(15));
        System.out.printf("FIND_VALUE %s from %s: %s in %d hop(s)%n", key, from.address(),
                KademliaNode.valueAsString(result), result.hops());
        return KademliaNode.valueAsString(result);
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
                Thread.sleep(200);
            }
        }
    }
}
