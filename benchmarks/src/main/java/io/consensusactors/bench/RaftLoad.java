package io.consensusactors.bench;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.consensusactors.entity.ConsensusEntities;
import io.consensusactors.entity.EntityRef;
import io.consensusactors.entity.ReplicatedEntityType;
import io.consensusactors.persistence.PersistenceSettings;
import io.consensusactors.persistence.SchemaInitializer;
import io.consensusactors.raft.actor.RaftClient;
import io.consensusactors.raft.actor.RaftHost;
import io.consensusactors.raft.actor.RaftSettings;
import io.consensusactors.raft.core.ReadConsistency;
import io.consensusactors.statemachine.KeyValueStateMachine;
import org.HdrHistogram.Histogram;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;

/**
 * End-to-end load generator for the Raft actors: one Raft group of three {@link RaftHost}s running a
 * {@link KeyValueStateMachine}, driven by N concurrent closed-loop clients (each sends its next request when the
 * previous one is answered) through {@link RaftClient}, with 64-byte values. Writes are proposals (committed on a
 * majority's journal and applied before the answer); reads are linearizable (ReadIndex) unless told otherwise.
 *
 * <p>Modes: {@code mem} (three hosts in this JVM, {@link InMemoryJournal}: events kept in memory as objects),
 * {@code h2-mem} (H2 in-memory database), {@code h2} (H2 file database under the data directory,
 * {@code WRITE_DELAY=0}: the durable configuration), {@code jvm3} (three node JVMs, each with its own H2 file, this
 * JVM joining the cluster as the client). For every (workload, clients) pair it warms up, measures, and prints
 * ops/s, latency percentiles and the CPU time used. See docs/raft-benchmarks.md for the command line and the
 * figures measured.
 */
public final class RaftLoad {

    static final String GROUP = "kv";
    static final Set<String> NODES = Set.of("node1", "node2", "node3");
    static final List<String> NODE_LIST = List.of("node1", "node2", "node3");

    private static final long MAX_LATENCY_NANOS = TimeUnit.SECONDS.toNanos(60);
    /**
     * {@code -Draftload.slow-ms=N}: measured requests slower than N ms are listed (start as epoch ms, latency, key)
     * in {@code raftload-slow-<clients>.txt} of the working directory after each measurement, to see whether the
     * tail comes in bursts (a stalled node: compare with its GC log) or is spread out (queueing). 0 = off.
     */
    private static final long SLOW_NANOS = TimeUnit.MILLISECONDS.toNanos(Long.getLong("raftload.slow-ms", 0));
    private static final Queue<String> SLOW = new ConcurrentLinkedQueue<>();

    private RaftLoad() {
    }

