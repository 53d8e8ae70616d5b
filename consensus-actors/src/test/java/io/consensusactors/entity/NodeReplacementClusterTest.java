package io.consensusactors.entity;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.consensusactors.persistence.PersistenceSettings;
import io.consensusactors.raft.actor.RaftHost;
import io.consensusactors.raft.actor.RaftMember;
import io.consensusactors.raft.core.ReadConsistency;
import io.consensusactors.raft.core.Role;
import io.consensusactors.sharding.ring.HashRing;
import io.consensusactors.testcluster.TestCluster;
import io.consensusactors.testkit.linearizability.CheckResult;
import io.consensusactors.testkit.linearizability.KvModel;
import io.consensusactors.testkit.linearizability.LinearizabilityChecker;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Down;
import org.apache.pekko.cluster.typed.Subscribe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static io.consensusactors.testcluster.TestCluster.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Replacing a node that crashed and was downed, never having left: four ActorSystems a, b, c, d (all initial nodes,
 * each hosting replicas, one H2 file each) form a cluster over Artery; 8 register shards × 3 replicas are placed on
 * the ring over the four. While clients on a, b and c run the {@link RegisterWorkload} (puts retried until they
 * complete, LINEARIZABLE gets) and a write-once writer puts each of its keys once, d's ActorSystem is terminated
 * abruptly: d is configured with {@code pekko.coordinated-shutdown.run-by-actor-system-terminate = off}, so neither a
 * cluster leave nor the entities' hand-off task ({@link ConsensusEntities#handoff}) runs — for the others d simply
 * stops answering. Once a sees d unreachable, a downs it ({@code Cluster.manager().tell(Down)}, what an operator or
 * the split-brain resolver does); the rebalancers then replace d's replicas by membership change on the survivors
 * (learner, joint consensus removing d — a majority of the old voters is still alive — C(new)).
 *
 * <p>The two tests run in this order on one cluster (set up once: starting four systems is the slow part), each
 * crashing d first if it is still running. Properties: (A, first test) while d is only unreachable — still Up — nothing
 * moves: every surviving member of d's groups holds the configuration it had before the crash, well past the
 * rebalancer's stable-after (an unreachable member may be paused or restarting; moving its groups would churn);
 * (B, second test) after d is downed: (1) every group ends with 3 voters, all on live nodes, exactly the ring's
 * owners over a, b, c, in a settled (non-joint, learner-free) configuration at its leader and at every surviving
 * member (Raft dissertation §4.3: joint consensus needs a majority of both configurations, never the dead node's
 * vote); (2) the downed node is in no configuration of any group, as voter or learner, and no rebalancer counts it;
 * (3) every acknowledged put survives the crash (the workload's overwrite chain, and each write-once key reads back
 * its value); (4) the history of puts and LINEARIZABLE gets is linearizable per register; (5) the crash was a crash:
 * d never left (a saw it Up, unreachable, Down, removed — never Leaving or Exiting) and its hand-off never ran.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NodeReplacementClusterTest {

    static final String SYSTEM = "NodeReplacementClusterTest";
    static final List<String> INITIAL = List.of("a", "b", "c", "d");
    static final String VICTIM = "d";
    static final List<String> SURVIVORS = List.of("a", "b", "c");
    static final int KEYS = 16;

    @TempDir
    static Path dir;

    final TestCluster cluster = new TestCluster(SYSTEM, this::overlay);
    final Map<String, ConsensusEntities> entities = new LinkedHashMap<>();

    /** Node {@code node}'s own settings: H2 file, fast rebalancing; the victim's ActorSystem terminates like a crash. */
    Config overlay(String node) {
        Config common = PersistenceSettings.h2(dir, node).withFallback(ConfigFactory.parseString("""
                pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off
                pekko.cluster.run-coordinated-shutdown-when-down = off
                consensus-actors.raft.tick-interval = 20ms
                consensus-actors.entities.rebalance.interval = 200ms
                consensus-actors.entities.rebalance.stable-after = 1s
                """));
        // terminating the victim's ActorSystem runs no coordinated shutdown: no cluster leave, no hand-off task
        return node.equals(VICTIM)
                ? ConfigFactory.parseString("pekko.coordinated-shutdown.run-by-actor-system-terminate = off")
                .withFallback(common)
                : common;
    }

    // set up once: the cluster, the workload, d leading a group; the tests run in order on it
    RegisterWorkload load;
    WriteOnce once;
    Address victimAddress;
    List<String> victimEvents;
    /** Per group holding a replica on d: its configuration (leader status) just before the crash. */
    final Map<String, RaftMember.Status> beforeCrash = new TreeMap<>();
    int putsBeforeCrash;
    long crashAt;
    double unreachableAfter = -1;

    @BeforeAll
    void startClusterAndWorkload() throws Exception {
        for (String n : INITIAL) {
            ActorTestKit kit = cluster.start(n);
            entities.put(n, ConsensusEntities.start(kit.system(), n, INITIAL, List.of(TestRegister.TYPE)));
        }
        cluster.awaitUp(4, Duration.ofSeconds(30));
        victimAddress = cluster.address(VICTIM);
        victimEvents = recordMemberEvents(cluster.kit("a"), victimAddress);

        // clients only on survivors
        load = new RegisterWorkload(6, KEYS, Duration.ofSeconds(15),
                w -> entities.get(SURVIVORS.get(w % SURVIVORS.size())));
        once = new WriteOnce(entities.get("b"));
        eventually("writes flow", Duration.ofSeconds(30), () -> load.puts() > 50 && once.acked.size() > 10);

        // d leads at least one group when it crashes, so leaders are replaced as well as followers
        eventually("d leads a group", Duration.ofSeconds(30), () -> {
            Map<String, RaftMember.Status> leaders = leaderStatuses(INITIAL);
            if (leaders.values().stream().anyMatch(st -> st.member().equals(VICTIM))) {
                return true;
            }
            // a transfer that fails (leadership moved meanwhile, d not caught up) is simply tried again
            leaders.values().stream().filter(st -> st.voters().contains(VICTIM)).findFirst().ifPresent(st ->
                    entities.get("a").raftClient().transferLeadership(st.groupId(), VICTIM));
            return false;
        });
    }

    @AfterAll
    void stop() throws Exception {
        try {
            if (load != null) {
                load.stop(Duration.ofSeconds(60));
            }
            if (once != null) {
                once.stop();
            }
        } finally {
            cluster.close();
        }
    }

    /**
     * Crashes d (once): terminates its ActorSystem without its coordinated shutdown, then waits until a sees it
     * unreachable. Records the configuration of d's groups just before.
     */
    void crashVictim() throws Exception {
        if (unreachableAfter >= 0) {
            return;
        }
        leaderStatuses(INITIAL).forEach((g, st) -> {
            if (st.voters().contains(VICTIM)) {
                beforeCrash.put(g, st);
            }
        });
        assertFalse(beforeCrash.isEmpty(), "d holds replicas before the crash");
        putsBeforeCrash = load.puts();
        crashAt = System.nanoTime();
        cluster.stop(VICTIM);
        assertFalse(entities.get(VICTIM).handoff().toCompletableFuture().isDone(), "d's hand-off never ran");
        eventually("a sees d unreachable", Duration.ofSeconds(30), () -> victimEvents.contains("UnreachableMember"));
        unreachableAfter = seconds(crashAt);
    }

    @Test
    @Order(1)
    @DisplayName("an Up member that is only unreachable (crashed, not downed) keeps its replicas: nothing moves well"
            + " past the rebalancer's stable-after")
    void anUnreachableButUpNodeKeepsItsReplicasUntilItIsDowned() throws Exception {
        crashVictim();
        // it may be a pause or a restart (docs/placement.md, Rebalancing; Rebalancer's Javadoc): wait well past
        // stable-after (1 s) and several rebalancing rounds (200 ms); every surviving member of d's groups must
        // still hold the configuration it had before the crash (no learner added, no joint change, d a voter)
        Thread.sleep(3_000);
        List<String> moved = new ArrayList<>();
        for (Map.Entry<String, RaftMember.Status> e : beforeCrash.entrySet()) {
            Set<String> voters = e.getValue().voters();
            for (String n : SURVIVORS) {
                RaftMember.Status st = status(n, e.getKey());
                for (int retry = 0; retry < 3 && st == null && voters.contains(n); retry++) {
                    st = status(n, e.getKey()); // a busy machine: ask again before calling the member missing
                }
                if (voters.contains(n) ? st == null || !isSettledOn(st, voters) : st != null) {
                    moved.add(n + ": " + (st == null ? "no member of " + e.getKey() : brief(st)));
                }
            }
        }
        List<String> was = beforeCrash.values().stream().map(NodeReplacementClusterTest::brief).toList();
        assertEquals(List.of(), moved, "surviving members whose configuration changed (or that were added) while d "
                + "was only unreachable, before it was downed (configurations before the crash: " + was + ")");
    }

    @Test
    @Order(2)
    @DisplayName("a crashed and downed node's replicas are replaced on the live nodes (3 voters per group = the ring's"
            + " owners, downed node in no configuration); acknowledged puts survive, history linearizable")
    void aCrashedAndDownedNodesReplicasAreReplacedWhileWritesContinue() throws Exception {
        crashVictim();
        Cluster.get(cluster.kit("a").system()).manager().tell(new Down(victimAddress));
        eventually("every survivor has removed d", Duration.ofSeconds(30), () -> SURVIVORS.stream().allMatch(
                n -> memberAddresses(n).equals(survivorAddresses())));
        double removed = seconds(crashAt);

        HashRing ring = HashRing.ofIds(128, SURVIVORS);
        Map<String, RaftMember.Status> after = new TreeMap<>();
        eventually("every group is settled on the ring's owners over a, b, c at its leader and every member",
                Duration.ofSeconds(60), () -> settled(ring, after));
        double settled = seconds(crashAt);
        int putsAtSettle = load.puts();
        eventually("more writes after the replacement", Duration.ofSeconds(30), () -> load.puts() > putsAtSettle + 50);

        load.stop(Duration.ofSeconds(60));
        once.stop();

        // (1) 3 voters per group, all live, the ring's owners; (2) d in no configuration
        for (int s = 0; s < TestRegister.TYPE.shards(); s++) {
            String g = TestRegister.TYPE.groupId(s);
            RaftMember.Status st = after.get(g);
            assertEquals(3, st.voters().size(), g + " has 3 voters: " + st);
            assertTrue(SURVIVORS.containsAll(st.voters()), g + "'s voters are live nodes: " + st);
            assertEquals(new TreeSet<>(ring.owners(g, 3)), st.voters(), g + "'s voters are the ring's owners");
            assertFalse(st.voters().contains(VICTIM) || st.learners().contains(VICTIM), g + " still names d: " + st);
        }
        for (String n : SURVIVORS) {
            TestProbe<Rebalancer.Stats> probe = cluster.kit(n).createTestProbe();
            entities.get(n).rebalancer().tell(new Rebalancer.GetStats(probe.getRef()));
            assertEquals(new TreeSet<>(SURVIVORS), probe.receiveMessage(Duration.ofSeconds(5)).hosting(),
                    n + "'s rebalancer counts only live nodes as hosts");
        }
        // (3) acknowledged puts survive
        Map<String, String> last = load.finalReads(entities.get("a"));
        int checked = load.assertAcknowledgedPutsSurvive(last);
        int onceChecked = once.assertAcknowledgedSurvive(entities.get("c"));
        // (4) linearizable
        CheckResult verdict = LinearizabilityChecker.assertLinearizable(new KvModel(), load.history().history(),
                Duration.ofSeconds(60));
        assertTrue(verdict.ok(), "the checker must reach a verdict: " + verdict);
        // (5) a crash, not a leave
        List<String> seen = List.copyOf(victimEvents);
        assertFalse(seen.contains("MemberLeft") || seen.contains("MemberExited"), "d never left: " + seen);
        assertTrue(seen.contains("MemberDowned") && seen.contains("MemberRemoved(Down)"), "d was downed: " + seen);
        assertFalse(entities.get(VICTIM).handoff().toCompletableFuture().isDone(), "d's hand-off never ran");

        System.out.printf("replacement: d held replicas of %d of %d groups; %d puts before the crash, %d in all "
                        + "(%d checked for survival, %d retried), %d write-once keys acknowledged and read back, "
                        + "%d linearizable gets; after the crash d unreachable at %.1f s, removed at %.1f s (downed by "
                        + "a), groups settled at %.1f s; d seen by a: %s; load %s%n",
                beforeCrash.size(), TestRegister.TYPE.shards(), putsBeforeCrash, load.puts(), checked,
                load.retries(), onceChecked, load.gets(), unreachableAfter, removed, settled, seen, loadAverage());
        assertTrue(onceChecked > 10, "enough write-once keys acknowledged to mean something: " + onceChecked);
        assertEquals(KEYS, last.size());
    }

    /** Membership and reachability events about {@code who} as seen by {@code kit}'s node, by class name. */
    static List<String> recordMemberEvents(ActorTestKit kit, Address who) {
        List<String> events = Collections.synchronizedList(new ArrayList<>());
        ActorRef<Object> recorder = kit.spawn(Behaviors.<Object>receiveMessage(e -> {
            Member m = e instanceof ClusterEvent.MemberEvent me ? me.member()
                    : e instanceof ClusterEvent.ReachabilityEvent re ? re.member() : null;
            if (m != null && m.address().equals(who)) {
                events.add(e instanceof ClusterEvent.MemberRemoved r
                        ? "MemberRemoved(" + r.previousStatus() + ")" : e.getClass().getSimpleName());
            }
            return Behaviors.same();
        }), "member-events");
        Cluster cluster = Cluster.get(kit.system());
        cluster.subscriptions().tell(Subscribe.create(recorder.narrow(), ClusterEvent.MemberEvent.class));
        cluster.subscriptions().tell(Subscribe.create(recorder.narrow(), ClusterEvent.ReachabilityEvent.class));
        return events;
    }

    Set<Address> memberAddresses(String node) {
        Set<Address> addresses = new HashSet<>();
        for (Member m : Cluster.get(cluster.kit(node).system()).state().getMembers()) {
            addresses.add(m.address());
        }
        return addresses;
    }

    Set<Address> survivorAddresses() {
        Set<Address> addresses = new HashSet<>();
        SURVIVORS.forEach(n -> addresses.add(cluster.address(n)));
        return addresses;
    }

    /** Member {@code node}'s status in {@code group}, or null if it has no member of the group or does not answer. */
    RaftMember.Status status(String node, String group) {
        return statuses(List.of(node), List.of(group)).get(node).get(group);
    }

    /**
     * Node → group → the node's member's status, for every register group, asked of all nodes at once; a node with
     * no member of a group does not answer for it (left out after 500 ms without an answer).
     */
    Map<String, Map<String, RaftMember.Status>> statuses(List<String> nodes, List<String> groups) {
        Map<String, TestProbe<RaftMember.Status>> probes = new LinkedHashMap<>();
        for (String n : nodes) {
            TestProbe<RaftMember.Status> probe = cluster.kit(n).createTestProbe();
            groups.forEach(g -> entities.get(n).host().tell(new RaftHost.GetMemberStatus(g, probe.getRef())));
            probes.put(n, probe);
        }
        Map<String, Map<String, RaftMember.Status>> result = new TreeMap<>();
        probes.forEach((n, probe) -> {
            Map<String, RaftMember.Status> of = new TreeMap<>();
            try {
                while (of.size() < groups.size()) {
                    RaftMember.Status st = probe.receiveMessage(Duration.ofMillis(500));
                    of.put(st.groupId(), st);
                }
            } catch (AssertionError noMoreAnswers) {
                // the node has no member of the remaining groups (or is too slow: callers poll again)
            }
            result.put(n, of);
        });
        return result;
    }

    static List<String> groups() {
        List<String> groups = new ArrayList<>();
        for (int s = 0; s < TestRegister.TYPE.shards(); s++) {
            groups.add(TestRegister.TYPE.groupId(s));
        }
        return groups;
    }

    /** Per group, the status of its current leader among {@code nodes} (highest term); groups without one left out. */
    Map<String, RaftMember.Status> leaderStatuses(List<String> nodes) {
        return leaders(statuses(nodes, groups()));
    }

    static Map<String, RaftMember.Status> leaders(Map<String, Map<String, RaftMember.Status>> statuses) {
        Map<String, RaftMember.Status> leaders = new TreeMap<>();
        for (Map<String, RaftMember.Status> of : statuses.values()) {
            for (RaftMember.Status st : of.values()) {
                RaftMember.Status known = leaders.get(st.groupId());
                if (st.role() == Role.LEADER && (known == null || st.term() > known.term())) {
                    leaders.put(st.groupId(), st);
                }
            }
        }
        return leaders;
    }

    /**
     * Every group's leader and each of its owners hold a settled configuration (non-joint, no learner) whose voters
     * are the ring's owners; the leaders' statuses go to {@code leaders}.
     */
    boolean settled(HashRing ring, Map<String, RaftMember.Status> leaders) {
        Map<String, Map<String, RaftMember.Status>> all = statuses(SURVIVORS, groups());
        Map<String, RaftMember.Status> now = leaders(all);
        for (String g : groups()) {
            Set<String> owners = new TreeSet<>(ring.owners(g, TestRegister.TYPE.replicas()));
            RaftMember.Status leader = now.get(g);
            if (leader == null || !isSettledOn(leader, owners)) {
                return false;
            }
            for (String n : owners) {
                RaftMember.Status member = all.get(n).get(g);
                if (member == null || !isSettledOn(member, owners)) {
                    return false;
                }
            }
        }
        leaders.putAll(now);
        return true;
    }

    static boolean isSettledOn(RaftMember.Status s, Set<String> voters) {
        return !s.joint() && s.learners().isEmpty() && s.voters().equals(voters);
    }

    /** A member's configuration in a few words. */
    static String brief(RaftMember.Status s) {
        return s.groupId() + " at " + s.member() + " (" + s.role() + ", term " + s.term() + "): voters " + s.voters()
                + (s.learners().isEmpty() ? "" : " learners " + s.learners()) + (s.joint() ? " joint" : "");
    }

    static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (Exception e) {
            return "n/a";
        }
    }

    /**
     * One client putting each of its keys ({@code once-<i>}) exactly once, with the value {@code v<i>}, retrying
     * that same put until it is acknowledged. A key is only ever written with that value, so an acknowledged put
     * survived iff the key reads back {@code v<i>} — no overwrite can hide a loss.
     */
    static final class WriteOnce {
        final Map<String, String> acked = new ConcurrentHashMap<>();
        final Set<String> attempted = ConcurrentHashMap.newKeySet();
        final AtomicBoolean running = new AtomicBoolean(true);
        final ExecutorService thread = Executors.newSingleThreadExecutor();
        final CompletableFuture<Void> loop;

        WriteOnce(ConsensusEntities via) {
            loop = CompletableFuture.runAsync(() -> {
                for (int i = 0; running.get(); i++) {
                    String key = "once-" + i;
                    String value = "v" + i;
                    attempted.add(key);
                    while (running.get()) {
                        try {
                            TestRegister.Value prev = via.entityRefFor(TestRegister.TYPE, key)
                                    .<TestRegister.Value>ask(new TestRegister.Put(value))
                                    .toCompletableFuture().get(15, TimeUnit.SECONDS);
                            // "" or, if an earlier attempt of this put applied unacknowledged, its own value
                            assertTrue(prev.value().isEmpty() || prev.value().equals(value),
                                    key + " is only written by this put, but held " + prev.value());
                            acked.put(key, value);
                            break;
                        } catch (Exception e) {
                            // outcome unknown: retried with the same value (an earlier attempt may have applied)
                        }
                    }
                }
            }, thread);
        }

        /** Stops the writer; fails if the writer's own check failed. */
        void stop() throws Exception {
            running.set(false);
            try {
                loop.get(60, TimeUnit.SECONDS);
            } finally {
                thread.shutdown();
            }
        }

        /** Reads every key attempted back LINEARIZABLE: acknowledged ones hold their value; returns how many. */
        int assertAcknowledgedSurvive(ConsensusEntities via) throws Exception {
            for (String key : attempted) {
                String got = via.entityRefFor(TestRegister.TYPE, key)
                        .<TestRegister.Value>ask(new TestRegister.Get(), ReadConsistency.LINEARIZABLE)
                        .toCompletableFuture().get(30, TimeUnit.SECONDS).value();
                String want = acked.get(key);
                if (want != null) {
                    assertEquals(want, got, "acknowledged write-once put " + key + "=" + want + " was lost");
                } else {
                    assertTrue(got.isEmpty() || got.equals("v" + key.substring("once-".length())),
                            "unacknowledged " + key + " holds only its own value or nothing: " + got);
                }
            }
            return acked.size();
        }
    }
}
