package io.consensusactors.multijvm.raft;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.consensusactors.multijvm.NodeCluster;
import io.consensusactors.multijvm.PrintLogsOnFailure;
import io.consensusactors.raft.actor.RaftClient;
import io.consensusactors.raft.actor.RaftHost;
import io.consensusactors.raft.actor.RaftMember;
import io.consensusactors.raft.actor.RaftSettings;
import io.consensusactors.raft.core.ReadConsistency;
import io.consensusactors.statemachine.KeyValueStateMachine;
import io.consensusactors.testkit.linearizability.CheckResult;
import io.consensusactors.testkit.linearizability.HistoryRecorder;
import io.consensusactors.testkit.linearizability.KvModel;
import io.consensusactors.testkit.linearizability.LinearizabilityChecker;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Three real node JVMs host the Raft group "kv"; this JVM joins the cluster as a client and runs a write/read load.
 * The leader's JVM is SIGKILLed under load and later restarted on its H2 file. Every acknowledged write must survive
 * (read back after the fault), the recorded history must be linearizable, and the restarted member must catch up.
 */
@org.junit.jupiter.api.extension.ExtendWith(PrintLogsOnFailure.class)
class RaftLeaderKillTest implements PrintLogsOnFailure.HasCluster {

    private NodeCluster cluster;

    @Override
    public NodeCluster cluster() {
        return cluster;
    }

