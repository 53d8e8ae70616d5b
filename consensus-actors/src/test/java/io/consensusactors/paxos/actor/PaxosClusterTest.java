package io.consensusactors.paxos.actor;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.consensusactors.paxos.core.Ballot;
import io.consensusactors.persistence.PersistenceSettings;
import io.consensusactors.testcluster.TestCluster;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The register on three clustered ActorSystems (Artery on 127.0.0.1, port 0), one acceptor each, journals in one H2
 * file per node. In order: duelling proposers on all three nodes agree on every key; with one node terminated (a
 * minority of acceptors down) decisions go on; the terminated acceptor, restarted from its H2 file, keeps its promise
 * and its accepted value ("Paxos Made Simple" §2.3); with two nodes down (a majority) the last node cannot decide and
 * says so with a failed CompletionStage after the decide timeout — it never answers a value that is not chosen.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PaxosClusterTest {

    /** Generous: the machine running the suite may be slow; only the majority-down test waits for it. */
    static final Duration DECIDE_TIMEOUT = Duration.ofSeconds(20);
    static final Duration SHORT_TIMEOUT = Duration.ofSeconds(3);

    @TempDir
    static Path dataDir;

    private final TestCluster cluster = new TestCluster("PaxosClusterTest", PaxosClusterTest::overlay);
    private final ActorTestKit[] kits = new ActorTestKit[3];
    private final ConsensusRegister[] registers = new ConsensusRegister[3];

    /** Node {@code node}'s own settings (H2 file, a tolerant failure detector) in front of {@link TestCluster#BASE}. */
    static Config overlay(String node) {
        return ConfigFactory.parseString("pekko.cluster.failure-detector.acceptable-heartbeat-pause = 10s")
                .withFallback(PersistenceSettings.h2(dataDir, "paxos-node-" + node));
    }

    static PaxosSettings settings(int node) {
        return PaxosSettings.defaults(node, node, 3).withTickInterval(Duration.ofMillis(10))
                .withDecideTimeout(DECIDE_TIMEOUT);
    }

    @BeforeAll
    void formCluster() throws InterruptedException {
        cluster.startAll(List.of("0", "1", "2"));
        for (int i = 0; i < 3; i++) {
            kits[i] = cluster.kit(String.valueOf(i));
        }
        for (int i = 0; i < 3; i++) {
            registers[i] = ConsensusRegister.start(kits[i].system(), settings(i));
        }
        for (ActorTestKit kit : kits) {
            awaitAcceptors(kit, 3);
        }
    }

    @AfterAll
    void shutdown() {
        cluster.close();
    }

    static Set<ActorRef<PaxosAcceptor.Command>> awaitAcceptors(ActorTestKit kit, int count) {
        TestProbe<Receptionist.Listing> probe = kit.createTestProbe();
        return probe.awaitAssert(Duration.ofSeconds(30), () -> {
            kit.system().receptionist().tell(Receptionist.find(PaxosAcceptorHost.SERVICE_KEY, probe.getRef()));
            Set<ActorRef<PaxosAcceptor.Command>> found = probe.receiveMessage()
                    .getServiceInstances(PaxosAcceptorHost.SERVICE_KEY);
            assertEquals(count, found.size(), "acceptors listed");
            return found;
        });
    }

    static <T> T await(java.util.concurrent.CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** Sends one request straight to node {@code node}'s acceptor host and returns its reply. */
    private static PaxosAcceptor.Reply ask(ActorTestKit kit, ActorRef<PaxosAcceptor.Command> acceptor,
                                           java.util.function.Function<ActorRef<PaxosAcceptor.Reply>, PaxosAcceptor.Command> request) {
        TestProbe<PaxosAcceptor.Reply> probe = kit.createTestProbe();
        acceptor.tell(request.apply(probe.getRef()));
        return probe.receiveMessage(Duration.ofSeconds(20));
    }

    private ActorRef<PaxosAcceptor.Command> acceptorOf(int node) {
        TestProbe<Receptionist.Listing> probe = kits[node].createTestProbe();
        kits[node].system().receptionist().tell(Receptionist.find(PaxosAcceptorHost.SERVICE_KEY, probe.getRef()));
        return probe.receiveMessage().getServiceInstances(PaxosAcceptorHost.SERVICE_KEY).stream()
                .filter(r -> r.path().address().hasLocalScope()).findFirst().orElseThrow();
    }

    @Test
    @Order(1)
    void duellingProposersOnThreeSystemsAgreeOnEveryKey() {
        int keys = 30;
        List<List<CompletableFuture<String>>> answers = new ArrayList<>();
        for (int k = 0; k < keys; k++) {
            List<CompletableFuture<String>> perKey = new ArrayList<>();
            for (int n = 0; n < 3; n++) {
                perKey.add(registers[n].decide("duel-" + k, "node-" + n).toCompletableFuture());
            }
            answers.add(perKey);
        }
        Map<String, Integer> wins = new TreeMap<>();
        for (int k = 0; k < keys; k++) {
            String first = await(answers.get(k).get(0));
            for (int n = 1; n < 3; n++) {
                assertEquals(first, await(answers.get(k).get(n)), "nodes disagree on duel-" + k);
            }
            assertTrue(first.startsWith("node-"), "only a proposed value is chosen");
            wins.merge(first, 1, Integer::sum);
        }
        System.out.println("duel on three clustered systems, keys won: " + wins);
    }

    @Test
    @Order(2)
    void aMinorityOfAcceptorsDownStillDecides() {
        // Before the crash, acceptor 2 promises and accepts a proposal of its own key directly.
        ActorRef<PaxosAcceptor.Command> acceptor2 = acceptorOf(2);
        Ballot ballot = new Ballot(50, 7);
        assertInstanceOf(PaxosAcceptor.Promise.class, ask(kits[2], acceptor2,
                r -> new PaxosAcceptor.Prepare("durable-key", ballot, r)));
        assertInstanceOf(PaxosAcceptor.Acceptance.class, ask(kits[2], acceptor2,
                r -> new PaxosAcceptor.Accept("durable-key", ballot, "persisted-value", r)));
        cluster.stop("2"); // the ActorSystem is terminated: a crash as far as the others can tell
        kits[2] = null;
        for (int k = 0; k < 5; k++) {
            String v = await(registers[k % 2].decide("minority-" + k, "v" + k));
            assertEquals("v" + k, v);
            assertEquals(v, await(registers[(k + 1) % 2].decide("minority-" + k, "other")));
        }
    }

    @Test
    @Order(3)
    void anAcceptorRestartedFromItsH2JournalKeepsItsPromiseAndAcceptedValue() {
        // §2.3: "an acceptor must remember this information even if it fails and then restarts".
        ActorTestKit restarted = ActorTestKit.create("PaxosClusterTestRestart",
                ConfigFactory.parseString("pekko.actor.provider = local").withFallback(cluster.config("2")));
        try {
            ActorRef<PaxosAcceptor.Command> acceptor = restarted.spawn(PaxosAcceptorHost.create(2, Duration.ofMinutes(1)));
            PaxosAcceptor.Reply low = ask(restarted, acceptor,
                    r -> new PaxosAcceptor.Prepare("durable-key", new Ballot(40, 9), r));
            assertEquals(new PaxosAcceptor.Nack(2, "durable-key", new Ballot(40, 9), new Ballot(50, 7)), low,
                    "the promise survived the restart");
            PaxosAcceptor.Reply high = ask(restarted, acceptor,
                    r -> new PaxosAcceptor.Prepare("durable-key", new Ballot(60, 9), r));
            assertEquals(new PaxosAcceptor.Promise(2, "durable-key", new Ballot(60, 9), new Ballot(50, 7),
                    "persisted-value"), high, "the accepted value survived the restart");
            // And what it accepted for the duels is the value that was chosen, if anything.
            for (int k = 0; k < 30; k++) {
                String key = "duel-" + k;
                PaxosAcceptor.Promise p = (PaxosAcceptor.Promise) ask(restarted, acceptor,
                        r -> new PaxosAcceptor.Prepare(key, new Ballot(1_000_000, 9), r));
                if (p.acceptedValue() != null) {
                    assertEquals(await(registers[0].decide(key, "x")), p.acceptedValue(), key);
                }
            }
        } finally {
            restarted.shutdownTestKit();
        }
    }

    @Test
    @Order(4)
    void aMajorityOfAcceptorsDownBlocksAndSaysSo() {
        cluster.stop("1");
        kits[1] = null;
        long start = System.nanoTime();
        ExecutionException e = assertThrows(ExecutionException.class, () ->
                registers[0].decide("blocked-key", "x", SHORT_TIMEOUT).toCompletableFuture().get(60, TimeUnit.SECONDS));
        long ms = (System.nanoTime() - start) / 1_000_000;
        String message = e.getCause().getMessage();
        System.out.println("majority down after " + ms + " ms: " + message);
        assertTrue(message.contains("no decision for key 'blocked-key'") && message.contains("1 of 3 acceptors answered")
                && message.contains("a majority of 2 is needed"), message);
        assertTrue(ms >= SHORT_TIMEOUT.toMillis() - 100, "failed only at the timeout");
        ExecutionException read = assertThrows(ExecutionException.class, () ->
                registers[0].read("blocked-key", SHORT_TIMEOUT).toCompletableFuture().get(60, TimeUnit.SECONDS));
        assertTrue(read.getCause().getMessage().contains("1 of 3 acceptors answered"));
        // A value this node already learned is final and is still answered.
        assertEquals(await(registers[0].read("minority-0")).orElseThrow(), "v0");
    }
}