    /** Command-line options. */
    record Options(String mode, String api, int shards, List<Integer> clients, List<String> workloads,
                   Duration warmup, Duration rewarmup, Duration duration, int valueBytes, int keys,
                   List<ReadConsistency> readConsistencies, Path dataDir, String nodeHeap, boolean keepData,
                   boolean threadCpu) {

        static Options parse(String[] args) {
            String mode = "h2";
            String api = "raft";
            int shards = 32;
            List<Integer> clients = List.of(64, 1);
            List<String> workloads = List.of("write", "read");
            Duration warmup = Duration.ofSeconds(20);
            Duration rewarmup = null;
            Duration duration = Duration.ofSeconds(30);
            int valueBytes = 64;
            int keys = 10_000;
            List<ReadConsistency> rc = List.of(ReadConsistency.LINEARIZABLE);
            Path dataDir = Files.isDirectory(Path.of("benchmarks", "target"))
                    ? Path.of("benchmarks", "target", "raft-load") : Path.of("target", "raft-load");
            String nodeHeap = "512m";
            boolean keep = false;
            boolean threadCpu = false;
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (a.equals("--help") || a.equals("-h")) {
                    usage(null);
                }
                if (a.equals("--keep-data")) {
                    keep = true;
                    continue;
                }
                if (a.equals("--thread-cpu")) {
                    threadCpu = true;
                    continue;
                }
                if (i + 1 >= args.length) {
                    usage("missing value after " + a);
                }
                String v = args[++i];
                switch (a) {
                    case "--mode" -> mode = v;
                    case "--api" -> api = v;
                    case "--shards" -> shards = Integer.parseInt(v);
                    case "--clients" -> clients = Arrays.stream(v.split(",")).map(String::trim)
                            .map(Integer::parseInt).toList();
                    case "--workload" -> workloads = Arrays.stream(v.split(",")).map(String::trim).toList();
                    case "--warmup" -> warmup = duration(v);
                    case "--rewarmup" -> rewarmup = duration(v);
                    case "--duration" -> duration = duration(v);
                    case "--value-bytes" -> valueBytes = Integer.parseInt(v);
                    case "--keys" -> keys = Integer.parseInt(v);
                    case "--read-consistency" -> rc = Arrays.stream(v.split(",")).map(String::trim)
                            .map(c -> ReadConsistency.valueOf(c.toUpperCase(Locale.ROOT))).toList();
                    case "--data-dir" -> dataDir = Path.of(v);
                    case "--node-heap" -> nodeHeap = v;
                    default -> usage("unknown option " + a);
                }
            }
            if (!List.of("mem", "h2-mem", "h2", "jvm3").contains(mode)) {
                usage("unknown mode " + mode);
            }
            if (!List.of("raft", "entity").contains(api)) {
                usage("unknown api " + api + ": raft (RaftClient on one group) or entity (EntityRef.ask)");
            }
            if (shards < 1) {
                usage("shards must be positive");
            }
            for (String w : workloads) {
                if (!List.of("write", "read", "mixed").contains(w)) {
                    usage("unknown workload " + w);
                }
            }
            if (clients.stream().anyMatch(c -> c < 1) || keys < 1 || valueBytes < 1) {
                usage("clients, keys and value bytes must be positive");
            }
            if (rewarmup == null) {
                rewarmup = warmup.compareTo(Duration.ofSeconds(5)) < 0 ? warmup : Duration.ofSeconds(5);
            }
            return new Options(mode, api, shards, clients, workloads, warmup, rewarmup, duration, valueBytes, keys, rc,
                    dataDir, nodeHeap, keep, threadCpu);
        }

