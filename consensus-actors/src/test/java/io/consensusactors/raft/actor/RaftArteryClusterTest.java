package io.consensusactors.raft.actor;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.consensusactors.persistence.PersistenceSettings;
import io.consensusactors.raft.core.ReadConsistency;
import io.consensusactors.raft.core.Role;
import io.consensusactors.statemachine.KeyValueStateMachine;
import io.consensusactors.testcluster.TestCluster;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static io.consensusactors.testcluster.TestCluster.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real stack in one JVM: three ActorSystems forming a Pekko cluster over Artery (127.0.0.1, port 0), one
 * {@link RaftHost} per system (nodes a, b, c), each event-sourced to its own in-memory H2 database through
 * pekko-persistence-jdbc, one Raft group "g1" with voters {a, b, c}. Writes go through a {@link RaftClient} on a
 * system that stays up; the leader's whole ActorSystem is terminated mid-load. Properties: the two survivors elect a
 * new leader (Raft §5.2) and keep committing; every acknowledged write is readable LINEARIZABLE afterwards (§5.4
 * Leader Completeness: committed entries survive the loss of the leader).
 */
class RaftArteryClusterTest {

    static final List<String> NODES = List.of("a", "b", "c");
    static final String GROUP = "g1";
    static final String SYSTEM_NAME = "RaftArteryClusterTest";

    /** Node {@code node}'s own settings (in-memory H2, downing, ticks) in front of {@link TestCluster#BASE}. */
    static Config overlay(String node) {
        return PersistenceSettings.h2InMemory("raft-artery-" + node + "-" + System.nanoTime())
                .withFallback(ConfigFactory.parseString("""
                        pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off
                        pekko.cluster.run-coordinated-shutdown-when-down = off
                        pekko.cluster.downing-provider-class = "org.apache.pekko.cluster.sbr.SplitBrainResolverProvider"
                        pekko.cluster.split-brain-resolver.active-strategy = keep-majority
                        pekko.cluster.split-brain-resolver.stable-after = 2s
                        consensus-actors.raft.tick-interval = 20ms
                        """));
    }

