package io.consensusactors.raft.actor;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.consensusactors.raft.core.ReadConsistency;
import io.consensusactors.raft.core.Role;
import io.consensusactors.statemachine.KeyValueStateMachine;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.remote.RARP;
import org.apache.pekko.remote.transport.ThrottlerTransportAdapter;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Quiesced groups under a network partition, on the real stack: three ActorSystems in one JVM forming a Pekko cluster
 * over Artery, one {@link RaftHost} each (nodes a, b, c), many groups with voters {a, b, c} and quiescence on. Once
 * every member is quiesced, node c is cut off by Artery blackholes on a and b (both directions) — the failure detector
 * marks it unreachable but nothing downs or removes it (no downing provider).
 *
 * <p>Properties:
 * <ul>
 *   <li><b>Liveness of quiesced groups under a partition</b> (Raft §5.2): every quiesced group whose leader was on c
 *       elects a new leader among the reachable majority {a, b} and commits writes. Nothing but the failure detector
 *       tells their quiesced followers that the leader is gone: the leader sends no heartbeats to miss.</li>
 *   <li><b>No stale read from the cut-off quiesced leader</b> (§6.4, §9.6 leases): c's members, quiesced leaders when
 *       cut off, answer no LEASE or LINEARIZABLE read successfully while a and b have elected new leaders and
 *       committed new values — waking forgets the lease (its clock did not run while quiesced), and a new one needs
 *       a heartbeat round acknowledged by a majority, which c cannot reach.</li>
 *   <li><b>A cut-off quiesced leader steps down</b> (CheckQuorum, dissertation §6.2): c's host wakes its quiesced
 *       leaders when a and b become unreachable, and with {@code quiesce-after-ticks} at twice the election timeout
 *       CheckQuorum runs before they could quiesce again, so c's side answers NotLeader instead of hanging.</li>
 *   <li>After healing, c's members follow the new leaders (a higher term reaches them).</li>
 * </ul>
 */
class QuiescedPartitionTest {

    static final int GROUPS = 60;
    static final List<String> NODES = List.of("a", "b", "c");
    static final String SYSTEM_NAME = "QuiescedPartitionTest";
    static final byte[] KEY = KeyValueStateMachine.get("k");

    static Config config(String node) {
        return ConfigFactory.parseString("""
                pekko.loglevel = WARNING
                pekko.actor.provider = cluster
                pekko.remote.artery.canonical.hostname = 127.0.0.1
                pekko.remote.artery.canonical.port = 0
                pekko.remote.artery.advanced.test-mode = on
                pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
                pekko.cluster.seed-node-timeout = 1s
                pekko.coordinated-shutdown.exit-jvm = off
                pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off
                pekko.cluster.run-coordinated-shutdown-when-down = off
                pekko.persistence.journal.plugin = "pekko.persistence.journal.inmem"
                pekko.persistence.snapshot-store.plugin = "pekko.persistence.snapshot-store.local"
                consensus-actors.raft.tick-interval = 20ms
                consensus-actors.raft.election-ticks = 10
                consensus-actors.raft.quiesce-after-ticks = 20
                """).withFallback(ConfigFactory.parseString(
                "pekko.persistence.snapshot-store.local.dir = \"target/quiesced-partition-" + node + "-"
                        + System.nanoTime() + "\"")).withFallback(ConfigFactory.load());
    }

