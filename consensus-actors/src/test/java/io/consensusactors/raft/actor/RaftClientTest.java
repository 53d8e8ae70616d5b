package io.consensusactors.raft.actor;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link RaftClient} against a scripted host (no Raft behind it): every attempt carries its own correlation id, an
 * attempt without an answer is retried with the same session and sequence number (exactly-once sessions, Raft
 * dissertation §6.3), a late answer to an earlier attempt is ignored, and a request nobody answers fails after the
 * request timeout saying the command may have been applied.
 */
class RaftClientTest {

    private ActorTestKit kit;
    private RaftSettings settings;

    /** One actor system per test, so that no other test's scripted host is registered. */
    @BeforeEach
    void start() {
        Config cfg = ConfigFactory.parseString("""
                pekko.loglevel = WARNING
                pekko.actor.provider = local
                consensus-actors.raft.client.attempt-timeout = 200ms
                consensus-actors.raft.client.request-timeout = 1500ms
                """).withFallback(ConfigFactory.load());
        kit = ActorTestKit.create("raft-client-test", cfg);
        settings = RaftSettings.from(cfg);
    }

    @AfterEach
    void stop() {
        kit.shutdownTestKit();
    }

    /** A host that registers like a RaftHost and forwards every request to the probe instead of answering. */
    private static Behavior<RaftHost.Command> scriptedHost(TestProbe<RaftHost.Command> probe) {
        return Behaviors.setup(ctx -> {
            ctx.getSystem().receptionist().tell(Receptionist.register(RaftHost.SERVICE_KEY, ctx.getSelf()));
            return Behaviors.receiveMessage(m -> {
                probe.getRef().tell(m);
                return Behaviors.same();
            });
        });
    }

    @Test
    void anUnansweredAttemptIsRetriedWithTheSameSessionAndSequenceAndALateAnswerToItIsIgnored() throws Exception {
        TestProbe<RaftHost.Command> probe = kit.createTestProbe();
        kit.spawn(scriptedHost(probe), RaftHost.actorName("n1"));
        RaftClient client = RaftClient.create(kit.system(), settings);
        byte[] command = "cmd".getBytes(StandardCharsets.UTF_8);
        CompletionStage<byte[]> result = client.propose("g1", command);

        RaftHost.ClientPropose open = probe.expectMessageClass(RaftHost.ClientPropose.class, Duration.ofSeconds(10));
        assertEquals(0, open.seq(), "a new session is opened first (seq 0)");
        open.replyTo().tell(new ClientReply.Ok(open.requestId(), new byte[0]));

        RaftHost.ClientPropose first = probe.expectMessageClass(RaftHost.ClientPropose.class, Duration.ofSeconds(5));
        assertEquals(open.clientId(), first.clientId());
        assertEquals(1, first.seq());
        assertArrayEquals(command, first.command());
        // no answer: the client must try again after its attempt timeout
        RaftHost.ClientPropose retry = probe.expectMessageClass(RaftHost.ClientPropose.class, Duration.ofSeconds(5));
        assertEquals(first.clientId(), retry.clientId(), "a retry keeps the session");
        assertEquals(first.seq(), retry.seq(), "a retry keeps the sequence number");
        assertArrayEquals(command, retry.command());
        assertNotEquals(first.requestId(), retry.requestId(), "every attempt has its own correlation id");

        first.replyTo().tell(new ClientReply.Ok(first.requestId(), "late".getBytes(StandardCharsets.UTF_8)));
        retry.replyTo().tell(new ClientReply.Ok(retry.requestId(), "answer".getBytes(StandardCharsets.UTF_8)));
        assertEquals("answer", new String(result.toCompletableFuture().get(5, TimeUnit.SECONDS), StandardCharsets.UTF_8));
    }

    @Test
    void aRequestNobodyAnswersFailsAfterTheRequestTimeoutSayingItMayHaveBeenApplied() {
        TestProbe<RaftHost.Command> probe = kit.createTestProbe();
        kit.spawn(scriptedHost(probe), RaftHost.actorName("n2"));
        RaftClient client = RaftClient.create(kit.system(), settings);
        CompletionStage<byte[]> result = client.propose("g2", "x".getBytes(StandardCharsets.UTF_8));
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> result.toCompletableFuture().get(30, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof RaftClient.RaftClientException, String.valueOf(e.getCause()));
        assertTrue(e.getCause().getMessage().contains("may or may not have been applied"), e.getCause().getMessage());
    }
}
