package io.consensusactors.sharding.kademlia;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One Kademlia core driven by hand, and small simulated networks: the protocol rules of §2.2–§2.5. */
class KademliaTest {

    /** Latency 1–2 ticks each way: an RPC timeout of 6 ticks exceeds any round trip. */
    static final KademliaConfig SMALL = KademliaConfig.paper().withK(5).withTimes(6, 1_000_000, 50, 300, 200);

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Nodes n0..n{count-1} with id SHA-1(address), joined one by one through n0, network quiet. */
    static SimNetwork network(int count, KademliaConfig config, long seed) {
        SimNetwork net = new SimNetwork(seed, 1, 2);
        Kademlia first = new Kademlia(new Contact(NodeId.sha1("n0"), "n0"), config);
        net.add(first);
        for (int i = 1; i < count; i++) {
            Kademlia node = new Kademlia(new Contact(NodeId.sha1("n" + i), "n" + i), config);
            net.add(node);
            node.join(List.of(first.self()));
            net.flush(node);
            net.runUntilQuiet(1000);
        }
        net.takeCompleted();
        return net;
    }

    static Kademlia.Result await(SimNetwork net, Kademlia node, long operation) {
        net.flush(node);
        for (int i = 0; i < 1000; i++) {
            for (SimNetwork.Completed c : net.takeCompleted()) {
                if (c.node().equals(node.self().address()) && c.result().operation() == operation) {
                    return c.result();
                }
            }
            net.tick();
        }
        throw new AssertionError("operation " + operation + " of " + node + " did not complete");
    }

    @Test
    void aValueStoredThroughOneNodeIsFoundFromAnother() {
        SimNetwork net = network(50, KademliaConfig.paper().withK(5), 1);
        Kademlia a = net.node("n3");
        Kademlia b = net.node("n41");
        NodeId key = NodeId.sha1("account-42");
        Kademlia.Stored stored = (Kademlia.Stored) await(net, a, a.store(key, bytes("balance=100")));
        assertEquals(5, stored.storedAt().size(), "stored at the k closest");
        Kademlia.ValueFound found = (Kademlia.ValueFound) await(net, b, b.findValue(key));
        assertArrayEquals(bytes("balance=100"), found.value());
        Kademlia.ValueFound missing = (Kademlia.ValueFound) await(net, b, b.findValue(NodeId.sha1("nobody")));
        assertNull(missing.value(), "a key nobody stored is not found, and the lookup still terminates");
    }

    @Test
    void storeGoesToTheKClosestNodesByXorDistance() {
        SimNetwork net = network(40, SMALL, 2);
        Kademlia a = net.node("n7");
        NodeId key = NodeId.sha1("k");
        Kademlia.Stored stored = (Kademlia.Stored) await(net, a, a.store(key, bytes("v")));
        List<Kademlia> all = new ArrayList<>(net.live());
        all.sort((x, y) -> NodeId.compareDistance(x.self().id(), y.self().id(), key));
        assertEquals(all.subList(0, 5).stream().map(n -> n.self().address()).toList(), stored.storedAt());
        net.runUntilQuiet(100);
        for (Kademlia n : all.subList(0, 5)) {
            assertNotNull(n.storedValue(key), n.toString());
        }
    }

    /**
     * §2.5: replicas republish (every republishTicks) without extending a value's life; the original publisher's
     * STORE does (every publisherRepublishTicks). A value whose publisher vanished expires expireTicks after its
     * last publication; one whose publisher lives survives many expiry periods.
     */
    @Test
    void valuesLiveWhileTheirPublisherRepublishesAndExpireWhenItIsGone() {
        SimNetwork net = network(30, SMALL, 3);
        Kademlia alive = net.node("n4");
        Kademlia gone = net.node("n9");
        NodeId kept = NodeId.sha1("kept");
        NodeId orphan = NodeId.sha1("orphan");
        await(net, alive, alive.store(kept, bytes("1")));
        await(net, gone, gone.store(orphan, bytes("2")));
        long published = net.now();
        net.kill("n9");
        net.run(250); // several replica republications, no publisher re-STORE for the orphan
        assertTrue(holders(net, orphan) > 0, "not expired before expireTicks");
        // Each republication hop may add one message latency (the TTL is relative): allow a tenth of the expiry.
        net.run(published + SMALL.expireTicks() + SMALL.expireTicks() / 10 - net.now());
        assertEquals(0, holders(net, orphan), "expired expireTicks after its last publication");
        net.run(3 * SMALL.expireTicks());
        assertTrue(holders(net, kept) >= SMALL.k() - 1, "the live publisher's value survives: " + holders(net, kept));
        Kademlia asker = net.node("n20");
        assertArrayEquals(bytes("1"), ((Kademlia.ValueFound) await(net, asker, asker.findValue(kept))).value());
    }

