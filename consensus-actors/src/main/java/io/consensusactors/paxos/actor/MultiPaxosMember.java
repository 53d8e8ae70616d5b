package io.consensusactors.paxos.actor;

import io.consensusactors.paxos.core.Ballot;
import io.consensusactors.paxos.core.LogValue;
import io.consensusactors.paxos.core.MultiPaxosMessage;
import io.consensusactors.paxos.core.MultiPaxosMessage.AcceptedEntry;
import io.consensusactors.paxos.core.MultiPaxosReady;
import io.consensusactors.paxos.core.MultiPaxosReplica;
import io.consensusactors.paxos.core.PaxosConfig;
import io.consensusactors.persistence.CborSerializable;
import io.consensusactors.statemachine.SessionStateMachine;
import io.consensusactors.statemachine.StateMachine;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.SnapshotAdapter;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * One replica of a Multi-Paxos log ({@link MultiPaxosReplica}) as an event-sourced actor: the promise and the accepted
 * entries of each {@link MultiPaxosReady} are one journal event, written before the replies that depend on them are
 * sent; inputs that arrive in one mailbox run are handled by one ready (group commit). The committed prefix is applied
 * to a {@link StateMachine} through a {@link SessionStateMachine}, the same SPI as the Raft members.
 *
 * <p>Transport: either local ({@link SetPeers}: members of one ActorSystem exchange the core's records through
 * {@link Deliver}) or through the node's {@link MultiPaxosHost}, which batches messages per node pair and encodes
 * them with {@link io.consensusactors.paxos.core.MultiPaxosCodec}; replica {@code i} of the group lives on node
 * {@code nodes.get(i)}. Replies to clients ({@link Reply}) are CBOR records and may cross the network.
 */