    static String str(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    @Test
    void noAcknowledgedWriteIsLostWhenTheLeaderIsKilledAndReadsStayLinearizable() throws Exception {
        try (NodeCluster cluster = new NodeCluster("raft-leader-kill", 3, false, RaftKvNode.LAUNCHER)) {
            this.cluster = cluster;
            for (NodeCluster.Node n : cluster.nodes()) {
                cluster.start(n);
            }
            ActorSystem<Void> system = clientSystem(cluster.node(1));
            try {
                RaftSettings settings = RaftSettings.from(system.settings().config());
                RaftClient client = RaftClient.create(system, settings);
                Duration formed = NodeCluster.timeUntil("the group commits a first write", Duration.ofSeconds(90), () -> {
                    try {
                        client.propose(RaftKvNode.GROUP, KeyValueStateMachine.put("hello", "world"))
                                .toCompletableFuture().get(5, TimeUnit.SECONDS);
                        return true;
                    } catch (Exception e) {
                        return false;
                    }
                });
                cluster.recordTiming("3 JVMs started to first committed write", formed);

                HistoryRecorder<KvModel.Op, String> history = new HistoryRecorder<>();
                Map<String, String> acked = new ConcurrentHashMap<>();
                AtomicBoolean stop = new AtomicBoolean();
                AtomicInteger ops = new AtomicInteger();
                List<CompletableFuture<Void>> workers = new ArrayList<>();
                for (int w = 0; w < 8; w++) {
                    workers.add(worker(w, client, history, acked, stop, ops));
                }
                Thread.sleep(5000);
                String leader = client.cachedLeader(RaftKvNode.GROUP).toCompletableFuture().get();
                NodeCluster.Node victim = cluster.nodes().stream().filter(n -> n.name.equals(leader)).findFirst().orElseThrow();
                int before = ops.get();
                cluster.sigkill(victim);
                long killedAt = System.nanoTime();
                Duration failover = NodeCluster.timeUntil("writes succeed again after the leader was killed",
                        Duration.ofSeconds(60), () -> ops.get() > before + 20 && !leader.equals(cachedLeader(client)));
                cluster.recordTiming("SIGKILL of leader " + leader + " to writes flowing again", failover);
                // restart the killed node on its H2 file once the cluster removed its old incarnation
                Thread.sleep(Math.max(0, 12_000 - (System.nanoTime() - killedAt) / 1_000_000));
                cluster.start(victim);
                Thread.sleep(8000);
                stop.set(true);
                CompletableFuture.allOf(workers.toArray(new CompletableFuture[0])).get(120, TimeUnit.SECONDS);
                System.out.printf("[multi-jvm] %d operations, %d acknowledged unique writes%n", ops.get(), acked.size());

                // no acknowledged write lost
                for (Map.Entry<String, String> e : acked.entrySet()) {
                    String got = str(client.read(RaftKvNode.GROUP, KeyValueStateMachine.get(e.getKey()),
                            ReadConsistency.LINEARIZABLE).toCompletableFuture().get(30, TimeUnit.SECONDS));
                    assertEquals(e.getValue(), got, "acknowledged write " + e.getKey() + " survives the leader's death");
                }
                CheckResult r = LinearizabilityChecker.check(new KvModel(), history.history(), Duration.ofSeconds(60));
                assertTrue(r.ok(), "linearizability: " + r.explanation());

                // the restarted member recovered from its journal and caught up
                NodeCluster.await("restarted " + victim.name + " catches up", Duration.ofSeconds(60), () -> {
                    RaftMember.Status s = status(system, victim.name);
                    RaftMember.Status l = status(system, cachedLeader(client));
                    return s != null && l != null && s.appliedIndex() >= l.commitIndex() - 1 && s.appliedIndex() > 0;
                });
            } finally {
                system.terminate();
                system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
            }
        }
    }

    /** This test JVM as a client member of the nodes' cluster (it hosts no Raft member). */
    static ActorSystem<Void> clientSystem(NodeCluster.Node seed) {
        return clientSystem(seed, "127.0.0.1");
    }

    /** ... bound to {@code host} (a loopback address no node uses, so iptables rules between nodes spare it). */
    static ActorSystem<Void> clientSystem(NodeCluster.Node seed, String host, String... overrides) {
        Config config = ConfigFactory.parseString(String.join("\n", overrides))
                .withFallback(ConfigFactory.parseString(String.join("\n",
                        "pekko.actor.provider = cluster",
                        "pekko.loglevel = WARNING",
                        "pekko.remote.artery.canonical.hostname = \"" + host + "\"",
                        "pekko.remote.artery.canonical.port = 0",
                        "pekko.cluster.seed-nodes = [\"pekko://" + RaftKvNode.SYSTEM + "@" + seed.host + ":" + seed.clusterPort() + "\"]",
                        "pekko.cluster.downing-provider-class = \"org.apache.pekko.cluster.sbr.SplitBrainResolverProvider\"",
                        "pekko.cluster.split-brain-resolver.active-strategy = keep-majority",
                        "pekko.coordinated-shutdown.exit-jvm = off",
                        "consensus-actors.raft.client.request-timeout = 30s")))
                .withFallback(ConfigFactory.parseFile(new java.io.File(NodeCluster.resource("multi-jvm-node.conf"))))
                .withFallback(ConfigFactory.load());
        return ActorSystem.create(Behaviors.empty(), RaftKvNode.SYSTEM, config);
    }

    private static String cachedLeader(RaftClient client) {
        try {
            return client.cachedLeader(RaftKvNode.GROUP).toCompletableFuture().get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            return null;
        }
    }

    private static RaftMember.Status status(ActorSystem<Void> system, String node) {
        if (node == null) {
            return null;
        }
        try {
            Receptionist.Listing listing = AskPattern.<Receptionist.Command, Receptionist.Listing>ask(system.receptionist(),
                    r -> Receptionist.find(RaftHost.SERVICE_KEY, r), Duration.ofSeconds(3), system.scheduler())
                    .toCompletableFuture().get(5, TimeUnit.SECONDS);
            for (ActorRef<RaftHost.Command> h : listing.getServiceInstances(RaftHost.SERVICE_KEY)) {
                if (h.path().name().equals(RaftHost.actorName(node))) {
                    return AskPattern.<RaftHost.Command, RaftMember.Status>ask(h,
                                    r -> new RaftHost.GetMemberStatus(RaftKvNode.GROUP, r), Duration.ofSeconds(3), system.scheduler())
                            .toCompletableFuture().get(5, TimeUnit.SECONDS);
                }
            }
        } catch (Exception e) {
            return null;
        }
        return null;
    }

    /** One client: unique-key writes (must all survive), shared-key puts and linearizable gets (checked). */
    private static CompletableFuture<Void> worker(int id, RaftClient client, HistoryRecorder<KvModel.Op, String> history,
                                                  Map<String, String> acked, AtomicBoolean stop, AtomicInteger ops) {
        return CompletableFuture.runAsync(() -> {
            int n = 0;
            while (!stop.get()) {
                n++;
                int kind = ThreadLocalRandom.current().nextInt(4);
                try {
                    if (kind < 2) {
                        String key = "u-" + id + "-" + n;
                        String value = "v" + n;
                        client.propose(RaftKvNode.GROUP, KeyValueStateMachine.put(key, value)).toCompletableFuture()
                                .get(60, TimeUnit.SECONDS);
                        acked.put(key, value);
                    } else {
                        String key = "s" + ThreadLocalRandom.current().nextInt(3);
                        boolean put = kind == 2;
                        KvModel.Op op = put ? KvModel.Op.put(key, "w" + id + "-" + n) : KvModel.Op.get(key);
                        HistoryRecorder.Pending<KvModel.Op, String> p = history.invoke(id, op);
                        try {
                            byte[] r = (put ? client.propose(RaftKvNode.GROUP, KeyValueStateMachine.put(key, "w" + id + "-" + n))
                                    : client.read(RaftKvNode.GROUP, KeyValueStateMachine.get(key), ReadConsistency.LINEARIZABLE))
                                    .toCompletableFuture().get(60, TimeUnit.SECONDS);
                            p.ok(str(r));
                        } catch (Exception e) {
                            p.unknown();
                            throw e;
                        }
                    }
                    ops.incrementAndGet();
                } catch (Exception e) {
                    // unknown outcome: recorded as such; the unique key is simply not counted as acknowledged
                }
            }
        });
    }
}
