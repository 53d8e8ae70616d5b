package io.consensusactors.raft.actor;

import com.typesafe.config.ConfigFactory;
import io.consensusactors.statemachine.KeyValueStateMachine;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * A member's writes through the node log, with the node log played by a probe that makes each write durable only
 * when the test says so. Properties: a write is acknowledged to nobody before it is durable — a single-voter leader
 * answers a client only once its own copy of the entry is written (durability of acknowledged writes); with
 * {@code max-writes-in-flight} above 1 the member hands the next write to the node log while the previous one is
 * still under way (pipelining), never more than that many at once; a write with a new term or vote is waited for
 * before anything else.
 */
class RaftMemberPipeliningTest {

    private static final Duration QUIET = Duration.ofMillis(300);

    private ActorTestKit kit;

    @BeforeEach
    void start() {
        kit = ActorTestKit.create("pipelining", ConfigFactory.parseString(
                "pekko.loglevel = WARNING\npekko.actor.provider = local").withFallback(ConfigFactory.load()));
    }

    @AfterEach
    void stop() {
        kit.shutdownTestKit();
    }

    private record Member(ActorRef<RaftMember.Command> ref, TestProbe<RaftNodeLog.Command> log,
                          TestProbe<ClientReply> client) {

        RaftNodeLog.Append nextWrite() {
            return assertInstanceOf(RaftNodeLog.Append.class, log.receiveMessage(Duration.ofSeconds(5)));
        }

        void durable(RaftNodeLog.Append w) {
            w.replyTo().tell(new RaftMember.Persisted(w.token()));
        }

        void propose(long requestId, String key) {
            ref.tell(new RaftMember.Propose(0, 0, KeyValueStateMachine.put(key, "v"), requestId, client.getRef()));
        }
    }

    /** A single-voter group's member, elected leader; its election's write (new term and vote) made durable. */
    private Member leader(int maxWritesInFlight) {
        RaftSettings settings = RaftSettings.from(ConfigFactory.parseString(
                "consensus-actors.raft.max-writes-in-flight = " + maxWritesInFlight).withFallback(ConfigFactory.load()));
        TestProbe<RaftNodeLog.Command> log = kit.createTestProbe();
        TestProbe<RaftHost.Command> host = kit.createTestProbe();
        ActorRef<RaftMember.Command> ref = kit.spawn(RaftMember.create("g", "a", Set.of("a"), KeyValueStateMachine::new,
                settings, host.getRef(), log.getRef()));
        Member m = new Member(ref, log, kit.createTestProbe());
        RaftNodeLog.Recover recover = assertInstanceOf(RaftNodeLog.Recover.class, log.receiveMessage());
        recover.replyTo().tell(new RaftMember.Recovered(new DurableLog()));
        ref.tell(new RaftMember.Tick(1_000, 0, 0)); // far past the election timeout: it campaigns and wins alone

        RaftNodeLog.Append election = m.nextWrite();
        assertNotNull(election.write().ready());
        assertEquals("a", election.write().ready().votedFor(), "its vote for itself");
        m.propose(1, "early");
        log.expectNoMessage(QUIET); // a new term and vote are durable before anything else is written
        m.client.expectNoMessage(Duration.ZERO);
        m.durable(election);
        return m;
    }

    @Test
    void writesArePipelinedButAcknowledgedOnlyOnceDurable() {
        Member m = leader(4);
        RaftNodeLog.Append first = m.nextWrite(); // the proposal made during the election (and the term's no-op)
        m.propose(2, "x");
        RaftNodeLog.Append second = m.nextWrite(); // handed off while the first is still under way
        m.propose(3, "y");
        RaftNodeLog.Append third = m.nextWrite();
        m.client.expectNoMessage(QUIET); // nothing is committed before the only voter's copy is durable

        m.durable(first);
        assertEquals(1, m.client.expectMessageClass(ClientReply.Ok.class).requestId());
        m.client.expectNoMessage(QUIET);
        m.durable(second);
        assertEquals(2, m.client.expectMessageClass(ClientReply.Ok.class).requestId());
        m.durable(third);
        assertEquals(3, m.client.expectMessageClass(ClientReply.Ok.class).requestId());
    }

    @Test
    void noMoreThanMaxWritesInFlight() {
        Member m = leader(2);
        RaftNodeLog.Append first = m.nextWrite();
        m.propose(2, "x");
        RaftNodeLog.Append second = m.nextWrite();
        m.propose(3, "y");
        m.propose(4, "z");
        m.log.expectNoMessage(QUIET); // two in flight: the next proposals wait
        m.durable(first);
        RaftNodeLog.Append third = m.nextWrite(); // both waiting proposals, in one write
        m.log.expectNoMessage(QUIET);
        m.durable(second);
        m.durable(third);
        for (long id = 1; id <= 4; id++) {
            assertEquals(id, m.client.expectMessageClass(ClientReply.Ok.class).requestId());
        }
        m.log.expectNoMessage(QUIET);
    }

    @Test
    void withoutPipeliningEveryWriteIsWaitedFor() {
        Member m = leader(1);
        RaftNodeLog.Append first = m.nextWrite();
        m.propose(2, "x");
        m.log.expectNoMessage(QUIET);
        m.durable(first);
        RaftNodeLog.Append second = m.nextWrite(); // x, and the commit of the first (applied after this write)
        assertNull(second.write().compacted());
        m.log.expectNoMessage(QUIET);
        m.client.expectNoMessage(Duration.ZERO);
        m.durable(second);
        assertEquals(1, m.client.expectMessageClass(ClientReply.Ok.class).requestId());
        assertEquals(2, m.client.expectMessageClass(ClientReply.Ok.class).requestId());
    }
}
