package io.consensusactors.raft.actor;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.consensusactors.raft.core.Role;
import io.consensusactors.statemachine.KeyValueStateMachine;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Many idle groups on three hosts in one ActorSystem: they elect, quiesce and then receive no ticks at all; a write
 * to an idle group wakes it and succeeds; when a host dies, the quiesced groups it led elect new leaders.
 */
class IdleGroupsTest {

    static final int GROUPS = 200;
    static final List<String> NODES = List.of("a", "b", "c");

    @Test
    void idleGroupsQuiesceCostNoTicksAndWakeOnDemand() throws Exception {
        Config cfg = ConfigFactory.parseString("""
                pekko.loglevel = WARNING
                pekko.logger-startup-timeout = 60s
                pekko.actor.provider = local
                pekko.persistence.journal.plugin = "pekko.persistence.journal.inmem"
                pekko.persistence.snapshot-store.plugin = "pekko.persistence.snapshot-store.local"
                pekko.persistence.snapshot-store.local.dir = "target/idle-test-snapshots"
                consensus-actors.raft.quiesce-after-ticks = 4
                """).withFallback(ConfigFactory.load());
        ActorTestKit kit = ActorTestKit.create("idle-groups", cfg);
        try {
            RaftSettings settings = RaftSettings.from(kit.system().settings().config());
            Map<String, ActorRef<RaftHost.Command>> hosts = new LinkedHashMap<>();
            for (String n : NODES) {
                hosts.put(n, kit.spawn(RaftHost.create(n, settings, g -> new KeyValueStateMachine()), RaftHost.actorName(n)));
            }
            for (int g = 0; g < GROUPS; g++) {
                for (ActorRef<RaftHost.Command> h : hosts.values()) {
                    h.tell(new RaftHost.StartGroup(group(g), Set.copyOf(NODES)));
                }
            }
            awaitAllQuiesced(kit, hosts);

            // idle: once every member quiesced, no member waits for a tick and none is sent
            for (ActorRef<RaftHost.Command> h : hosts.values()) {
                awaitNoTickPending(kit, h);
            }
            long sent = ticksSent(kit, hosts);
            Thread.sleep(20 * settings.tickInterval().toMillis()); // 20 ticks of the host clocks
            assertEquals(sent, ticksSent(kit, hosts), "no tick is sent to quiesced members");

            // wake on demand: a write to an idle group succeeds, by the same leader in the same term (time spent
            // quiesced does not count towards election or CheckQuorum timeouts once woken)
            RaftMember.Status before = statuses(kit, hosts.get("b")).get(group(7));
            RaftClient client = RaftClient.create(kit.system(), settings);
            byte[] ok = client.propose(group(7), KeyValueStateMachine.put("k", "v")).toCompletableFuture()
                    .get(30, TimeUnit.SECONDS);
            assertTrue(ok != null, "write to an idle group applied");
            Thread.sleep(5 * settings.tickInterval().toMillis());
            RaftMember.Status after = statuses(kit, hosts.get("b")).get(group(7));
            assertEquals(before.term(), after.term(), "waking an idle group causes no election");
            assertEquals(before.leader(), after.leader());

            // liveness: the quiesced groups led by a dead host elect new leaders among the others
            Map<String, RaftMember.Status> byGroup = statuses(kit, hosts.get("b"));
            List<String> ledByA = new ArrayList<>();
            byGroup.forEach((g, s) -> {
                if ("a".equals(s.leader())) {
                    ledByA.add(g);
                }
            });
            assertFalse(ledByA.isEmpty(), "host a leads some groups (first leaders are spread over the nodes)");
            kit.stop(hosts.remove("a"));
            List<String> sample = ledByA.subList(0, Math.min(20, ledByA.size()));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            List<String> leaderless = new ArrayList<>(sample);
            while (!leaderless.isEmpty() && System.nanoTime() < deadline) {
                Map<String, RaftMember.Status> b = statuses(kit, hosts.get("b"));
                Map<String, RaftMember.Status> c = statuses(kit, hosts.get("c"));
                leaderless.removeIf(g -> isLeader(b.get(g)) || isLeader(c.get(g)));
                Thread.sleep(200);
            }
            assertTrue(leaderless.isEmpty(), "groups led by the dead host elected a new leader: still leaderless " + leaderless);
            byte[] again = client.propose(sample.get(0), KeyValueStateMachine.put("k", "w")).toCompletableFuture()
                    .get(30, TimeUnit.SECONDS);
            assertTrue(again != null, "a write to a group whose leader died succeeds");
            assertNotEquals("a", statuses(kit, hosts.get("b")).get(sample.get(0)).leader());
        } finally {
            kit.shutdownTestKit();
        }
    }

