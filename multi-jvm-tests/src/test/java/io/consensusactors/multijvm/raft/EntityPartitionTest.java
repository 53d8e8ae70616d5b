package io.consensusactors.multijvm.raft;

import io.consensusactors.entity.ConsensusEntities;
import io.consensusactors.entity.EntityRef;
import io.consensusactors.entity.TestAccount;
import io.consensusactors.multijvm.Iptables;
import io.consensusactors.multijvm.NodeCluster;
import io.consensusactors.multijvm.PrintLogsOnFailure;
import io.consensusactors.raft.core.ReadConsistency;
import io.consensusactors.testkit.linearizability.CheckResult;
import io.consensusactors.testkit.linearizability.HistoryRecorder;
import io.consensusactors.testkit.linearizability.LinearizabilityChecker;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Consensus-backed accounts on three node JVMs (each in a network namespace of its own) while the node leading most
 * shards is cut off from the other two by iptables, but <em>not</em> from the client (this JVM): the client keeps talking to the old leader,
 * which is exactly when a second leader could serve stale linearizable or lease reads. Every deposit, withdrawal and
 * read (LINEARIZABLE and LEASE) is recorded and checked for linearizability per account; the majority side must keep
 * serving every account. Runs inside a private network namespace (tag "netns").
 */
@Tag("netns")
@ExtendWith(PrintLogsOnFailure.class)
class EntityPartitionTest implements PrintLogsOnFailure.HasCluster {

    private static final int ACCOUNTS = 12;

    /**
     * The split-brain resolver would down all three nodes here (each is both an observer and a subject of
     * unreachability while the client sees everyone), so it waits longer than the partition lasts: Raft alone must
     * keep the accounts safe, which is the point of the test.
     */
    private static final String NO_DOWNING = "pekko.cluster.split-brain-resolver.stable-after = 120s";

    private static final NodeCluster.Launcher WITHOUT_DOWNING = RaftKvNode.entities("multi-jvm-node-no-downing.conf");

    private NodeCluster cluster;

    @Override
    public NodeCluster cluster() {
        return cluster;
    }

    @AfterEach
    void heal() throws Exception {
        if (Iptables.available()) {
            Iptables.heal();
        }
    }

