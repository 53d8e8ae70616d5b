package io.consensusactors.raft.actor;

import io.consensusactors.persistence.CborSerializable;
import io.consensusactors.raft.core.Configuration;
import io.consensusactors.raft.core.Entry;
import io.consensusactors.raft.core.ProposeResult;
import io.consensusactors.raft.core.RaftCodec;
import io.consensusactors.raft.core.RaftMessage;
import io.consensusactors.raft.core.RaftNode;
import io.consensusactors.raft.core.ReadConsistency;
import io.consensusactors.raft.core.ReadState;
import io.consensusactors.raft.core.Ready;
import io.consensusactors.raft.core.Role;
import io.consensusactors.raft.core.SnapshotMeta;
import io.consensusactors.statemachine.SessionStateMachine;
import io.consensusactors.statemachine.SpeculativeStateMachine;
import io.consensusactors.statemachine.StateMachine;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Supplier;

/**
 * One member of one Raft group: a thin shell around {@link RaftNode}. It makes the member's hard state and log
 * durable through the node's {@link RaftNodeLog} (one write per {@link Ready}, shared with every other group of the
 * node that writes at the same time: group commit), sends what the core asks through the node's {@link RaftHost}
 * (messages that must wait for the write only after it), applies committed entries to an exactly-once
 * {@link SessionStateMachine}, and answers clients once their entry is applied or their read confirmed.
 *
 * <p>It starts by asking the node log for its durable state ({@link Recovered}). Writes are pipelined: up to
 * {@code max-writes-in-flight} of them may be under way ({@link RaftNode#advanceBeforePersisted}) while the member
 * keeps stepping — a leader takes acknowledgements and commits, a follower takes the next AppendEntries — and each
 * write's acknowledgements leave when it is durable ({@link RaftNode#persisted}). Beyond that many, and while a write
 * that must be waited for is under way (new term or vote, snapshot, compaction), new commands are stashed; they are
 * fed to the core together and leave in the next single write — batching arises from the load, with no timer.
 */
public final class RaftMember extends AbstractBehavior<RaftMember.Command> {

    public sealed interface Command {
    }

    /** A Raft message from another member (via the hosts), received at tick {@code now} of this node's clock. */
    public record Deliver(RaftMessage message, long now) implements Command {
    }

    /**
     * The tick this member asked for is due: the node's clock reads {@code now}; {@code basis} is the clock reading
     * the latest request counted from, made in this member's clock {@code epoch} (used when the member lost track of
     * the clock while quiesced: a tick asked for before that must not count the quiesced time).
     */
    public record Tick(long now, long basis, long epoch) implements Command {
    }

    /**
     * From the host: a peer node left its Receptionist listing (unreachable to the failure detector, downed or
     * removed); {@code reachable} are the nodes still listed, this one included. A quiesced member wakes if its group
     * may need it: its leader is not reachable (its followers must elect another), or it leads without a reachable
     * quorum (CheckQuorum must run to step it down). Other quiesced members sleep on.
     */
    public record PeersLost(Set<String> reachable) implements Command {
    }

    private enum Flush implements Command { INSTANCE }

    /** From the node log: this member's durable state, to start from. */
    record Recovered(DurableLog log) implements Command {
    }

    /** From the node log: write {@code token} is durable. */
    record Persisted(long token) implements Command {
    }

    private enum CompactNow implements Command { INSTANCE }

    /**
     * Propose a command under the client session (clientId, seq); seq 0 opens the session. The answer echoes
     * {@code requestId}, as do the answers to the other client requests below.
     */
    public record Propose(long clientId, long seq, byte[] command, long requestId, ActorRef<ClientReply> replyTo)
            implements Command, CborSerializable {
    }

    public record Read(byte[] query, ReadConsistency consistency, long requestId, ActorRef<ClientReply> replyTo)
            implements Command, CborSerializable {
    }

    public record TransferLeadership(String to, long requestId, ActorRef<ClientReply> replyTo)
            implements Command, CborSerializable {
    }

    /** Joint-consensus change to these voters and learners (node ids). */
    public record ChangeMembership(Set<String> voters, Set<String> learners, long requestId,
                                   ActorRef<ClientReply> replyTo) implements Command, CborSerializable {
    }

    public record GetStatus(ActorRef<Status> replyTo) implements Command, CborSerializable {
    }

