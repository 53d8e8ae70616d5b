package io.consensusactors.multijvm.raft;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.consensusactors.entity.ConsensusEntities;
import io.consensusactors.entity.ReplicatedEntityType;
import io.consensusactors.entity.TestAccount;
import io.consensusactors.entity.TestRegister;
import io.consensusactors.multijvm.NodeCluster;
import io.consensusactors.persistence.PersistenceSettings;
import io.consensusactors.persistence.SchemaInitializer;
import io.consensusactors.raft.actor.RaftHost;
import io.consensusactors.raft.actor.RaftSettings;
import io.consensusactors.statemachine.KeyValueStateMachine;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.io.File;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * A node JVM for Raft tests: a cluster member hosting one member of the Raft group "kv" (a key/value state machine),
 * event-sourced to its own H2 file under the data directory. Args: name host port seedHost:seedPort dataDir conf mode,
 * mode one of {@code kv} (the group "kv"), {@code entities} ({@link TestAccount}s on the initial nodes) or
 * {@code rebalance} ({@link TestRegister}s; every node hosts replicas, also one outside the initial nodes, and
 * groups move when nodes join or leave; SIGTERM leaves the cluster gracefully after handing the replicas over).
 */
public final class RaftKvNode {

    public static final String SYSTEM = "raftkv";
    public static final String GROUP = "kv";
    public static final Set<String> VOTERS = Set.of("node1", "node2", "node3");
    /** The accounts of the "entities" mode: {@link TestAccount} as type "ledger" in 6 shards. */
    public static final ReplicatedEntityType<TestAccount.Command, TestAccount.Event, TestAccount.State> LEDGER =
            TestAccount.type("ledger", 6);

    public static void main(String[] args) {
        String name = args[0];
        String host = args[1];
        int port = Integer.parseInt(args[2]);
        String seed = args[3];
        Path dataDir = Path.of(args[4]);
        String mode = args.length > 6 ? args[6] : "kv";
        Config app = ConfigFactory.parseString(String.join("\n",
                        "pekko.remote.artery.canonical.hostname = \"" + host + "\"",
                        "pekko.remote.artery.canonical.port = " + port,
                        "pekko.cluster.seed-nodes = [\"pekko://" + SYSTEM + "@" + seed + "\"]",
                        "consensus-actors.persistence.data-dir = \"" + dataDir.toString().replace('\\', '/') + "\"",
                        "consensus-actors.persistence.node-name = \"" + name + "\"",
                        "consensus-actors.persistence.h2.shared = off"))
                .withFallback(mode.equals("rebalance") ? REBALANCE_CONFIG : ConfigFactory.empty())
                .withFallback(ConfigFactory.parseFile(new File(args[5])))
                .withFallback(ConfigFactory.load())
                .resolve(); // node configuration files may use ${?ENV} substitutions (multi-jvm-node-postgres.conf)
        PersistenceSettings persistence = PersistenceSettings.read(app);
        SchemaInitializer.createIfNotExists(persistence);
        Config config = persistence.toPekkoConfig().withFallback(app);
        RaftSettings settings = RaftSettings.from(config);
        boolean entities = !mode.equals("kv");
        ActorSystem<Void> system = ActorSystem.create(Behaviors.setup(ctx -> {
            if (!entities) {
                var h = ctx.spawn(RaftHost.create(name, settings, g -> new KeyValueStateMachine()), RaftHost.actorName(name));
                h.tell(new RaftHost.StartGroup(GROUP, VOTERS));
            }
            return Behaviors.empty();
        }), SYSTEM, config);
        if (entities) {
            ConsensusEntities.start(system, name, List.copyOf(new java.util.TreeSet<>(VOTERS)),
                    List.of(mode.equals("rebalance") ? TestRegister.TYPE : LEDGER));
        }
        System.out.println("RAFT NODE READY " + name);
    }

    /** Settings of the "rebalance" mode: node4 hosts replicas too; SIGTERM hands the replicas over before exiting. */
    static final Config REBALANCE_CONFIG = ConfigFactory.parseString(String.join("\n",
            "consensus-actors.entities.replica-host = on",
            // SIGTERM runs the coordinated shutdown (and its hand-off) in a JVM shutdown hook; H2's own hook would
            // close the database at the same moment and the leaving node's members could not persist any more
            "consensus-actors.persistence.h2.url-options = \";DATABASE_TO_UPPER=false;WRITE_DELAY=0;DB_CLOSE_ON_EXIT=FALSE\"",
            "consensus-actors.entities.rebalance.interval = 500ms",
            "consensus-actors.entities.rebalance.stable-after = 3s",
            "consensus-actors.entities.rebalance.leave-timeout = 50s",
            "pekko.coordinated-shutdown.phases.before-cluster-shutdown.timeout = 55s",
            "pekko.cluster.downing-provider-class = \"org.apache.pekko.cluster.sbr.SplitBrainResolverProvider\"",
            "pekko.cluster.split-brain-resolver.active-strategy = keep-majority"));

    /** How {@link NodeCluster} starts this node with the "kv" group. */
    public static final NodeCluster.Launcher LAUNCHER = launcher("kv");

    /** ... and with consensus entities ({@link TestAccount}) instead. */
    public static final NodeCluster.Launcher ENTITIES = launcher("entities");

    /** {@link #ENTITIES} with another node configuration file (a test resource that includes multi-jvm-node.conf). */
    public static NodeCluster.Launcher entities(String configResource) {
        return new NodeCluster.Launcher() {
            @Override
            public String mainClass() {
                return ENTITIES.mainClass();
            }

            @Override
            public List<String> args(NodeCluster.Node n, NodeCluster.Node seed, Path dataDir) {
                List<String> args = new java.util.ArrayList<>(ENTITIES.args(n, seed, dataDir));
                args.set(5, NodeCluster.resource(configResource));
                return args;
            }
        };
    }

    /** ... and with rebalanced {@link TestRegister} entities. */
    public static final NodeCluster.Launcher REBALANCE = launcher("rebalance");

    private static NodeCluster.Launcher launcher(String mode) {
        return new NodeCluster.Launcher() {
        @Override
        public String mainClass() {
            return RaftKvNode.class.getName();
        }

        @Override
        public List<String> args(NodeCluster.Node n, NodeCluster.Node seed, Path dataDir) {
            return List.of(n.name, n.host, String.valueOf(n.clusterPort()), seed.host + ":" + seed.clusterPort(),
                    dataDir.toString(), NodeCluster.resource("multi-jvm-node.conf"), mode);
        }
        };
    }
}
