package io.consensusactors.paxos.actor;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.consensusactors.paxos.core.LogValue;
import io.consensusactors.paxos.core.PaxosConfig;
import io.consensusactors.persistence.PersistenceSettings;
import io.consensusactors.persistence.SchemaInitializer;
import io.consensusactors.statemachine.StateMachine;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Throughput through the actors, three acceptors / replicas in one ActorSystem, Pekko's in-memory journal (events
 * still serialized with jackson-cbor). Figures are printed for docs/paxos.md, never asserted. Run with
 * {@code mvn -pl consensus-actors test -Dtest=PaxosActorBenchmark -Dsurefire.excludedGroups=}.
 */
@Tag("bench")
@Tag("soak")
class PaxosActorBenchmark {

    static final Config BASE = ConfigFactory.parseString("""
            pekko.loglevel = WARNING
            pekko.actor.provider = local
            """);

    /** Pekko's persistence testkit journal (in memory, events serialized). */
    static Config testkitJournal() {
        return PersistenceTestKitPlugin.getInstance().config().withFallback(BASE).withFallback(ConfigFactory.load());
    }

    /** Pekko Persistence JDBC on an in-memory H2 database. */
    static Config h2MemoryJournal(String name) {
        Config app = PersistenceSettings.h2InMemory(name).withFallback(BASE);
        Config config = PersistenceSettings.forNode(app).withFallback(app).withFallback(ConfigFactory.load());
        SchemaInitializer.createIfNotExists(config);
        return config;
    }

    @Test
    void registerDecisionsPerSecond() throws Exception {
        register("testkit journal", testkitJournal());
        register("JDBC on in-memory H2", h2MemoryJournal("paxos-bench-register"));
    }

    @Test
    void multiPaxosCommandsPerSecond() throws Exception {
        multiPaxos("testkit journal", testkitJournal());
        multiPaxos("JDBC on in-memory H2", h2MemoryJournal("paxos-bench-multi"));
    }

    private void register(String journal, Config config) throws Exception {
        ActorTestKit kit = ActorTestKit.create("PaxosActorBenchmark", config);
        try {
            PaxosSettings s = PaxosSettings.defaults(0, 0, 3).withDecideTimeout(Duration.ofSeconds(60));
            ConsensusRegister register = ConsensusRegister.start(kit.system(), s);
            kit.spawn(PaxosAcceptorHost.create(1, Duration.ofSeconds(60)), "acceptor-1");
            kit.spawn(PaxosAcceptorHost.create(2, Duration.ofSeconds(60)), "acceptor-2");
            register.decide("warm-up", "v").toCompletableFuture().get(30, TimeUnit.SECONDS);
            for (int round = 0; round < 3; round++) {
                long start = System.nanoTime();
                int sequential = 300;
                for (int i = 0; i < sequential; i++) {
                    register.decide("seq-" + round + "-" + i, "v").toCompletableFuture().get(30, TimeUnit.SECONDS);
                }
                double seqSecs = (System.nanoTime() - start) / 1e9;
                int keys = 5000;
                int window = 128;
                Semaphore inFlight = new Semaphore(window);
                CountDownLatch done = new CountDownLatch(keys);
                AtomicLong failed = new AtomicLong();
                start = System.nanoTime();
                for (int i = 0; i < keys; i++) {
                    inFlight.acquire();
                    register.decide("par-" + round + "-" + i, ConsensusRegister.COMMIT).whenComplete((v, e) -> {
                        if (e != null) {
                            failed.incrementAndGet();
                        }
                        inFlight.release();
                        done.countDown();
                    });
                }
                assertTrue(done.await(120, TimeUnit.SECONDS));
                double secs = (System.nanoTime() - start) / 1e9;
                assertEquals(0, failed.get());
                System.out.printf("register through actors (3 acceptors, %s): sequential %.2f ms per "
                                + "decision; %d in flight: %,.0f decisions/s%n", journal, seqSecs * 1000 / sequential,
                        window, keys / secs);
            }
        } finally {
            kit.shutdownTestKit();
        }
    }

    /** Counts applied commands. */
    static final class Counter implements StateMachine {
        long applied;

        @Override
        public byte[] apply(long index, byte[] command) {
            applied++;
            return new byte[0];
        }

        @Override
        public byte[] query(byte[] query) {
            return new byte[0];
        }

        @Override
        public byte[] snapshot() {
            return new byte[0];
        }

        @Override
        public void restore(byte[] snapshot) {
        }
    }

    private void multiPaxos(String journal, Config cfg) throws Exception {
        ActorTestKit kit = ActorTestKit.create("MultiPaxosBenchmark", cfg);
        try {
            // 10 ms ticks: heartbeat 50 ms, election after 0.5-1 s, Accept retransmission after 200 ms.
            PaxosConfig config = PaxosConfig.defaults().withElection(5, 50).withAttempt(20, 100, 5).withMaxBatch(256);
            List<ActorRef<MultiPaxosMember.Command>> members = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                members.add(kit.spawn(MultiPaxosMember.create("bench", i, 3, config, Duration.ofMillis(10),
                        Counter::new), "member-" + i));
            }
            members.forEach(m -> m.tell(new MultiPaxosMember.SetPeers(members)));
            int leader = -1;
            for (int attempt = 0; attempt < 200 && leader < 0; attempt++) {
                for (int i = 0; i < 3 && leader < 0; i++) {
                    MultiPaxosMember.Reply r = propose(kit, members.get(i), LogValue.command(0, 0, new byte[1]));
                    if (r instanceof MultiPaxosMember.Applied) {
                        leader = i;
                    }
                }
                Thread.sleep(20);
            }
            assertTrue(leader >= 0, "no leader");
            ActorRef<MultiPaxosMember.Command> target = members.get(leader);
            byte[] payload = new byte[64];
            for (int window : new int[] {1, 64, 512, 512}) {
                int commands = window == 1 ? 500 : 30_000;
                Semaphore inFlight = new Semaphore(window);
                CountDownLatch done = new CountDownLatch(commands);
                AtomicLong applied = new AtomicLong();
                long start = System.nanoTime();
                for (int i = 0; i < commands; i++) {
                    inFlight.acquire();
                    AskPattern.<MultiPaxosMember.Command, MultiPaxosMember.Reply>ask(target,
                            replyTo -> new MultiPaxosMember.Propose(LogValue.command(0, 0, payload), replyTo),
                            Duration.ofSeconds(30), kit.scheduler()).whenComplete((r, e) -> {
                                if (r instanceof MultiPaxosMember.Applied) {
                                    applied.incrementAndGet();
                                }
                                inFlight.release();
                                done.countDown();
                            });
                }
                assertTrue(done.await(120, TimeUnit.SECONDS));
                double secs = (System.nanoTime() - start) / 1e9;
                System.out.printf("multi-paxos through actors (3 replicas, %s, group commit): %d in "
                        + "flight: %,.0f commands/s (%d of %d applied)%n", journal, window, commands / secs,
                        applied.get(), commands);
            }
        } finally {
            kit.shutdownTestKit();
        }
    }

    private static MultiPaxosMember.Reply propose(ActorTestKit kit, ActorRef<MultiPaxosMember.Command> member,
                                                  LogValue v) throws Exception {
        return AskPattern.<MultiPaxosMember.Command, MultiPaxosMember.Reply>ask(member,
                replyTo -> new MultiPaxosMember.Propose(v, replyTo), Duration.ofSeconds(10), kit.scheduler())
                .toCompletableFuture().get(15, TimeUnit.SECONDS);
    }
}