        static Duration duration(String v) {
            String s = v.trim().toLowerCase(Locale.ROOT);
            if (s.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2)));
            }
            if (s.endsWith("s")) {
                return Duration.ofMillis((long) (Double.parseDouble(s.substring(0, s.length() - 1)) * 1000));
            }
            if (s.endsWith("m")) {
                return Duration.ofSeconds(Long.parseLong(s.substring(0, s.length() - 1)) * 60);
            }
            return Duration.ofSeconds(Long.parseLong(s));
        }

        static void usage(String error) {
            if (error != null) {
                System.err.println("error: " + error);
            }
            System.err.println("""
                    usage: RaftLoad [--mode mem|h2-mem|h2|jvm3] [--api raft|entity] [--shards 32] [--clients 64,1]
                                    [--workload write,read,mixed] [--warmup 20s] [--rewarmup 5s] [--duration 30s]
                                    [--value-bytes 64] [--keys 10000] [--read-consistency linearizable,lease,stale]
                                    [--data-dir DIR] [--node-heap 512m] [--keep-data] [--thread-cpu]
                      mode    mem: 3 hosts in this JVM, in-memory journal (no I/O, no serialization)
                              h2-mem: 3 hosts in this JVM, H2 in-memory database
                              h2: 3 hosts in this JVM, H2 file under --data-dir (durable: WRITE_DELAY=0)
                              jvm3: 3 node JVMs with an H2 file each; this JVM is the cluster client
                      api     raft: RaftClient on one Raft group running a key/value state machine
                              entity: EntityRef.ask on BenchRegister entities (one per key) of --shards shards
                              (each shard a 3-member Raft group, leaders spread over the nodes), one
                              ConsensusEntities per node; in-JVM modes spread the clients over the 3 nodes' runtimes
                      read    runs once per --read-consistency given (comma-separated)
                      Every workload runs with every client count: warm-up (--warmup for the first run,
                      --rewarmup for later ones), then --duration measured. --thread-cpu prints where this
                      JVM's CPU time went, by thread pool (the rest is GC, JIT and other native threads).""");
            System.exit(error == null ? 0 : 2);
        }
    }

    /** A running group and the clients that talk to it. */
    interface Target extends AutoCloseable {
        Api api();

        /** CPU time consumed so far by every process of the setup (this JVM and node JVMs). */
        long cpuNanos();

        String describe();

        @Override
        void close() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        Options o = Options.parse(args);
        Hiccups.startIfAsked(Path.of("raftload-hiccups-client.txt"));
        List<Result> results = execute(o);
        System.out.println();
        System.out.println("| mode | workload | clients | ops/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms "
                + "| errors | CPU cores busy | CPU µs/op |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|");
        for (Result r : results) {
            System.out.println(r.row());
        }
        System.exit(0);
    }

    /** Starts the setup of {@code o.mode}, runs every (workload, clients) pair, stops the setup. */
    static List<Result> execute(Options o) throws Exception {
        System.out.printf(Locale.ROOT, "RaftLoad %s: mode=%s api=%s%s clients=%s workloads=%s warmup=%ds (later runs "
                        + "%ds) duration=%ds value=%dB keys=%d reads=%s cpus=%d jvm=%s common-pool-parallelism=%d%n",
                LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE_TIME), o.mode, o.api,
                o.api.equals("entity") ? " shards=" + o.shards : "", o.clients, o.workloads,
                o.warmup.toSeconds(), o.rewarmup.toSeconds(), o.duration.toSeconds(), o.valueBytes, o.keys,
                o.readConsistencies, Runtime.getRuntime().availableProcessors(), System.getProperty("java.vm.version"),
                ForkJoinPool.getCommonPoolParallelism());
        List<Result> results = new ArrayList<>();
        try (Target target = start(o)) {
            System.out.println("started: " + target.describe());
            target.api().awaitReady();
            boolean first = true;
            for (String workload : o.workloads) {
                List<ReadConsistency> rcs = workload.equals("write") ? List.of(o.readConsistencies.get(0))
                        : o.readConsistencies;
                for (ReadConsistency rc : rcs) {
                    for (int n : o.clients) {
                        Result r = run(o, target, workload, rc, n, first ? o.warmup : o.rewarmup);
                        first = false;
                        results.add(r);
                        System.out.println(r.line());
                        if (SLOW_NANOS > 0) {
                            Path slow = Path.of("raftload-slow-" + r.clients() + ".txt");
                            Files.write(slow, new ArrayList<>(SLOW));
                            System.out.println(SLOW.size() + " requests slower than " + SLOW_NANOS / 1_000_000
                                    + " ms listed in " + slow.toAbsolutePath());
                            SLOW.clear();
                        }
                    }
                }
            }
        }
        return results;
    }

    // ------------------------------------------------------------------ setups

    static Target start(Options o) throws Exception {
        return switch (o.mode) {
            case "mem" -> {
                InMemoryJournal.clear();
                yield inJvm(o, InMemoryJournal.config(),
                        "3 hosts in one JVM, in-memory journal (events kept as objects, no serialization)");
            }
            case "h2-mem" -> inJvm(o, jdbc(PersistenceSettings.h2InMemory("raftload" + System.nanoTime())),
                    "3 hosts in one JVM, H2 in-memory database");
            case "h2" -> {
                Path dir = runDir(o);
                yield inJvm(o, jdbc(PersistenceSettings.h2(dir, "raftload")),
                        "3 hosts in one JVM sharing one H2 file " + dir + " (WRITE_DELAY=0)");
            }
            case "jvm3" -> ThreeJvms.start(o, runDir(o));
            default -> throw new IllegalArgumentException(o.mode);
        };
    }

    static Path runDir(Options o) throws IOException {
        Path dir = o.dataDir.resolve(o.mode + "-" + System.currentTimeMillis()).toAbsolutePath();
        Files.createDirectories(dir);
        return dir;
    }

    static Config baseConfig() {
        return ConfigFactory.parseString("pekko.loglevel = " + System.getProperty("raftload.loglevel", "WARNING") + """

                pekko.loggers = ["org.apache.pekko.event.slf4j.Slf4jLogger"]
                pekko.logging-filter = "org.apache.pekko.event.slf4j.Slf4jLoggingFilter"
                pekko.actor.provider = local
                pekko.coordinated-shutdown.exit-jvm = off
                """);
    }

    /** The JDBC journal configuration for a {@code consensus-actors.persistence} overlay, schema created. */
    static Config jdbc(Config persistenceOverlay) {
        Config app = persistenceOverlay.withFallback(ConfigFactory.load());
        Config cfg = PersistenceSettings.forNode(app).withFallback(persistenceOverlay);
        SchemaInitializer.createIfNotExists(PersistenceSettings.read(app));
        return cfg;
    }

    static Target inJvm(Options o, Config persistence, String description) {
        Config cfg = persistence.withFallback(baseConfig()).withFallback(ConfigFactory.load());
        RaftSettings settings = RaftSettings.from(cfg);
        boolean entity = o.api.equals("entity");
        ActorSystem<Void> system = ActorSystem.create(Behaviors.setup(ctx -> {
            if (!entity) {
                for (String n : NODES) {
                    ctx.spawn(RaftHost.create(n, settings, g -> new KeyValueStateMachine()), RaftHost.actorName(n))
                            .tell(new RaftHost.StartGroup(GROUP, NODES));
                }
            }
            return Behaviors.empty();
        }), "raftload", cfg);
        Api api;
        if (entity) {
            List<ConsensusEntities> runtimes = new ArrayList<>();
            for (String n : NODE_LIST) {
                runtimes.add(ConsensusEntities.start(system, n, NODE_LIST, List.of(BenchRegister.type(o.shards))));
            }
            api = new EntityApi(runtimes, BenchRegister.type(o.shards));
        } else {
            api = new RaftApi(RaftClient.create(system, settings));
        }
        String url = cfg.hasPath(PersistenceSettings.PREFIX + ".resolved-url")
                ? cfg.getString(PersistenceSettings.PREFIX + ".resolved-url") : "";
        return new Target() {
            @Override
            public Api api() {
                return api;
            }

            @Override
            public long cpuNanos() {
                return processCpuNanos();
            }

            @Override
            public String describe() {
                return description + (entity ? ", " + o.shards + " entity shards" : "")
                        + (url.isEmpty() ? "" : " [" + url + "]") + "; tick "
                        + settings.tickInterval().toMillis() + " ms, flush-delay "
                        + settings.flushDelay().toMillis() + " ms";
            }

            @Override
            public void close() throws Exception {
                system.terminate();
                system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
                if (!o.keepData && o.mode.equals("h2") && url.startsWith("jdbc:h2:file:")) {
                    deleteQuietly(Path.of(url.substring("jdbc:h2:file:".length(), url.indexOf(';'))).getParent());
                }
            }
        };
    }

    /** System properties given to this JVM that the node JVMs get too (so both sides run alike). */
    static final List<String> INHERITED_PROPERTIES = List.of("java.util.concurrent.ForkJoinPool.common.parallelism",
            "raftload.loglevel", "logback.configurationFile");

    /** Prefixes of system properties (configuration overrides) that the node JVMs get too. */
    static final List<String> INHERITED_PREFIXES = List.of("pekko.", "consensus-actors.", "jdbc-journal.",
            "jdbc-snapshot-store.");

    /** The default dispatcher's size as Pekko computes it: cores x factor, within [min, max]. */
    static int dispatcherThreads(Config config) {
        Config fj = config.getConfig("pekko.actor.default-dispatcher.fork-join-executor");
        int scaled = (int) Math.ceil(Runtime.getRuntime().availableProcessors() * fj.getDouble("parallelism-factor"));
        return Math.min(Math.max(scaled, fj.getInt("parallelism-min")), fj.getInt("parallelism-max"));
    }

    /** Three node JVMs ({@link RaftLoadNode}), with this JVM joining their cluster as a client-only member. */
    static final class ThreeJvms implements Target {
        private final List<Process> nodes = new ArrayList<>();
        /** The collector option added to the node JVMs; null when -Draftload.node-jvm-args names one. */
        private String collector;
        private final Path dir;
        private final Options options;
        private ActorSystem<Void> system;
        private Api api;

        private ThreeJvms(Options options, Path dir) {
            this.options = options;
            this.dir = dir;
        }

        static ThreeJvms start(Options o, Path dir) throws Exception {
            ThreeJvms t = new ThreeJvms(o, dir);
            try {
                t.launch();
            } catch (Exception e) {
                t.close();
                throw e;
            }
            return t;
        }

        private void launch() throws Exception {
            int[] ports = freePorts(4);
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            String seed = "127.0.0.1:" + ports[0];
            List<String> names = NODES.stream().sorted().toList();
            String given = System.getProperty("raftload.node-jvm-args", "");
            collector = given.matches(".*-XX:[+]Use\\w*GC.*") ? null : defaultNodeCollector(java);
            for (int i = 0; i < names.size(); i++) {
                List<String> cmd = new ArrayList<>(List.of(java, "-Xmx" + options.nodeHeap));
                String extra = given.replace("{node}", names.get(i));
                if (collector != null) {
                    cmd.add(collector);
                }
                if (!extra.isBlank()) {
                    cmd.addAll(List.of(extra.trim().split("\\s+"))); // e.g. JFR or GC logging, {node} = node name
                }
                for (String property : INHERITED_PROPERTIES) {
                    if (System.getProperty(property) != null) {
                        cmd.add("-D" + property + "=" + System.getProperty(property));
                    }
                }
                for (String property : System.getProperties().stringPropertyNames()) {
                    if (INHERITED_PREFIXES.stream().anyMatch(property::startsWith)) {
                        cmd.add("-D" + property + "=" + System.getProperty(property));
                    }
                }
                cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), RaftLoadNode.class.getName(),
                        names.get(i), "127.0.0.1", String.valueOf(ports[i]), seed, dir.toString(), options.api,
                        String.valueOf(options.shards)));
                Path log = dir.resolve(names.get(i) + ".log");
                nodes.add(new ProcessBuilder(cmd).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start());
            }
            Config cfg = RaftLoadNode.clusterConfig("127.0.0.1", ports[3], seed, "client")
                    .withFallback(ConfigFactory.load());
            RaftSettings settings = RaftSettings.from(cfg);
            system = ActorSystem.create(Behaviors.empty(), RaftLoadNode.SYSTEM, cfg);
            if (options.api.equals("entity")) {
                ReplicatedEntityType<BenchRegister.Command, BenchRegister.Event, BenchRegister.State> type =
                        BenchRegister.type(options.shards);
                api = new EntityApi(List.of(ConsensusEntities.start(system, "client", NODE_LIST, List.of(type))), type);
            } else {
                api = new RaftApi(RaftClient.create(system, settings));
            }
        }

        @Override
        public Api api() {
            return api;
        }

        @Override
        public long cpuNanos() {
            long total = processCpuNanos();
            for (Process p : nodes) {
                total += p.info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
            }
            return total;
        }

        /**
         * The node JVMs' collector unless {@code -Draftload.node-jvm-args} names one: Shenandoah where this JDK has
         * it, else the serial collector. The serial collector spends the least CPU per write (its barriers are the
         * cheapest and it runs no concurrent GC thread on two cores shared by four JVMs), but each node stops for
         * 20-30 ms every ~0.6 s at 64 clients, which is the p99; Shenandoah pauses for under a millisecond and costs
         * ~20% more CPU per write: 8,875-11,792 writes/s at p99 17.6-23.3 ms, against the serial collector's
         * 8,935-14,951/s at p99 23.2-39.6 ms (docs/raft-benchmarks.md, batch 16).
         */
        static String defaultNodeCollector(String java) {
            try {
                Process p = new ProcessBuilder(java, "-XX:+UseShenandoahGC", "-version").redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                if (p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0) {
                    return "-XX:+UseShenandoahGC";
                }
                p.destroyForcibly();
            } catch (IOException e) {
                // fall through: the serial collector is in every HotSpot JVM
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return "-XX:+UseSerialGC";
        }

        @Override
        public String describe() {
            return "3 node JVMs (-Xmx" + options.nodeHeap + ", collector "
                    + (collector == null ? "from -Draftload.node-jvm-args" : collector) + ", one H2 file each under " + dir
                    + (options.api.equals("entity") ? ", " + options.shards + " entity shards" : "")
                    + ", WRITE_DELAY=0, dispatcher threads per JVM: " + dispatcherThreads(system.settings().config())
                    + ") + this JVM as cluster client; node pids "
                    + nodes.stream().map(p -> String.valueOf(p.pid())).toList();
        }

        @Override
        public void close() throws Exception {
            if (system != null) {
                system.terminate();
                system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
            }
            for (Process p : nodes) {
                p.getOutputStream().close(); // the node exits when its stdin closes
            }
            for (Process p : nodes) {
                if (!p.waitFor(15, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            }
            if (!options.keepData) {
                deleteQuietly(dir);
            } else {
                System.out.println("node logs and data kept in " + dir);
            }
        }
    }

    static int[] freePorts(int n) throws IOException {
        int[] ports = new int[n];
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0);
                sockets.add(s);
                ports[i] = s.getLocalPort();
            }
        } finally {
            for (ServerSocket s : sockets) {
                s.close();
            }
        }
        return ports;
    }

    static void deleteQuietly(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            System.err.println("could not delete " + dir + ": " + e);
        }
    }

    static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
    }

    static Map<Long, Long> threadCpu() {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        Map<Long, Long> m = new HashMap<>();
        for (long id : mx.getAllThreadIds()) {
            long t = mx.getThreadCpuTime(id);
            if (t >= 0) {
                m.put(id, t);
            }
        }
        return m;
    }

    /** This JVM's CPU time in the measured window by thread pool (thread names without their numbers). */
    static void printThreadCpu(Map<Long, Long> before, Map<Long, Long> after, long processNanos, long wallNanos) {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        Map<String, Long> byPool = new TreeMap<>();
        long javaThreads = 0;
        for (Map.Entry<Long, Long> e : after.entrySet()) {
            long used = e.getValue() - before.getOrDefault(e.getKey(), 0L);
            ThreadInfo info = mx.getThreadInfo(e.getKey());
            String name = info == null ? "(ended)" : info.getThreadName().replaceAll("\\d+", "N");
            byPool.merge(name, used, Long::sum);
            javaThreads += used;
        }
        byPool.put("(GC, JIT, other native threads)", processNanos - javaThreads);
        System.out.printf(Locale.ROOT, "  CPU by thread pool, %.1f s measured, %.2f cores in total:%n", wallNanos / 1e9,
                processNanos / (double) wallNanos);
        byPool.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .filter(e -> e.getValue() > wallNanos / 1000)
                .forEach(e -> System.out.printf(Locale.ROOT, "    %6.1f%%  %s%n", 100.0 * e.getValue() / processNanos,
                        e.getKey()));
    }

    static long gcMillis() {
        long t = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            t += Math.max(0, gc.getCollectionTime());
        }
        return t;
    }

    /** Proposes until the group answers (a leader was elected and the client found the hosts). */
    static void awaitLeader(RaftClient client) throws Exception {
        long t0 = System.nanoTime();
        long deadline = t0 + TimeUnit.SECONDS.toNanos(90);
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                client.propose(GROUP, KeyValueStateMachine.put("ready", "1")).toCompletableFuture()
                        .get(15, TimeUnit.SECONDS);
                System.out.printf(Locale.ROOT, "group answered after %d ms%n",
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
                return;
            } catch (Exception e) {
                last = e;
                Thread.sleep(200);
            }
        }
        throw new IllegalStateException("the Raft group did not answer within 90 s", last);
    }

    // ------------------------------------------------------------------ the API under load

    /** What a closed-loop client calls: writes and reads of one key, through the Raft client or entity refs. */
    interface Api {
        CompletionStage<?> write(int client, String key, String value);

        CompletionStage<?> read(int client, String key, ReadConsistency consistency);

        /** Blocks until every Raft group behind the API answers a write. */
        void awaitReady() throws Exception;
    }

    /** {@link RaftClient} on the single key/value group {@value #GROUP}. */
    record RaftApi(RaftClient client) implements Api {
        @Override
        public CompletionStage<?> write(int c, String key, String value) {
            return client.propose(GROUP, KeyValueStateMachine.put(key, value));
        }

        @Override
        public CompletionStage<?> read(int c, String key, ReadConsistency consistency) {
            return client.read(GROUP, KeyValueStateMachine.get(key), consistency);
        }

        @Override
        public void awaitReady() throws Exception {
            awaitLeader(client);
        }
    }

    /**
     * {@link EntityRef#ask} on {@link BenchRegister} entities, one per key; client {@code c} uses the runtime of node
     * {@code c mod n} (in one JVM: as if the application ran on every node).
     */
    record EntityApi(List<ConsensusEntities> runtimes,
                     ReplicatedEntityType<BenchRegister.Command, BenchRegister.Event, BenchRegister.State> type)
            implements Api {
        EntityRef<BenchRegister.Command> ref(int c, String key) {
            return runtimes.get(c % runtimes.size()).entityRefFor(type, key);
        }

        @Override
        public CompletionStage<?> write(int c, String key, String value) {
            return ref(c, key).<BenchRegister.Version>ask(new BenchRegister.Put(value));
        }

        @Override
        public CompletionStage<?> read(int c, String key, ReadConsistency consistency) {
            return ref(c, key).<BenchRegister.Value>ask(new BenchRegister.Get(), consistency);
        }

        @Override
        public void awaitReady() throws Exception {
            long t0 = System.nanoTime();
            long deadline = t0 + TimeUnit.SECONDS.toNanos(120);
            Set<Integer> ready = new java.util.HashSet<>();
            Exception last = null;
            for (int k = 0; ready.size() < type.shards() && System.nanoTime() < deadline; k++) {
                String id = "ready-" + k;
                int shard = type.shardOf(id);
                if (ready.contains(shard)) {
                    continue;
                }
                try {
                    write(0, id, "1").toCompletableFuture().get(15, TimeUnit.SECONDS);
                    ready.add(shard);
                } catch (Exception e) {
                    last = e;
                    k--; // retry this shard
                    Thread.sleep(200);
                }
            }
            if (ready.size() < type.shards()) {
                throw new IllegalStateException("only " + ready.size() + " of " + type.shards()
                        + " entity shards answered within 120 s", last);
            }
            System.out.printf(Locale.ROOT, "all %d entity shards answered after %d ms%n", type.shards(),
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
        }
    }

    // ------------------------------------------------------------------ closed-loop clients

    enum Phase { WARMUP, MEASURE, STOP }

    record Result(String mode, String workload, int clients, long ops, double seconds, Histogram hist, long errors,
                  String firstError, double cpuCores, double cpuMicrosPerOp, long gcMillis) {

        double opsPerSecond() {
            return ops / seconds;
        }

        static String ms(Histogram h, double percentile) {
            return String.format(Locale.ROOT, "%.2f", h.getValueAtPercentile(percentile) / 1e6);
        }

        String line() {
            return String.format(Locale.ROOT, "RESULT mode=%s workload=%s clients=%d ops/s=%.0f p50=%sms p90=%sms "
                            + "p99=%sms p99.9=%sms max=%.2fms errors=%d cpu=%.2f cores (%.0f us/op) gc=%dms%s",
                    mode, workload, clients, opsPerSecond(), ms(hist, 50), ms(hist, 90), ms(hist, 99), ms(hist, 99.9),
                    hist.getMaxValue() / 1e6, errors, cpuCores, cpuMicrosPerOp, gcMillis,
                    firstError == null ? "" : " firstError=" + firstError);
        }

        String row() {
            return String.format(Locale.ROOT, "| %s | %s | %d | %.0f | %s | %s | %s | %s | %.1f | %d | %.2f | %.0f |",
                    mode, workload, clients, opsPerSecond(), ms(hist, 50), ms(hist, 90), ms(hist, 99), ms(hist, 99.9),
                    hist.getMaxValue() / 1e6, errors, cpuCores, cpuMicrosPerOp);
        }
    }

    private static final Duration PROGRESS_EVERY = Duration.ofSeconds(30);

    /** One closed-loop client: sends the next request when the previous one is answered. */
    static final class LoopClient {
        final int id;
        final Histogram hist = new Histogram(MAX_LATENCY_NANOS, 3);
        final CompletableFuture<Void> done = new CompletableFuture<>();
        final String workload;
        final Options o;
        final Api api;
        final ReadConsistency consistency;
        final AtomicReference<Phase> phase;
        final AtomicLong errors;
        final AtomicReference<String> firstError;
        final String value;
        /** Answers of any phase, for the warm-up progress lines. */
        final LongAdder answered;
        long ops;
        long i;

        LoopClient(int id, String workload, Options o, Api api, ReadConsistency consistency,
                   AtomicReference<Phase> phase, AtomicLong errors, AtomicReference<String> firstError,
                   LongAdder answered) {
            this.id = id;
            this.answered = answered;
            this.workload = workload;
            this.o = o;
            this.api = api;
            this.consistency = consistency;
            this.phase = phase;
            this.errors = errors;
            this.firstError = firstError;
            char[] v = new char[o.valueBytes];
            Arrays.fill(v, (char) ('a' + id % 26));
            this.value = new String(v);
        }

        void next() {
            Phase atStart = phase.get();
            if (atStart == Phase.STOP) {
                done.complete(null);
                return;
            }
            long n = i++;
            String key = "k" + Math.floorMod(id * 7919L + n, o.keys);
            boolean write = switch (workload) {
                case "write" -> true;
                case "read" -> false;
                default -> (n & 1) == 0;
            };
            long start = System.nanoTime();
            CompletionStage<?> f = write ? api.write(id, key, value) : api.read(id, key, consistency);
            f.whenComplete((r, e) -> {
                long latency = System.nanoTime() - start;
                answered.increment();
                if (atStart == Phase.MEASURE && phase.get() == Phase.MEASURE) {
                    if (e == null) {
                        hist.recordValue(Math.min(latency, MAX_LATENCY_NANOS));
                        ops++;
                        if (SLOW_NANOS > 0 && latency > SLOW_NANOS) {
                            SLOW.add((System.currentTimeMillis() - latency / 1_000_000) + " "
                                    + latency / 1_000_000 + " " + key);
                        }
                    } else {
                        errors.incrementAndGet();
                        firstError.compareAndSet(null, String.valueOf(e));
                    }
                }
                next();
            });
        }
    }

    /**
     * Sleeps through the warm-up, printing every {@link #PROGRESS_EVERY} the throughput and the CPU of the setup
     * over that interval: how far the JIT and the batching have come (a run whose warm-up still climbs at its end
     * was measured too early).
     */
    static void warmUp(Target target, Duration warmup, LongAdder answered) throws InterruptedException {
        long end = System.nanoTime() + warmup.toNanos();
        long lastNanos = System.nanoTime();
        long lastAnswered = answered.sum();
        long lastCpu = target.cpuNanos();
        while (true) {
            long left = end - System.nanoTime();
            if (left <= 0) {
                return;
            }
            TimeUnit.NANOSECONDS.sleep(Math.min(left, PROGRESS_EVERY.toNanos()));
            long now = System.nanoTime();
            long a = answered.sum();
            long cpu = target.cpuNanos();
            if (now - lastNanos >= PROGRESS_EVERY.toNanos() / 2) {
                double seconds = (now - lastNanos) / 1e9;
                long ops = a - lastAnswered;
                System.out.printf("  warm-up %s: %.0f ops/s, cpu=%.2f cores (%.0f us/op)%n",
                        LocalTime.now().truncatedTo(ChronoUnit.SECONDS), ops / seconds,
                        (cpu - lastCpu) / 1e9 / seconds, ops == 0 ? 0 : (cpu - lastCpu) / 1e3 / ops);
            }
            lastNanos = now;
            lastAnswered = a;
            lastCpu = cpu;
        }
    }

    static Result run(Options o, Target target, String workload, ReadConsistency rc, int n, Duration warmup)
            throws Exception {
        AtomicReference<Phase> phase = new AtomicReference<>(Phase.WARMUP);
        AtomicLong errors = new AtomicLong();
        AtomicReference<String> firstError = new AtomicReference<>();
        LongAdder answered = new LongAdder();
        List<LoopClient> clients = new ArrayList<>();
        for (int c = 0; c < n; c++) {
            clients.add(new LoopClient(c, workload, o, target.api(), rc, phase, errors, firstError, answered));
        }
        for (LoopClient c : clients) {
            c.next();
        }
        warmUp(target, warmup, answered);
        long cpu0 = target.cpuNanos();
        long gc0 = gcMillis();
        long own0 = processCpuNanos();
        Map<Long, Long> threads0 = o.threadCpu ? threadCpu() : Map.of();
        long t0 = System.nanoTime();
        phase.set(Phase.MEASURE);
        Thread.sleep(o.duration.toMillis());
        phase.set(Phase.STOP);
        long t1 = System.nanoTime();
        long cpu1 = target.cpuNanos();
        long gc1 = gcMillis();
        long own1 = processCpuNanos();
        if (o.threadCpu) {
            printThreadCpu(threads0, threadCpu(), own1 - own0, t1 - t0);
        }
        for (LoopClient c : clients) {
            c.done.get(60, TimeUnit.SECONDS);
        }
        Histogram all = new Histogram(MAX_LATENCY_NANOS, 3);
        long ops = 0;
        for (LoopClient c : clients) {
            all.add(c.hist);
            ops += c.ops;
        }
        double seconds = (t1 - t0) / 1e9;
        double cpuSeconds = (cpu1 - cpu0) / 1e9;
        String label = workload.equals("write") ? workload
                : workload + "/" + rc.name().toLowerCase(Locale.ROOT);
        String mode = o.api.equals("entity") ? o.mode + " entity/" + o.shards : o.mode;
        return new Result(mode, label, n, ops, seconds, all, errors.get(), firstError.get(), cpuSeconds / seconds,
                ops == 0 ? 0 : cpuSeconds * 1e6 / ops, gc1 - gc0);
    }
}