    @Test
    void quiescedGroupsLedFromAnUnreachableNodeElectNewLeadersAndTheOldLeaderServesNoRead() throws Exception {
        Map<String, ActorTestKit> kits = new LinkedHashMap<>();
        Map<String, ActorRef<RaftHost.Command>> hosts = new LinkedHashMap<>();
        long started = System.nanoTime();
        try {
            for (String n : NODES) {
                kits.put(n, ActorTestKit.create(SYSTEM_NAME, config(n)));
            }
            Address first = Cluster.get(kits.get("a").system()).selfMember().address();
            for (ActorTestKit kit : kits.values()) {
                Cluster.get(kit.system()).manager().tell(Join.create(first));
            }
            io.consensusactors.testcluster.TestCluster.eventually("all three systems see three Up members", Duration.ofSeconds(30),
                    () -> kits.values().stream().allMatch(k -> upMembers(k) == 3));
            for (String n : NODES) {
                ActorTestKit kit = kits.get(n);
                RaftSettings settings = RaftSettings.from(kit.system().settings().config());
                hosts.put(n, kit.spawn(RaftHost.create(n, settings, g -> new KeyValueStateMachine()),
                        RaftHost.actorName(n)));
            }
            for (int g = 0; g < GROUPS; g++) {
                for (ActorRef<RaftHost.Command> h : hosts.values()) {
                    h.tell(new RaftHost.StartGroup(group(g), Set.copyOf(NODES)));
                }
            }
            ActorTestKit kitA = kits.get("a");
            RaftClient client = RaftClient.create(kitA.system(), RaftSettings.from(kitA.system().settings().config()));
            List<String> all = new ArrayList<>();
            for (int g = 0; g < GROUPS; g++) {
                all.add(group(g));
            }
            writeAll(client, all, "old");
            awaitAllQuiesced(kits, hosts);
            long quiescedAt = System.nanoTime();

            // the groups that c leads, quiesced: their leader sends nothing from now on
            Map<String, RaftMember.Status> onC = statuses(kits.get("c"), hosts.get("c"));
            List<String> ledByC = new ArrayList<>();
            onC.forEach((g, s) -> {
                if (s.role() == Role.LEADER) {
                    assertTrue(s.quiesced(), "c's member of " + g + " is a quiesced leader: " + s);
                    ledByC.add(g);
                }
            });
            assertFalse(ledByC.isEmpty(), "c leads some groups (first leaders are spread over the nodes)");

            // cut c off from a and b, both directions, without downing it
            Address c = Cluster.get(kits.get("c").system()).selfMember().address();
            blackhole(kits.get("a"), c, true);
            blackhole(kits.get("b"), c, true);
            long cutAt = System.nanoTime();
            io.consensusactors.testcluster.TestCluster.eventually("a and b see c unreachable", Duration.ofSeconds(30),
                    () -> unreachable(kits.get("a"), c) && unreachable(kits.get("b"), c));
            long unreachableAt = System.nanoTime();

            List<String> leaderless = new ArrayList<>(ledByC);
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!leaderless.isEmpty() && System.nanoTime() < deadline) {
                Map<String, RaftMember.Status> a = statuses(kits.get("a"), hosts.get("a"));
                Map<String, RaftMember.Status> b = statuses(kits.get("b"), hosts.get("b"));
                leaderless.removeIf(g -> isLeader(a.get(g)) || isLeader(b.get(g)));
                Thread.sleep(200);
            }
            assertTrue(leaderless.isEmpty(), "the quiesced groups led by unreachable c elected new leaders among a and b;"
                    + " still leaderless: " + leaderless);
            long electedAt = System.nanoTime();
            writeAll(client, ledByC, "new");
            long writtenAt = System.nanoTime();

            // c's old leaders, woken because c lost its quorum, step down (CheckQuorum) instead of quiescing again
            List<String> stillLeading = new ArrayList<>(ledByC);
            long stepDownDeadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!stillLeading.isEmpty() && System.nanoTime() < stepDownDeadline) {
                Map<String, RaftMember.Status> now = statuses(kits.get("c"), hosts.get("c"));
                stillLeading.removeIf(g -> !isLeader(now.get(g)));
                Thread.sleep(200);
            }
            assertTrue(stillLeading.isEmpty(), "c's woken leaders without a quorum stepped down; still leading: "
                    + stillLeading);
            long steppedDownAt = System.nanoTime();