    static int holders(SimNetwork net, NodeId key) {
        return (int) net.live().stream().filter(n -> n.storedValue(key) != null).count();
    }

    /** §2.2: a full bucket pings its least recently seen contact and evicts it only if the ping fails. */
    @Test
    void aFullBucketEvictsItsOldestContactOnlyWhenItFailsToAnswerAPing() {
        KademliaConfig k1 = KademliaConfig.paper().withK(1).withTimes(3, 1_000_000, 50, 300, 200);
        Kademlia node = new Kademlia(new Contact(NodeId.ZERO, "self"), k1);
        Contact old = new Contact(new NodeId(0x80000000L, 0, 1), "old");
        Contact newer = new Contact(new NodeId(0x80000000L, 0, 2), "newer");
        node.step(new Message.Ping(old, 1));
        node.takeOutbox();
        node.step(new Message.Ping(newer, 2));
        List<Envelope> out = node.takeOutbox();
        Envelope ping = out.stream().filter(e -> e.message() instanceof Message.Ping).findFirst().orElseThrow();
        assertEquals("old", ping.to());
        assertEquals(List.of(old), node.routingTable().bucketContents(159));

        // The old contact answers: it stays.
        node.step(new Message.Pong(old, ping.message().rpcId()));
        assertEquals(List.of(old), node.routingTable().bucketContents(159));

        // Next time it does not answer: after the RPC timeout it is evicted for the cached newcomer.
        node.step(new Message.Ping(newer, 3));
        Envelope ping2 = node.takeOutbox().stream().filter(e -> e.message() instanceof Message.Ping).findFirst()
                .orElseThrow();
        assertEquals("old", ping2.to());
        for (int i = 0; i < 3; i++) {
            node.tick();
        }
        assertEquals(List.of(newer), node.routingTable().bucketContents(159));
    }

    /** §2.3: a bucket no lookup has touched for refreshTicks gets a lookup of a random id in its range. */
    @Test
    void bucketsNotTouchedForARefreshIntervalAreRefreshedByALookupInTheirRange() {
        KademliaConfig config = KademliaConfig.paper().withTimes(5, 80, 50, 300, 200).withRefreshOnJoin(false);
        Kademlia node = new Kademlia(new Contact(NodeId.ZERO, "self"), config);
        Contact peer = new Contact(new NodeId(0, 1L << 20, 0), "peer"); // bucket 84
        node.join(List.of(peer));
        Envelope findSelf = node.takeOutbox().get(0);
        node.step(new Message.FoundNodes(peer, findSelf.message().rpcId(), List.of()));
        assertTrue(node.joined());
        for (int i = 0; i < 79; i++) {
            node.tick();
        }
        assertTrue(node.takeOutbox().isEmpty(), "nothing to do before the refresh interval");
        node.tick();
        List<Integer> refreshed = node.takeOutbox().stream().map(e -> (Message.FindNode) e.message())
                .map(f -> NodeId.ZERO.bucketIndex(f.target())).distinct().sorted().toList();
        assertEquals(160 - 84, refreshed.size(), "one lookup per bucket from the closest neighbour's outwards");
        assertEquals(84, refreshed.get(0));
        assertFalse(refreshed.contains(83));
    }

    /**
     * A node lookup finds the same owners as the membership placement, from any node; a node's local view (owners
     * answered from its own buckets, no messages) is exact for keys in its own neighbourhood.
     */
    @Test
    void lookupsFindTheOwnersOfTheMembershipPlacement() {
        SimNetwork net = network(60, KademliaConfig.paper(), 4);
        List<String> members = net.live().stream().map(n -> n.self().address()).toList();
        KademliaPlacement placement = KademliaPlacement.of(members);
        for (int i = 0; i < 30; i++) {
            String key = "key-" + i;
            Kademlia from = net.live().get((i * 7) % 60);
            Kademlia.NodesFound found = (Kademlia.NodesFound) await(net, from, from.findNode(NodeId.sha1(key)));
            List<Contact> withSelf = new ArrayList<>(found.closest());
            withSelf.add(from.self());
            withSelf.sort((a, b) -> NodeId.compareDistance(a.id(), b.id(), NodeId.sha1(key)));
            assertEquals(placement.owners(key, 3), withSelf.subList(0, 3).stream().map(Contact::address).toList());
            String primary = placement.owner(key);
            assertEquals(placement.owners(key, 3), net.node(primary).owners(key, 3), "the primary's own view");
            assertTrue(placement.members().containsAll(from.members()));
        }
    }
}
