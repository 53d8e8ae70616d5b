package io.consensusactors.raft.actor;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.consensusactors.persistence.PersistenceSettings;
import io.consensusactors.persistence.SchemaInitializer;
import io.consensusactors.raft.core.ReadConsistency;
import io.consensusactors.raft.core.Role;
import io.consensusactors.statemachine.KeyValueStateMachine;
import io.consensusactors.testkit.linearizability.CheckResult;
import io.consensusactors.testkit.linearizability.HistoryRecorder;
import io.consensusactors.testkit.linearizability.KvModel;
import io.consensusactors.testkit.linearizability.LinearizabilityChecker;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Three Raft members (three hosts) in one ActorSystem, event-sourced to an H2 file. */
class RaftActorsTest {

    static final Set<String> NODES = Set.of("a", "b", "c");

    @TempDir
    Path dataDir;

    static Config config(Config persistence) {
        Config app = persistence.withFallback(ConfigFactory.parseString("""
                pekko.loglevel = WARNING
                pekko.actor.provider = local
                consensus-actors.raft.tick-interval = 20ms
                # small, so that a restart recovers from node-log checkpoints (DurableLog.toStored/fromStored) after
                # deleted events and from compacted logs, not only from replayed events
                consensus-actors.raft.journal-checkpoint-every = 16
                consensus-actors.raft.compact-after-entries = 48
                """));
        return PersistenceSettings.forNode(app).withFallback(app).withFallback(ConfigFactory.load());
    }

    static Map<String, ActorRef<RaftHost.Command>> startHosts(ActorTestKit kit, RaftSettings settings) {
        return startHosts(kit, settings, "g1");
    }

    static Map<String, ActorRef<RaftHost.Command>> startHosts(ActorTestKit kit, RaftSettings settings, String group) {
        java.util.HashMap<String, ActorRef<RaftHost.Command>> hosts = new java.util.HashMap<>();
        for (String n : NODES) {
            hosts.put(n, kit.spawn(RaftHost.create(n, settings, g -> new KeyValueStateMachine()), RaftHost.actorName(n)));
        }
        for (ActorRef<RaftHost.Command> h : hosts.values()) {
            h.tell(new RaftHost.StartGroup(group, NODES));
        }
        return hosts;
    }

