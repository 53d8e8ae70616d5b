package io.consensusactors.bank.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.ArrayList;
import java.util.List;
import io.consensusactors.bank.http.BankRoutes;
import io.consensusactors.bank.transfer.TransferCoordinator;
import io.consensusactors.paxos.actor.ConsensusRegister;
import io.consensusactors.paxos.actor.PaxosSettings;
import io.consensusactors.persistence.PersistenceSettings;
import io.consensusactors.persistence.SchemaInitializer;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;

import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One bank node: cluster member, account and transfer entities (replicated by Raft, or Cluster Sharding), with the
 * consensus backend a Paxos acceptor and proposer for the transfers' Paxos Commit, JSON API.
 */
public final class BankNode {

    public final ActorSystem<Void> system;
    public final ServerBinding binding;
    public final AccountService service;

    private BankNode(ActorSystem<Void> system, ServerBinding binding, AccountService service) {
        this.system = system;
        this.binding = binding;
        this.service = service;
    }

    /**
     * The Paxos register of the bank's transactions: one acceptor on each initial node (acceptor id and node id = the
     * node's index in {@code bank.consensus.initial-nodes}, so they are unique as long as that list is identical on
     * every node); a node outside the list hosts no acceptor and needs {@code bank.consensus.paxos-node-id} (unique,
     * at least the number of initial nodes) for its proposer's ballots.
     */
    static PaxosSettings paxosSettings(Config config, String nodeName, List<String> initialNodes) {
        int index = initialNodes.indexOf(nodeName);
        int nodeId = index;
        if (index < 0) {
            if (!config.hasPath("bank.consensus.paxos-node-id")) {
                throw new IllegalArgumentException("node '" + nodeName + "' is not in bank.consensus.initial-nodes "
                        + initialNodes + ": set bank.consensus.paxos-node-id to a number unique in the cluster and >= "
                        + initialNodes.size() + " (its Paxos ballots must differ from every other node's)");
            }
            nodeId = config.getInt("bank.consensus.paxos-node-id");
            if (nodeId < initialNodes.size()) {
                throw new IllegalArgumentException("bank.consensus.paxos-node-id must be >= " + initialNodes.size()
                        + " (the ids below are the initial nodes'), was " + nodeId);
            }
        }
        // Only the public fromConfig: the register's settings record may grow without breaking the bank.
        return PaxosSettings.fromConfig(ConfigFactory.parseMap(java.util.Map.of(
                PaxosSettings.PREFIX + ".node-id", nodeId,
                PaxosSettings.PREFIX + ".acceptor-id", index,
                PaxosSettings.PREFIX + ".acceptors", initialNodes.size())).withFallback(config));
    }

    /**
     * Starts a node from a fully resolved application config (persistence block, artery, seed nodes, bank.http).
     * Creates the schema first, so a database that is down fails here with a clear message.
     */
    public static BankNode start(Config appConfig, String nodeName) {
        return start(appConfig, nodeName, TransferCoordinator.Faults.NONE);
    }

    /** {@link #start(Config, String)} with a fault hook in the transfer coordinator (tests). */
    public static BankNode start(Config appConfig, String nodeName, TransferCoordinator.Faults faults) {
        String backend = appConfig.getString("bank.backend").trim().toLowerCase(java.util.Locale.ROOT);
        if (!backend.equals("consensus") && !backend.equals("sharding")) {
            throw new IllegalArgumentException("bank.backend must be 'consensus' (accounts replicated by Raft) or "
                    + "'sharding' (plain Cluster Sharding entities), was '" + backend + "'");
        }
        List<String> initialNodes = new ArrayList<>(appConfig.getStringList("bank.consensus.initial-nodes"));
        if (initialNodes.isEmpty()) {
            initialNodes.add(nodeName);
        }
        if (backend.equals("consensus")) {
            // every Raft replica keeps its own log: one H2 file per node, never the shared file
            appConfig = ConfigFactory.parseString("consensus-actors.persistence.h2.shared = off").withFallback(appConfig);
        }
        PersistenceSettings persistence = PersistenceSettings.read(appConfig);
        if (persistence.createSchema) {
            SchemaInitializer.createIfNotExists(persistence);
        }
        Config config = persistence.toPekkoConfig().withFallback(appConfig);
        AtomicReference<Membership.View> membership = new AtomicReference<>();
        ActorSystem<Void> system = ActorSystem.create(Behaviors.setup(ctx -> {
            ctx.spawn(Membership.create(membership), "membership");
            return Behaviors.empty();
        }), "bank", config);
        try {
            Duration askTimeout = config.getDuration("bank.ask-timeout");
            AccountService service = backend.equals("consensus")
                    ? new ConsensusAccountService(system, nodeName, initialNodes, config.getInt("bank.consensus.shards"),
                    ConsensusRegister.start(system, paxosSettings(config, nodeName, initialNodes)),
                    ConsensusAccountService.TransactionSettings.fromConfig(config), faults)
                    : new ShardedAccountService(system, askTimeout);
            BankRoutes routes = new BankRoutes(service, membership, nodeName);
            String host = config.getString("bank.http.host");
            int port = config.getInt("bank.http.port");
            ServerBinding binding;
            try {
                binding = Http.get(system).newServerAt(host, port).bind(routes.routes())
                        .toCompletableFuture().get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                Throwable cause = e instanceof CompletionException || e instanceof java.util.concurrent.ExecutionException
                        ? e.getCause() : e;
                throw new IllegalStateException("cannot serve HTTP on " + host + ":" + port + " (" + cause.getMessage()
                        + "): is the port already in use? choose another with --http-port", cause);
            }
            binding.addToCoordinatedShutdown(Duration.ofSeconds(5), system);
            return new BankNode(system, binding, service);
        } catch (RuntimeException e) {
            system.terminate();
            throw e;
        }
    }
}
