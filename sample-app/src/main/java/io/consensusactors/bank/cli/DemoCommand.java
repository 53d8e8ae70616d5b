package io.consensusactors.bank.cli;

import io.consensusactors.bank.demo.BankClient;
import io.consensusactors.bank.demo.Workload;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code bank demo}: starts a local cluster of node JVMs on 127.0.0.1 with embedded H2, runs a banking workload and
 * prints a summary. A second run reuses the accounts stored by the first.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Start a local cluster of bank nodes (separate JVMs, embedded H2), run a workload, print a summary.")
public final class DemoCommand implements Callable<Integer> {

    @Option(names = "--nodes", defaultValue = "3", description = "Number of node JVMs. Default: ${DEFAULT-VALUE}")
    int nodes;

    @Option(names = "--duration", defaultValue = "20s", description = "Workload duration (e.g. 20s, 2m). Default: ${DEFAULT-VALUE}")
    String duration;

    @Option(names = "--accounts", defaultValue = "100", description = "Number of accounts. Default: ${DEFAULT-VALUE}")
    int accounts;

    @Option(names = "--clients", defaultValue = "16", description = "Concurrent clients. Default: ${DEFAULT-VALUE}")
    int clients;

    @Option(names = "--initial-balance", defaultValue = "100000", description = "Opening balance in cents. Default: ${DEFAULT-VALUE}")
    long initialBalance;

    @Option(names = "--data-dir", defaultValue = "data/demo", description = "H2 files and node logs. Default: ${DEFAULT-VALUE}")
    File dataDir;

    @Option(names = "--base-port", defaultValue = "25520", description = "First cluster port. Default: ${DEFAULT-VALUE}")
    int basePort;

    @Option(names = "--http-base-port", defaultValue = "8081", description = "First HTTP port. Default: ${DEFAULT-VALUE}")
    int httpBasePort;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of the workload's random choices. Default: ${DEFAULT-VALUE}")
    long seed;

    private final List<Process> processes = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        Duration workload = parseDuration(duration);
        if (nodes < 1 || nodes > 9) {
            throw new IllegalArgumentException("--nodes must be between 1 and 9, was " + nodes);
        }
        if (accounts < 2 || clients < 1 || initialBalance < 0) {
            throw new IllegalArgumentException("need --accounts >= 2, --clients >= 1 and --initial-balance >= 0");
        }
        for (int i = 0; i < nodes; i++) {
            requireFreePort(basePort + i, "--base-port");
            requireFreePort(httpBasePort + i, "--http-base-port");
        }
        Path logs = dataDir.toPath().resolve("logs");
        Files.createDirectories(logs);
        Thread hook = new Thread(this::stopNodes, "bank-demo-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        long t0 = System.nanoTime();
        System.out.printf("Starting %d bank nodes (JVMs) on 127.0.0.1, data in %s%n", nodes, dataDir);
        List<BankClient> clientsOfNodes = new ArrayList<>();
        for (int i = 1; i <= nodes; i++) {
            processes.add(launch(i, logs));
            clientsOfNodes.add(new BankClient("127.0.0.1:" + (httpBasePort + i - 1), Duration.ofSeconds(10)));
        }
        try {
            if (!awaitCluster(clientsOfNodes, logs, Duration.ofSeconds(120))) {
                return 1;
            }
            double formation = (System.nanoTime() - t0) / 1e9;
            System.out.printf("Cluster formed: %d/%d nodes Up after %.1f s%n", nodes, nodes, formation);
            Workload.Summary summary = new Workload(clientsOfNodes, accounts, initialBalance, clients, seed,
                    System.out).run(workload);
            System.out.printf("Cluster formation time: %.1f s%n", formation);
            return summary.conserved() ? 0 : 3;
        } finally {
            stopNodes();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C: the hook is running already
            }
        }
    }

    private String initialNodes() {
        List<String> names = new java.util.ArrayList<>();
        for (int i = 1; i <= nodes; i++) {
            names.add("node" + i);
        }
        return String.join(",", names);
    }

    private Process launch(int i, Path logs) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = List.of(java, "-Xmx256m", "-XX:+UseSerialGC", "-Djava.util.concurrent.ForkJoinPool.common.parallelism=2", "-cp", System.getProperty("java.class.path"),
                BankCli.class.getName(), "node", "--node-name", "node" + i, "--host", "127.0.0.1",
                "--port", String.valueOf(basePort + i - 1), "--http-port", String.valueOf(httpBasePort + i - 1),
                "--seed-nodes", "127.0.0.1:" + basePort, "--data-dir", dataDir.getPath(),
                "--initial-nodes", initialNodes());
        return new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(logs.resolve("node" + i + ".log").toFile()).start();
    }

    private boolean awaitCluster(List<BankClient> nodeClients, Path logs, Duration limit) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            StringBuilder line = new StringBuilder("  waiting for the cluster:");
            boolean all = true;
            for (int i = 0; i < nodeClients.size(); i++) {
                Process p = processes.get(i);
                if (!p.isAlive()) {
                    System.out.printf("node%d exited with code %d; last lines of %s:%n", i + 1, p.exitValue(),
                            logs.resolve("node" + (i + 1) + ".log"));
                    tail(logs.resolve("node" + (i + 1) + ".log"), 20);
                    return false;
                }
                int up = nodeClients.get(i).upMembers();
                all &= up == nodes && nodeClients.get(i).health().ok();
                line.append(String.format(" node%d sees %d/%d Up", i + 1, up, nodes));
            }
            if (all) {
                return true;
            }
            if (!line.toString().equals(last)) {
                System.out.println(line);
                last = line.toString();
            }
            Thread.sleep(500);
        }
        System.out.println("The cluster did not form within " + limit.toSeconds() + " s; see the logs in " + logs);
        return false;
    }

    private static void tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file);
            all.subList(Math.max(0, all.size() - lines), all.size()).forEach(l -> System.out.println("    " + l));
        } catch (IOException e) {
            System.out.println("    (cannot read " + file + ": " + e.getMessage() + ")");
        }
    }

    private synchronized void stopNodes() {
        if (processes.stream().noneMatch(Process::isAlive)) {
            return;
        }
        System.out.println("Stopping the nodes (SIGTERM: leave the cluster, close the databases)...");
        processes.forEach(Process::destroy);
        for (Process p : processes) {
            try {
                if (!p.waitFor(20, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
            }
        }
        System.out.println("All nodes stopped.");
    }

    private static void requireFreePort(int port, String option) {
        try (java.net.ServerSocket s = new java.net.ServerSocket(port, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            s.setReuseAddress(true);
        } catch (IOException e) {
            throw new IllegalStateException("port " + port + " on 127.0.0.1 is in use (is another bank demo or node "
                    + "running?): stop it, or choose other ports with " + option);
        }
    }

    static Duration parseDuration(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        try {
            if (t.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
            } else if (t.endsWith("s")) {
                return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)));
            } else if (t.endsWith("m")) {
                return Duration.ofMinutes(Long.parseLong(t.substring(0, t.length() - 1)));
            }
            return Duration.ofSeconds(Long.parseLong(t));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad --duration '" + text + "': use e.g. 30s, 2m or 500ms");
        }
    }
}