    /** A member's view of its group. */
    public record Status(String groupId, String member, Role role, long term, String leader, long commitIndex,
                         long appliedIndex, long lastIndex, long snapshotIndex, Set<String> voters,
                         Set<String> learners, boolean joint, boolean quiesced) implements CborSerializable {
    }

    private record PendingProposal(long term, long clientId, long seq, long requestId, ActorRef<ClientReply> replyTo) {
    }

    private record PendingRead(byte[] query, long requestId, ActorRef<ClientReply> replyTo) {
    }

    private final ActorContext<Command> context;
    private final StashBuffer<Command> stash;
    private final ActorRef<RaftNodeLog.Command> nodeLog;
    private final String groupId;
    private final String memberId;
    private final Configuration initial;
    private final RaftSettings settings;
    private final ActorRef<RaftHost.Command> host;
    private final Supplier<StateMachine> machineFactory;

    private RaftNode core;
    private SessionStateMachine machine;
    private boolean flushScheduled;
    private boolean compactScheduled;
    /** The node's clock as far as the core has been ticked; -1 while unknown (quiesced: time does not count). */
    private long clock = -1;
    /** A tick is requested from the host, due at {@code tickDueAt} (-1: relative to a clock reading we do not know). */
    private boolean tickPending;
    private long tickDueAt = -1;
    private int tickDueIn;
    /** Incremented whenever the clock is forgotten (quiescence): ticks asked for in an older epoch count from now. */
    private long clockEpoch;
    private Role lastRole = Role.FOLLOWER;
    private long nextReadContext = 1;
    private final Map<Long, PendingProposal> proposals = new HashMap<>();
    private final Map<Long, PendingRead> reads = new HashMap<>();
    private final List<ReadState> readsAwaitingApply = new ArrayList<>();
    private final Map<Long, Long> sessionIndex = new HashMap<>();
    private final List<Propose> parked = new ArrayList<>();
    private SpeculativeStateMachine speculative;
    /**
     * Commands kept while recovering or writing. Like Pekko Persistence's stash (4,096 by default) it is bounded; a
     * Raft message dropped beyond it is resent by Raft, a client request retried by the client.
     */
    static final int STASH_CAPACITY = 65_536;
    /**
     * A write under way through the node log: what to do once it is durable, whether commands wait for it (a
     * barrier), and messages of later readies that were to leave after persisting (they wait for this write too).
     */
    private record InFlight(long token, Runnable then, boolean barrier, List<RaftMessage> after) {
    }

    /** Writes under way, oldest first (the node log makes them durable in this order). */
    private final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();
    private int barriers;
    private long nextToken = 1;

    /**
     * @param initialVoters voters of a new group (ignored once the journal holds a configuration); empty for a member
     *                      that joins an existing group (it learns the configuration from the leader)
     */
    public static Behavior<Command> create(String groupId, String memberId, Set<String> initialVoters,
                                           Supplier<StateMachine> machineFactory, RaftSettings settings,
                                           ActorRef<RaftHost.Command> host, ActorRef<RaftNodeLog.Command> nodeLog) {
        return Behaviors.withStash(STASH_CAPACITY, stash -> Behaviors.setup(ctx -> new RaftMember(ctx,
                stash, groupId, memberId, initialVoters, machineFactory, settings, host, nodeLog)));
    }

    private RaftMember(ActorContext<Command> context, StashBuffer<Command> stash, String groupId, String memberId,
                       Set<String> initialVoters, Supplier<StateMachine> machineFactory, RaftSettings settings,
                       ActorRef<RaftHost.Command> host, ActorRef<RaftNodeLog.Command> nodeLog) {
        super(context);
        this.context = context;
        this.stash = stash;
        this.nodeLog = nodeLog;
        this.groupId = groupId;
        this.memberId = memberId;
        this.initial = Configuration.of(initialVoters);
        this.settings = settings;
        this.host = host;
        this.machineFactory = machineFactory;
        nodeLog.tell(new RaftNodeLog.Recover(groupId, context.getSelf()));
    }

    // ------------------------------------------------------------------ recovery and writes through the node log

    private void write(RaftNodeLog.GroupWrite w, boolean barrier, Runnable then) {
        long token = nextToken++;
        inFlight.addLast(new InFlight(token, then, barrier, new ArrayList<>()));
        if (barrier) {
            barriers++;
        }
        nodeLog.tell(new RaftNodeLog.Append(w, token, context.getSelf()));
    }

