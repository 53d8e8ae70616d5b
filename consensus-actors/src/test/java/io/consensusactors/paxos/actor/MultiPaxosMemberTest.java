package io.consensusactors.paxos.actor;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.consensusactors.paxos.core.LogValue;
import io.consensusactors.paxos.core.PaxosConfig;
import io.consensusactors.statemachine.StateMachine;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/**
 * Three {@link MultiPaxosMember}s in one ActorSystem (in-memory journal): a leader emerges, commands are applied in
 * the same order by every member, each once (sessions), and a member stopped and respawned recovers its acceptor
 * state from the journal and catches up with the log ("Paxos Made Simple" §3).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MultiPaxosMemberTest {

    static final Config CONFIG = PersistenceTestKitPlugin.getInstance().config().withFallback(ConfigFactory.parseString("""
            pekko.loglevel = WARNING
            pekko.actor.provider = local
            """)).withFallback(ConfigFactory.load());

    static final PaxosConfig CORE = PaxosConfig.defaults().withElection(5, 30).withAttempt(10, 50, 5);

    private final ActorTestKit kit = ActorTestKit.create("MultiPaxosMemberTest", CONFIG);
    private final List<List<String>> applied = new ArrayList<>();

    @AfterAll
    void shutdown() {
        kit.shutdownTestKit();
    }

    /** Records applied commands into {@code applied.get(id)} (a fresh list per incarnation). */
    private StateMachine recorder(int id) {
        List<String> log = Collections.synchronizedList(new ArrayList<>());
        applied.set(id, log);
        return new StateMachine() {
            @Override
            public byte[] apply(long index, byte[] command) {
                log.add(new String(command, StandardCharsets.UTF_8));
                return command;
            }

            @Override
            public byte[] query(byte[] query) {
                return query;
            }

            @Override
            public byte[] snapshot() {
                return new byte[0];
            }

            @Override
            public void restore(byte[] snapshot) {
            }
        };
    }

    private ActorRef<MultiPaxosMember.Command> spawn(int id, String name) {
        return kit.spawn(MultiPaxosMember.create("test", id, 3, CORE, Duration.ofMillis(10), () -> recorder(id)), name);
    }

    /** Proposes until some member accepts as leader; returns the reply. */
    private MultiPaxosMember.Reply propose(List<ActorRef<MultiPaxosMember.Command>> members, LogValue v) {
        TestProbe<MultiPaxosMember.Reply> probe = kit.createTestProbe();
        int target = 0;
        for (int attempt = 0; attempt < 500; attempt++) {
            members.get(target).tell(new MultiPaxosMember.Propose(v, probe.getRef()));
            MultiPaxosMember.Reply r = probe.receiveMessage(Duration.ofSeconds(20));
            if (r instanceof MultiPaxosMember.Applied) {
                return r;
            }
            int hint = r instanceof MultiPaxosMember.NotLeader n ? n.leaderHint() : -1;
            target = hint >= 0 ? hint : (target + 1) % members.size();
            probe.expectNoMessage(Duration.ofMillis(20));
        }
        throw new AssertionError("no member took " + v);
    }

    @Test
    void membersApplyTheSameCommandsInOrderAndARestartedMemberCatchesUp() {
        for (int i = 0; i < 3; i++) {
            applied.add(null);
        }
        List<ActorRef<MultiPaxosMember.Command>> members = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            members.add(spawn(i, "member-" + i));
        }
        members.forEach(m -> m.tell(new MultiPaxosMember.SetPeers(members)));
        List<String> expected = new ArrayList<>();
        propose(members, LogValue.command(42, 0, new byte[0])); // opens session 42
        for (int seq = 1; seq <= 20; seq++) {
            String c = "cmd-" + seq;
            assertInstanceOf(MultiPaxosMember.Applied.class,
                    propose(members, LogValue.command(42, seq, c.getBytes(StandardCharsets.UTF_8))));
            expected.add(c);
        }
        // A retry of an applied request is answered from the session table, not applied again.
        propose(members, LogValue.command(42, 20, "cmd-20".getBytes(StandardCharsets.UTF_8)));
        TestProbe<Object> wait = kit.createTestProbe();
        wait.awaitAssert(Duration.ofSeconds(20), () -> {
            for (int i = 0; i < 3; i++) {
                assertEquals(expected, List.copyOf(applied.get(i)), "member " + i);
            }
            return null;
        });
        // Stop member 2 and respawn it: it recovers its acceptor state and learns the log again.
        kit.stop(members.get(2), Duration.ofSeconds(10));
        members.set(2, spawn(2, "member-2-again"));
        members.forEach(m -> m.tell(new MultiPaxosMember.SetPeers(members)));
        for (int seq = 21; seq <= 25; seq++) {
            String c = "cmd-" + seq;
            propose(members, LogValue.command(42, seq, c.getBytes(StandardCharsets.UTF_8)));
            expected.add(c);
        }
        wait.awaitAssert(Duration.ofSeconds(30), () -> {
            for (int i = 0; i < 3; i++) {
                assertEquals(expected, List.copyOf(applied.get(i)), "member " + i);
            }
            return null;
        });
    }
}
