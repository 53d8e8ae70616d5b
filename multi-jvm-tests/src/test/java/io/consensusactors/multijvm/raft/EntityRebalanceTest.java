package io.consensusactors.multijvm.raft;

import io.consensusactors.entity.ConsensusEntities;
import io.consensusactors.entity.EntityRef;
import io.consensusactors.entity.RegisterWorkload;
import io.consensusactors.entity.TestRegister;
import io.consensusactors.multijvm.NodeCluster;
import io.consensusactors.multijvm.PrintLogsOnFailure;
import io.consensusactors.raft.actor.RaftHost;
import io.consensusactors.raft.actor.RaftMember;
import io.consensusactors.raft.core.ReadConsistency;
import io.consensusactors.raft.core.Role;
import io.consensusactors.sharding.ring.HashRing;
import io.consensusactors.testkit.linearizability.CheckResult;
import io.consensusactors.testkit.linearizability.KvModel;
import io.consensusactors.testkit.linearizability.LinearizabilityChecker;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Rebalancing across real JVMs: node1..node3 (the initial nodes) host 8 register shards × 3 replicas; this JVM writes
 * and reads LINEARIZABLE through {@link EntityRef}s without pause while node4 starts (its groups arrive by
 * learner → catch-up → joint consensus) and node3 is then stopped with SIGTERM (its coordinated shutdown leaves the
 * cluster and waits until its replicas moved; SIGKILL only if it has not exited after 70 s).
 *
 * <p>Properties: every acknowledged put survives (final value, or the previous value of a later acknowledged put);
 * the history of puts and LINEARIZABLE gets is linearizable per register (no two leaders served one entity at once
 * for these operations); every put completes (retried if an attempt fails); after each change every group's voters
 * are the ring's owners over the live members, and node3 is in no configuration at the end.
 */
@ExtendWith(PrintLogsOnFailure.class)
class EntityRebalanceTest implements PrintLogsOnFailure.HasCluster {

    static final int KEYS = 16;

    private NodeCluster cluster;

    @Override
    public NodeCluster cluster() {
        return cluster;
    }

    static Map<String, ActorRef<RaftHost.Command>> hosts(ActorSystem<?> system) throws Exception {
        Receptionist.Listing listing = AskPattern.<Receptionist.Command, Receptionist.Listing>ask(system.receptionist(),
                        r -> Receptionist.find(RaftHost.SERVICE_KEY, r), Duration.ofSeconds(3), system.scheduler())
                .toCompletableFuture().get(5, TimeUnit.SECONDS);
        Map<String, ActorRef<RaftHost.Command>> hosts = new HashMap<>();
        for (ActorRef<RaftHost.Command> ref : listing.getServiceInstances(RaftHost.SERVICE_KEY)) {
            if (ref.path().name().startsWith("raft-")) {
                hosts.put(ref.path().name().substring(5), ref);
            }
        }
        return hosts;
    }

    /** The configuration held by the group's leader of the highest term among the given nodes, or null. */
    static RaftMember.Status leaderStatus(ActorSystem<?> system, Map<String, ActorRef<RaftHost.Command>> hosts,
                                          Set<String> nodes, String group) {
        List<CompletableFuture<RaftMember.Status>> asks = new ArrayList<>();
        for (String n : nodes) {
            ActorRef<RaftHost.Command> h = hosts.get(n);
            if (h != null) {
                asks.add(AskPattern.<RaftHost.Command, RaftMember.Status>ask(h, r -> new RaftHost.GetMemberStatus(group, r),
                        Duration.ofSeconds(2), system.scheduler()).toCompletableFuture().exceptionally(t -> null));
            }
        }
        RaftMember.Status best = null;
        for (CompletableFuture<RaftMember.Status> f : asks) {
            RaftMember.Status s = f.join();
            if (s != null && s.role() == Role.LEADER && (best == null || s.term() > best.term())) {
                best = s;
            }
        }
        return best;
    }

