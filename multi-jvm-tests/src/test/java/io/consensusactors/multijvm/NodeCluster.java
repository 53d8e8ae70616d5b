package io.consensusactors.multijvm;

import io.consensusactors.bank.cli.BankCli;
import io.consensusactors.bank.demo.BankClient;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Starts node JVMs (bank nodes or a {@link Launcher}'s main) as real processes (the test classpath, small heap,
 * SerialGC) on loopback ports, or, for partition tests, each in a network namespace of its own
 * ({@link NodeNamespaces}), and injects real faults: SIGKILL, SIGSTOP/SIGCONT, restart on the same data, and iptables
 * partitions ({@link Iptables}, only inside a private network namespace). Closing it kills every node.
 */
public final class NodeCluster implements AutoCloseable {

    public static final int CLUSTER_PORT = 25600;
    public static final int HTTP_PORT = 18600;

    /** One node JVM. */
    public final class Node {
        public final int index;
        public final String name;
        public final String host;
        final Path log;
        Process process;
        public final BankClient client;

        Node(int index) {
            this.index = index;
            this.name = "node" + index;
            this.host = namespaces != null ? namespaces.nodeAddress(index)
                    : distinctAddresses ? "127.0.0." + index : "127.0.0.1";
            this.log = logDir.resolve(name + ".log");
            this.client = new BankClient(host + ":" + httpPort(), Duration.ofSeconds(5));
        }

        public int clusterPort() {
            return distinctAddresses ? CLUSTER_PORT : CLUSTER_PORT + index;
        }

        int httpPort() {
            return distinctAddresses ? HTTP_PORT : HTTP_PORT + index;
        }

        NodeCluster cluster() {
            return NodeCluster.this;
        }

        public long pid() {
            return process.pid();
        }

        public boolean isAlive() {
            return process != null && process.isAlive();
        }

        public String address() {
            return "pekko://bank@" + host + ":" + clusterPort();
        }
    }

    /** What a node JVM runs: main class and its arguments. */
    public interface Launcher {
        String mainClass();

        List<String> args(Node node, Node seed, Path dataDir);
    }

    /** The bank node of sample-app. */
    public static final Launcher BANK = new Launcher() {
        @Override
        public String mainClass() {
            return BankCli.class.getName();
        }

        @Override
        public List<String> args(Node n, Node seed, Path dataDir) {
            return List.of("node", "--node-name", n.name, "--host", n.host, "--port", String.valueOf(n.clusterPort()),
                    "--http-port", String.valueOf(n.httpPort()),
                    "--seed-nodes", seed.host + ":" + seed.clusterPort(),
                    "--data-dir", dataDir.toString(), "--config", resource("multi-jvm-node.conf"),
                    "--initial-nodes", initialNodes(n));
        }
    };

    private static String initialNodes(Node n) {
        List<String> names = new ArrayList<>();
        for (Node m : n.cluster().nodes) {
            names.add(m.name);
        }
        return String.join(",", names);
    }

    private final Launcher launcher;
    private final Path logDir;
    private final Path dataDir;
    private final boolean distinctAddresses;
    private final NodeNamespaces namespaces;
    private final List<Node> nodes = new ArrayList<>();
    private final Map<String, Long> timings = new TreeMap<>();

    /**
     * @param testName directory name for logs and data under target/
     * @param size number of nodes
     * @param distinctAddresses give every node its own address (needed for iptables partitions): inside a private
     *                          network namespace ({@link Iptables#available()}) each node JVM runs in a namespace of
     *                          its own ({@link NodeNamespaces}); elsewhere node N listens on 127.0.0.N
     */
    public NodeCluster(String testName, int size, boolean distinctAddresses) throws IOException {
        this(testName, size, distinctAddresses, BANK);
    }

    public NodeCluster(String testName, int size, boolean distinctAddresses, Launcher launcher) throws IOException {
        this.distinctAddresses = distinctAddresses;
        this.namespaces = distinctAddresses && Iptables.available() ? new NodeNamespaces() : null;
        this.launcher = launcher;
        Path base = Path.of("target", "multi-jvm", testName + "-" + System.currentTimeMillis()).toAbsolutePath();
        this.logDir = base.resolve("logs");
        this.dataDir = base.resolve("data");
        Files.createDirectories(logDir);
        Files.createDirectories(dataDir);
        for (int i = 1; i <= size; i++) {
            nodes.add(new Node(i));
        }
    }

    public List<Node> nodes() {
        return nodes;
    }

    public Node node(int index) {
        return nodes.get(index - 1);
    }

    /** The address a cluster member started by the test JVM itself must bind to so every node reaches it. */
    public String clientHost() {
        return namespaces != null ? namespaces.clientAddress() : "127.0.0.1";
    }

    public Path logDir() {
        return logDir;
    }

