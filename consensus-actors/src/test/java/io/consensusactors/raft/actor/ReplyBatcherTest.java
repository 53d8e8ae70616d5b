package io.consensusactors.raft.actor;

import org.apache.pekko.actor.testkit.typed.javadsl.BehaviorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestInbox;
import org.apache.pekko.actor.typed.Terminated;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The host's per-client reply batcher, run synchronously: every answer reaches the client exactly once and in order
 * — those that arrived before one flush in one {@link ClientReply.Batch}, a lone answer as itself — and the batcher
 * stops when the client's actor does.
 */
class ReplyBatcherTest {

    @Test
    void answersOfOneMailboxRunLeaveTogetherInOrder() {
        TestInbox<ClientReply> client = TestInbox.create();
        BehaviorTestKit<Object> batcher = BehaviorTestKit.create(RaftHost.ReplyBatcher.create(client.getRef()));
        batcher.run(new ClientReply.Ok(1, new byte[]{1}));
        batcher.run(new ClientReply.NotLeader(2, "g", "n2"));
        batcher.run(new ClientReply.Rejected(3, "no"));
        assertFalse(client.hasMessages(), "nothing leaves before the flush");
        batcher.runOne(); // the flush it sent itself after the first answer
        ClientReply.Batch batch = assertInstanceOf(ClientReply.Batch.class, client.receiveMessage());
        assertEquals(List.of(1L, 2L, 3L), batch.replies().stream().map(ClientReply::requestId).toList());
        assertFalse(client.hasMessages());

        batcher.run(new ClientReply.Ok(4, new byte[0]));
        batcher.runOne();
        assertEquals(4, assertInstanceOf(ClientReply.Ok.class, client.receiveMessage()).requestId(),
                "a lone answer is sent as itself");
        assertFalse(batcher.selfInbox().hasMessages(), "no flush without answers");
    }

    @Test
    void stopsWhenTheClientDoes() {
        TestInbox<ClientReply> client = TestInbox.create();
        BehaviorTestKit<Object> batcher = BehaviorTestKit.create(RaftHost.ReplyBatcher.create(client.getRef()));
        batcher.signal(new Terminated(client.getRef().unsafeUpcast()));
        assertFalse(batcher.isAlive());
        assertTrue(client.getAllReceived().isEmpty());
    }
}
