package io.consensusactors.bench;

import io.consensusactors.sharding.kademlia.Contact;
import io.consensusactors.sharding.kademlia.KademliaPlacement;
import io.consensusactors.sharding.kademlia.NodeId;
import io.consensusactors.sharding.kademlia.RoutingTable;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Kademlia hot paths: the k = 20 closest contacts of a routing table that has seen 10,000 nodes (what every
 * FIND_NODE answer computes), a routing-table update, and the membership placement's 3 owners among 100 members.
 * Run: see docs/placement.md.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class KademliaBenchmark {

    RoutingTable table;
    NodeId[] targets;
    Contact[] seen;
    KademliaPlacement placement;
    byte[][] keys;
    int next;

    @Setup
    public void setUp() {
        SplittableRandom r = new SplittableRandom(1);
        NodeId self = NodeId.random(r);
        table = new RoutingTable(self, 20, 2, 20);
        List<Contact> all = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            Contact c = new Contact(NodeId.random(r), "node-" + i);
            all.add(c);
            table.observe(c);
        }
        targets = new NodeId[4096];
        seen = new Contact[4096];
        keys = new byte[4096][];
        for (int i = 0; i < targets.length; i++) {
            targets[i] = NodeId.random(r);
            seen[i] = table.all().get(r.nextInt(table.size()));
            keys[i] = ("account-" + i).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }
        List<String> members = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            members.add("pekko://bank@10.0.0." + i + ":25520");
        }
        placement = KademliaPlacement.of(members);
    }

    @Benchmark
    public List<Contact> closest20() {
        next = (next + 1) & (targets.length - 1);
        return table.closest(targets[next], 20, null);
    }

    @Benchmark
    public Contact observeKnownContact() {
        next = (next + 1) & (seen.length - 1);
        return table.observe(seen[next]);
    }

    @Benchmark
    public List<String> placementOwners3Of100() {
        next = (next + 1) & (keys.length - 1);
        return placement.owners(keys[next], 3);
    }
}
