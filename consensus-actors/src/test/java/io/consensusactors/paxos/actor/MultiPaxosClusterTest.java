package io.consensusactors.paxos.actor;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.consensusactors.persistence.PersistenceSettings;
import io.consensusactors.statemachine.StateMachine;
import io.consensusactors.testcluster.TestCluster;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static io.consensusactors.testcluster.TestCluster.eventually;
import static io.consensusactors.testcluster.TestCluster.upMembers;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Multi-Paxos over the real stack: three ActorSystems clustered over Artery (127.0.0.1, port 0), one
 * {@link MultiPaxosHost} each (nodes a, b, c), journals in one H2 file per node, one group "g" with a replica on every
 * node. Clients on all three nodes propose concurrently; the leader's ActorSystem is terminated mid-load. Properties
 * ("Paxos Made Simple" §3): every replica applies the same commands in the same order (state machine safety), each
 * command at most once (sessions), another member leads after the leader's loss and no acknowledged command is lost;
 * the terminated member, restarted on its H2 file, recovers its promise and accepted entries from the journal and
 * catches up with the log. Members compact every 20 slots and write the snapshot store every 20 events (deleting the
 * journal before it), so recovery goes through snapshot store + remaining events, and the restarted member, whose log
 * the others have truncated meanwhile, catches up by snapshot transfer.
 */
class MultiPaxosClusterTest {

    static final List<String> NODES = List.of("a", "b", "c");
    static final String GROUP = "g";
    static final String SYSTEM = "MultiPaxosClusterTest";
    /** Compaction every 20 applied slots and a snapshot-store write every 20 journal events (old events deleted). */
    static final MultiPaxosSettings SETTINGS = MultiPaxosSettings.defaults().withCompaction(20, 20);

    @TempDir
    Path dataDir;

    /** Commands applied by the current incarnation of each node's replica, in order. */
    final Map<String, List<String>> applied = new ConcurrentHashMap<>();

    /** Node {@code node}'s own settings (H2 file, downing) in front of {@link TestCluster#BASE}. */
    Config overlay(String node) {
        return ConfigFactory.parseString("""
                pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off
                pekko.cluster.run-coordinated-shutdown-when-down = off
                pekko.cluster.downing-provider-class = "org.apache.pekko.cluster.sbr.SplitBrainResolverProvider"
                pekko.cluster.split-brain-resolver.active-strategy = keep-majority
                pekko.cluster.split-brain-resolver.stable-after = 2s
                """).withFallback(PersistenceSettings.h2(dataDir, "multi-paxos-" + node));
    }

    StateMachine recorder(String node) {
        List<String> log = Collections.synchronizedList(new ArrayList<>());
        applied.put(node, log);
        return new StateMachine() {
            @Override
            public byte[] apply(long index, byte[] command) {
                log.add(new String(command, StandardCharsets.UTF_8));
                return ("ok:" + log.size()).getBytes(StandardCharsets.UTF_8);
            }

            @Override
            public byte[] query(byte[] query) {
                return new byte[0];
            }

            @Override
            public byte[] snapshot() {
                synchronized (log) {
                    return String.join("\n", log).getBytes(StandardCharsets.UTF_8);
                }
            }

            @Override
            public void restore(byte[] snapshot) {
                String s = new String(snapshot, StandardCharsets.UTF_8);
                synchronized (log) {
                    log.clear();
                    if (!s.isEmpty()) {
                        log.addAll(List.of(s.split("\n", -1)));
                    }
                }
            }
        };
    }

    ActorRef<MultiPaxosHost.Command> startHost(ActorTestKit kit, String node) {
        ActorRef<MultiPaxosHost.Command> host = kit.spawn(MultiPaxosHost.create(node, SETTINGS, g -> recorder(node)),
                MultiPaxosHost.actorName(node));
        host.tell(new MultiPaxosHost.StartGroup(GROUP, NODES));
        return host;
    }

    static MultiPaxosMember.Status status(ActorTestKit kit, ActorRef<MultiPaxosHost.Command> host) {
        TestProbe<MultiPaxosMember.Status> probe = kit.createTestProbe();
        host.tell(new MultiPaxosHost.GetMemberStatus(GROUP, probe.getRef()));
        try {
            return probe.receiveMessage(Duration.ofSeconds(3));
        } catch (AssertionError noAnswer) {
            return null;
        }
    }

    /** Every node's applied sequence is a prefix of the longest one (the same commands in the same order). */
    void assertPrefixes(Set<String> nodes) {
        List<String> longest = List.of();
        Map<String, List<String>> copies = new HashMap<>();
        for (String n : nodes) {
            List<String> c = List.copyOf(applied.get(n));
            copies.put(n, c);
            if (c.size() > longest.size()) {
                longest = c;
            }
        }
        for (Map.Entry<String, List<String>> e : copies.entrySet()) {
            assertEquals(longest.subList(0, e.getValue().size()), e.getValue(),
                    "node " + e.getKey() + " applied a different sequence");
        }
        assertEquals(longest.size(), new HashSet<>(longest).size(), "a command was applied twice: " + longest);
    }