    static boolean settled(ActorSystem<?> system, Set<String> members, Map<String, Set<String>> seen) {
        try {
            Map<String, ActorRef<RaftHost.Command>> hosts = hosts(system);
            HashRing ring = HashRing.ofIds(128, members);
            for (int s = 0; s < TestRegister.TYPE.shards(); s++) {
                String g = TestRegister.TYPE.groupId(s);
                RaftMember.Status st = leaderStatus(system, hosts, members, g);
                if (st == null || st.joint() || !st.learners().isEmpty()) {
                    return false;
                }
                seen.put(g, st.voters());
                if (!st.voters().equals(new TreeSet<>(ring.owners(g, TestRegister.TYPE.replicas())))) {
                    return false;
                }
            }
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void everyAcknowledgedWriteSurvivesANodeJoiningAndANodeLeaving() throws Exception {
        try (NodeCluster c = new NodeCluster("entity-rebalance", 4, false, RaftKvNode.REBALANCE)) {
            this.cluster = c;
            for (int i = 1; i <= 3; i++) {
                c.start(c.node(i));
            }
            ActorSystem<Void> system = RaftLeaderKillTest.clientSystem(c.node(1));
            try {
                // not in the initial nodes and replica-host = auto here: this JVM is a client only
                ConsensusEntities entities = ConsensusEntities.start(system, "client",
                        List.copyOf(new TreeSet<>(RaftKvNode.VOTERS)), List.of(TestRegister.TYPE));
                Duration formed = NodeCluster.timeUntil("every register answers", Duration.ofSeconds(120), () -> {
                    try {
                        for (int k = 0; k < KEYS; k++) {
                            entities.entityRefFor(TestRegister.TYPE, "k" + k).ask(new TestRegister.Get(),
                                    ReadConsistency.LINEARIZABLE).toCompletableFuture().get(10, TimeUnit.SECONDS);
                        }
                        return true;
                    } catch (Exception e) {
                        return false;
                    }
                });
                c.recordTiming("3 entity JVMs started to every register answering", formed);

                RegisterWorkload load = new RegisterWorkload(6, KEYS, Duration.ofSeconds(60), w -> entities);
                NodeCluster.await("writes flow", Duration.ofSeconds(60), () -> load.puts() > 50);

                Map<String, Set<String>> configs = new HashMap<>();
                c.start(c.node(4));
                Duration joined = NodeCluster.timeUntil("every group's voters are the ring's owners over node1..node4",
                        Duration.ofSeconds(180), () -> settled(system, Set.of("node1", "node2", "node3", "node4"), configs));
                c.recordTiming("node4 started to every group on its ring owners", joined);
                assertTrue(configs.values().stream().anyMatch(v -> v.contains("node4")), "node4 got replicas: " + configs);
                int putsAfterJoin = load.puts();

                NodeCluster.Node node3 = c.node(3);
                long t0 = System.nanoTime();
                Process term = new ProcessBuilder("kill", "-TERM", String.valueOf(node3.pid())).inheritIO().start();
                assertTrue(term.waitFor() == 0, "kill -TERM node3");
                boolean exited = node3.pid() > 0 && waitExit(node3, Duration.ofSeconds(70));
                if (!exited) {
                    c.sigkill(node3);
                }
                c.recordTiming("SIGTERM of node3 to its JVM exit (" + (exited ? "graceful hand-off" : "SIGKILLed") + ")",
                        Duration.ofNanos(System.nanoTime() - t0));
                // the graceful leave handed every replica over before node3 exited (its rebalancer says so in its log)
                String log3 = java.nio.file.Files.readString(c.logDir().resolve("node3.log"));
                assertTrue(log3.contains("rebalancer node3: hand-off done, local groups left: []"),
                        "node3 exited before handing all its replicas over");
                Duration left = NodeCluster.timeUntil("every group's voters are the ring's owners over node1, node2, node4",
                        Duration.ofSeconds(180), () -> settled(system, Set.of("node1", "node2", "node4"), configs));
                c.recordTiming("node3 exited to every group on its ring owners", left);
                for (Map.Entry<String, Set<String>> e : configs.entrySet()) {
                    assertFalse(e.getValue().contains("node3"), "node3 still a voter of " + e.getKey());
                }
                NodeCluster.await("more writes after node3 left", Duration.ofSeconds(60), () -> load.puts() > putsAfterJoin + 50);

                load.stop(Duration.ofSeconds(240));
                Map<String, String> last = load.finalReads(entities);
                int checked = load.assertAcknowledgedPutsSurvive(last);
                CheckResult verdict = LinearizabilityChecker.assertLinearizable(new KvModel(), load.history().history(),
                        Duration.ofSeconds(120));
                System.out.printf("[multi-jvm] %d puts (%d checked for survival, %d attempts retried), %d linearizable "
                        + "gets, verdict %s, load %s%n", load.puts(), checked, load.retries(), load.gets(), verdict.verdict(),
                        java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim());
                assertTrue(verdict.ok(), "the checker must reach a verdict: " + verdict);
                assertTrue(load.puts() > 100, "puts were made");
            } finally {
                system.terminate();
                system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
            }
        }
    }

    static boolean waitExit(NodeCluster.Node n, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (n.isAlive()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(200);
        }
        return true;
    }
}
