package io.consensusactors.multijvm.raft;

import io.consensusactors.entity.ConsensusEntities;
import io.consensusactors.entity.EntityRef;
import io.consensusactors.entity.TestAccount;
import io.consensusactors.multijvm.NodeCluster;
import io.consensusactors.multijvm.PrintLogsOnFailure;
import io.consensusactors.raft.core.ReadConsistency;
import io.consensusactors.testkit.linearizability.CheckResult;
import io.consensusactors.testkit.linearizability.HistoryRecorder;
import io.consensusactors.testkit.linearizability.LinearizabilityChecker;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Durability of consensus-backed entities across a full-cluster crash: three node JVMs take deposits and withdrawals,
 * then ALL of them are SIGKILLed at once and restarted on their databases (an H2 file per node; in CI also one shared
 * PostgreSQL database). Every account must then answer linearizable reads that agree with every acknowledged write:
 * the whole history, before and after the crash, is checked for linearizability per account, so one lost
 * acknowledged deposit (or one applied twice) fails the test.
 */
@ExtendWith(PrintLogsOnFailure.class)
class EntityFullRestartTest implements PrintLogsOnFailure.HasCluster {

    private static final int ACCOUNTS = 8;

    private NodeCluster cluster;

    @Override
    public NodeCluster cluster() {
        return cluster;
    }

    @Test
    void everyAcknowledgedWriteSurvivesAFullClusterCrashOnH2() throws Exception {
        crashEverythingAndRecover("entity-full-restart-h2", RaftKvNode.ENTITIES);
    }

    @Test
    @EnabledIfEnvironmentVariable(named = "CA_PG_URL", matches = ".+")
    void everyAcknowledgedWriteSurvivesAFullClusterCrashOnPostgres() throws Exception {
        forgetEarlierLedgerGroups();
        crashEverythingAndRecover("entity-full-restart-pg", RaftKvNode.entities("multi-jvm-node-postgres.conf"));
    }

    private void crashEverythingAndRecover(String name, NodeCluster.Launcher launcher) throws Exception {
        // account ids unique per run: a PostgreSQL database outlives the test
        String prefix = "fr-" + Long.toString(System.currentTimeMillis(), 36) + "-";
        HistoryRecorder<AccountHistory.Op, Long> history = new HistoryRecorder<>();
        AtomicInteger acknowledged = new AtomicInteger();
        try (NodeCluster c = new NodeCluster(name, 3, false, launcher)) {
            this.cluster = c;
            for (NodeCluster.Node n : c.nodes()) {
                c.start(n);
            }
            ActorSystem<Void> system = RaftLeaderKillTest.clientSystem(c.node(1));
            try {
                List<EntityRef<TestAccount.Command>> refs = refs(system, prefix);
                c.recordTiming("3 entity JVMs started to every shard readable", awaitReadable(refs, prefix, history));
                AtomicBoolean stop = new AtomicBoolean();
                List<CompletableFuture<Void>> workers = new ArrayList<>();
                for (int w = 0; w < 6; w++) {
                    int client = w + 1;
                    workers.add(CompletableFuture.runAsync(() -> {
                        ThreadLocalRandom rnd = ThreadLocalRandom.current();
                        while (!stop.get()) {
                            int a = rnd.nextInt(ACCOUNTS);
                            AccountHistory.Op op = rnd.nextInt(3) < 2
                                    ? new AccountHistory.Op(prefix + a, "deposit", 1 + rnd.nextInt(9), null)
                                    : new AccountHistory.Op(prefix + a, "withdraw", 1 + rnd.nextInt(12), null);
                            try {
                                AccountHistory.run(refs.get(a), op, history, client, 20);
                                acknowledged.incrementAndGet();
                            } catch (Exception e) {
                                // recorded as unknown
                            }
                        }
                    }));
                }
                Thread.sleep(8000);
                // crash every node while writes are in flight
                for (NodeCluster.Node n : c.nodes()) {
                    c.sigkill(n);
                }
                stop.set(true);
                CompletableFuture.allOf(workers.toArray(new CompletableFuture[0])).get(120, TimeUnit.SECONDS);
            } finally {
                system.terminate();
                system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
            }
            int beforeCrash = acknowledged.get();

            // restart all three on the same databases; the old client system downed itself with the cluster
            for (NodeCluster.Node n : c.nodes()) {
                c.start(n);
            }
            ActorSystem<Void> system2 = RaftLeaderKillTest.clientSystem(c.node(1));
            try {
                List<EntityRef<TestAccount.Command>> refs = refs(system2, prefix);
                Duration recovered = awaitReadable(refs, prefix, history);
                c.recordTiming("full restart of 3 JVMs to every account readable", recovered);
                System.out.printf("[multi-jvm] %s: %d operations acknowledged before the crash, %d recorded%n",
                        name, beforeCrash, history.size());
                assertTrue(beforeCrash > 20, "writes were acknowledged before the crash");
                CheckResult r = LinearizabilityChecker.check(new AccountHistory.Model(), history.history(),
                        Duration.ofSeconds(120));
                assertTrue(r.ok(), "every acknowledged write survives the crash of all nodes (history linearizable): "
                        + r.explanation());
            } finally {
                system2.terminate();
                system2.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
            }
        }
    }

