package io.consensusactors.entity;

import io.consensusactors.raft.actor.RaftClient;
import io.consensusactors.raft.actor.RaftHost;
import io.consensusactors.raft.actor.RaftSettings;
import io.consensusactors.sharding.placement.Placement;
import io.consensusactors.sharding.ring.HashRing;
import io.consensusactors.statemachine.StateMachine;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.ClusterActorRefProvider;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Leave;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Consensus-backed entities on one node: hosts this node's replicas of every shard of every registered entity type
 * and hands out {@link EntityRef}s. Each shard of a type is a Raft group whose members sit on the first
 * {@code replicas} nodes of the consistent-hash ring's preference list for the shard's group id.
 *
 * <p><b>Bootstrap.</b> Groups are created on the ring over the <em>initial nodes</em> (like etcd's
 * {@code --initial-cluster}): every node derives the same placement from the same list, so no two nodes can start a
 * group with different voters. A node that was removed from a group keeps its journal; an initial node that lost its
 * data must not be restarted under the same id while the old groups exist (it would start a fresh group member with
 * the initial voters).
 *
 * <p><b>Who hosts replicas</b> ({@code consensus-actors.entities.replica-host}): {@code auto} (default) = the initial
 * nodes only, other nodes are clients; {@code on} = this node hosts replicas even though it is not an initial node (a
 * node added later, which receives groups by rebalancing); {@code off} = client only. A node's id is the one passed
 * to {@link #start}; other nodes learn it from the name of its {@link RaftHost} actor ({@code raft-<nodeId>}),
 * registered with the Receptionist.
 *
 * <p><b>Rebalancing</b> (with the cluster provider; {@code consensus-actors.entities.rebalance}): a
 * {@link Rebalancer} per hosting node moves groups to the ring's owners over the cluster members that are
 * {@code Up} and host replicas, by membership change driven by each group's leader — learner on the new owner, catch
 * up, joint consensus promoting it and removing one old replica, C(new) — at most {@code max-concurrent-moves} groups
 * led by one node at a time, never shrinking a group below its replica count. Removed members are stopped and their
 * journals left inert. A node that leaves gracefully (Cluster leave, or a coordinated shutdown for a JVM exit) leaves
 * the cluster first and waits in the {@code before-cluster-shutdown} phase, up to {@code leave-timeout}, until its
 * replicas have moved; a node that is downed or removed is replaced once another member can take its replicas.
 * Requests keep working throughout: the Raft client follows leader changes and retries with the same session.
 */
public final class ConsensusEntities {

    private final ActorSystem<?> system;
    private final String nodeId;
    private final Placement placement;
    private final Map<String, ReplicatedEntityType<?, ?, ?>> types = new ConcurrentHashMap<>();
    private final ObjectCodec codec;
    private final RaftClient client;
    private final ActorRef<RaftHost.Command> host;
    private final ActorRef<Rebalancer.Command> rebalancer;
    private final CompletableFuture<Set<String>> handoff = new CompletableFuture<>();

    private ConsensusEntities(ActorSystem<?> system, String nodeId, List<String> initialNodes,
                              List<ReplicatedEntityType<?, ?, ?>> entityTypes, RaftSettings settings, int vnodes) {
        this.system = system;
        this.nodeId = nodeId;
        this.placement = HashRing.ofIds(vnodes, initialNodes);
        this.codec = new ObjectCodec(system);
        for (ReplicatedEntityType<?, ?, ?> t : entityTypes) {
            if (types.putIfAbsent(t.name(), t) != null) {
                throw new IllegalArgumentException("entity type " + t.name() + " registered twice");
            }
            if (t.replicas() > initialNodes.size()) {
                throw new IllegalArgumentException("entity type " + t.name() + " wants " + t.replicas()
                        + " replicas but only " + initialNodes.size() + " initial nodes are configured: "
                        + "lower its replicas or list more nodes");
            }
        }
        this.client = RaftClient.create(system, settings);
        if (hostsReplicas(system, nodeId, initialNodes)) {
            this.host = system.systemActorOf(RaftHost.create(nodeId, settings, this::machineFor),
                    RaftHost.actorName(nodeId), Props.empty());
            for (ReplicatedEntityType<?, ?, ?> t : entityTypes) {
                for (int s = 0; s < t.shards(); s++) {
                    Set<String> voters = replicasOf(t, s);
                    if (voters.contains(nodeId)) {
                        host.tell(new RaftHost.StartGroup(t.groupId(s), voters));
                    }
                }
            }
            this.rebalancer = rebalancingEnabled(system) ? startRebalancer(system) : null;
        } else {
            this.host = null; // a client-only node
            this.rebalancer = null;
        }
    }

    private static boolean hostsReplicas(ActorSystem<?> system, String nodeId, List<String> initialNodes) {
        String mode = system.settings().config().getString("consensus-actors.entities.replica-host");
        switch (mode) {
            case "auto":
                return initialNodes.contains(nodeId);
            case "on":
                return true;
            case "off":
                return false;
            default:
                throw new IllegalArgumentException("consensus-actors.entities.replica-host must be auto, on or off, was \""
                        + mode + "\"");
        }
    }

    private static boolean rebalancingEnabled(ActorSystem<?> system) {
        return system.settings().config().getBoolean("consensus-actors.entities.rebalance.enabled")
                && ((ExtendedActorSystem) system.classicSystem()).provider() instanceof ClusterActorRefProvider;
    }

    private ActorRef<Rebalancer.Command> startRebalancer(ActorSystem<?> system) {
        Rebalancer.Settings rs = Rebalancer.Settings.from(system.settings().config());
        ActorRef<Rebalancer.Command> ref = system.systemActorOf(Rebalancer.create(nodeId, host, this::replicasOfGroup, rs),
                Rebalancer.actorName(nodeId), Props.empty());
        CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseBeforeClusterShutdown(),
                "consensus-entities-handoff-" + nodeId, () -> handOff(ref, rs.leaveTimeout()));
        return ref;
    }

    /**
     * Graceful leave: leave the cluster (if not already leaving) so that the other members stop counting this node
     * as an owner, then wait until no local group has a replacement owner left to move to (at most leave-timeout).
     * Skipped when the node was downed or the ActorSystem is merely terminated (tests, embedded use).
     */
    private CompletionStage<Done> handOff(ActorRef<Rebalancer.Command> rebalancer, Duration timeout) {
        Optional<CoordinatedShutdown.Reason> reason = CoordinatedShutdown.get(system).getShutdownReason();
        Cluster cluster = Cluster.get(system);
        MemberStatus status = cluster.selfMember().status();
        if (reason.isPresent() && (reason.get().equals(CoordinatedShutdown.actorSystemTerminateReason())
                || reason.get().equals(CoordinatedShutdown.clusterDowningReason()))
                || status == MemberStatus.down() || status == MemberStatus.removed()) {
            handoff.completeExceptionally(new IllegalStateException("no hand-off: " + reason.orElse(null)
                    + ", member status " + status));
            return CompletableFuture.completedFuture(Done.getInstance());
        }
        if (status == MemberStatus.up() || status == MemberStatus.weaklyUp()) {
            cluster.manager().tell(Leave.create(cluster.selfMember().address()));
        }
        return AskPattern.<Rebalancer.Command, Rebalancer.HandoffDone>ask(rebalancer, Rebalancer.AwaitHandoff::new,
                        timeout, system.scheduler())
                .handle((done, failure) -> {
                    if (done != null) {
                        handoff.complete(done.groupsLeft());
                    } else {
                        handoff.completeExceptionally(failure);
                    }
                    return Done.getInstance();
                });
    }

    private Integer replicasOfGroup(String groupId) {
        int dash = groupId.lastIndexOf('-');
        ReplicatedEntityType<?, ?, ?> t = dash < 0 ? null : types.get(groupId.substring(0, dash));
        return t == null ? null : t.replicas();
    }

    /**
     * Starts the entity runtime on this node.
     *
     * @param nodeId       this node's id (must be unique in the cluster and stable across restarts)
     * @param initialNodes the nodes that host replicas, identical on every node
     * @param types        every entity type the application uses, identical on every node
     */
    public static ConsensusEntities start(ActorSystem<?> system, String nodeId, List<String> initialNodes,
                                          List<ReplicatedEntityType<?, ?, ?>> types) {
        RaftSettings settings = RaftSettings.from(system.settings().config());
        if (new LinkedHashSet<>(initialNodes).size() != initialNodes.size() || initialNodes.isEmpty()) {
            throw new IllegalArgumentException("initial nodes must be a non-empty list of distinct node ids, was " + initialNodes);
        }
        return new ConsensusEntities(system, nodeId, List.copyOf(initialNodes), List.copyOf(types), settings,
                system.settings().config().getInt("consensus-actors.entities.ring-vnodes"));
    }

    /** The nodes holding the replicas of a shard, first is the preferred one. */
    public Set<String> replicasOf(ReplicatedEntityType<?, ?, ?> type, int shard) {
        return new TreeSet<>(placement.owners(type.groupId(shard), type.replicas()));
    }

    public List<String> preferenceList(ReplicatedEntityType<?, ?, ?> type, int shard) {
        return new ArrayList<>(placement.owners(type.groupId(shard), type.replicas()));
    }

    private StateMachine machineFor(String groupId) {
        int dash = groupId.lastIndexOf('-');
        ReplicatedEntityType<?, ?, ?> t = dash < 0 ? null : types.get(groupId.substring(0, dash));
        if (t == null) {
            throw new IllegalStateException("no entity type for Raft group " + groupId + " on node " + nodeId
                    + ": register every entity type on every node (ConsensusEntities.start)");
        }
        return new EntityShardMachine<>(t.behavior().get(), codec);
    }

    public <C, E, S> EntityRef<C> entityRefFor(ReplicatedEntityType<C, E, S> type, String entityId) {
        if (!types.containsKey(type.name())) {
            throw new IllegalArgumentException("entity type " + type.name() + " is not registered on this node");
        }
        return new EntityRef<>(type.groupId(type.shardOf(entityId)), entityId, client, codec);
    }

    public RaftClient raftClient() {
        return client;
    }

    public String nodeId() {
        return nodeId;
    }

    /** This node's Raft host (null on a client-only node). */
    public ActorRef<RaftHost.Command> host() {
        return host;
    }

    /** This node's rebalancer (null on a client-only node, without a cluster, or with rebalancing disabled). */
    public ActorRef<Rebalancer.Command> rebalancer() {
        return rebalancer;
    }

    /**
     * Completes when a graceful leave's hand-off ended, with the local groups still hosted then (empty: every replica
     * moved to other members first); fails if it timed out or was skipped (node downed, ActorSystem terminated).
     */
    public CompletionStage<Set<String>> handoff() {
        return handoff;
    }

    public ActorSystem<?> system() {
        return system;
    }
}
