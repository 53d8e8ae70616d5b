package io.consensusactors.bank.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.consensusactors.bank.node.BankNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.File;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code bank node}: runs one cluster node until it is stopped (SIGTERM leaves the cluster gracefully). */
@Command(name = "node", mixinStandardHelpOptions = true, description = "Run one bank cluster node.")
public final class NodeCommand implements Callable<Integer> {

    @Option(names = "--node-name", defaultValue = "node1", description = "Name of this node (H2 file name). Default: ${DEFAULT-VALUE}")
    String nodeName;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to bind cluster and HTTP. Default: ${DEFAULT-VALUE}")
    String host;

    @Option(names = "--port", defaultValue = "25520", description = "Cluster (Artery) port. Default: ${DEFAULT-VALUE}")
    int port;

    @Option(names = "--http-port", defaultValue = "8080", description = "HTTP API port. Default: ${DEFAULT-VALUE}")
    int httpPort;

    @Option(names = "--seed-nodes", split = ",", description = "Seed nodes as host:port[,host:port...]. Default: this node.")
    List<String> seedNodes = new ArrayList<>();

    @Option(names = "--data-dir", defaultValue = "data", description = "Directory of the H2 database files. Default: ${DEFAULT-VALUE}")
    String dataDir;

    @Option(names = "--db", defaultValue = "h2", description = "Database: h2 or postgres. Default: ${DEFAULT-VALUE}")
    String db;

    @Option(names = "--pg-url", description = "PostgreSQL JDBC URL, e.g. jdbc:postgresql://127.0.0.1:5432/bank")
    String pgUrl;

    @Option(names = "--pg-user", defaultValue = "", description = "PostgreSQL user")
    String pgUser;

    @Option(names = "--pg-password", defaultValue = "", description = "PostgreSQL password")
    String pgPassword;

    @Option(names = "--initial-nodes", split = ",", description = "Node names that hold the replicated accounts, "
            + "identical on every node, e.g. node1,node2,node3. Default: bank.consensus.initial-nodes, or this node alone.")
    List<String> initialNodes = new ArrayList<>();

    @Option(names = "--backend", description = "consensus (accounts replicated by Raft, default) or sharding "
            + "(plain Cluster Sharding entities on a shared H2 file)")
    String backend;

    @Option(names = "--config", description = "Extra HOCON file read in front of the packaged application.conf")
    File extraConfig;

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535 || httpPort < 0 || httpPort > 65535) {
            throw new IllegalArgumentException("ports must be between 0 and 65535");
        }
        Map<String, Object> overlay = new HashMap<>();
        overlay.put("pekko.remote.artery.canonical.hostname", host);
        overlay.put("pekko.remote.artery.canonical.port", port);
        List<String> seeds = new ArrayList<>();
        for (String s : seedNodes.isEmpty() ? List.of(host + ":" + port) : seedNodes) {
            String[] hp = s.trim().split(":");
            if (hp.length != 2 || !hp[1].matches("\\d{1,5}")) {
                throw new IllegalArgumentException("bad --seed-nodes entry '" + s + "': expected host:port, e.g. 127.0.0.1:25520");
            }
            seeds.add("pekko://bank@" + hp[0] + ":" + hp[1]);
        }
        overlay.put("pekko.cluster.seed-nodes", seeds);
        overlay.put("consensus-actors.persistence.database", db);
        overlay.put("consensus-actors.persistence.data-dir", dataDir);
        overlay.put("consensus-actors.persistence.node-name", nodeName);
        if (pgUrl != null) {
            overlay.put("consensus-actors.persistence.postgres.url", pgUrl);
            overlay.put("consensus-actors.persistence.postgres.user", pgUser);
            overlay.put("consensus-actors.persistence.postgres.password", pgPassword);
        }
        overlay.put("bank.http.host", host);
        overlay.put("bank.http.port", httpPort);
        if (!initialNodes.isEmpty()) {
            overlay.put("bank.consensus.initial-nodes", initialNodes);
        }
        if (backend != null) {
            overlay.put("bank.backend", backend);
        }
        Config config = ConfigFactory.parseMap(overlay);
        if (extraConfig != null) {
            if (!extraConfig.isFile()) {
                throw new IllegalArgumentException("--config file '" + extraConfig + "' does not exist");
            }
            config = config.withFallback(ConfigFactory.parseFile(extraConfig));
        }
        config = config.withFallback(ConfigFactory.load()).resolve();
        BankNode node = BankNode.start(config, nodeName);
        System.out.println("NODE READY " + nodeName + " http=" + host + ":" + node.binding.localAddress().getPort());
        System.out.flush();
        node.system.getWhenTerminated().toCompletableFuture().join();
        return 0;
    }
}