    /**
     * The test starts a new cluster, but a PostgreSQL database outlives test runs (a developer's): the node logs of
     * an earlier run's nodes (and per-member logs written by older code), must not be recovered into this one.
     */
    private static void forgetEarlierLedgerGroups() throws Exception {
        String user = System.getenv("CA_PG_USER");
        String password = System.getenv("CA_PG_PASSWORD");
        try (java.sql.Connection db = java.sql.DriverManager.getConnection(System.getenv("CA_PG_URL"),
                user == null ? "" : user, password == null ? "" : password);
             java.sql.Statement st = db.createStatement()) {
            for (String table : List.of("event_journal", "snapshot")) {
                if (db.getMetaData().getTables(null, "public", table, null).next()) {
                    st.executeUpdate("DELETE FROM public." + table + " WHERE persistence_id LIKE 'raft|"
                            + RaftKvNode.LEDGER.name() + "-%'");
                    for (String node : RaftKvNode.VOTERS) {
                        st.executeUpdate("DELETE FROM public." + table + " WHERE persistence_id = '"
                                + io.consensusactors.raft.actor.RaftNodeLog.persistenceId(node).id() + "'");
                    }
                }
            }
        }
    }

    private static List<EntityRef<TestAccount.Command>> refs(ActorSystem<Void> system, String prefix) {
        ConsensusEntities entities = ConsensusEntities.start(system, "client",
                List.copyOf(new java.util.TreeSet<>(RaftKvNode.VOTERS)), List.of(RaftKvNode.LEDGER));
        List<EntityRef<TestAccount.Command>> refs = new ArrayList<>();
        for (int i = 0; i < ACCOUNTS; i++) {
            refs.add(entities.entityRefFor(RaftKvNode.LEDGER, prefix + i));
        }
        return refs;
    }

    /** Waits until one linearizable read of every account succeeds; the reads join the checked history. */
    private static Duration awaitReadable(List<EntityRef<TestAccount.Command>> refs, String prefix,
                                          HistoryRecorder<AccountHistory.Op, Long> history) {
        return NodeCluster.timeUntil("every account answers a linearizable read", Duration.ofSeconds(120), () -> {
            try {
                for (int i = 0; i < ACCOUNTS; i++) {
                    AccountHistory.run(refs.get(i), new AccountHistory.Op(prefix + i, "get", 0,
                            ReadConsistency.LINEARIZABLE), history, 0, 10);
                }
                return true;
            } catch (Exception e) {
                return false;
            }
        });
    }
}
