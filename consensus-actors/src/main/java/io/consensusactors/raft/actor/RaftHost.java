package io.consensusactors.raft.actor;

import io.consensusactors.persistence.CborSerializable;
import io.consensusactors.raft.core.RaftCodec;
import io.consensusactors.raft.core.RaftMessage;
import io.consensusactors.raft.core.ReadConsistency;
import io.consensusactors.statemachine.StateMachine;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The Raft side of one cluster node (multi-raft): guardian of every local {@link RaftMember} (supervised, restarted
 * with backoff), the node's logical clock that ticks only the members whose timers can fire, and the transport: all
 * messages from local members to one node leave in one batch per flush (heartbeats of many groups coalesced per
 * node pair), encoded with {@link RaftCodec}. Hosts find each other through the Receptionist; a host's node id is
 * the name of its actor ({@code raft-<nodeId>}).
 *
 * <p><b>Idle cost.</b> One timer per node advances a tick counter. A member asks for a tick only when its next timer
 * can fire ({@link ScheduleTick}, from {@code RaftNode.ticksUntilTimer()}); the host keeps those deadlines in a
 * timing wheel and ticks nobody else. Messages are stamped with the current tick so a member catches up on the ticks
 * it was not sent before it handles them. A quiesced member asks for nothing and costs nothing until a message or a
 * client wakes it, or a peer node it depends on leaves the Receptionist listing (with the cluster provider, as soon
 * as the failure detector marks that node unreachable; see {@link #onPeersChanged}).
 */
public final class RaftHost extends AbstractBehavior<RaftHost.Command> {

    public static final ServiceKey<Command> SERVICE_KEY = ServiceKey.create(Command.class, "consensus-raft-host");

    public sealed interface Command {
    }

    /** Start (or recover) the local member of a group. Empty voters: a member joining an existing group. */
    public record StartGroup(String groupId, Set<String> initialVoters) implements Command {
    }

    /**
     * Stop the local member of a group that was removed from it (rebalancing). Its journal is kept: a later message
     * for the group (e.g. the node is added back as a learner) starts it again from there.
     */
    public record StopGroup(String groupId) implements Command {
    }

    /** From local members: messages to send. */
    public record Outbound(String groupId, List<RaftMessage> messages) implements Command {
    }

    /** From another node's host: a batch of (group, message) pairs. */
    public record InboundBatch(String fromNode, byte[] payload) implements Command, CborSerializable {
    }

    /**
     * A client request for the local member of a group; the answer echoes {@code requestId} (the client's
     * correlation id for this attempt).
     */
    public record ClientPropose(String groupId, long clientId, long seq, byte[] command, long requestId,
                                ActorRef<ClientReply> replyTo) implements Command, CborSerializable {
    }

    public record ClientRead(String groupId, byte[] query, ReadConsistency consistency, long requestId,
                             ActorRef<ClientReply> replyTo) implements Command, CborSerializable {
    }

    /**
     * Several {@link ClientPropose} and {@link ClientRead} from one {@link RaftClient} at once (one network message
     * instead of one each). Their answers to a recipient on another node go back together too
     * ({@link ClientReply.Batch}, at most one message per recipient per mailbox run of a small forwarding actor).
     */
    public record ClientBatch(List<Command> requests) implements Command, CborSerializable {
    }

    /** Requests forwarded to the local member of a group (from this node only: not serializable). */
    public record ToMember(String groupId, RaftMember.Command command) implements Command {
    }

    /**
     * An administrative request for the local member of a group that may come from another node (a
     * {@link RaftClient} sends it to the leader's host): exactly one of {@code transfer} and {@code change} is set.
     */
    public record MemberAdmin(String groupId, RaftMember.TransferLeadership transfer,
                              RaftMember.ChangeMembership change) implements Command, CborSerializable {

        static Command of(String groupId, RaftMember.Command command) {
            if (command instanceof RaftMember.TransferLeadership t) {
                return new MemberAdmin(groupId, t, null);
            }
            if (command instanceof RaftMember.ChangeMembership c) {
                return new MemberAdmin(groupId, null, c);
            }
            return new ToMember(groupId, command);
        }
    }

    record MemberStarted(String groupId, ActorRef<RaftMember.Command> member) implements Command {
    }

    /**
     * From a local member: tick me once {@code inTicks} ticks have passed since tick {@code basis} of this host's clock
     * (-1: since now, the member lost track of the clock while quiesced); {@code epoch} counts the member's losses of
     * the clock, so that a tick asked for before one is not counted from its old basis.
     */
    record ScheduleTick(String groupId, int inTicks, long basis, long epoch) implements Command {
    }

    public record GetGroups(ActorRef<Set<String>> replyTo) implements Command {
    }

    /** Status of the local member of a group (answered by the member; no answer if this node has none). */
    public record GetMemberStatus(String groupId, ActorRef<RaftMember.Status> replyTo)
            implements Command, CborSerializable {
    }

    /** How many local members wait for a tick, and how many ticks were sent since the host started. */
    public record GetTickStats(ActorRef<TickStats> replyTo) implements Command {
    }

    public record TickStats(long now, int membersAwaitingTick, long ticksSent, int members) {
    }

    private enum Tick implements Command { INSTANCE }

    private enum Flush implements Command { INSTANCE }

    private enum RestartNodeLog implements Command { INSTANCE }

    private record PeersChanged(Receptionist.Listing listing) implements Command {
    }

    private record BatcherStopped(ActorRef<ClientReply> client) implements Command {
    }

    private final String nodeId;
    private final RaftSettings settings;
    private final Function<String, StateMachine> machines;
    private final TimerScheduler<Command> timers;
    private final Map<String, ActorRef<RaftMember.Command>> members = new HashMap<>();
    /** This node's logical clock: ticks since the host started. */
    private long now;
    private long ticksSent;
    /** Pending tick per group: {deadline, basis, epoch}; the timing wheel holds the same deadlines by tick. */
    private final Map<String, long[]> due = new HashMap<>();
    private final TreeMap<Long, Set<String>> wheel = new TreeMap<>();
    private final Map<String, ActorRef<RaftMember.Command>> stopping = new HashMap<>();
    private final Map<String, ActorRef<Command>> peers = new HashMap<>();
    private final Map<String, Batch> outbound = new HashMap<>();
    /** Per remote client that sent a {@link ClientBatch}: the local actor that batches its answers. */
    private final Map<ActorRef<ClientReply>, ActorRef<ClientReply>> replyBatchers = new HashMap<>();
    private boolean flushScheduled;
    private final int maxBatchBytes;
    /** The node's durable log (every local member writes through it); null while it restarts after a failure. */
    private ActorRef<RaftNodeLog.Command> nodeLog;
    private int nodeLogGeneration;
    private int nodeLogFailures;
    /** Voters a group was started with (to start it again after a node-log failure, if nothing was durable yet). */
    private final Map<String, Set<String>> startedWith = new HashMap<>();
    /** Members to start once the node log is back (after a failure). */
    private final Map<String, Set<String>> toRestart = new HashMap<>();

    private static final class Batch {
        final List<String> groups = new ArrayList<>();
        final List<RaftMessage> messages = new ArrayList<>();
    }

    public static String actorName(String nodeId) {
        return "raft-" + nodeId;
    }

    /**
     * @param machines the state machine of a group, by group id (called once per member start)
     */
    public static Behavior<Command> create(String nodeId, RaftSettings settings, Function<String, StateMachine> machines) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new RaftHost(ctx, timers, nodeId, settings, machines)));
    }

    private RaftHost(ActorContext<Command> context, TimerScheduler<Command> timers, String nodeId, RaftSettings settings,
                     Function<String, StateMachine> machines) {
        super(context);
        this.nodeId = nodeId;
        this.settings = settings;
        this.machines = machines;
        this.timers = timers;
        this.maxBatchBytes = maxBatchBytes(context.getSystem().settings().config());
        context.getSystem().receptionist().tell(Receptionist.register(SERVICE_KEY, context.getSelf()));
        ActorRef<Receptionist.Listing> adapter = context.messageAdapter(Receptionist.Listing.class, PeersChanged::new);
        context.getSystem().receptionist().tell(Receptionist.subscribe(SERVICE_KEY, adapter));
        timers.startTimerAtFixedRate(Tick.INSTANCE, settings.tickInterval());
        this.nodeLog = spawnNodeLog();
    }

    private ActorRef<RaftNodeLog.Command> spawnNodeLog() {
        ActorRef<RaftNodeLog.Command> log = getContext().spawn(
                RaftNodeLog.create(nodeId, settings.journalCheckpointEvery()), "log-" + (++nodeLogGeneration));
        getContext().watch(log);
        return log;
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(StartGroup.class, this::onStartGroup)
                .onMessage(StopGroup.class, this::onStopGroup)
                .onMessage(Outbound.class, this::onOutbound)
                .onMessage(InboundBatch.class, this::onInbound)
                .onMessage(ClientPropose.class, this::onClientPropose)
                .onMessage(ClientRead.class, this::onClientRead)
                .onMessage(ClientBatch.class, this::onClientBatch)
                .onMessage(BatcherStopped.class, b -> {
                    replyBatchers.remove(b.client());
                    return this;
                })
                .onMessage(ToMember.class, this::onToMember)
                .onMessage(MemberAdmin.class, a -> onToMember(new ToMember(a.groupId(),
                        a.transfer() != null ? a.transfer() : a.change())))
                .onMessage(MemberStarted.class, m -> {
                    members.put(m.groupId(), m.member());
                    return this;
                })
                .onMessage(ScheduleTick.class, this::onScheduleTick)
                .onMessage(GetTickStats.class, g -> {
                    g.replyTo().tell(new TickStats(now, due.size(), ticksSent, members.size()));
                    return this;
                })
                .onMessage(GetGroups.class, g -> {
                    g.replyTo().tell(Set.copyOf(members.keySet()));
                    return this;
                })
                .onMessage(GetMemberStatus.class, g -> {
                    ActorRef<RaftMember.Command> m = members.get(g.groupId());
                    if (m != null) {
                        m.tell(new RaftMember.GetStatus(g.replyTo()));
                    }
                    return this;
                })
                .onMessage(Tick.class, t -> onTick())
                .onMessage(Flush.class, f -> onFlush())
                .onMessage(PeersChanged.class, this::onPeersChanged)
                .onMessage(RestartNodeLog.class, r -> onRestartNodeLog())
                .onSignal(Terminated.class, this::onMemberTerminated)
                .build();
    }

    private Behavior<Command> onStartGroup(StartGroup s) {
        member(s.groupId(), s.initialVoters());
        return this;
    }

    private ActorRef<RaftMember.Command> member(String groupId, Set<String> voters) {
        ActorRef<RaftMember.Command> m = members.get(groupId);
        if (m != null) {
            return m;
        }
        if (!voters.isEmpty()) {
            startedWith.put(groupId, voters);
        }
        if (nodeLog == null) {
            toRestart.putIfAbsent(groupId, startedWith.getOrDefault(groupId, voters)); // the node log restarts: the member starts after it
            return null;
        }
        if (stopping.containsKey(groupId)) {
            return null;
        }
        Supplier<StateMachine> factory = () -> machines.apply(groupId);
        // first elections of many groups started together spread over one tick per 50 groups already hosted
        int spread = Math.max(settings.firstElectionSpreadTicks(), members.size() / 50);
        RaftSettings memberSettings = spread == settings.firstElectionSpreadTicks() ? settings
                : settings.withFirstElectionSpreadTicks(spread);
        Behavior<RaftMember.Command> behavior = Behaviors.supervise(
                        RaftMember.create(groupId, nodeId, voters, factory, memberSettings, getContext().getSelf(), nodeLog))
                .onFailure(SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.2));
        m = getContext().spawn(behavior, "group-" + java.net.URLEncoder.encode(groupId, java.nio.charset.StandardCharsets.UTF_8));
        getContext().watch(m);
        members.put(groupId, m);
        return m;
    }

    private Behavior<Command> onStopGroup(StopGroup s) {
        ActorRef<RaftMember.Command> m = members.remove(s.groupId());
        long[] pending = due.remove(s.groupId());
        if (pending != null) {
            remove(s.groupId(), pending[0]);
        }
        if (m != null) {
            stopping.put(s.groupId(), m); // its name is taken until it terminated: drop its messages meanwhile
            getContext().stop(m);
        }
        return this;
    }

    private Behavior<Command> onOutbound(Outbound o) {
        for (RaftMessage msg : o.messages()) {
            Batch b = outbound.computeIfAbsent(msg.to(), k -> new Batch());
            b.groups.add(o.groupId());
            b.messages.add(msg);
        }
        if (!o.messages().isEmpty() && !flushScheduled) {
            flushScheduled = true;
            if (settings.flushDelay().isZero()) {
                getContext().getSelf().tell(Flush.INSTANCE);
            } else {
                timers.startSingleTimer(Flush.INSTANCE, settings.flushDelay());
            }
        }
        return this;
    }

    private Behavior<Command> onFlush() {
        flushScheduled = false;
        for (Map.Entry<String, Batch> e : outbound.entrySet()) {
            ActorRef<Command> peer = peers.get(e.getKey());
            if (peer == null) {
                continue; // unknown or unreachable node: Raft treats it as a lost message and retries
            }
            send(peer, e.getValue().groups, e.getValue().messages);
        }
        outbound.clear();
        return this;
    }

    /**
     * Sends one batch, split in halves (order kept: Artery keeps the order per pair of actors) while its encoding is
     * larger than a remote frame can carry: Artery discards an oversized message, which would stall a catching-up
     * learner until Raft probes again.
     */
    private void send(ActorRef<Command> peer, List<String> groups, List<RaftMessage> messages) {
        byte[] payload = RaftCodec.encodeBatch(groups, messages);
        if (payload.length > maxBatchBytes && messages.size() > 1) {
            int half = messages.size() / 2;
            send(peer, groups.subList(0, half), messages.subList(0, half));
            send(peer, groups.subList(half, groups.size()), messages.subList(half, messages.size()));
            return;
        }
        if (payload.length > maxBatchBytes) {
            getContext().getLog().warn("one Raft message to {} encodes to {} bytes, more than a remote frame carries "
                    + "({} bytes usable): lower consensus-actors.raft.max-bytes-per-message / snapshot-chunk-bytes, "
                    + "or raise pekko.remote.artery.advanced.maximum-frame-size", peer.path().name(), payload.length,
                    maxBatchBytes);
        }
        peer.tell(new InboundBatch(nodeId, payload));
    }

    /** Bytes of payload one remote message may carry: the Artery frame size less room for the envelope. */
    public static int maxBatchBytes(com.typesafe.config.Config config) {
        String key = "pekko.remote.artery.advanced.maximum-frame-size";
        long frame = config.hasPath(key) ? config.getBytes(key) : 256 * 1024;
        return (int) Math.max(16 * 1024, frame - 16 * 1024);
    }

    private Behavior<Command> onInbound(InboundBatch b) {
        if (!peers.containsKey(b.fromNode())) {
            // a node this host does not list (unreachable, gone, or not listed yet) is cut off both ways, as
            // onFlush cuts it off outbound: a message from it delivered after its members were told it was lost
            // (a quiescing heartbeat still in flight) would put a follower back to sleep under an unreachable leader
            return this;
        }
        RaftCodec.decodeBatch(b.payload(), (groupId, msg) -> {
            if (!msg.to().equals(nodeId)) {
                return;
            }
            ActorRef<RaftMember.Command> m = members.get(groupId);
            if (m == null) {
                // a group this node was added to (as learner) or whose member is still starting: start it; it learns
                // its configuration from the leader
                m = member(groupId, Set.of());
                if (m == null) {
                    return; // its member is stopping: a lost message, Raft retries
                }
            }
            m.tell(new RaftMember.Deliver(msg, now));
        });
        return this;
    }

    private Behavior<Command> onClientPropose(ClientPropose p) {
        ActorRef<RaftMember.Command> m = members.get(p.groupId());
        if (m == null) {
            p.replyTo().tell(new ClientReply.NotLeader(p.requestId(), p.groupId(), null));
        } else {
            m.tell(new RaftMember.Propose(p.clientId(), p.seq(), p.command(), p.requestId(), p.replyTo()));
        }
        return this;
    }

    private Behavior<Command> onClientRead(ClientRead r) {
        ActorRef<RaftMember.Command> m = members.get(r.groupId());
        if (m == null) {
            r.replyTo().tell(new ClientReply.NotLeader(r.requestId(), r.groupId(), null));
        } else {
            m.tell(new RaftMember.Read(r.query(), r.consistency(), r.requestId(), r.replyTo()));
        }
        return this;
    }

    private Behavior<Command> onClientBatch(ClientBatch b) {
        for (Command c : b.requests()) {
            if (c instanceof ClientPropose p) {
                onClientPropose(new ClientPropose(p.groupId(), p.clientId(), p.seq(), p.command(), p.requestId(),
                        replyBatcher(p.replyTo())));
            } else if (c instanceof ClientRead r) {
                onClientRead(new ClientRead(r.groupId(), r.query(), r.consistency(), r.requestId(),
                        replyBatcher(r.replyTo())));
            } else {
                getContext().getLog().warn("Raft host {}: a client batch may hold only proposals and reads, "
                        + "ignored a {}", nodeId, c.getClass().getSimpleName());
            }
        }
        return this;
    }

    /** Where members answer a client that sent a batch: itself if local, else its batcher (created on first use). */
    private ActorRef<ClientReply> replyBatcher(ActorRef<ClientReply> client) {
        if (!client.path().address().hasGlobalScope()) {
            return client; // a local answer costs no network message
        }
        ActorRef<ClientReply> batcher = replyBatchers.get(client);
        if (batcher == null) {
            batcher = getContext().spawnAnonymous(ReplyBatcher.create(client)).narrow();
            getContext().watchWith(batcher, new BatcherStopped(client));
            replyBatchers.put(client, batcher);
        }
        return batcher;
    }

    /**
     * Forwards answers to one remote client, all those that arrived during one mailbox run as one
     * {@link ClientReply.Batch}; stops when the client does (remote death watch).
     */
    static final class ReplyBatcher extends AbstractBehavior<Object> {
        private enum Flush { INSTANCE }

        private final ActorRef<ClientReply> client;
        private final List<ClientReply> pending = new ArrayList<>();

        static Behavior<Object> create(ActorRef<ClientReply> client) {
            return Behaviors.setup(ctx -> {
                ctx.watch(client);
                return new ReplyBatcher(ctx, client);
            });
        }

        private ReplyBatcher(ActorContext<Object> context, ActorRef<ClientReply> client) {
            super(context);
            this.client = client;
        }

        @Override
        public Receive<Object> createReceive() {
            return newReceiveBuilder()
                    .onMessage(ClientReply.class, r -> {
                        if (pending.isEmpty()) {
                            getContext().getSelf().tell(Flush.INSTANCE); // after what is already in the mailbox
                        }
                        pending.add(r);
                        return this;
                    })
                    .onMessage(Flush.class, f -> {
                        client.tell(pending.size() == 1 ? pending.get(0) : new ClientReply.Batch(List.copyOf(pending)));
                        pending.clear();
                        return this;
                    })
                    .onSignal(Terminated.class, t -> Behaviors.stopped())
                    .build();
        }
    }

    private Behavior<Command> onToMember(ToMember t) {
        ActorRef<RaftMember.Command> m = members.get(t.groupId());
        if (m != null) {
            m.tell(t.command());
        }
        return this;
    }

    private Behavior<Command> onScheduleTick(ScheduleTick s) {
        long basis = s.basis() < 0 ? now : Math.min(s.basis(), now);
        long deadline = Math.max(now + 1, basis + s.inTicks());
        long[] pending = due.get(s.groupId());
        if (pending != null) {
            if (s.epoch() > pending[2]) {
                pending[1] = basis; // the member forgot the clock since: count from its latest request
                pending[2] = s.epoch();
            } else if (s.epoch() == pending[2]) {
                pending[1] = Math.max(pending[1], basis);
            }
            if (pending[0] <= deadline) {
                return this; // an earlier tick is already due: the member asks again after it
            }
            remove(s.groupId(), pending[0]);
            pending[0] = deadline;
        } else {
            due.put(s.groupId(), new long[]{deadline, basis, s.epoch()});
        }
        wheel.computeIfAbsent(deadline, d -> new LinkedHashSet<>()).add(s.groupId());
        return this;
    }

    private void remove(String groupId, long deadline) {
        Set<String> slot = wheel.get(deadline);
        if (slot != null && slot.remove(groupId) && slot.isEmpty()) {
            wheel.remove(deadline);
        }
    }

    private Behavior<Command> onTick() {
        now++;
        while (!wheel.isEmpty() && wheel.firstKey() <= now) {
            for (String g : wheel.pollFirstEntry().getValue()) {
                long[] pending = due.remove(g);
                ActorRef<RaftMember.Command> m = members.get(g);
                if (pending != null && m != null) {
                    m.tell(new RaftMember.Tick(now, pending[1], pending[2]));
                    ticksSent++;
                }
            }
        }
        return this;
    }

    /**
     * The hosts listed for {@link #SERVICE_KEY}. With the cluster provider the Receptionist lists only hosts on
     * reachable nodes ({@code Listing.getServiceInstances}): a node the failure detector marks unreachable leaves the
     * listing at once (and returns when reachable again), long before it is downed or removed. A lost node may be the
     * leader of quiesced groups, which send nothing and so cannot be missed: every local member is told which nodes
     * are left and the quiesced ones whose group is affected wake up (see {@link RaftMember.PeersLost}).
     */
    private Behavior<Command> onPeersChanged(PeersChanged p) {
        Set<ActorRef<Command>> refs = p.listing().getServiceInstances(SERVICE_KEY);
        Map<String, ActorRef<Command>> listed = new HashMap<>();
        for (ActorRef<Command> ref : refs) {
            String name = ref.path().name();
            if (name.startsWith("raft-")) {
                listed.put(name.substring(5), ref);
            }
        }
        boolean lost = !listed.keySet().containsAll(peers.keySet());
        peers.clear();
        peers.putAll(listed);
        if (lost) {
            Set<String> reachable = new java.util.HashSet<>(listed.keySet());
            reachable.add(nodeId);
            // every member is told (it alone knows whether it is quiesced and where its leader is): a pending tick
            // does not prove a member awake, it may have been asked for just before the member quiesced
            RaftMember.PeersLost peersLost = new RaftMember.PeersLost(Set.copyOf(reachable));
            for (ActorRef<RaftMember.Command> m : members.values()) {
                m.tell(peersLost);
            }
        }
        return this;
    }

    private Behavior<Command> onMemberTerminated(Terminated t) {
        if (t.getRef().equals(nodeLog)) {
            return onNodeLogStopped();
        }
        members.values().removeIf(ref -> ref.equals(t.getRef()));
        List<String> freed = new ArrayList<>();
        stopping.entrySet().removeIf(e -> e.getValue().equals(t.getRef()) && freed.add(e.getKey()));
        if (nodeLog != null) {
            for (String g : freed) {
                Set<String> voters = toRestart.remove(g);
                if (voters != null) {
                    member(g, voters);
                }
            }
        }
        return this;
    }

    /**
     * The node log failed (a journal write or its recovery; logged by it): whatever was in that write was never
     * acknowledged, but the members already moved on in memory. Stop them all, and after a backoff start a new node
     * log (it recovers from the journal) and the same members from what is durable — as a process restart would.
     */
    private Behavior<Command> onNodeLogStopped() {
        nodeLogFailures++;
        Duration backoff = Duration.ofMillis(Math.min(5_000L, 200L << Math.min(5, nodeLogFailures - 1)));
        getContext().getLog().error("raft host {}: the node log stopped (failure {}); stopping {} members, restarting "
                + "the log in {} ms", nodeId, nodeLogFailures, members.size(), backoff.toMillis());
        nodeLog = null;
        for (Map.Entry<String, ActorRef<RaftMember.Command>> e : members.entrySet()) {
            toRestart.put(e.getKey(), startedWith.getOrDefault(e.getKey(), Set.of()));
            stopping.put(e.getKey(), e.getValue());
            getContext().stop(e.getValue());
        }
        members.clear();
        due.clear();
        wheel.clear();
        timers.startSingleTimer(RestartNodeLog.INSTANCE, backoff);
        return this;
    }

    private Behavior<Command> onRestartNodeLog() {
        nodeLog = spawnNodeLog();
        for (String g : List.copyOf(toRestart.keySet())) {
            if (!stopping.containsKey(g)) {
                member(g, toRestart.remove(g)); // the others start when their old member has stopped
            }
        }
        return this;
    }
}