            // c's members were quiesced leaders when cut off: none may answer a read now (the majority moved on)
            ActorTestKit kitC = kits.get("c");
            TestProbe<ClientReply> replies = kitC.createTestProbe();
            long requestId = 0;
            for (String g : ledByC) {
                hosts.get("c").tell(new RaftHost.ClientRead(g, KEY, ReadConsistency.LEASE, ++requestId, replies.getRef()));
                hosts.get("c").tell(new RaftHost.ClientRead(g, KEY, ReadConsistency.LINEARIZABLE, ++requestId,
                        replies.getRef()));
            }
            List<ClientReply> answered = new ArrayList<>();
            long window = System.nanoTime() + Duration.ofSeconds(3).toNanos();
            while (System.nanoTime() < window) {
                try {
                    answered.add(replies.receiveMessage(Duration.ofNanos(Math.max(1, window - System.nanoTime()))));
                } catch (AssertionError noMore) {
                    break;
                }
            }
            for (ClientReply r : answered) {
                if (r instanceof ClientReply.Ok ok) {
                    throw new AssertionError("the cut-off old leader on c served a read after a and b committed a new"
                            + " value: " + new String(ok.result(), StandardCharsets.UTF_8) + " (request " + ok.requestId()
                            + ")");
                }
            }

            Map<String, Long> replyKinds = new java.util.TreeMap<>();
            answered.forEach(r -> replyKinds.merge(r.getClass().getSimpleName(), 1L, Long::sum));
            Map<String, Long> rolesOnC = new java.util.TreeMap<>();
            statuses(kitC, hosts.get("c")).forEach((g, s) -> {
                if (ledByC.contains(g)) {
                    rolesOnC.merge(s.role() + (s.quiesced() ? "/quiesced" : ""), 1L, Long::sum);
                }
            });