    static String str(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    static <T> T await(java.util.concurrent.CompletionStage<T> s) throws Exception {
        return s.toCompletableFuture().get(20, TimeUnit.SECONDS);
    }

    static RaftMember.Status status(ActorTestKit kit, ActorRef<RaftHost.Command> host) {
        TestProbe<RaftMember.Status> probe = kit.createTestProbe();
        host.tell(new RaftHost.ToMember("g1", new RaftMember.GetStatus(probe.getRef())));
        return probe.receiveMessage(Duration.ofSeconds(5));
    }

    /** The status of the local member of g1, or null while the host has none (a learner starts on first contact). */
    static RaftMember.Status statusOrNull(ActorTestKit kit, ActorRef<RaftHost.Command> host) {
        TestProbe<RaftMember.Status> probe = kit.createTestProbe();
        host.tell(new RaftHost.ToMember("g1", new RaftMember.GetStatus(probe.getRef())));
        try {
            return probe.receiveMessage(Duration.ofSeconds(1));
        } catch (AssertionError e) {
            return null;
        }
    }

    @Test
    void concurrentWritesAndReadsAreLinearizableAndSurviveAFullRestart() throws Exception {
        writeThenRestart(config(PersistenceSettings.h2(dataDir, "raft-actors")), "g1");
    }

    @Test
    @org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable(named = "CA_PG_URL", matches = ".+")
    void onPostgresConcurrentWritesAndReadsAreLinearizableAndSurviveAFullRestart() throws Exception {
        String env = System.getenv("CA_PG_USER");
        String pw = System.getenv("CA_PG_PASSWORD");
        writeThenRestart(config(PersistenceSettings.postgres(System.getenv("CA_PG_URL"), env == null ? "" : env,
                pw == null ? "" : pw)), "pg" + System.currentTimeMillis());
    }

    private void writeThenRestart(Config cfg, String group) throws Exception {
        SchemaInitializer.createIfNotExists(cfg);
        ActorTestKit kit = ActorTestKit.create("raft1", cfg);
        RaftSettings settings = RaftSettings.from(kit.system().settings().config());
        HistoryRecorder<KvModel.Op, String> history = new HistoryRecorder<>();
        try {
            startHosts(kit, settings, group);
            RaftClient client = RaftClient.create(kit.system(), settings);
            List<CompletableFuture<?>> all = new ArrayList<>();
            for (int c = 0; c < 8; c++) {
                int clientNo = c;
                CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
                for (int i = 0; i < 25; i++) {
                    String key = "k" + (i % 3);
                    String value = "c" + clientNo + "-" + i;
                    boolean write = i % 2 == 0;
                    chain = chain.thenCompose(x -> {
                        KvModel.Op op = write ? KvModel.Op.put(key, value) : KvModel.Op.get(key);
                        HistoryRecorder.Pending<KvModel.Op, String> p = history.invoke(clientNo, op);
                        var f = write ? client.propose(group, KeyValueStateMachine.put(key, value))
                                : client.read(group, KeyValueStateMachine.get(key), ReadConsistency.LINEARIZABLE);
                        return f.handle((r, e) -> {
                            if (e == null) {
                                p.ok(str(r));
                            } else {
                                p.unknown();
                            }
                            return null;
                        });
                    });
                }
                all.add(chain.toCompletableFuture());
            }
            CompletableFuture.allOf(all.toArray(new CompletableFuture[0])).get(60, TimeUnit.SECONDS);
            CheckResult r = LinearizabilityChecker.check(new KvModel(), history.history());
            assertTrue(r.ok(), "linearizability of 200 concurrent operations: " + r.explanation());
        } finally {
            kit.shutdownTestKit();
        }
        // every acknowledged write survives stopping the whole system: a new one recovers it from H2
        ActorTestKit kit2 = ActorTestKit.create("raft2", cfg);
        try {
            startHosts(kit2, settings, group);
            RaftClient client = RaftClient.create(kit2.system(), settings);
            for (int k = 0; k < 3; k++) {
                String key = "k" + k;
                // reads after the restart join the history: it must stay linearizable, i.e. every key shows the
                // effect of all acknowledged writes (a lost or rolled-back write makes the history illegal)
                for (ReadConsistency consistency : List.of(ReadConsistency.LINEARIZABLE, ReadConsistency.LEASE)) {
                    HistoryRecorder.Pending<KvModel.Op, String> p = history.invoke(99, KvModel.Op.get(key));
                    p.ok(str(await(client.read(group, KeyValueStateMachine.get(key), consistency))));
                }
            }
            CheckResult after = LinearizabilityChecker.check(new KvModel(), history.history());
            assertTrue(after.ok(), "history including reads after a full restart is linearizable: " + after.explanation());
        } finally {
            kit2.shutdownTestKit();
        }
    }

    @Test
    void leadershipTransferAndMembershipThroughTheClient() throws Exception {
        Config cfg = config(PersistenceSettings.h2InMemory("raft-admin-" + System.nanoTime()));
        SchemaInitializer.createIfNotExists(cfg);
        ActorTestKit kit = ActorTestKit.create("raft3", cfg);
        try {
            RaftSettings settings = RaftSettings.from(kit.system().settings().config());
            Map<String, ActorRef<RaftHost.Command>> hosts = startHosts(kit, settings);
            RaftClient client = RaftClient.create(kit.system(), settings);
            await(client.propose("g1", KeyValueStateMachine.put("x", "1")));
            String leader = await(client.cachedLeader("g1"));
            String target = NODES.stream().filter(n -> !n.equals(leader)).sorted().findFirst().orElseThrow();
            await(client.transferLeadership("g1", target));
            long deadline = System.currentTimeMillis() + 10_000;
            while (status(kit, hosts.get(target)).role() != Role.LEADER && System.currentTimeMillis() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(Role.LEADER, status(kit, hosts.get(target)).role(), "transfer made " + target + " the leader");
            assertEquals("1", str(await(client.read("g1", KeyValueStateMachine.get("x"), ReadConsistency.LINEARIZABLE))));

            // a fourth node joins as a learner, catches up, and is promoted by joint consensus
            ActorRef<RaftHost.Command> d = kit.spawn(RaftHost.create("d", settings, g -> new KeyValueStateMachine()),
                    RaftHost.actorName("d"));
            await(client.changeMembership("g1", NODES, Set.of("d")));
            deadline = System.currentTimeMillis() + 30_000; // generous: CI machines are slow and shared
            while (System.currentTimeMillis() < deadline) {
                try {
                    await(client.changeMembership("g1", Set.of("a", "b", "c", "d"), Set.of()));
                    break;
                } catch (Exception e) {
                    Thread.sleep(50); // not caught up yet, or the learner change still committing
                }
            }
            deadline = System.currentTimeMillis() + 30_000;
            for (RaftMember.Status s = statusOrNull(kit, d);
                 (s == null || s.voters().size() != 4 || s.joint()) && System.currentTimeMillis() < deadline;
                 s = statusOrNull(kit, d)) {
                Thread.sleep(20);
            }
            RaftMember.Status sd = status(kit, d);
            assertEquals(Set.of("a", "b", "c", "d"), sd.voters(), "d is a voter");
            assertTrue(!sd.joint(), "the joint phase ended");
            assertEquals("1", str(await(client.read("g1", KeyValueStateMachine.get("x"), ReadConsistency.STALE))));
        } finally {
            kit.shutdownTestKit();
        }
    }
}
