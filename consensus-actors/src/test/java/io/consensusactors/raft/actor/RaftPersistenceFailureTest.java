package io.consensusactors.raft.actor;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.consensusactors.raft.core.ReadConsistency;
import io.consensusactors.raft.core.Role;
import io.consensusactors.statemachine.KeyValueStateMachine;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.testkit.JournalOperation;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;
import org.apache.pekko.persistence.testkit.PersistenceTestKitSnapshotPlugin;
import org.apache.pekko.persistence.testkit.ProcessingPolicy;
import org.apache.pekko.persistence.testkit.ProcessingResult;
import org.apache.pekko.persistence.testkit.ProcessingSuccess;
import org.apache.pekko.persistence.testkit.ReadEvents;
import org.apache.pekko.persistence.testkit.StorageFailure;
import org.apache.pekko.persistence.testkit.WriteEvents;
import org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A member whose journal write fails (a disk error, a database that drops the connection): the write was not made
 * durable, so nothing that depended on it may have left (Raft §5, Figure 2: respond only after persisting). Pekko's
 * {@code onPersistFailure} supervision restarts the member with backoff; it recovers its log and hard state from
 * the journal, catches up from the leader, and the group keeps committing. Uses Pekko's PersistenceTestKit
 * (in-memory journal with failure injection) with three {@link RaftHost}s in one ActorSystem.
 */
class RaftPersistenceFailureTest {

    static final Set<String> NODES = Set.of("a", "b", "c");
    static final String GROUP = "g1";
    static final String VICTIM = "a";
    static final String VICTIM_PID = RaftNodeLog.persistenceId(VICTIM).id();

    /**
     * Fails the first journal write of the victim once armed, and records when the victim (re)reads its journal:
     * a recovery is visible as a replay of the victim's events.
     */
    static final class FailOnceAndWatchRecovery implements ProcessingPolicy<JournalOperation> {
        final AtomicBoolean armed = new AtomicBoolean();
        volatile long failedAtNanos;
        final List<Long> replaysAtNanos = new CopyOnWriteArrayList<>();

        @Override
        public ProcessingResult tryProcess(String persistenceId, JournalOperation op) {
            if (!persistenceId.equals(VICTIM_PID)) {
                return ProcessingSuccess.getInstance();
            }
            if (op instanceof WriteEvents && armed.compareAndSet(true, false)) {
                failedAtNanos = System.nanoTime();
                return StorageFailure.create(new RuntimeException("injected journal failure (test)"));
            }
            if (op instanceof ReadEvents) {
                replaysAtNanos.add(System.nanoTime());
            }
            return ProcessingSuccess.getInstance();
        }
    }

    static Config config() {
        return PersistenceTestKitPlugin.config()
                .withFallback(PersistenceTestKitSnapshotPlugin.config())
                .withFallback(ConfigFactory.parseString("""
                        pekko.loglevel = WARNING
                        pekko.actor.provider = local
                        consensus-actors.raft.tick-interval = 20ms
                        """))
                .withFallback(ConfigFactory.load());
    }

    static String str(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    static <T> T await(CompletionStage<T> s) throws Exception {
        return s.toCompletableFuture().get(20, TimeUnit.SECONDS);
    }

    static RaftMember.Status status(ActorTestKit kit, ActorRef<RaftHost.Command> host, Duration wait) {
        TestProbe<RaftMember.Status> probe = kit.createTestProbe();
        host.tell(new RaftHost.ToMember(GROUP, new RaftMember.GetStatus(probe.getRef())));
        try {
            return probe.receiveMessage(wait);
        } catch (AssertionError noAnswer) {
            return null; // restarting (backoff) or recovering
        }
    }

    static void eventually(String what, Duration within, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(20);
        }
    }

    /** One compare-and-set step of a counter: applied twice it would answer "false", lost it leaves a gap. */
    static byte[] step(int i) {
        return KeyValueStateMachine.cas("counter", i == 0 ? "" : Integer.toString(i), Integer.toString(i + 1));
    }