            // heal: c's members learn the new terms and follow the new leaders
            blackhole(kits.get("a"), c, false);
            blackhole(kits.get("b"), c, false);
            String probe = ledByC.get(0);
            io.consensusactors.testcluster.TestCluster.eventually("c's member of " + probe + " follows a new leader after healing",
                    Duration.ofSeconds(60), () -> {
                        RaftMember.Status s = statuses(kitC, hosts.get("c")).get(probe);
                        return s.role() == Role.FOLLOWER && s.leader() != null && !s.leader().equals("c");
                    });
            for (String g : ledByC) {
                assertEquals("new", new String(client.read(g, KEY, ReadConsistency.LINEARIZABLE).toCompletableFuture()
                        .get(30, TimeUnit.SECONDS), StandardCharsets.UTF_8), "the write to " + g + " survives healing");
            }
            long healedAt = System.nanoTime();
            System.out.printf("QuiescedPartitionTest: %d groups quiesced %d ms after start; c led %d; c unreachable"
                            + " %d ms after the blackhole; all %d re-elected %d ms later; writes %d ms; c's old leaders all"
                            + " stepped down %d ms after a and b saw c unreachable; %d reads sent to c answered %s, none Ok; c's old-leader members then %s; healed and read back in %d ms; load %s%n",
                    GROUPS, ms(quiescedAt - started), ledByC.size(), ms(unreachableAt - cutAt), ledByC.size(),
                    ms(electedAt - unreachableAt), ms(writtenAt - electedAt), ms(steppedDownAt - unreachableAt), 2 * ledByC.size(), replyKinds,
                    rolesOnC, ms(healedAt - steppedDownAt), loadAverage());
        } finally {
            if (kits.size() == NODES.size()) {
                Address c = Cluster.get(kits.get("c").system()).selfMember().address();
                for (String n : List.of("a", "b")) {
                    try {
                        blackhole(kits.get(n), c, false); // a failed assertion must not leave c cut off
                    } catch (Exception | AssertionError e) {
                        System.err.println("could not heal " + n + " -> c: " + e);
                    }
                }
            }
            for (ActorTestKit kit : kits.values()) {
                ActorTestKit.shutdown(kit.system(), Duration.ofSeconds(30), false); // never hide the test's failure
            }
        }
    }

    /**
     * Writes k=value to every group, retrying a write whose outcome is unknown (the client's request timeout, on a
     * loaded machine while 60 groups elect): the write is idempotent.
     */
    static void writeAll(RaftClient client, List<String> groups, String value) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        Map<String, CompletableFuture<byte[]>> pending = new LinkedHashMap<>();
        for (String g : groups) {
            pending.put(g, client.propose(g, KeyValueStateMachine.put("k", value)).toCompletableFuture());
        }
        while (!pending.isEmpty()) {
            Map.Entry<String, CompletableFuture<byte[]>> e = pending.entrySet().iterator().next();
            try {
                e.getValue().get(60, TimeUnit.SECONDS);
                pending.remove(e.getKey());
            } catch (java.util.concurrent.ExecutionException unknownOutcome) {
                if (System.nanoTime() > deadline) {
                    throw unknownOutcome;
                }
                e.setValue(client.propose(e.getKey(), KeyValueStateMachine.put("k", value)).toCompletableFuture());
            }
        }
    }

    /** Blackholes (or heals) traffic between this system and {@code remote}, both directions, on this side. */
    static void blackhole(ActorTestKit kit, Address remote, boolean on) throws Exception {
        RARP rarp = (RARP) RARP.get(kit.system().classicSystem());
        Object done = scala.concurrent.Await.result(rarp.provider().transport().managementCommand(
                new ThrottlerTransportAdapter.SetThrottle(remote, ThrottlerTransportAdapter.bothDirection(),
                        on ? ThrottlerTransportAdapter.blackholeThrottleMode()
                                : ThrottlerTransportAdapter.unthrottledThrottleMode())),
                scala.concurrent.duration.Duration.create(10, TimeUnit.SECONDS));
        assertEquals(Boolean.TRUE, done, "the transport accepted the throttle command");
    }

    static boolean unreachable(ActorTestKit kit, Address node) {
        for (Member m : Cluster.get(kit.system()).state().getUnreachable()) {
            if (m.address().equals(node)) {
                return true;
            }
        }
        return false;
    }

    static boolean isMember(ActorTestKit kit, Address node) {
        for (Member m : Cluster.get(kit.system()).state().getMembers()) {
            if (m.address().equals(node)) {
                return m.status() == MemberStatus.up();
            }
        }
        return false;
    }

    static long upMembers(ActorTestKit kit) {
        return io.consensusactors.testcluster.TestCluster.upMembers(kit.system());
    }

    static String group(int g) {
        return "q-" + g;
    }

    static boolean isLeader(RaftMember.Status s) {
        return IdleGroupsTest.isLeader(s);
    }

    static Map<String, RaftMember.Status> statuses(ActorTestKit kit, ActorRef<RaftHost.Command> host) {
        return IdleGroupsTest.statuses(kit, host, GROUPS, QuiescedPartitionTest::group);
    }

    static void awaitAllQuiesced(Map<String, ActorTestKit> kits, Map<String, ActorRef<RaftHost.Command>> hosts)
            throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        int quiesced = 0;
        while (System.nanoTime() < deadline) {
            quiesced = 0;
            for (String n : hosts.keySet()) {
                quiesced += (int) statuses(kits.get(n), hosts.get(n)).values().stream()
                        .filter(RaftMember.Status::quiesced).count();
            }
            if (quiesced == GROUPS * hosts.size()) {
                return;
            }
            Thread.sleep(300);
        }
        throw new AssertionError("only " + quiesced + " of " + GROUPS * hosts.size() + " members quiesced");
    }

    static String loadAverage() {
        return String.format("%.1f", java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                .getSystemLoadAverage());
    }

    static long ms(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }
}
