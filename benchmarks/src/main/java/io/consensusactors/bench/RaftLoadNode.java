package io.consensusactors.bench;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import io.consensusactors.entity.ConsensusEntities;
import io.consensusactors.persistence.PersistenceSettings;
import io.consensusactors.persistence.SchemaInitializer;
import io.consensusactors.raft.actor.RaftHost;
import io.consensusactors.raft.actor.RaftSettings;
import io.consensusactors.statemachine.KeyValueStateMachine;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A node JVM of {@link RaftLoad}'s {@code jvm3} mode: a cluster member hosting one member of the Raft group
 * {@value RaftLoad#GROUP} (key/value state machine), event-sourced to its own H2 file {@code <dataDir>/<name>}.
 * It exits when its standard input closes, so it never outlives the load generator that started it.
 * With {@code entity} as sixth argument it hosts its replicas of the {@link BenchRegister} shards through
 * {@link ConsensusEntities} instead (seventh argument: the number of shards).
 * Args: name host port seedHost:seedPort dataDir [raft|entity shards].
 */
public final class RaftLoadNode {

    static final String SYSTEM = "raftload";

    private RaftLoadNode() {
    }

    /** Cluster settings shared by the node JVMs and the client JVM. */
    static Config clusterConfig(String host, int port, String seed, String role) {
        // system properties first, so that -Dpekko.... given to RaftLoad (and passed on to the nodes) still win
        return ConfigFactory.systemProperties().withFallback(ConfigFactory.parseString(String.join("\n",
                "pekko.loglevel = " + System.getProperty("raftload.loglevel", "WARNING"),
                "pekko.loggers = [\"org.apache.pekko.event.slf4j.Slf4jLogger\"]",
                "pekko.logging-filter = \"org.apache.pekko.event.slf4j.Slf4jLoggingFilter\"",
                "pekko.actor.provider = cluster",
                "pekko.remote.artery.canonical.hostname = \"" + host + "\"",
                "pekko.remote.artery.canonical.port = " + port,
                "pekko.cluster.seed-nodes = [\"pekko://" + SYSTEM + "@" + seed + "\"]",
                "pekko.cluster.seed-node-timeout = 1s",
                "pekko.cluster.roles = [\"" + role + "\"]",
                "pekko.cluster.downing-provider-class = \"org.apache.pekko.cluster.sbr.SplitBrainResolverProvider\"",
                "pekko.coordinated-shutdown.exit-jvm = off",
                // four JVMs (three nodes and the client) share the machine: each one's dispatcher gets its share of
                // the cores, one thread on two cores (docs/raft-benchmarks.md, batch 15)
                "pekko.actor.default-dispatcher.fork-join-executor.parallelism-max = " + dispatcherThreads())))
                // one dispatcher for everything, as conf/application.conf includes it
                .withFallback(ConfigFactory.parseResources("consensus-actors-one-dispatcher.conf",
                        ConfigParseOptions.defaults().setAllowMissing(false)));
    }

    /** A quarter of the cores, at least one: the share of each of the setup's four JVMs. */
    static int dispatcherThreads() {
        return Math.max(1, Runtime.getRuntime().availableProcessors() / 4);
    }

    public static void main(String[] args) throws IOException {
        String name = args[0];
        String host = args[1];
        int port = Integer.parseInt(args[2]);
        String seed = args[3];
        Path dataDir = Path.of(args[4]);
        Hiccups.startIfAsked(Path.of("raftload-hiccups-" + name + ".txt"));
        Config app = clusterConfig(host, port, seed, "raft")
                .withFallback(PersistenceSettings.h2(dataDir, name))
                .withFallback(ConfigFactory.load());
        PersistenceSettings persistence = PersistenceSettings.read(app);
        SchemaInitializer.createIfNotExists(persistence);
        Config config = persistence.toPekkoConfig().withFallback(app);
        RaftSettings settings = RaftSettings.from(config);
        boolean entity = args.length > 5 && args[5].equals("entity");
        ActorSystem<Void> system = ActorSystem.create(Behaviors.setup(ctx -> {
            if (!entity) {
                ctx.spawn(RaftHost.create(name, settings, g -> new KeyValueStateMachine()), RaftHost.actorName(name))
                        .tell(new RaftHost.StartGroup(RaftLoad.GROUP, RaftLoad.NODES));
            }
            return Behaviors.<Void>empty();
        }), SYSTEM, config);
        if (entity) {
            ConsensusEntities.start(system, name, RaftLoad.NODE_LIST,
                    List.of(BenchRegister.type(Integer.parseInt(args[6]))));
        }
        System.out.println("RAFT LOAD NODE READY " + name + " " + persistence);
        while (System.in.read() >= 0) {
            // wait for the parent to close our stdin (or die)
        }
        system.terminate();
        try {
            system.getWhenTerminated().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            // exiting anyway
        }
        System.exit(0);
    }
}