    /**
     * The journal write of member {@code a} fails once, with {@code a} as the leader or as a follower. Properties:
     * the member restarts after a backoff and recovers its log from its journal (its status shows at least every
     * entry it had made durable); the group keeps committing through {@link RaftClient} meanwhile; every
     * acknowledged write is applied exactly once (a CAS counter without gaps or doubles) and readable afterwards,
     * also from the recovered member's own state machine.
     */
    @ParameterizedTest(name = "failing member is leader: {0}")
    @ValueSource(booleans = {true, false})
    void memberRestartsAfterAJournalFailureAndNoAcknowledgedWriteIsLost(boolean victimLeads) throws Exception {
        ActorTestKit kit = ActorTestKit.create("raft-persist-failure", config());
        try {
            PersistenceTestKit journal = PersistenceTestKit.create(kit.system());
            FailOnceAndWatchRecovery policy = new FailOnceAndWatchRecovery();
            journal.withPolicy(policy);
            RaftSettings settings = RaftSettings.from(kit.system().settings().config());
            Map<String, ActorRef<RaftHost.Command>> hosts = new HashMap<>();
            for (String n : NODES) {
                hosts.put(n, kit.spawn(RaftHost.create(n, settings, g -> new KeyValueStateMachine()),
                        RaftHost.actorName(n)));
            }
            for (ActorRef<RaftHost.Command> h : hosts.values()) {
                h.tell(new RaftHost.StartGroup(GROUP, NODES));
            }
            long t0 = System.nanoTime();
            RaftClient client = RaftClient.create(kit.system(), settings);
            int before = 10;
            for (int i = 0; i < before; i++) {
                assertEquals("true", str(await(client.propose(GROUP, step(i)))), "write " + i);
            }
            String leader = await(client.cachedLeader(GROUP));
            String wantedLeader = victimLeads ? VICTIM : NODES.stream().filter(n -> !n.equals(VICTIM)).sorted()
                    .findFirst().orElseThrow();
            if (!leader.equals(wantedLeader)) {
                await(client.transferLeadership(GROUP, wantedLeader));
                eventually(wantedLeader + " leads", Duration.ofSeconds(10), () -> {
                    RaftMember.Status s = status(kit, hosts.get(wantedLeader), Duration.ofSeconds(1));
                    return s != null && s.role() == Role.LEADER;
                });
            }
            int replaysBefore = policy.replaysAtNanos.size();
            RaftMember.Status beforeFailure = status(kit, hosts.get(VICTIM), Duration.ofSeconds(5));
            long durableBefore = beforeFailure.lastIndex();

            long t1 = System.nanoTime();
            // arm the failure: the victim's next journal write (the next entries it must make durable) fails
            policy.armed.set(true);
            int total = 40;
            for (int i = before; i < total; i++) {
                assertEquals("true", str(await(client.propose(GROUP, step(i)))),
                        "write " + i + " is applied exactly once while " + VICTIM + " fails and restarts");
            }
            long t2 = System.nanoTime();
            assertFalse(policy.armed.get(), "the injected failure happened");
            eventually(VICTIM + " recovered from its journal", Duration.ofSeconds(15),
                    () -> policy.replaysAtNanos.size() > replaysBefore);
            long backoffMillis = TimeUnit.NANOSECONDS.toMillis(policy.replaysAtNanos.get(replaysBefore)
                    - policy.failedAtNanos);
            System.out.println("RaftPersistenceFailureTest(leader=" + victimLeads + "): " + before
                    + " writes + leader placement " + TimeUnit.NANOSECONDS.toMillis(t1 - t0) + " ms; "
                    + (total - before) + " writes across the failure " + TimeUnit.NANOSECONDS.toMillis(t2 - t1)
                    + " ms; journal failure -> replay after " + backoffMillis + " ms");
            assertTrue(backoffMillis >= 150, "restarted with backoff (min 200 ms), not at once: " + backoffMillis + " ms");

            // the recovered member holds at least what it had made durable and catches up with the group
            RaftMember.Status recovered = status(kit, hosts.get(VICTIM), Duration.ofSeconds(5));
            assertNotNull(recovered, VICTIM + " answers again after its restart");
            assertTrue(recovered.lastIndex() >= durableBefore, "recovered log " + recovered + " has the "
                    + durableBefore + " entries made durable before the failure");
            assertFalse(journal.persistedInStorage(VICTIM_PID).isEmpty(), "the victim's journal holds its events");
            await(client.propose(GROUP, step(total)));
            long committed = -1;
            for (String n : NODES) {
                RaftMember.Status s = status(kit, hosts.get(n), Duration.ofSeconds(5));
                if (s.role() == Role.LEADER) {
                    committed = s.commitIndex();
                }
            }
            long target = committed;
            assertTrue(target > 0, "a leader exists");
            eventually(VICTIM + " applied everything committed", Duration.ofSeconds(10), () -> {
                RaftMember.Status s = status(kit, hosts.get(VICTIM), Duration.ofSeconds(1));
                return s != null && s.appliedIndex() >= target;
            });

            // no acknowledged write lost, none applied twice: linearizable read through the group, and the
            // recovered member's own state machine (a STALE read served by a alone) agree on total + 1
            String expected = Integer.toString(total + 1);
            assertEquals(expected, str(await(client.read(GROUP, KeyValueStateMachine.get("counter"),
                    ReadConsistency.LINEARIZABLE))));
            TestProbe<ClientReply> probe = kit.createTestProbe();
            hosts.get(VICTIM).tell(new RaftHost.ClientRead(GROUP, KeyValueStateMachine.get("counter"),
                    ReadConsistency.STALE, 1L, probe.getRef()));
            ClientReply local = probe.receiveMessage(Duration.ofSeconds(5));
            assertTrue(local instanceof ClientReply.Ok ok && str(ok.result()).equals(expected),
                    VICTIM + "'s own state machine after recovery: " + local);
        } finally {
            kit.shutdownTestKit();
        }
    }
}