    @Test
    void commandsFromEveryNodeAreAppliedInOneOrderSurviveTheLeadersLossAndARestartedMemberCatchesUp()
            throws Exception {
        Map<String, ActorRef<MultiPaxosHost.Command>> hosts = new LinkedHashMap<>();
        ExecutorService threads = Executors.newFixedThreadPool(3);
        TestCluster cluster = new TestCluster(SYSTEM, this::overlay);
        try {
            cluster.startAll(NODES);
            for (String n : NODES) {
                hosts.put(n, startHost(cluster.kit(n), n));
            }

            // one client per node, proposing concurrently
            Map<String, MultiPaxosClient> clients = new HashMap<>();
            for (String n : NODES) {
                clients.put(n, MultiPaxosClient.create(cluster.kit(n).system(), GROUP, Duration.ofSeconds(2),
                        Duration.ofSeconds(40)));
            }
            Set<String> acked = ConcurrentHashMap.newKeySet();
            Set<String> proposed = ConcurrentHashMap.newKeySet();
            AtomicBoolean stop = new AtomicBoolean();
            Map<String, AtomicBoolean> writerStopped = new HashMap<>();
            List<CompletableFuture<Void>> writers = new ArrayList<>();
            for (String n : NODES) {
                AtomicBoolean mine = new AtomicBoolean();
                writerStopped.put(n, mine);
                MultiPaxosClient client = clients.get(n);
                writers.add(CompletableFuture.runAsync(() -> {
                    for (int i = 0; !stop.get() && !mine.get(); i++) {
                        String c = n + "-" + i;
                        proposed.add(c);
                        try {
                            client.propose(c.getBytes(StandardCharsets.UTF_8)).toCompletableFuture()
                                    .get(60, TimeUnit.SECONDS);
                            acked.add(c);
                        } catch (Exception e) {
                            // outcome unknown (its node was terminated, or timeout): never counted as acknowledged
                        }
                    }
                }, threads));
            }
            eventually("30 commands acknowledged", Duration.ofSeconds(60), () -> acked.size() >= 30);
            assertPrefixes(Set.copyOf(NODES));

            // terminate the leader's whole ActorSystem mid-load
            String leader = null;
            for (String n : NODES) {
                MultiPaxosMember.Status s = status(cluster.kit(n), hosts.get(n));
                if (s != null && s.role().equals("LEADER")) {
                    leader = n;
                }
            }
            assertNotNull(leader, "a leader exists");
            MultiPaxosMember.Status before = status(cluster.kit(leader), hosts.get(leader));
            writerStopped.get(leader).set(true);
            cluster.stop(leader);
            hosts.remove(leader);
            Set<String> survivors = Set.copyOf(cluster.nodes());
            int ackedAtKill = acked.size();
            eventually("30 more commands acknowledged after the leader's loss", Duration.ofSeconds(60),
                    () -> acked.size() >= ackedAtKill + 30);
            String newLeader = null;
            for (String n : survivors) {
                MultiPaxosMember.Status s = status(cluster.kit(n), hosts.get(n));
                if (s != null && s.role().equals("LEADER")) {
                    newLeader = n;
                }
            }
            assertNotNull(newLeader, "a surviving member leads");

            // restart the terminated node on its H2 file: it recovers its acceptor state and catches up
            String restarted = leader;
            ActorTestKit again = cluster.start(restarted); // joins a survivor
            eventually("the restarted node is Up", Duration.ofSeconds(30), () -> upMembers(again.system()) == 3);
            hosts.put(restarted, startHost(again, restarted));
            MultiPaxosMember.Status recovered = status(again, hosts.get(restarted));
            assertNotNull(recovered);
            assertTrue(recovered.recoveredPromised().atLeast(before.durablePromised()),
                    "recovered promise " + recovered.recoveredPromised() + " >= " + before.durablePromised());
            assertTrue(recovered.recoveredSnapshotSlot() >= before.snapshotSlot() && before.snapshotSlot() > 0,
                    "recovered its compacted state at slot " + recovered.recoveredSnapshotSlot() + ", had "
                            + before.snapshotSlot());
            assertTrue(recovered.recoveredSnapshotSlot() + recovered.recoveredAccepted()
                            >= before.snapshotSlot() + Math.min(1, before.acceptedEntries()),
                    "recovered accepted entries above its snapshot: " + recovered);

            Thread.sleep(500); // a few more commands while the restarted member catches up
            stop.set(true);
            CompletableFuture.allOf(writers.toArray(new CompletableFuture[0])).get(90, TimeUnit.SECONDS);
            eventually("every replica applied the same sequence, with every acknowledged command",
                    Duration.ofSeconds(60), () -> {
                        List<String> ref = List.copyOf(applied.get(NODES.get(0)));
                        return ref.containsAll(acked) && NODES.stream().allMatch(n -> applied.get(n).equals(ref));
                    });
            assertPrefixes(Set.copyOf(NODES));
            assertTrue(proposed.containsAll(applied.get("a")), "only proposed commands are applied");
            MultiPaxosMember.Status caughtUp = status(again, hosts.get(restarted));
            assertNotNull(caughtUp);
            assertTrue(caughtUp.snapshotsReceived() > 0, "the restarted member, behind the others' truncation"
                    + " point, caught up by snapshot transfer: " + caughtUp);
            assertTrue(acked.size() >= ackedAtKill + 30);
        } finally {
            threads.shutdownNow();
            cluster.close();
        }
    }
}