    /** Starts every node and waits until each sees all of them Up. Returns the formation time. */
    public Duration startAll(Duration limit) throws IOException {
        long t0 = System.nanoTime();
        for (Node n : nodes) {
            start(n);
        }
        awaitUp(nodes, nodes.size(), limit);
        return Duration.ofNanos(System.nanoTime() - t0);
    }

    public void start(Node n) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // the first node seeds a new cluster; restarted, it must join the running one instead of forming its own
        Node seed = nodes.get(0);
        if (n == seed) {
            for (Node other : nodes) {
                if (other != n && other.isAlive()) {
                    seed = other;
                    break;
                }
            }
        }
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx192m", "-XX:+UseSerialGC",
                "-Djava.util.concurrent.ForkJoinPool.common.parallelism=2", "-XX:TieredStopAtLevel=1",
                "-Dlogback.configurationFile=" + resource("node-logback.xml"),
                "-cp", System.getProperty("java.class.path"), launcher.mainClass()));
        cmd.addAll(launcher.args(n, seed, dataDir));
        if (namespaces != null) {
            try {
                namespaces.ensure(n.index);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while creating the network namespace of " + n.name, e);
            }
            cmd = namespaces.wrap(n.index, cmd);
        }
        n.process = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(n.log.toFile())).start();
    }

    public static String resource(String name) {
        try {
            return Path.of(NodeCluster.class.getClassLoader().getResource(name).toURI()).toString();
        } catch (Exception e) {
            throw new IllegalStateException("test resource " + name + " missing", e);
        }
    }

    /** Waits until every node in {@code observers} answers /health and sees exactly {@code up} members Up. */
    public void awaitUp(List<Node> observers, int up, Duration limit) {
        await("every one of " + names(observers) + " sees " + up + " members Up", limit, () -> {
            for (Node n : observers) {
                if (!n.isAlive() || !n.client.health().ok() || n.client.upMembers() != up) {
                    return false;
                }
            }
            return true;
        });
    }

    /** SIGKILL: the JVM dies at once, nothing is flushed or handed over. */
    public void sigkill(Node n) throws InterruptedException {
        n.process.destroyForcibly();
        n.process.waitFor(10, TimeUnit.SECONDS);
    }

    /** SIGSTOP: the JVM freezes (a long GC pause or a hung VM); it is still a member until detected. */
    public void pause(Node n) throws IOException, InterruptedException {
        signal(n, "STOP");
    }

    /** SIGCONT after {@link #pause}. */
    public void resume(Node n) throws IOException, InterruptedException {
        signal(n, "CONT");
    }

    private static void signal(Node n, String sig) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + sig, String.valueOf(n.pid())).inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new IllegalStateException("kill -" + sig + " " + n.pid() + " failed");
        }
    }

    /** Polls {@code condition} every 250 ms until true; fails with {@code what} after {@code limit}. */
    public static void await(String what, Duration limit, BooleanSupplier condition) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting until " + what);
            }
        }
        throw new AssertionError("not true within " + limit.toSeconds() + " s: " + what);
    }

    /** Measures how long {@code condition} takes to become true (fails after {@code limit}). */
    public static Duration timeUntil(String what, Duration limit, BooleanSupplier condition) {
        long t0 = System.nanoTime();
        await(what, limit, condition);
        return Duration.ofNanos(System.nanoTime() - t0);
    }

    public void recordTiming(String name, Duration d) {
        timings.put(name, d.toMillis());
        System.out.printf("[multi-jvm] %s: %.1f s%n", name, d.toMillis() / 1000.0);
    }

    /** The last lines of every node's log, for a failing test. */
    public String tails(int lines) {
        StringBuilder sb = new StringBuilder();
        for (Node n : nodes) {
            sb.append("----- ").append(n.name).append(" (").append(n.log).append(") -----\n");
            try {
                List<String> all = Files.readAllLines(n.log);
                all.subList(Math.max(0, all.size() - lines), all.size()).forEach(l -> sb.append(l).append('\n'));
            } catch (IOException e) {
                sb.append("(no log: ").append(e.getMessage()).append(")\n");
            }
        }
        return sb.toString();
    }

    private static String names(List<Node> ns) {
        return ns.stream().map(n -> n.name).toList().toString();
    }

    @Override
    public void close() {
        for (Node n : nodes) {
            if (n.process != null) {
                if (n.process.isAlive()) { // kill(1) of an exited node only prints "No such process" into the log
                    try {
                        signal(n, "CONT"); // a paused JVM cannot die from SIGKILL until continued on some kernels
                    } catch (Exception ignored) {
                        // it exited meanwhile
                    }
                }
                n.process.destroyForcibly();
            }
        }
        for (Node n : nodes) {
            if (n.process != null) {
                try {
                    n.process.waitFor(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        if (namespaces != null) {
            namespaces.close();
        }
    }
}