    static String str(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    static <T> T await(CompletionStage<T> s) throws Exception {
        return s.toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    static RaftMember.Status status(ActorTestKit kit, ActorRef<RaftHost.Command> host) {
        TestProbe<RaftMember.Status> probe = kit.createTestProbe();
        host.tell(new RaftHost.ToMember(GROUP, new RaftMember.GetStatus(probe.getRef())));
        try {
            return probe.receiveMessage(Duration.ofSeconds(2));
        } catch (AssertionError noAnswer) {
            return null;
        }
    }

    /** The node that the members of live systems agree leads the group (a leader by its own status), or null. */
    static String leader(TestCluster cluster, Map<String, ActorRef<RaftHost.Command>> hosts) {
        for (String n : hosts.keySet()) {
            RaftMember.Status s = status(cluster.kit(n), hosts.get(n));
            if (s != null && s.role() == Role.LEADER) {
                return n;
            }
        }
        return null;
    }

    @Test
    void survivorsElectANewLeaderAndEveryAcknowledgedWriteSurvivesTheLeadersSystem() throws Exception {
        Map<String, ActorRef<RaftHost.Command>> hosts = new LinkedHashMap<>();
        long started = System.nanoTime();
        ExecutorService writerThreads = Executors.newFixedThreadPool(4);
        TestCluster cluster = new TestCluster(SYSTEM_NAME, RaftArteryClusterTest::overlay);
        try {
            for (String n : NODES) {
                cluster.start(n);
            }
            long systemsStarted = System.nanoTime(); // (systems start; joining is asynchronous)
            cluster.awaitUp(3, Duration.ofSeconds(20));
            long clusterUp = System.nanoTime();

            for (String n : NODES) {
                ActorTestKit kit = cluster.kit(n);
                RaftSettings settings = RaftSettings.from(kit.system().settings().config());
                hosts.put(n, kit.spawn(RaftHost.create(n, settings, g -> new KeyValueStateMachine()),
                        RaftHost.actorName(n)));
            }
            for (ActorRef<RaftHost.Command> h : hosts.values()) {
                h.tell(new RaftHost.StartGroup(GROUP, Set.copyOf(NODES)));
            }

            // the client lives on a system that will survive: move leadership away from it first if needed
            String clientNode = "a";
            ActorTestKit clientKit = cluster.kit(clientNode);
            RaftClient client = RaftClient.create(clientKit.system(),
                    RaftSettings.from(clientKit.system().settings().config()));
            assertEquals("", str(await(client.propose(GROUP, KeyValueStateMachine.put("warm-up", "1")))));
            String oldLeader = await(client.cachedLeader(GROUP));
            // then hand leadership b -> c: at least the second request crosses nodes (the client on a asks the host
            // of the leader b), so administrative requests must be serializable (they were not: Artery dropped them)
            for (String next : List.of("b", "c")) {
                if (!oldLeader.equals(next)) {
                    await(client.transferLeadership(GROUP, next));
                    eventually(next + " leads after the transfer", Duration.ofSeconds(10),
                            () -> next.equals(leader(cluster, hosts)));
                    oldLeader = next;
                }
            }
            RaftMember.Status oldStatus = status(cluster.kit(oldLeader), hosts.get(oldLeader));
            assertNotNull(oldStatus);
            assertEquals(Role.LEADER, oldStatus.role(), oldLeader + " leads");
            long groupUp = System.nanoTime();

            // writers: distinct keys, acknowledged ones recorded with the time of acknowledgement
            Map<String, String> acked = new ConcurrentHashMap<>();
            AtomicLong ackedAfterKill = new AtomicLong();
            AtomicInteger failed = new AtomicInteger();
            AtomicBoolean killed = new AtomicBoolean();
            AtomicBoolean stop = new AtomicBoolean();
            List<CompletableFuture<Void>> writers = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                int writer = w;
                writers.add(CompletableFuture.runAsync(() -> {
                    for (int i = 0; !stop.get(); i++) {
                        String key = "w" + writer + "-" + i;
                        String value = "v" + i;
                        try {
                            await(client.propose(GROUP, KeyValueStateMachine.put(key, value)));
                            acked.put(key, value);
                            if (killed.get()) {
                                ackedAfterKill.incrementAndGet();
                            }
                        } catch (Exception e) {
                            failed.incrementAndGet(); // outcome unknown: allowed either way, never counted as acked
                        }
                    }
                }, writerThreads));
            }
            eventually("writes flow before the crash", Duration.ofSeconds(20), () -> acked.size() >= 40);
            int ackedBeforeKill = acked.size();

            // terminate the leader's whole ActorSystem (its node leaves the cluster)
            long killAt = System.nanoTime();
            killed.set(true);
            cluster.stop(oldLeader);
            hosts.remove(oldLeader);
            long killDone = System.nanoTime();

            String[] newLeader = {null};
            eventually("the survivors elect a new leader", Duration.ofSeconds(15),
                    () -> (newLeader[0] = leader(cluster, hosts)) != null);
            long elected = System.nanoTime();
            assertNotEquals(oldLeader, newLeader[0]);
            RaftMember.Status newStatus = status(cluster.kit(newLeader[0]), hosts.get(newLeader[0]));
            assertTrue(newStatus.term() > oldStatus.term(), "a new term: " + newStatus + " after " + oldStatus);
            eventually("writes keep committing after the crash", Duration.ofSeconds(20),
                    () -> ackedAfterKill.get() >= 40);
            stop.set(true);
            CompletableFuture.allOf(writers.toArray(new CompletableFuture[0])).get(40, TimeUnit.SECONDS);
            long writesDone = System.nanoTime();

            // every acknowledged write is readable LINEARIZABLE through the surviving majority
            int checked = 0;
            for (Map.Entry<String, String> e : acked.entrySet()) {
                String got = str(await(client.read(GROUP, KeyValueStateMachine.get(e.getKey()),
                        ReadConsistency.LINEARIZABLE)));
                assertEquals(e.getValue(), got, "acknowledged write " + e.getKey() + "=" + e.getValue() + " is readable");
                checked++;
            }
            long readsDone = System.nanoTime();
            System.out.printf("RaftArteryClusterTest: 3 systems started in %d ms, cluster up %d ms later, "
                            + "group + leader placement %d ms; "
                            + "%d writes acknowledged before and %d after terminating leader %s (%d unknown); "
                            + "system shutdown %d ms, new leader %s seen %d ms after the shutdown; "
                            + "%d acknowledged writes read back LINEARIZABLE in %d ms%n",
                    ms(systemsStarted - started), ms(clusterUp - systemsStarted), ms(groupUp - clusterUp), ackedBeforeKill, ackedAfterKill.get(), oldLeader,
                    failed.get(), ms(killDone - killAt), newLeader[0], ms(elected - killDone), checked,
                    ms(readsDone - writesDone));
            assertTrue(checked >= 80, "enough acknowledged writes to mean something: " + checked);
        } finally {
            writerThreads.shutdownNow();
            cluster.close();
        }
    }

    static long ms(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }
}