    @Test
    void linearizableAndLeaseReadsStayLinearizableWhenAShardLeaderIsPartitionedFromItsFollowers() throws Exception {
        assumeTrue(Iptables.available(), Iptables.unavailableReason());
        try (NodeCluster c = new NodeCluster("entity-partition", 3, true, WITHOUT_DOWNING)) {
            this.cluster = c;
            for (NodeCluster.Node n : c.nodes()) {
                c.start(n);
            }
            ActorSystem<Void> system = RaftLeaderKillTest.clientSystem(c.node(1), c.clientHost(), NO_DOWNING);
            try {
                ConsensusEntities entities = ConsensusEntities.start(system, "client",
                        List.copyOf(new java.util.TreeSet<>(RaftKvNode.VOTERS)), List.of(RaftKvNode.LEDGER));
                List<EntityRef<TestAccount.Command>> refs = new ArrayList<>();
                for (int i = 0; i < ACCOUNTS; i++) {
                    refs.add(entities.entityRefFor(RaftKvNode.LEDGER, "p-acct-" + i));
                }
                HistoryRecorder<AccountHistory.Op, Long> history = new HistoryRecorder<>();
                Duration formed = NodeCluster.timeUntil("every shard answers a linearizable read",
                        Duration.ofSeconds(120), () -> {
                            try {
                                for (int i = 0; i < ACCOUNTS; i++) {
                                    AccountHistory.run(refs.get(i), new AccountHistory.Op("p-acct-" + i, "get", 0, ReadConsistency.LINEARIZABLE),
                                            history, 0, 10);
                                }
                                return true;
                            } catch (Exception e) {
                                return false;
                            }
                        });
                c.recordTiming("3 entity JVMs started to every shard readable", formed);

                AtomicBoolean stop = new AtomicBoolean();
                AtomicInteger acknowledged = new AtomicInteger();
                List<CompletableFuture<Void>> workers = new ArrayList<>();
                for (int w = 0; w < 6; w++) {
                    int client = w + 1;
                    workers.add(CompletableFuture.runAsync(() -> {
                        ThreadLocalRandom rnd = ThreadLocalRandom.current();
                        while (!stop.get()) {
                            int a = rnd.nextInt(ACCOUNTS);
                            int k = rnd.nextInt(6);
                            AccountHistory.Op op = switch (k) {
                                case 0, 1 -> new AccountHistory.Op("p-acct-" + a, "deposit", 1 + rnd.nextInt(9), null);
                                case 2 -> new AccountHistory.Op("p-acct-" + a, "withdraw", 1 + rnd.nextInt(12), null);
                                case 3, 4 -> new AccountHistory.Op("p-acct-" + a, "get", 0, ReadConsistency.LINEARIZABLE);
                                default -> new AccountHistory.Op("p-acct-" + a, "get", 0, ReadConsistency.LEASE);
                            };
                            try {
                                AccountHistory.run(refs.get(a), op, history, client, 20);
                                acknowledged.incrementAndGet();
                            } catch (Exception e) {
                                // recorded as unknown; keep going
                            }
                        }
                    }));
                }
                Thread.sleep(5000);
                Map<String, Integer> leaders = new TreeMap<>();
                for (int s = 0; s < RaftKvNode.LEDGER.shards(); s++) {
                    String l = entities.raftClient().cachedLeader(RaftKvNode.LEDGER.groupId(s)).toCompletableFuture().get();
                    if (l != null) {
                        leaders.merge(l, 1, Integer::sum);
                    }
                }
                String victimName = leaders.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
                NodeCluster.Node victim = c.nodes().stream().filter(n -> n.name.equals(victimName)).findFirst().orElseThrow();
                List<NodeCluster.Node> others = c.nodes().stream().filter(n -> n != victim).toList();
                int before = acknowledged.get();
                Iptables.partition(List.of(victim), others);
                Duration failover = NodeCluster.timeUntil("operations flow again after " + victimName
                        + " was cut off from the other nodes", Duration.ofSeconds(60), () -> acknowledged.get() > before + 100);
                c.recordTiming("partition of " + victimName + " (leader of " + leaders.get(victimName)
                        + " shards, still reachable by the client) to 100 more operations", failover);
                Thread.sleep(8000);
                int duringPartition = acknowledged.get() - before;
                Iptables.heal();
                Thread.sleep(4000);
                stop.set(true);
                CompletableFuture.allOf(workers.toArray(new CompletableFuture[0])).get(180, TimeUnit.SECONDS);

                // the majority side serves every account after the partition (liveness), and the final reads join
                // the history that is checked
                for (int i = 0; i < ACCOUNTS; i++) {
                    EntityRef<TestAccount.Command> ref = refs.get(i);
                    AccountHistory.Op read = new AccountHistory.Op("p-acct-" + i, "get", 0, ReadConsistency.LINEARIZABLE);
                    NodeCluster.await("account " + read.account() + " is served after the partition", Duration.ofSeconds(60), () -> {
                        try {
                            AccountHistory.run(ref, read, history, 99, 10);
                            return true;
                        } catch (Exception e) {
                            return false;
                        }
                    });
                }
                System.out.printf("[multi-jvm] %d operations acknowledged (%d during the partition), %d recorded%n",
                        acknowledged.get(), duringPartition, history.size());
                assertTrue(duringPartition > 100, "the majority side kept serving during the partition");
                CheckResult r = LinearizabilityChecker.check(new AccountHistory.Model(), history.history(), Duration.ofSeconds(120));
                assertTrue(r.ok(), "linearizability of deposits, withdrawals, linearizable and lease reads: " + r.explanation());
            } finally {
                system.terminate();
                system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
            }
        }
    }
}