    private Behavior<Command> onPersisted(Persisted p) {
        if (core == null) {
            return this; // a write of this member's previous incarnation (before a restart): Recovered includes it
        }
        InFlight w = inFlight.pollFirst();
        if (w == null || w.token() != p.token()) {
            throw new IllegalStateException("raft " + groupId + "/" + memberId + ": write " + p.token()
                    + " acknowledged while waiting for " + (w == null ? "none" : w.token()));
        }
        if (w.barrier()) {
            barriers--;
        }
        w.then().run();
        sendAfterPersist(w.after());
        if (core.hasReady()) {
            scheduleFlush();
        }
        return mustStash() || stash.isEmpty() ? this : stash.unstashAll(this); // what waited, then the mailbox
    }

    private void onRecovered(DurableLog state) {
        core = new RaftNode(memberId, settings.core(), new Random(), initial, state.hardState(), state.snapshot,
                state.entries()); // decoded here, once: the event handler keeps them encoded
        StateMachine user = machineFactory.get();
        speculative = user instanceof SpeculativeStateMachine sp ? sp : null;
        machine = new SessionStateMachine(user, settings.maxSessions(), settings.sessionExpireAfterEntries());
        if (state.snapshot.meta().index() > 0) {
            machine.restore(state.snapshot.data());
        }
        context.getLog().debug("raft {}/{} recovered: {}", groupId, memberId, core);
        core.staggerFirstElection(electionRank(), settings.firstElectionSpreadTicks());
        host.tell(new RaftHost.MemberStarted(groupId, context.getSelf()));
        scheduleFlush();
    }

    /**
     * Whether commands must wait: before the durable state is known, while a write that must be waited for is under
     * way, and while as many writes as allowed are.
     */
    private boolean mustStash() {
        return core == null || barriers > 0 || inFlight.size() >= settings.maxWritesInFlight();
    }