public final class MultiPaxosMember
        extends EventSourcedBehavior<MultiPaxosMember.Command, MultiPaxosMember.Persisted, MultiPaxosMember.Durable> {

    public interface Command {
    }

    /** Answers the member's {@link Status}. */
    public record GetStatus(ActorRef<Status> replyTo) implements Command, CborSerializable {
    }

    /**
     * What the member knows: its role, whom it believes leads, its durable promise, its chosen prefix and accepted
     * entries; {@code recoveredPromised}/{@code recoveredAccepted}: what it read from its journal when it (re)started.
     */
    public record Status(int replica, String role, int leaderHint, Ballot durablePromised, long chosenPrefix,
                         int acceptedEntries, long snapshotSlot, Ballot recoveredPromised, int recoveredAccepted,
                         long recoveredSnapshotSlot, long snapshotsReceived) implements CborSerializable {
    }

    /** The members of the group, indexed by replica id (this member included). */
    public record SetPeers(List<ActorRef<Command>> peers) implements Command {
    }

    /** A protocol message from member {@code from} (local transport). */
    public record Deliver(int from, MultiPaxosMessage message) implements Command {
    }

    /** Proposes a command; answered once it is applied, or at once if this member does not lead. */
    public record Propose(LogValue command, ActorRef<Reply> replyTo) implements Command {
    }

    public sealed interface Reply extends CborSerializable {
    }

    /** The command was chosen at {@code slot} and applied with this result. */
    public record Applied(long slot, SessionStateMachine.Outcome outcome, byte[] value) implements Reply {
        public SessionStateMachine.Result result() {
            return new SessionStateMachine.Result(outcome, value);
        }
    }

    /**
     * This member is not the leader; {@code leaderHint} is the replica it believes leads (-1 if none) and
     * {@code leaderNode} that replica's node (null if unknown or local transport).
     */
    public record NotLeader(int leaderHint, String leaderNode) implements Reply {
    }

    /** Another value was chosen in the slot this command was given (leader change): retry (sessions dedupe). */
    public record Superseded(long slot) implements Reply {
    }

    private enum Tick implements Command { INSTANCE }

    private enum Flush implements Command { INSTANCE }

    /**
     * Journal event: what one ready made durable. {@code compacted} (null if none): a state machine snapshot that
     * replaces the log up to its slot (the accepted entries up to there are dropped from the durable state).
     */
    public record Persisted(Compacted compacted, Ballot promised, List<Entry> accepted) implements CborSerializable {
    }

    /** The state machine (with its session table) as applied up to {@code slot}. */
    public record Compacted(long slot, byte[] state) {
    }

    /** An accepted entry as stored ({@code payload} null for a no-op). */
    public record Entry(long slot, Ballot ballot, long clientId, long sequence, byte[] payload) {
    }

    /** The durable state in the snapshot store (written every {@code journal-snapshot-every} events). */
    public record DurableSnapshot(Ballot promised, Compacted compacted, List<Entry> accepted)
            implements CborSerializable {
    }

    /** The durable acceptor state, changed only by the event handler. */
    public static final class Durable {
        Ballot promised = Ballot.NONE;
        Compacted compacted;
        final NavigableMap<Long, Entry> accepted = new TreeMap<>();
    }

    private record Waiter(LogValue command, ActorRef<Reply> replyTo) {
    }

    private final ActorContext<Command> context;
    private final TimerScheduler<Command> timers;
    private final int id;
    private final int replicas;
    private final PaxosConfig config;
    private final Duration tick;
    private final Supplier<StateMachine> machineFactory;
    private final long compactEvery;
    private final int journalSnapshotEvery;
    private final NavigableMap<Long, Waiter> waiting = new TreeMap<>();
    private final String group;
    private final List<String> nodes;
    private final ActorRef<MultiPaxosHost.Command> host;
    private List<ActorRef<Command>> peers = List.of();
    private Ballot recoveredPromised = Ballot.NONE;
    private int recoveredAccepted;
    private long recoveredSnapshotSlot;
    private MultiPaxosReplica core;
    private boolean flushScheduled;

    /** A member with local transport (its peers are given by {@link SetPeers}) and no compaction. */
    public static Behavior<Command> create(String group, int id, int replicas, PaxosConfig config, Duration tick,
                                           Supplier<StateMachine> machine) {
        return create(group, id, replicas, new MultiPaxosSettings(tick, config, 0, 500), machine);
    }

    /** A member with local transport: its peers are given by {@link SetPeers}. */
    public static Behavior<Command> create(String group, int id, int replicas, MultiPaxosSettings settings,
                                           Supplier<StateMachine> machine) {
        return Behaviors.setup(context -> Behaviors.withTimers(timers ->
                new MultiPaxosMember(context, timers, group, id, replicas, List.of(), null, settings, machine)));
    }

    /** A member whose messages go through the node's {@link MultiPaxosHost}; replica i is on node {@code nodes.get(i)}. */
    public static Behavior<Command> create(String group, int id, List<String> nodes, ActorRef<MultiPaxosHost.Command> host,
                                           MultiPaxosSettings settings, Supplier<StateMachine> machine) {
        return Behaviors.setup(context -> Behaviors.withTimers(timers ->
                new MultiPaxosMember(context, timers, group, id, nodes.size(), nodes, host, settings, machine)));
    }

    public static String persistenceId(String group, int id) {
        return "multi-paxos|" + group + "|" + id;
    }

    private MultiPaxosMember(ActorContext<Command> context, TimerScheduler<Command> timers, String group, int id,
                             int replicas, List<String> nodes, ActorRef<MultiPaxosHost.Command> host,
                             MultiPaxosSettings settings, Supplier<StateMachine> machine) {
        super(PersistenceId.ofUniqueId(persistenceId(group, id)),
                SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.2));
        this.context = context;
        this.timers = timers;
        this.group = group;
        this.nodes = List.copyOf(nodes);
        this.host = host;
        this.id = id;
        this.replicas = replicas;
        this.config = settings.core();
        this.tick = settings.tickInterval();
        this.machineFactory = machine;
        this.compactEvery = settings.compactEvery();
        this.journalSnapshotEvery = settings.journalSnapshotEvery();
    }

    @Override
    public Durable emptyState() {
        return new Durable();
    }

    @Override
    public EventHandler<Durable, Persisted> eventHandler() {
        return newEventHandlerBuilder().forAnyState().onEvent(Persisted.class, (s, e) -> {
            if (e.compacted() != null) {
                s.compacted = e.compacted();
                s.accepted.headMap(e.compacted().slot(), true).clear();
            }
            if (e.promised() != null) {
                s.promised = e.promised();
            }
            for (Entry en : e.accepted()) {
                s.accepted.put(en.slot(), en);
            }
            return s;
        }).build();
    }

    @Override
    public RetentionCriteria retentionCriteria() {
        // the snapshot holds the whole durable state, so the events before it are not needed for recovery
        return RetentionCriteria.snapshotEvery(journalSnapshotEvery, 2).withDeleteEventsOnSnapshot();
    }

    @Override
    public SnapshotAdapter<Durable> snapshotAdapter() {
        return new SnapshotAdapter<>() {
            @Override
            public Object toJournal(Durable s) {
                return new DurableSnapshot(s.promised, s.compacted, List.copyOf(s.accepted.values()));
            }

            @Override
            public Durable fromJournal(Object from) {
                DurableSnapshot d = (DurableSnapshot) from;
                Durable s = new Durable();
                s.promised = d.promised();
                s.compacted = d.compacted();
                for (Entry e : d.accepted()) {
                    s.accepted.put(e.slot(), e);
                }
                return s;
            }
        };
    }

    private static AcceptedEntry toCore(Entry en) {
        LogValue v = en.payload() == null ? LogValue.NOOP : LogValue.command(en.clientId(), en.sequence(), en.payload());
        return new AcceptedEntry(en.slot(), en.ballot(), v);
    }

    @Override
    public SignalHandler<Durable> signalHandler() {
        return newSignalHandlerBuilder().onSignal(RecoveryCompleted.instance(), s -> {
            recoveredPromised = s.promised;
            recoveredAccepted = s.accepted.size();
            List<AcceptedEntry> accepted = new ArrayList<>(s.accepted.size());
            s.accepted.values().forEach(e -> accepted.add(toCore(e)));
            recoveredSnapshotSlot = s.compacted == null ? 0 : s.compacted.slot();
            core = new MultiPaxosReplica(id, replicas, s.promised, s.compacted == null ? null
                    : new MultiPaxosReady.Snapshot(s.compacted.slot(), s.compacted.state()), accepted,
                    new SessionStateMachine(machineFactory.get(), 10_000, 10_000_000), config, new Random());
            timers.startTimerWithFixedDelay(Tick.INSTANCE, tick);
        }).build();
    }

    @Override
    public CommandHandler<Command, Persisted, Durable> commandHandler() {
        return newCommandHandlerBuilder().forAnyState()
                .onCommand(SetPeers.class, (s, c) -> {
                    peers = List.copyOf(c.peers());
                    return Effect().none();
                })
                .onCommand(Deliver.class, (s, c) -> input(() -> core.step(c.from(), c.message())))
                .onCommand(Tick.class, (s, c) -> input(core::tick))
                .onCommand(Propose.class, (s, c) -> input(() -> onPropose(c)))
                .onCommand(Flush.class, (s, c) -> onFlush())
                .onCommand(GetStatus.class, (s, c) -> {
                    c.replyTo().tell(new Status(id, core.role().name(), core.leaderHint(), s.promised,
                            core.chosenPrefix(), s.accepted.size(), core.snapshotSlot(), recoveredPromised,
                            recoveredAccepted, recoveredSnapshotSlot, core.snapshotsReceived()));
                    return Effect().none();
                })
                .build();
    }

    private Effect<Persisted, Durable> input(Runnable r) {
        r.run();
        if (!flushScheduled) {
            flushScheduled = true;
            context.getSelf().tell(Flush.INSTANCE); // after the other messages already in the mailbox: group commit
        }
        return Effect().none();
    }

    private void onPropose(Propose p) {
        long slot = core.propose(p.command());
        if (slot < 0) {
            p.replyTo().tell(notLeader());
        } else {
            waiting.put(slot, new Waiter(p.command(), p.replyTo()));
        }
    }

    private Effect<Persisted, Durable> onFlush() {
        flushScheduled = false;
        if (compactEvery > 0 && core.chosenPrefix() - core.snapshotSlot() >= compactEvery) {
            core.compact();
        }
        MultiPaxosReady ready = core.ready();
        send(ready.messages());
        if (!ready.needsPersistence()) {
            finish(ready);
            return Effect().none();
        }
        List<Entry> entries = new ArrayList<>(ready.accepted().size());
        for (AcceptedEntry e : ready.accepted()) {
            entries.add(new Entry(e.slot(), e.ballot(), e.value().clientId(), e.value().sequence(),
                    e.value().payload()));
        }
        Compacted compacted = ready.snapshot() == null ? null
                : new Compacted(ready.snapshot().slot(), ready.snapshot().state());
        return Effect().persist(new Persisted(compacted, ready.promised(), entries)).thenRun(s -> finish(ready));
    }

    private void finish(MultiPaxosReady ready) {
        send(ready.messagesAfterPersist());
        for (MultiPaxosReady.Applied a : ready.applied()) {
            Waiter w = waiting.remove(a.slot());
            if (w != null) {
                w.replyTo().tell(w.command().equals(a.value())
                        ? new Applied(a.slot(), a.result().outcome(), a.result().value())
                        : new Superseded(a.slot()));
            }
        }
        // Slots applied with another value, or filled with a no-op by a new leader, do not report: answer them too.
        Map<Long, Waiter> passed = waiting.headMap(core.chosenPrefix(), true);
        for (Map.Entry<Long, Waiter> e : passed.entrySet()) {
            e.getValue().replyTo().tell(new Superseded(e.getKey()));
        }
        passed.clear();
        if (!core.isLeader() && !waiting.isEmpty()) {
            for (Map.Entry<Long, Waiter> e : waiting.entrySet()) {
                e.getValue().replyTo().tell(notLeader());
            }
            waiting.clear();
        }
    }

    private NotLeader notLeader() {
        int hint = core.leaderHint();
        return new NotLeader(hint, hint >= 0 && hint < nodes.size() ? nodes.get(hint) : null);
    }

    private void send(List<MultiPaxosReady.Send> sends) {
        if (sends.isEmpty()) {
            return;
        }
        if (host == null) {
            for (MultiPaxosReady.Send s : sends) {
                if (s.to() < peers.size()) {
                    peers.get(s.to()).tell(new Deliver(id, s.message()));
                }
            }
            return;
        }
        List<MultiPaxosReady.Send> remote = new ArrayList<>(sends.size());
        for (MultiPaxosReady.Send s : sends) {
            if (s.to() == id) {
                context.getSelf().tell(new Deliver(id, s.message()));
            } else {
                remote.add(s);
            }
        }
        if (!remote.isEmpty()) {
            host.tell(new MultiPaxosHost.Outbound(group, id, remote));
        }
    }
}
