package io.consensusactors.bench;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.consensusactors.paxos.actor.ConsensusRegister;
import io.consensusactors.paxos.actor.MultiPaxosClient;
import io.consensusactors.paxos.actor.MultiPaxosHost;
import io.consensusactors.paxos.actor.MultiPaxosSettings;
import io.consensusactors.paxos.actor.PaxosSettings;
import io.consensusactors.persistence.PersistenceSettings;
import io.consensusactors.raft.actor.RaftClient;
import io.consensusactors.raft.actor.RaftHost;
import io.consensusactors.raft.actor.RaftSettings;
import io.consensusactors.statemachine.KeyValueStateMachine;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Paxos next to Raft on the same workload, three replicas / acceptors in one JVM, journals in one H2 file: closed-loop
 * clients, each with one request in flight, for a fixed time after a warm-up.
 *
 * <ul>
 *   <li>{@code register}: {@link ConsensusRegister#decide} of a fresh key per request (single-decree Paxos; every new
 *   key spawns and recovers one event-sourced acceptor per acceptor node) — decisions/s;</li>
 *   <li>{@code multipaxos}: {@link MultiPaxosClient#propose} of a key-value put through three {@link MultiPaxosHost}s
 *   (leader, phase 2 only, group commit) — commands/s;</li>
 *   <li>{@code raft}: {@link RaftClient#propose} of the same put through three {@link RaftHost}s — commands/s.</li>
 * </ul>
 *
 * <pre>java ... io.consensusactors.bench.PaxosLoad [clients=32] [seconds=15] [warmup-seconds=5] [h2|h2-mem]</pre>
 * Figures are printed with the load average; nothing is asserted.
 */
public final class PaxosLoad {

    private PaxosLoad() {
    }

    public record Result(String engine, int clients, long ops, double seconds, double meanMillis, long errors) {
        public double opsPerSecond() {
            return ops / seconds;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%-11s clients %3d: %8.0f ops/s, mean %7.2f ms, %d ops, %d errors",
                    engine, clients, opsPerSecond(), meanMillis, ops, errors);
        }
    }

    public static void main(String[] args) throws Exception {
        int clients = args.length > 0 ? Integer.parseInt(args[0]) : 32;
        Duration measure = Duration.ofSeconds(args.length > 1 ? Long.parseLong(args[1]) : 15);
        Duration warmup = Duration.ofSeconds(args.length > 2 ? Long.parseLong(args[2]) : 5);
        boolean file = args.length <= 3 || args[3].equals("h2");
        for (Result r : runAll(clients, measure, warmup, file)) {
            System.out.println(r);
        }
        System.out.println("load average: " + java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                .getSystemLoadAverage() + " on " + Runtime.getRuntime().availableProcessors() + " cores");
    }

    public static List<Result> runAll(int clients, Duration measure, Duration warmup, boolean h2File) throws Exception {
        List<Result> out = new ArrayList<>();
        out.add(register(clients, measure, warmup, h2File));
        out.add(multiPaxos(clients, measure, warmup, h2File));
        out.add(raft(clients, measure, warmup, h2File));
        return out;
    }

    static Config config(String name, boolean h2File) throws Exception {
        Config overlay;
        if (h2File) {
            Path dir = Files.createTempDirectory("paxos-load-" + name);
            dir.toFile().deleteOnExit();
            overlay = PersistenceSettings.h2(dir, name);
        } else {
            overlay = PersistenceSettings.h2InMemory(name + "-" + System.nanoTime());
        }
        return RaftLoad.jdbc(overlay).withFallback(RaftLoad.baseConfig()).withFallback(ConfigFactory.load());
    }

    static Result register(int clients, Duration measure, Duration warmup, boolean h2File) throws Exception {
        Config cfg = config("register", h2File);
        ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "paxosload", cfg);
        try {
            List<ConsensusRegister> nodes = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                nodes.add(ConsensusRegister.start(system, PaxosSettings.defaults(i, i, 3)
                        .withTickInterval(Duration.ofMillis(10)).withDecideTimeout(Duration.ofSeconds(30))));
            }
            AtomicLong keys = new AtomicLong();
            return loop("register", clients, measure, warmup,
                    c -> () -> nodes.get(c % 3).decide("tx-" + keys.incrementAndGet(), ConsensusRegister.COMMIT));
        } finally {
            terminate(system);
        }
    }

    static Result multiPaxos(int clients, Duration measure, Duration warmup, boolean h2File) throws Exception {
        Config cfg = config("multipaxos", h2File);
        List<String> nodes = List.of("a", "b", "c");
        MultiPaxosSettings settings = MultiPaxosSettings.fromConfig(cfg);
        ActorSystem<Void> system = ActorSystem.create(Behaviors.setup(ctx -> {
            for (String n : nodes) {
                ctx.spawn(MultiPaxosHost.create(n, settings, g -> new KeyValueStateMachine()),
                        MultiPaxosHost.actorName(n)).tell(new MultiPaxosHost.StartGroup("kv", nodes));
            }
            return Behaviors.empty();
        }), "paxosload", cfg);
        try {
            List<MultiPaxosClient> sessions = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                sessions.add(MultiPaxosClient.create(system, "kv", Duration.ofSeconds(2), Duration.ofSeconds(30)));
            }
            sessions.get(0).propose(KeyValueStateMachine.put("ready", "1")).toCompletableFuture().get(60, TimeUnit.SECONDS);
            AtomicLong seq = new AtomicLong();
            return loop("multipaxos", clients, measure, warmup,
                    c -> () -> sessions.get(c).propose(KeyValueStateMachine.put("k" + c, "v" + seq.incrementAndGet())));
        } finally {
            terminate(system);
        }
    }

    static Result raft(int clients, Duration measure, Duration warmup, boolean h2File) throws Exception {
        Config cfg = config("raft", h2File);
        RaftSettings settings = RaftSettings.from(cfg);
        Set<String> nodes = Set.of("a", "b", "c");
        ActorSystem<Void> system = ActorSystem.create(Behaviors.setup(ctx -> {
            for (String n : nodes) {
                ctx.spawn(RaftHost.create(n, settings, g -> new KeyValueStateMachine()), RaftHost.actorName(n))
                        .tell(new RaftHost.StartGroup("kv", nodes));
            }
            return Behaviors.empty();
        }), "paxosload", cfg);
        try {
            RaftClient client = RaftClient.create(system, settings);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (true) {
                try {
                    client.propose("kv", KeyValueStateMachine.put("ready", "1")).toCompletableFuture()
                            .get(15, TimeUnit.SECONDS);
                    break;
                } catch (Exception e) {
                    if (System.nanoTime() > deadline) {
                        throw e;
                    }
                }
            }
            AtomicLong seq = new AtomicLong();
            return loop("raft", clients, measure, warmup,
                    c -> () -> client.propose("kv", KeyValueStateMachine.put("k" + c, "v" + seq.incrementAndGet())));
        } finally {
            terminate(system);
        }
    }

    interface Op {
        CompletionStage<?> start();
    }

    /** {@code clients} closed loops; counts completions (and their latency) only inside the measured window. */
    static Result loop(String engine, int clients, Duration measure, Duration warmup, Function<Integer, Op> ops)
            throws Exception {
        AtomicBoolean measuring = new AtomicBoolean();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong done = new AtomicLong();
        AtomicLong latency = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        AtomicLong running = new AtomicLong(clients);
        for (int c = 0; c < clients; c++) {
            Op op = ops.apply(c);
            new Object() {
                void next() {
                    if (stop.get()) {
                        running.decrementAndGet();
                        return;
                    }
                    long t0 = System.nanoTime();
                    op.start().whenComplete((r, err) -> {
                        if (measuring.get()) {
                            if (err == null) {
                                done.incrementAndGet();
                                latency.addAndGet(System.nanoTime() - t0);
                            } else {
                                errors.incrementAndGet();
                            }
                        }
                        next();
                    });
                }
            }.next();
        }
        Thread.sleep(warmup.toMillis());
        measuring.set(true);
        long t0 = System.nanoTime();
        Thread.sleep(measure.toMillis());
        measuring.set(false);
        double seconds = (System.nanoTime() - t0) / 1e9;
        stop.set(true);
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (running.get() > 0 && System.nanoTime() < until) {
            Thread.sleep(20);
        }
        long n = done.get();
        return new Result(engine, clients, n, seconds, n == 0 ? 0 : latency.get() / 1e6 / n, errors.get());
    }

    static void terminate(ActorSystem<?> system) throws Exception {
        system.terminate();
        system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
}
