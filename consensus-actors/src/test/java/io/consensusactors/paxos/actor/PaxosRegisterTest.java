package io.consensusactors.paxos.actor;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.consensusactors.paxos.core.Ballot;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.SerializationTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The register on one ActorSystem with the in-memory journal: two proposer nodes (ids 0 and 1) and three acceptors.
 * Protects write-once semantics (Paxos Commit: a forced abort after commit returns commit), reads that propose nothing,
 * agreement between concurrent proposers, and that every wire message and event survives jackson-cbor.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PaxosRegisterTest {

    static final Config CONFIG = PersistenceTestKitPlugin.getInstance().config().withFallback(ConfigFactory.parseString("""
            pekko.loglevel = WARNING
            pekko.actor.provider = local
            """)).withFallback(ConfigFactory.load());

    private final ActorTestKit kit = ActorTestKit.create("PaxosRegisterTest", CONFIG);
    private final ConsensusRegister node0;
    private final ConsensusRegister node1;

    PaxosRegisterTest() {
        PaxosSettings s0 = PaxosSettings.defaults(0, 0, 3).withTickInterval(Duration.ofMillis(10))
                .withDecideTimeout(Duration.ofSeconds(20));
        PaxosSettings s1 = PaxosSettings.defaults(1, 1, 3).withTickInterval(Duration.ofMillis(10))
                .withDecideTimeout(Duration.ofSeconds(20));
        node0 = ConsensusRegister.start(kit.system(), s0);
        node1 = ConsensusRegister.start(kit.system(), s1);
        kit.spawn(PaxosAcceptorHost.create(2, Duration.ofSeconds(60)), "acceptor-2");
    }

    @AfterAll
    void shutdown() {
        kit.shutdownTestKit();
    }

    static <T> T await(java.util.concurrent.CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void theFirstChosenValueIsTheOnlyOne() {
        assertEquals("A", await(node0.decide("k1", "A")));
        assertEquals("A", await(node0.decide("k1", "B")), "write-once: a later proposal learns the earlier choice");
        assertEquals("A", await(node1.decide("k1", "C")), "from any node");
    }

    @Test
    void aForcedAbortAfterCommitReturnsCommit() {
        // Paxos Commit: a participant forcing the decision of a dead coordinator's transaction.
        assertEquals(ConsensusRegister.COMMIT, await(node0.decide("tx-1", ConsensusRegister.COMMIT)));
        assertEquals(ConsensusRegister.COMMIT, await(node1.decide("tx-1", ConsensusRegister.ABORT)));
        assertEquals(ConsensusRegister.ABORT, await(node1.decide("tx-2", ConsensusRegister.ABORT)));
        assertEquals(ConsensusRegister.ABORT, await(node0.decide("tx-2", ConsensusRegister.COMMIT)));
    }

    @Test
    void aReadOfAnUndecidedKeyProposesNothing() {
        assertEquals(Optional.empty(), await(node1.read("nothing-here")));
        assertEquals("later", await(node0.decide("nothing-here", "later")), "the read did not take the slot");
        assertEquals(Optional.of("later"), await(node1.read("nothing-here")));
    }

    @Test
    void concurrentProposersOnTwoNodesAgreeOnEveryKey() {
        long start = System.nanoTime();
        List<CompletableFuture<String>> a = new ArrayList<>();
        List<CompletableFuture<String>> b = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            a.add(node0.decide("duel-" + i, "zero").toCompletableFuture());
            b.add(node1.decide("duel-" + i, "one").toCompletableFuture());
        }
        int zero = 0;
        for (int i = 0; i < 200; i++) {
            String x = await(a.get(i));
            assertEquals(x, await(b.get(i)), "key duel-" + i);
            assertTrue(x.equals("zero") || x.equals("one"));
            zero += x.equals("zero") ? 1 : 0;
        }
        System.out.printf("duel on one system: node 0 won %d of 200 keys in %d ms%n", zero,
                (System.nanoTime() - start) / 1_000_000);
    }

    /**
     * The forget rule: a forgotten key keeps its outcome. After forget, a node that never learned the key (its learner
     * cache is empty, so it must run Paxos against the tombstones) still gets the value chosen before, for a decide
     * of another value and for a read; forgetting an undecided key is refused; forget is idempotent.
     */
    @Test
    void aForgottenKeyKeepsItsOutcomeAndAnUndecidedKeyCannotBeForgotten() {
        assertEquals(ConsensusRegister.COMMIT, await(node0.decide("tx-forget", ConsensusRegister.COMMIT)));
        assertEquals(ConsensusRegister.COMMIT, await(node1.forget("tx-forget")));
        assertEquals(ConsensusRegister.COMMIT, await(node0.forget("tx-forget")), "idempotent");
        ExecutionException undecided = assertThrows(ExecutionException.class,
                () -> node0.forget("tx-never-decided").toCompletableFuture().get(30, TimeUnit.SECONDS));
        assertTrue(undecided.getCause().getMessage().contains("nothing is chosen"), undecided.getCause().getMessage());
        assertEquals(ConsensusRegister.ABORT, await(node0.decide("tx-never-decided", ConsensusRegister.ABORT)),
                "the refused forget took nothing");
        // a fresh node: no cached knowledge, so its answers come from the acceptors' tombstones
        ConsensusRegister fresh = ConsensusRegister.start(kit.system(), PaxosSettings.defaults(7, -1, 3)
                .withTickInterval(Duration.ofMillis(10)).withDecideTimeout(Duration.ofSeconds(20)));
        assertEquals(ConsensusRegister.COMMIT, await(fresh.decide("tx-forget", ConsensusRegister.ABORT)),
                "a forced abort of a forgotten committed transaction still returns commit");
        assertEquals(Optional.of(ConsensusRegister.COMMIT), await(fresh.read("tx-forget")));
    }

    @Test
    void wireMessagesAndEventsSurviveJacksonCbor() {
        SerializationTestKit ser = new SerializationTestKit(kit.system());
        TestProbe<PaxosAcceptor.Reply> probe = kit.createTestProbe();
        ActorRef<PaxosAcceptor.Reply> ref = probe.getRef();
        Ballot b = new Ballot(3, 4097);
        for (Object m : List.of(new PaxosAcceptor.Prepare("k", b, ref), new PaxosAcceptor.Accept("k", b, "v", ref),
                new PaxosAcceptor.Promise(1, "k", b, Ballot.NONE, null), new PaxosAcceptor.Promise(1, "k", b, b, "v"),
                new PaxosAcceptor.Acceptance(2, "k", b, "v"), new PaxosAcceptor.Nack(0, "k", b, new Ballot(9, 1)),
                new PaxosAcceptor.Promised(b), new PaxosAcceptor.Accepted(b, "v"),
                new PaxosLearner.Learned("k", "v"), new ProposerIncarnation.Began(7),
                new PaxosAcceptor.Forget("k", "v", ref), new PaxosAcceptor.Forgot(1, "k"),
                new PaxosAcceptor.Forgotten("v"), new PaxosAcceptor.Promise(1, "k", b, Ballot.FORGOTTEN, "v"))) {
            ser.verifySerialization(m, true);
        }
    }
}
