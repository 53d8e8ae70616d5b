package io.consensusactors.paxos.actor;

import io.consensusactors.paxos.core.LogValue;
import io.consensusactors.paxos.core.MultiPaxosCodec;
import io.consensusactors.paxos.core.MultiPaxosReady;
import io.consensusactors.persistence.CborSerializable;
import io.consensusactors.statemachine.StateMachine;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The Multi-Paxos side of one cluster node: guardian of the node's {@link MultiPaxosMember}s (one per group it is a
 * replica of, each supervised with restart and backoff) and their transport. Everything the local members send to
 * one node within a mailbox run leaves as one {@link InboundBatch} encoded with {@link MultiPaxosCodec}. Hosts find
 * each other through the Receptionist ({@link #SERVICE_KEY}); a host's node id is the name of its actor
 * ({@code multi-paxos-<nodeId>}), and replica {@code i} of a group lives on node {@code nodes.get(i)} of its
 * {@link StartGroup}. Lost, late or undecodable batches are dropped: the protocol retransmits.
 */
public final class MultiPaxosHost extends AbstractBehavior<MultiPaxosHost.Command> {

    public static final ServiceKey<Command> SERVICE_KEY = ServiceKey.create(Command.class, "consensus-multi-paxos-host");

    static final String NAME_PREFIX = "multi-paxos-";

    public sealed interface Command {
    }

    /**
     * Start (or recover from the journal) this node's replica of {@code group}, whose replicas are on {@code nodes}
     * (index = replica id; this node must be listed exactly once, and every node must be given the same list).
     */
    public record StartGroup(String group, List<String> nodes) implements Command {
    }

    /** From a local member: messages for other replicas of its group. */
    public record Outbound(String group, int from, List<MultiPaxosReady.Send> messages) implements Command {
    }

    /** From another node's host: an encoded batch of (group, from, to, message). */
    public record InboundBatch(String fromNode, byte[] payload) implements Command, CborSerializable {
    }

    /**
     * A client command for the local replica of {@code group} (session {@code clientId}, sequence {@code seq}, see
     * {@link io.consensusactors.statemachine.SessionStateMachine}); answered by the member, or {@code NotLeader} at
     * once if this node has no replica of the group.
     */
    public record ClientPropose(String group, long clientId, long seq, byte[] command,
                                ActorRef<MultiPaxosMember.Reply> replyTo) implements Command, CborSerializable {
    }

    /** The status of the local replica of a group (no answer if this node has none). */
    public record GetMemberStatus(String group, ActorRef<MultiPaxosMember.Status> replyTo)
            implements Command, CborSerializable {
    }

    private enum Flush implements Command { INSTANCE }

    private record PeersChanged(Receptionist.Listing listing) implements Command {
    }

    private record Group(List<String> nodes, int replica, ActorRef<MultiPaxosMember.Command> member) {
    }

    private final String nodeId;
    private final MultiPaxosSettings settings;
    private final Function<String, StateMachine> machines;
    private final Map<String, Group> groups = new HashMap<>();
    private final Map<String, ActorRef<Command>> peers = new HashMap<>();
    private final Map<String, List<MultiPaxosCodec.Envelope>> outbound = new HashMap<>();
    private final HashSet<String> warnedUnknownPeers = new HashSet<>();
    private final int maxBatchBytes;
    private boolean flushScheduled;

    public static String actorName(String nodeId) {
        return NAME_PREFIX + nodeId;
    }

    /**
     * @param nodeId   this node's id (unique in the cluster; also the actor's name suffix, so spawn it with
     *                 {@link #actorName})
     * @param machines the state machine of a group, by group id (called at every member (re)start: it must be empty)
     */
    public static Behavior<Command> create(String nodeId, MultiPaxosSettings settings,
                                           Function<String, StateMachine> machines) {
        return Behaviors.setup(ctx -> new MultiPaxosHost(ctx, nodeId, settings, machines));
    }

    private MultiPaxosHost(ActorContext<Command> context, String nodeId, MultiPaxosSettings settings,
                           Function<String, StateMachine> machines) {
        super(context);
        this.maxBatchBytes = io.consensusactors.raft.actor.RaftHost.maxBatchBytes(context.getSystem().settings().config());
        if (!context.getSelf().path().name().equals(actorName(nodeId))) {
            throw new IllegalArgumentException("spawn the Multi-Paxos host of node '" + nodeId + "' with the name '"
                    + actorName(nodeId) + "' (MultiPaxosHost.actorName): peers read the node id from it, was '"
                    + context.getSelf().path().name() + "'");
        }
        this.nodeId = nodeId;
        this.settings = settings;
        this.machines = machines;
        context.getSystem().receptionist().tell(Receptionist.register(SERVICE_KEY, context.getSelf()));
        ActorRef<Receptionist.Listing> adapter = context.messageAdapter(Receptionist.Listing.class, PeersChanged::new);
        context.getSystem().receptionist().tell(Receptionist.subscribe(SERVICE_KEY, adapter));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(StartGroup.class, this::onStartGroup)
                .onMessage(Outbound.class, this::onOutbound)
                .onMessage(InboundBatch.class, this::onInbound)
                .onMessage(ClientPropose.class, this::onClientPropose)
                .onMessage(GetMemberStatus.class, this::onGetMemberStatus)
                .onMessage(Flush.class, f -> onFlush())
                .onMessage(PeersChanged.class, this::onPeersChanged)
                .onSignal(Terminated.class, this::onMemberTerminated)
                .build();
    }

    private Behavior<Command> onStartGroup(StartGroup s) {
        if (groups.containsKey(s.group())) {
            return this;
        }
        int replica = s.nodes().indexOf(nodeId);
        if (replica < 0 || s.nodes().lastIndexOf(nodeId) != replica || new HashSet<>(s.nodes()).size() != s.nodes().size()) {
            getContext().getLog().error("not starting Multi-Paxos group '{}': its node list {} must name distinct"
                    + " nodes and contain this node '{}' once; send StartGroup with the group's full node list",
                    s.group(), s.nodes(), nodeId);
            return this;
        }
        List<String> nodes = List.copyOf(s.nodes());
        Behavior<MultiPaxosMember.Command> member = Behaviors.supervise(MultiPaxosMember.create(s.group(), replica, nodes,
                        getContext().getSelf(), settings, () -> machines.apply(s.group())))
                .onFailure(SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.2));
        ActorRef<MultiPaxosMember.Command> ref = getContext().spawn(member,
                "group-" + URLEncoder.encode(s.group(), StandardCharsets.UTF_8));
        getContext().watch(ref);
        groups.put(s.group(), new Group(nodes, replica, ref));
        return this;
    }

    private Behavior<Command> onOutbound(Outbound o) {
        Group g = groups.get(o.group());
        if (g == null) {
            return this;
        }
        for (MultiPaxosReady.Send s : o.messages()) {
            outbound.computeIfAbsent(g.nodes().get(s.to()), k -> new ArrayList<>())
                    .add(new MultiPaxosCodec.Envelope(o.group(), o.from(), s.to(), s.message()));
        }
        if (!flushScheduled) {
            flushScheduled = true;
            getContext().getSelf().tell(Flush.INSTANCE); // after what is already queued: one batch per node pair
        }
        return this;
    }

    /** Sends one batch, split in halves (order kept) while it is larger than a remote frame can carry. */
    private void send(ActorRef<Command> peer, List<MultiPaxosCodec.Envelope> envelopes) {
        byte[] payload = MultiPaxosCodec.encodeBatch(envelopes);
        if (payload.length > maxBatchBytes && envelopes.size() > 1) {
            int half = envelopes.size() / 2;
            send(peer, envelopes.subList(0, half));
            send(peer, envelopes.subList(half, envelopes.size()));
            return;
        }
        peer.tell(new InboundBatch(nodeId, payload));
    }

    private Behavior<Command> onFlush() {
        flushScheduled = false;
        for (Map.Entry<String, List<MultiPaxosCodec.Envelope>> e : outbound.entrySet()) {
            ActorRef<Command> peer = peers.get(e.getKey());
            if (peer == null) {
                if (warnedUnknownPeers.add(e.getKey())) {
                    getContext().getLog().info("Multi-Paxos host of node '{}' not (yet) known: messages to it are"
                            + " dropped until it registers", e.getKey());
                }
                continue; // lost messages: Paxos retransmits
            }
            send(peer, e.getValue());
        }
        outbound.clear();
        return this;
    }

    private Behavior<Command> onInbound(InboundBatch b) {
        List<MultiPaxosCodec.Envelope> envelopes;
        try {
            envelopes = MultiPaxosCodec.decodeBatch(b.payload());
        } catch (IllegalArgumentException e) {
            getContext().getLog().warn("dropping a batch from node '{}': {}", b.fromNode(), e.getMessage());
            return this;
        }
        for (MultiPaxosCodec.Envelope e : envelopes) {
            Group g = groups.get(e.group());
            if (g == null) {
                continue; // a group this node has not started (yet): the sender retransmits
            }
            if (e.to() != g.replica() || e.from() < 0 || e.from() >= g.nodes().size()
                    || !g.nodes().get(e.from()).equals(b.fromNode())) {
                getContext().getLog().warn("dropping a message of group '{}' from node '{}' as replica {} to {}: this"
                        + " node is replica {} and the group's nodes are {}. Give every node the same node list.",
                        e.group(), b.fromNode(), e.from(), e.to(), g.replica(), g.nodes());
                continue;
            }
            g.member().tell(new MultiPaxosMember.Deliver(e.from(), e.message()));
        }
        return this;
    }

    private Behavior<Command> onClientPropose(ClientPropose p) {
        Group g = groups.get(p.group());
        if (g == null) {
            p.replyTo().tell(new MultiPaxosMember.NotLeader(-1, null));
        } else {
            g.member().tell(new MultiPaxosMember.Propose(LogValue.command(p.clientId(), p.seq(), p.command()),
                    p.replyTo()));
        }
        return this;
    }

    private Behavior<Command> onGetMemberStatus(GetMemberStatus s) {
        Group g = groups.get(s.group());
        if (g != null) {
            g.member().tell(new MultiPaxosMember.GetStatus(s.replyTo()));
        }
        return this;
    }

    private Behavior<Command> onPeersChanged(PeersChanged p) {
        peers.clear();
        for (ActorRef<Command> ref : p.listing().getServiceInstances(SERVICE_KEY)) {
            String name = ref.path().name();
            if (name.startsWith(NAME_PREFIX)) {
                peers.put(name.substring(NAME_PREFIX.length()), ref);
            }
        }
        warnedUnknownPeers.removeAll(peers.keySet());
        return this;
    }

    private Behavior<Command> onMemberTerminated(Terminated t) {
        groups.values().removeIf(g -> g.member().equals(t.getRef()));
        return this;
    }
}