    // ------------------------------------------------------------------ commands

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Recovered.class, r -> {
                    onRecovered(r.log());
                    return stash.unstashAll(this);
                })
                .onMessage(Persisted.class, this::onPersisted)
                .onMessage(Command.class, c -> mustStash(), this::stashIt)
                .onMessage(Deliver.class, c -> input(() -> {
                    advanceTo(c.now());
                    core.step(c.message());
                }))
                .onMessage(Tick.class, this::onTick)
                .onMessage(PeersLost.class, c -> affectedBy(c.reachable()) ? input(core::wake) : this)
                .onMessage(Propose.class, this::onPropose)
                .onMessage(Read.class, this::onRead)
                .onMessage(TransferLeadership.class, this::onTransfer)
                .onMessage(ChangeMembership.class, this::onChangeMembership)
                .onMessage(GetStatus.class, this::onGetStatus)
                .onMessage(Flush.class, c -> onFlush())
                .onMessage(CompactNow.class, c -> onCompact())
                .build();
    }

    private Behavior<Command> stashIt(Command c) {
        if (stash.isFull()) {
            // like Pekko Persistence's stash overflow: the message is lost (Raft resends, clients retry)
            context.getLog().warn("raft {}/{}: stash full ({} messages) while {}; dropped {}", groupId, memberId,
                    stash.size(), core == null ? "recovering" : "writing", c.getClass().getSimpleName());
        } else {
            stash.stash(c);
        }
        return this;
    }

    // ------------------------------------------------------------------ time (only members whose timers can fire tick)

    /**
     * This member's place in the order of the first election after a start: the group's voters, sorted and rotated by
     * a hash of the group id, so that preferred first leaders spread over the nodes and each group has one candidate.
     */
    private int electionRank() {
        List<String> voters = new ArrayList<>(new java.util.TreeSet<>(core.configuration().voters()));
        int i = voters.indexOf(memberId);
        return i < 0 ? 0 : Math.floorMod(i - Math.floorMod(groupId.hashCode(), voters.size()), voters.size());
    }

    /** See {@link PeersLost}: whether this member must wake when only {@code reachable} nodes are left. */
    private boolean affectedBy(Set<String> reachable) {
        return wakesOnPeersLost(core.isQuiesced(), memberId, core.leader(), core.configuration(), reachable);
    }

    /**
     * The rule of {@link PeersLost}: a quiesced member wakes when its leader is unknown or not reachable, or when it
     * leads and the reachable nodes (itself included) hold no quorum of its configuration (both halves if joint).
     */
    static boolean wakesOnPeersLost(boolean quiesced, String self, String leader, Configuration configuration,
                                    Set<String> reachable) {
        if (!quiesced) {
            return false;
        }
        if (leader == null) {
            return true;
        }
        if (!leader.equals(self)) {
            return !reachable.contains(leader);
        }
        return !configuration.hasQuorum(m -> m.equals(self) || reachable.contains(m));
    }

    private Behavior<Command> onTick(Tick t) {
        tickPending = false;
        tickDueAt = -1;
        if (clock < 0) {
            clock = t.epoch() == clockEpoch ? t.basis() : t.now();
        }
        advanceTo(t.now());
        if (core.hasReady()) {
            scheduleFlush();
        } else {
            scheduleTick(); // most ticks change nothing visible: no flush message for them
        }
        return this;
    }

    /** Feeds the core the ticks between its clock and {@code now}; none while quiesced (time does not count then). */
    private void advanceTo(long now) {
        if (clock < 0 || core.isQuiesced()) {
            learnClock(now);
            return;
        }
        while (clock < now) {
            clock++;
            core.tick();
            if (core.isQuiesced()) {
                clock = now;
            }
        }
    }

    private void learnClock(long now) {
        if (clock < 0 && tickPending && tickDueAt < 0) {
            tickDueAt = now + tickDueIn; // not earlier than the host's deadline, which counted from before now
        }
        clock = Math.max(clock, now);
    }

    /** Asks the host for a tick when the core's next timer can fire earlier than the tick already asked for. */
    private void scheduleTick() {
        int in = core.ticksUntilTimer();
        if (in == Integer.MAX_VALUE) {
            if (core.isQuiesced() && clock >= 0) {
                clock = -1; // no tick until woken: the clock is read again from the next message or tick
                clockEpoch++;
                tickPending = false; // a tick still due counts from before quiescence: ask afresh when woken
            }
            return;
        }
        long at = clock < 0 ? -1 : clock + in;
        if (tickPending && (at < 0 || tickDueAt >= 0 && tickDueAt <= at)) {
            return;
        }
        tickPending = true;
        tickDueAt = at;
        tickDueIn = in;
        host.tell(new RaftHost.ScheduleTick(groupId, in, clock, clockEpoch));
    }

    private Behavior<Command> input(Runnable r) {
        r.run();
        scheduleFlush();
        return this;
    }

    private Behavior<Command> onPropose(Propose p) {
        propose(p);
        scheduleFlush();
        return this;
    }

    private void propose(Propose p) {
        if (!core.isLeader()) {
            p.replyTo().tell(new ClientReply.NotLeader(p.requestId(), groupId, core.leader()));
            return;
        }
        byte[] payload = p.command();
        SpeculativeStateMachine.Preparation prep = null;
        boolean opensSession = p.clientId() != 0 && p.seq() == 0;
        if (speculative != null && !opensSession) {
            if (!core.leaderCaughtUp()) {
                parked.add(p); // new leader: interpret commands only once everything before its term is applied
                return;
            }
            SessionStateMachine.Result pre = machine.precheck(p.clientId(), p.seq());
            switch (pre.outcome()) {
                case DUPLICATE -> {
                    p.replyTo().tell(new ClientReply.Ok(p.requestId(), pre.value()));
                    return;
                }
                case STALE, SESSION_EXPIRED -> {
                    p.replyTo().tell(new ClientReply.Rejected(p.requestId(), "request " + p.seq() + " of session " + p.clientId()
                            + " is " + pre.outcome() + ": open a new session"));
                    return;
                }
                default -> {
                }
            }
            Long pendingIndex = sessionIndex.get(p.clientId());
            PendingProposal pending = pendingIndex == null ? null : proposals.get(pendingIndex);
            if (pending != null && pending.seq == p.seq()) {
                // a retry of a request still in flight here: answer the retry when the first copy applies
                proposals.put(pendingIndex, new PendingProposal(pending.term, pending.clientId, pending.seq,
                        p.requestId(), p.replyTo()));
                return;
            }
            prep = speculative.prepare(p.command());
            payload = prep.entry();
        }
        ProposeResult r = core.propose(p.clientId(), p.seq(), payload);
        if (r instanceof ProposeResult.Accepted a) {
            proposals.put(a.index(), new PendingProposal(a.term(), p.clientId(), p.seq(), p.requestId(), p.replyTo()));
            if (p.clientId() != 0) {
                sessionIndex.put(p.clientId(), a.index());
            }
            if (prep != null) {
                speculative.proposed(a.index(), prep);
            }
        } else {
            p.replyTo().tell(new ClientReply.NotLeader(p.requestId(), groupId, ((ProposeResult.Rejected) r).leaderHint()));
        }
    }

    private Behavior<Command> onRead(Read r) {
        long ctx = nextReadContext++;
        reads.put(ctx, new PendingRead(r.query(), r.requestId(), r.replyTo()));
        core.read(ctx, r.consistency());
        scheduleFlush();
        return this;
    }

    private Behavior<Command> onTransfer(TransferLeadership t) {
        if (!core.isLeader()) {
            // a client with a stale leader cache: let it follow the hint, as for proposals
            t.replyTo().tell(new ClientReply.NotLeader(t.requestId(), groupId, core.leader()));
            return this;
        }
        boolean ok = core.transferLeadership(t.to());
        t.replyTo().tell(ok ? new ClientReply.Ok(t.requestId(), new byte[0])
                : new ClientReply.Rejected(t.requestId(), "cannot transfer leadership of " + groupId + " from " + memberId + " to "
                + t.to() + ": only the leader can, to a voter (leader is " + core.leader() + ")"));
        scheduleFlush();
        return this;
    }

    private Behavior<Command> onChangeMembership(ChangeMembership c) {
        ProposeResult r = core.changeMembership(c.voters(), c.learners());
        if (r instanceof ProposeResult.Accepted) {
            c.replyTo().tell(new ClientReply.Ok(c.requestId(), new byte[0]));
        } else {
            ProposeResult.Rejected rej = (ProposeResult.Rejected) r;
            c.replyTo().tell(rej.reason() == ProposeResult.Reason.NOT_LEADER
                    ? new ClientReply.NotLeader(c.requestId(), groupId, rej.leaderHint())
                    : new ClientReply.Rejected(c.requestId(), rej.detail()));
        }
        scheduleFlush();
        return this;
    }

    private Behavior<Command> onGetStatus(GetStatus g) {
        Configuration c = core.configuration();
        g.replyTo().tell(new Status(groupId, memberId, core.role(), core.term(), core.leader(), core.commitIndex(),
                core.appliedIndex(), core.lastIndex(), core.snapshotMeta().index(), c.voters(), c.learners(), c.joint(),
                core.isQuiesced()));
        return this;
    }

    private void scheduleFlush() {
        if (!flushScheduled) {
            flushScheduled = true;
            context.getSelf().tell(Flush.INSTANCE);
        }
    }

    // ------------------------------------------------------------------ the Ready loop

    private Behavior<Command> onFlush() {
        flushScheduled = false;
        scheduleTick();
        while (core.hasReady() && !mustStash()) { // else a write's completion flushes again
            Ready ready = core.ready();
            if (!ready.messages().isEmpty()) {
                host.tell(new RaftHost.Outbound(groupId, ready.messages()));
            }
            if (!ready.needsPersistence()) {
                if (inFlight.isEmpty()) {
                    sendAfterPersist(ready.messagesAfterPersist());
                } else {
                    inFlight.peekLast().after().addAll(ready.messagesAfterPersist()); // after the writes before them
                }
                handOff(ready);
                core.advance(ready);
                afterAdvance();
            } else if (ready.canPipeline() && settings.maxWritesInFlight() > 1) {
                write(new RaftNodeLog.GroupWrite(groupId, toEvent(ready), null, null), false, () -> {
                    sendAfterPersist(ready.messagesAfterPersist());
                    core.persisted(ready);
                });
                handOff(ready);
                core.advanceBeforePersisted(ready);
                afterAdvance();
            } else {
                write(new RaftNodeLog.GroupWrite(groupId, toEvent(ready), null, null), true, () -> {
                    sendAfterPersist(ready.messagesAfterPersist());
                    handOff(ready);
                    core.advance(ready);
                    afterAdvance();
                });
            }
        }
        return this;
    }

    private RaftEvent.ReadyPersisted toEvent(Ready r) {
        byte[] meta = r.snapshot() == null ? null : DurableLog.encodeMeta(r.snapshot().meta());
        byte[] data = r.snapshot() == null ? null : r.snapshot().data();
        return new RaftEvent.ReadyPersisted(core.term(), core.votedFor(), core.commitIndex(),
                r.entries().isEmpty() ? new byte[0] : RaftCodec.encodeEntries(r.entries()), meta, data);
    }

    private void sendAfterPersist(List<RaftMessage> messages) {
        if (!messages.isEmpty()) {
            host.tell(new RaftHost.Outbound(groupId, messages));
        }
    }

    /** What a ready asks besides writing and sending: snapshot install, apply, read states. */
    private void handOff(Ready r) {
        if (r.snapshot() != null) {
            machine.restore(r.snapshot().data());
        }
        for (Entry e : r.committed()) {
            apply(e);
        }
        for (ReadState rs : r.readStates()) {
            if (rs.ok()) {
                readsAwaitingApply.add(rs);
            } else {
                PendingRead pr = reads.remove(rs.context());
                if (pr != null) {
                    pr.replyTo().tell(new ClientReply.NotLeader(pr.requestId(), groupId, rs.leaderHint()));
                }
            }
        }
    }

    /** After the core advanced: reads, lost leadership, parked proposals, timers, compaction. */
    private void afterAdvance() {
        serveReads();
        if (lastRole == Role.LEADER && core.role() != Role.LEADER) {
            failPending(); // lost leadership: clients retry elsewhere with the same session and sequence number
        }
        if (!parked.isEmpty() && (!core.isLeader() || core.leaderCaughtUp())) {
            List<Propose> again = new ArrayList<>(parked);
            parked.clear();
            again.forEach(this::propose);
        }
        lastRole = core.role();
        scheduleTick();
        if (!compactScheduled && core.appliedIndex() - core.snapshotMeta().index() >= settings.compactAfterEntries()) {
            compactScheduled = true;
            context.getSelf().tell(CompactNow.INSTANCE);
        }
    }

    private void apply(Entry e) {
        SessionStateMachine.Result result = null;
        if (e.type() == Entry.Type.COMMAND) {
            result = machine.apply(e.index(), e.clientId(), e.seq(), e.data());
        } else {
            machine.skip(e.index());
        }
        if (speculative != null) {
            speculative.retire(e.index());
        }
        PendingProposal p = proposals.remove(e.index());
        if (p == null) {
            return;
        }
        sessionIndex.remove(p.clientId, e.index());
        if (result == null || e.term() != p.term || e.clientId() != p.clientId || e.seq() != p.seq) {
            p.replyTo.tell(new ClientReply.NotLeader(p.requestId, groupId, core.leader())); // our entry was replaced
        } else if (result.ok()) {
            p.replyTo.tell(new ClientReply.Ok(p.requestId, result.value()));
        } else {
            p.replyTo.tell(new ClientReply.Rejected(p.requestId, "request " + p.seq + " of session " + p.clientId + " was "
                    + result.outcome() + ": the session expired or a newer request superseded it; open a new session"));
        }
    }

    private void serveReads() {
        if (readsAwaitingApply.isEmpty()) {
            return;
        }
        Iterator<ReadState> it = readsAwaitingApply.iterator();
        while (it.hasNext()) {
            ReadState rs = it.next();
            if (core.appliedIndex() >= rs.index()) {
                it.remove();
                PendingRead pr = reads.remove(rs.context());
                if (pr != null) {
                    pr.replyTo().tell(new ClientReply.Ok(pr.requestId(), machine.query(pr.query())));
                }
            }
        }
    }

    private void failPending() {
        for (PendingProposal p : proposals.values()) {
            p.replyTo.tell(new ClientReply.NotLeader(p.requestId, groupId, core.leader()));
        }
        proposals.clear();
        sessionIndex.clear();
        if (speculative != null) {
            speculative.discardSpeculation();
        }
    }

    private Behavior<Command> onCompact() {
        compactScheduled = false;
        long index = core.appliedIndex();
        if (index <= core.snapshotMeta().index()) {
            return this;
        }
        SnapshotMeta meta = core.snapshotMetaAt(index);
        byte[] data = machine.snapshot();
        write(new RaftNodeLog.GroupWrite(groupId, null, new RaftEvent.Compacted(DurableLog.encodeMeta(meta), data), null),
                true, () -> core.compact(index, data));
        return this;
    }
}