    static String group(int g) {
        return "idle-" + g;
    }

    static boolean isLeader(RaftMember.Status s) {
        return s != null && s.role() == Role.LEADER;
    }

    static Map<String, RaftMember.Status> statuses(ActorTestKit kit, ActorRef<RaftHost.Command> host) {
        return statuses(kit, host, GROUPS, IdleGroupsTest::group);
    }

    /** The statuses of the host's members of groups {@code name(0) .. name(groups - 1)}, by group id. */
    static Map<String, RaftMember.Status> statuses(ActorTestKit kit, ActorRef<RaftHost.Command> host, int groups,
                                                   java.util.function.IntFunction<String> name) {
        TestProbe<RaftMember.Status> p = kit.createTestProbe();
        for (int g = 0; g < groups; g++) {
            host.tell(new RaftHost.GetMemberStatus(name.apply(g), p.getRef()));
        }
        Map<String, RaftMember.Status> out = new LinkedHashMap<>();
        for (int i = 0; i < groups; i++) {
            RaftMember.Status s = p.receiveMessage(Duration.ofSeconds(20));
            out.put(s.groupId(), s);
        }
        return out;
    }

    static void awaitAllQuiesced(ActorTestKit kit, Map<String, ActorRef<RaftHost.Command>> hosts) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos(); // generous: a loaded shared machine
        int quiesced = 0;
        while (System.nanoTime() < deadline) {
            quiesced = 0;
            for (ActorRef<RaftHost.Command> h : hosts.values()) {
                try {
                    quiesced += (int) statuses(kit, h).values().stream().filter(RaftMember.Status::quiesced).count();
                } catch (AssertionError stillStarting) {
                    // a member has not recovered yet: ask again
                }
            }
            if (quiesced == GROUPS * hosts.size()) {
                return;
            }
            Thread.sleep(500);
        }
        throw new AssertionError("only " + quiesced + " of " + GROUPS * hosts.size() + " members quiesced; ticks pending: "
                + hosts.values().stream().map(h -> {
                    TestProbe<RaftHost.TickStats> p = kit.createTestProbe();
                    h.tell(new RaftHost.GetTickStats(p.getRef()));
                    return p.receiveMessage(Duration.ofSeconds(20)).toString();
                }).toList());
    }

    static void awaitNoTickPending(ActorTestKit kit, ActorRef<RaftHost.Command> host) throws Exception {
        TestProbe<RaftHost.TickStats> p = kit.createTestProbe();
        RaftHost.TickStats s = null;
        for (int i = 0; i < 100; i++) {
            host.tell(new RaftHost.GetTickStats(p.getRef()));
            s = p.receiveMessage(Duration.ofSeconds(10));
            if (s.membersAwaitingTick() == 0) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("quiesced members still wait for ticks: " + s);
    }

    static long ticksSent(ActorTestKit kit, Map<String, ActorRef<RaftHost.Command>> hosts) {
        TestProbe<RaftHost.TickStats> p = kit.createTestProbe();
        long total = 0;
        for (ActorRef<RaftHost.Command> h : hosts.values()) {
            h.tell(new RaftHost.GetTickStats(p.getRef()));
            total += p.receiveMessage(Duration.ofSeconds(10)).ticksSent();
        }
        return total;
    }
}
