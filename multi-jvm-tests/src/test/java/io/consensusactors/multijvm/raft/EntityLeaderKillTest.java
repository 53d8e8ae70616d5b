package io.consensusactors.multijvm.raft;

import io.consensusactors.entity.ConsensusEntities;
import io.consensusactors.entity.EntityRef;
import io.consensusactors.entity.TestAccount;
import io.consensusactors.multijvm.NodeCluster;
import io.consensusactors.multijvm.PrintLogsOnFailure;
import io.consensusactors.raft.core.ReadConsistency;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Consensus-backed accounts on three node JVMs, used from this JVM through {@link EntityRef}s. Transfers run while
 * the node leading the most-used shard is SIGKILLed; afterwards the bank total is conserved exactly (every
 * acknowledged withdrawal was deposited) and every account answers linearizable reads.
 */
@ExtendWith(PrintLogsOnFailure.class)
class EntityLeaderKillTest implements PrintLogsOnFailure.HasCluster {

    private NodeCluster cluster;

    @Override
    public NodeCluster cluster() {
        return cluster;
    }

    @Test
    void bankTotalIsConservedWhenAShardLeaderIsKilled() throws Exception {
        try (NodeCluster c = new NodeCluster("entity-leader-kill", 3, false, RaftKvNode.ENTITIES)) {
            this.cluster = c;
            for (NodeCluster.Node n : c.nodes()) {
                c.start(n);
            }
            ActorSystem<Void> system = RaftLeaderKillTest.clientSystem(c.node(1));
            try {
                ConsensusEntities entities = ConsensusEntities.start(system, "client",
                        List.copyOf(new java.util.TreeSet<>(RaftKvNode.VOTERS)), List.of(RaftKvNode.LEDGER));
                int accounts = 18;
                List<EntityRef<TestAccount.Command>> refs = new ArrayList<>();
                for (int i = 0; i < accounts; i++) {
                    refs.add(entities.entityRefFor(RaftKvNode.LEDGER, "acct-" + i));
                }
                Duration formed = NodeCluster.timeUntil("every account is opened with 100", Duration.ofSeconds(120), () -> {
                    try {
                        for (EntityRef<TestAccount.Command> r : refs) {
                            TestAccount.Balance b = r.<TestAccount.Balance>ask(new TestAccount.GetBalance(),
                                    ReadConsistency.LINEARIZABLE).toCompletableFuture().get(10, TimeUnit.SECONDS);
                            if (b.balance() == 0) {
                                r.ask(new TestAccount.Deposit(100)).toCompletableFuture().get(10, TimeUnit.SECONDS);
                            }
                        }
                        return true;
                    } catch (Exception e) {
                        return false;
                    }
                });
                c.recordTiming("3 entity JVMs started to 18 accounts opened", formed);

                AtomicBoolean stop = new AtomicBoolean();
                AtomicInteger transfers = new AtomicInteger();
                AtomicLong inDoubt = new AtomicLong(); // withdrawn, deposit outcome unknown
                List<CompletableFuture<Void>> workers = new ArrayList<>();
                for (int w = 0; w < 6; w++) {
                    workers.add(CompletableFuture.runAsync(() -> {
                        while (!stop.get()) {
                            int from = ThreadLocalRandom.current().nextInt(accounts);
                            int to = (from + 1 + ThreadLocalRandom.current().nextInt(accounts - 1)) % accounts;
                            long amount = 1 + ThreadLocalRandom.current().nextInt(20);
                            try {
                                refs.get(from).ask(new TestAccount.Withdraw(amount)).toCompletableFuture().get(60, TimeUnit.SECONDS);
                            } catch (Exception e) {
                                if (!(e.getCause() instanceof io.consensusactors.entity.EntityRejectedException)) {
                                    inDoubt.addAndGet(amount); // the withdrawal may or may not have happened
                                }
                                continue;
                            }
                            // the withdrawal is acknowledged: the deposit must happen (exactly-once retries inside)
                            boolean deposited = false;
                            for (int attempt = 0; attempt < 5 && !deposited; attempt++) {
                                try {
                                    refs.get(to).ask(new TestAccount.Deposit(amount)).toCompletableFuture().get(60, TimeUnit.SECONDS);
                                    deposited = true;
                                } catch (Exception e) {
                                    // unknown: retrying could double-deposit across sessions; count it as in doubt
                                    inDoubt.addAndGet(amount);
                                    break;
                                }
                            }
                            transfers.incrementAndGet();
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
                int before = transfers.get();
                c.sigkill(victim);
                Duration failover = NodeCluster.timeUntil("transfers flow again after " + victimName + " was killed",
                        Duration.ofSeconds(60), () -> transfers.get() > before + 30);
                c.recordTiming("SIGKILL of " + victimName + " (leader of " + leaders.get(victimName)
                        + " shards) to 30 more transfers", failover);
                Thread.sleep(5000);
                stop.set(true);
                CompletableFuture.allOf(workers.toArray(new CompletableFuture[0])).get(180, TimeUnit.SECONDS);
                long total = 0;
                for (EntityRef<TestAccount.Command> r : refs) {
                    total += r.<TestAccount.Balance>ask(new TestAccount.GetBalance(), ReadConsistency.LINEARIZABLE)
                            .toCompletableFuture().get(30, TimeUnit.SECONDS).balance();
                }
                System.out.printf("[multi-jvm] %d transfers, %d in doubt, total %d%n", transfers.get(), inDoubt.get(), total);
                assertTrue(transfers.get() > 50, "transfers were made");
                assertEquals(0, inDoubt.get(), "with exactly-once retries inside the client no outcome stays unknown");
                assertEquals(100L * accounts, total, "bank total conserved");
            } finally {
                system.terminate();
                system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
            }
        }
    }
}
