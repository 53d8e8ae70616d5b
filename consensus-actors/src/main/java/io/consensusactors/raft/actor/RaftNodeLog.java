package io.consensusactors.raft.actor;

import com.typesafe.config.ConfigFactory;
import io.consensusactors.persistence.CborSerializable;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.persistence.DeleteMessagesFailure;
import org.apache.pekko.persistence.DeleteMessagesSuccess;
import org.apache.pekko.persistence.JournalProtocol;
import org.apache.pekko.persistence.Persistence;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.SnapshotAdapter;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * The durable log of every Raft member hosted on one node, written as one event-sourced stream (persistence id
 * {@code raft-node|<nodeId>}): multi-raft's node-level group commit. Members send what their {@code Ready} must make
 * durable ({@link Append}); everything that arrives while a write is in flight leaves in the next single journal
 * write — one database transaction and one fsync for all the groups of the node, instead of one per member. Each
 * member is answered once its part is durable, and only then sends the messages that had to wait for it.
 *
 * <p>Two actors: this one collects requests (an unbounded list, so thousands of members starting at once lose
 * nothing), its child {@link Journal} is the {@code EventSourcedBehavior} and gets at most one batch at a time (Pekko
 * would stash, and drop beyond {@code stash-capacity}, whatever reached it during a write or its recovery). The
 * journal's state is every hosted group's {@link DurableLog} (hard state, latest state-machine snapshot, encoded
 * entries after it); a (re)starting member gets a copy of its own ({@link Recover}).
 *
 * <p><b>Compaction without a node snapshot.</b> The journal is kept short by <em>checkpoints</em>, never by a Pekko
 * snapshot of its whole state (which would hold every write of the node while every group's log is saved as one
 * row — multi-second stalls at a few MB per node). A checkpoint is one group's whole durable log written inside an
 * ordinary journal event ({@link GroupWrite#checkpoint()}); it replaces everything earlier events hold for that
 * group. A group is checkpointed when its log is reset anyway (a state-machine compaction or an installed snapshot:
 * its writes of that event are replaced by its whole log, about the size of the snapshot they carry), and when its
 * latest checkpoint is {@code checkpointEvery} events old (a few such groups per write, oldest first, so idle groups
 * do not pin the journal). Events older than every group's latest checkpoint are no longer needed: this actor asks
 * the journal plugin to delete them, {@code deleteChunk} events per request, one request at a time, while writes
 * go on (fewer only when the last request is 10 s old). Recovery replays the events after the oldest checkpoint,
 * about {@code checkpointEvery} of them.
 *
 * <p>A failed write stops both actors (Pekko's default for a journal failure): nothing of that batch was
 * acknowledged, and the {@link RaftHost} restarts the log and its members from what is durable.
 */
public final class RaftNodeLog extends AbstractBehavior<RaftNodeLog.Command> {

    /**
     * Journal events deleted per request, and the least a request waits for unless the last one is
     * {@link #PARTIAL_DELETE_AFTER_NANOS} old. Small on purpose: H2 keeps the old rows of a transaction in its undo
     * log, written to disk once they pass ~1 MB, so a deletion costs little while it stays under a few MB (rows of
     * 20 KB: +27 µs per inserted row deleting 100 at a time, +620 µs deleting 1,000 at a time; H2DeleteCost in
     * benchmarks), and far fewer requests than one per write.
     */
    static final int DELETE_CHUNK = 64;
    private static final long PARTIAL_DELETE_AFTER_NANOS = TimeUnit.SECONDS.toNanos(10);
    /** Overdue groups checkpointed per write: at most this many, and no more once this many bytes are reached. */
    static final int MAX_OVERDUE_CHECKPOINTS_PER_WRITE = 16;
    static final long OVERDUE_CHECKPOINT_BYTES_PER_WRITE = 512 * 1024;
    /** After a failed deletion, the next attempt waits this long (writes go on meanwhile; nothing is lost). */
    private static final long DELETE_RETRY_NANOS = TimeUnit.SECONDS.toNanos(5);

    public sealed interface Command {
    }

    /** Make {@code write} durable, then answer {@link RaftMember.Persisted}{@code (token)}. */
    record Append(GroupWrite write, long token, ActorRef<RaftMember.Command> replyTo) implements Command {
    }

    /**
     * A member (re)starts: answer {@link RaftMember.Recovered} with a copy of its durable log, once every write
     * received before this request (e.g. from the member's previous incarnation) is durable — a member must never
     * start from less than its journal holds (it could vote twice in one term).
     */
    record Recover(String groupId, ActorRef<RaftMember.Command> replyTo) implements Command {
    }

    /** From the journal, once recovered: events up to {@code deletedTo} are known to be gone already. */
    private record JournalReady(long deletedTo) implements Command {
    }

    /**
     * From the journal: {@code batch} is durable; {@code recovered} holds the copies asked for, in batch order;
     * events up to {@code deletableTo} are older than every group's latest checkpoint.
     */
    private record BatchDone(List<Command> batch, List<DurableLog> recovered, long deletableTo) implements Command {
    }

    /** From the journal plugin: events up to {@code toSeqNr} are deleted, or {@code failure}. */
    private record DeleteDone(long toSeqNr, Throwable failure) implements Command {
    }

    /**
     * What one group writes: a Ready made durable and/or a compaction — or, set by the journal alone, its whole
     * durable log ({@code checkpoint}, then the only field set), which replaces what earlier events hold for it.
     */
    public record GroupWrite(String groupId, RaftEvent.ReadyPersisted ready, RaftEvent.Compacted compacted,
                             DurableLog.Stored checkpoint) implements CborSerializable {
    }

    /** One journal event: the writes of every group that were waiting, each group's in arrival order. */
    public record Written(List<GroupWrite> writes) implements CborSerializable {
    }

    /**
     * The journal snapshot of earlier versions (every group's durable log in one snapshot-store row). No longer
     * written; read when a node log recovers from one, after which its groups are checkpointed first.
     */
    public record Stored(List<String> groups, List<DurableLog.Stored> logs) implements CborSerializable {
    }

    private final ActorRef<Journal.Write> journal;
    private final String persistenceId;
    private final int deleteChunk;
    private final org.apache.pekko.actor.ActorRef journalPlugin;
    private final org.apache.pekko.actor.ActorRef deleteReplies;
    private final List<Command> waiting = new ArrayList<>();
    private boolean ready;
    private boolean busy;
    private long deletedTo;
    private long deletableTo;
    private boolean deleting;
    private long deleteRetryAt;
    private long lastDeleteAt = System.nanoTime();
    private int deleteFailures;

    public static PersistenceId persistenceId(String nodeId) {
        return PersistenceId.of("raft-node", nodeId, "|");
    }

    static Behavior<Command> create(String nodeId, int checkpointEvery) {
        return create(nodeId, checkpointEvery, DELETE_CHUNK);
    }

    static Behavior<Command> create(String nodeId, int checkpointEvery, int deleteChunk) {
        return Behaviors.setup(ctx -> new RaftNodeLog(ctx, nodeId, checkpointEvery, deleteChunk));
    }

    private RaftNodeLog(ActorContext<Command> context, String nodeId, int checkpointEvery, int deleteChunk) {
        super(context);
        this.persistenceId = persistenceId(nodeId).id();
        this.deleteChunk = deleteChunk;
        journal = context.spawn(Behaviors.setup(ctx -> new Journal(ctx, nodeId, checkpointEvery, context.getSelf())),
                "journal");
        context.watch(journal);
        // the journal plugin the Journal writes through (the default one): Pekko's typed API has no effect for
        // deleting events outside a snapshot, so this sends the plugin protocol's DeleteMessagesTo itself, as
        // Pekko's EventSourcedBehavior does after a snapshot
        journalPlugin = Persistence.get(Adapter.toClassic(context.getSystem())).journalFor("", ConfigFactory.empty());
        context.messageAdapter(DeleteMessagesFailure.class, f -> new DeleteDone(f.toSequenceNr(), f.cause()));
        deleteReplies = Adapter.toClassic(
                context.messageAdapter(DeleteMessagesSuccess.class, s -> new DeleteDone(s.toSequenceNr(), null)));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Append.class, this::onRequest)
                .onMessage(Recover.class, this::onRequest)
                .onMessage(JournalReady.class, r -> {
                    ready = true;
                    deletedTo = r.deletedTo();
                    return flush();
                })
                .onMessage(BatchDone.class, this::onBatchDone)
                .onMessage(DeleteDone.class, this::onDeleteDone)
                .onSignal(Terminated.class, t -> {
                    getContext().getLog().error("Raft node log: the journal stopped (a write or its recovery failed; "
                            + "see the error before this one); {} requests were waiting", waiting.size());
                    return Behaviors.stopped();
                })
                .build();
    }

    private Behavior<Command> onRequest(Command c) {
        waiting.add(c);
        return flush();
    }

    private Behavior<Command> flush() {
        if (ready && !busy && !waiting.isEmpty()) {
            busy = true;
            journal.tell(new Journal.Write(new ArrayList<>(waiting)));
            waiting.clear();
        }
        return this;
    }

    private Behavior<Command> onBatchDone(BatchDone d) {
        busy = false;
        int r = 0;
        for (Command c : d.batch()) {
            if (c instanceof Append a) {
                a.replyTo().tell(new RaftMember.Persisted(a.token()));
            } else if (c instanceof Recover rec) {
                rec.replyTo().tell(new RaftMember.Recovered(d.recovered().get(r++)));
            }
        }
        deletableTo = Math.max(deletableTo, d.deletableTo());
        deleteSome();
        return flush();
    }

    /**
     * One deletion request at a time, {@code deleteChunk} events (fewer only when the last request is 10 s old):
     * short transactions beside the writes.
     */
    private void deleteSome() {
        long now = System.nanoTime();
        if (deleting || deletableTo <= deletedTo || (deleteFailures > 0 && now - deleteRetryAt < 0)
                || (deletableTo - deletedTo < deleteChunk && now - lastDeleteAt < PARTIAL_DELETE_AFTER_NANOS)) {
            return;
        }
        deleting = true;
        lastDeleteAt = now;
        long to = Math.min(deletableTo, deletedTo + deleteChunk);
        journalPlugin.tell(new JournalProtocol.DeleteMessagesTo(persistenceId, to, deleteReplies),
                org.apache.pekko.actor.ActorRef.noSender());
    }

    private Behavior<Command> onDeleteDone(DeleteDone d) {
        deleting = false;
        if (d.failure() == null) {
            deletedTo = Math.max(deletedTo, d.toSeqNr());
            deleteFailures = 0;
            deleteSome();
        } else {
            if (deleteFailures++ == 0) {
                getContext().getLog().warn("Raft node log {}: deleting journal events up to {} failed ({}); writes go "
                        + "on and nothing is lost, but the journal grows until a deletion succeeds (retried every {} s; "
                        + "check the database)", persistenceId, d.toSeqNr(), d.failure().toString(),
                        TimeUnit.NANOSECONDS.toSeconds(DELETE_RETRY_NANOS));
            }
            deleteRetryAt = System.nanoTime() + DELETE_RETRY_NANOS;
        }
        return this;
    }

    /** The event-sourced part: one batch at a time, from the collector only. */
    static final class Journal extends EventSourcedBehavior<Journal.Write, Written, Journal.State> {

        record Write(List<Command> batch) {
        }

        /** A group and the sequence number of the event holding its latest checkpoint; ordered oldest first. */
        record Aged(long seq, String group) implements Comparable<Aged> {
            @Override
            public int compareTo(Aged o) {
                int c = Long.compare(seq, o.seq);
                return c != 0 ? c : group.compareTo(o.group);
            }
        }

        /** Every hosted group's durable log and where its latest checkpoint is; mutated by the event handler only. */
        static final class State {
            final Map<String, DurableLog> groups = new HashMap<>();
            final Map<String, Long> checkpointAt = new HashMap<>();
            final TreeSet<Aged> byAge = new TreeSet<>();
            /** The first event applied by this incarnation (0 = none yet): everything before it is gone. */
            long firstApplied;
            /** Recovered from an earlier version's snapshot: what is before it was not deleted by this version. */
            boolean fromSnapshot;

            void apply(GroupWrite w, long seq) {
                String g = w.groupId();
                if (w.checkpoint() != null) {
                    groups.put(g, DurableLog.fromStored(w.checkpoint()));
                    checkpointed(g, seq);
                    return;
                }
                DurableLog log = groups.get(g);
                if (log == null) {
                    // a group's first event holds all of it: it counts as its first checkpoint (during a replay
                    // that starts after deleted events, the group's checkpoint further on replaces this)
                    log = new DurableLog();
                    groups.put(g, log);
                    checkpointed(g, seq);
                }
                applyTo(log, w);
            }

            /** A group's Ready and/or compaction applied to its log (not a checkpoint, which replaces the log). */
            static void applyTo(DurableLog log, GroupWrite w) {
                if (w.ready() != null) {
                    log.apply(w.ready());
                }
                if (w.compacted() != null) {
                    log.apply(w.compacted());
                }
            }

            void checkpointed(String group, long seq) {
                Long before = checkpointAt.put(group, seq);
                if (before != null) {
                    byAge.remove(new Aged(before, group));
                }
                byAge.add(new Aged(seq, group));
            }

            /** Events up to this one are older than every group's latest checkpoint. */
            long deletableTo() {
                return byAge.isEmpty() ? 0 : byAge.first().seq() - 1;
            }

            DurableLog copyOf(String groupId) {
                DurableLog log = groups.get(groupId);
                return log == null ? new DurableLog() : log.copy();
            }
        }

        private final ActorContext<Write> context;
        private final String nodeId;
        private final int checkpointEvery;
        private final ActorRef<Command> collector;

        private Journal(ActorContext<Write> context, String nodeId, int checkpointEvery, ActorRef<Command> collector) {
            super(RaftNodeLog.persistenceId(nodeId));
            this.context = context;
            this.nodeId = nodeId;
            this.checkpointEvery = checkpointEvery;
            this.collector = collector;
        }

        @Override
        public State emptyState() {
            return new State();
        }

        @Override
        public EventHandler<State, Written> eventHandler() {
            return (state, event) -> {
                // the sequence number of this event, both when replayed and when persisted (Pekko sets it first)
                long seq = lastSequenceNumber(context);
                if (state.firstApplied == 0) {
                    state.firstApplied = seq;
                }
                for (GroupWrite w : event.writes()) {
                    state.apply(w, seq);
                }
                return state;
            };
        }

        @Override
        public SnapshotAdapter<State> snapshotAdapter() {
            return new SnapshotAdapter<>() {
                @Override
                public Object toJournal(State state) {
                    throw new IllegalStateException("the raft node log takes no snapshot (it is kept short by checkpoints)");
                }

                @Override
                public State fromJournal(Object from) {
                    Stored s = (Stored) from;
                    State state = new State();
                    state.fromSnapshot = true;
                    for (int i = 0; i < s.groups().size(); i++) {
                        state.groups.put(s.groups().get(i), DurableLog.fromStored(s.logs().get(i)));
                        state.checkpointed(s.groups().get(i), 0); // checkpointed first: the oldest possible
                    }
                    return state;
                }
            };
        }

        @Override
        public SignalHandler<State> signalHandler() {
            return newSignalHandlerBuilder()
                    .onSignal(RecoveryCompleted.instance(), state -> {
                        long deletedTo = state.fromSnapshot ? 0
                                : state.firstApplied > 0 ? state.firstApplied - 1 : lastSequenceNumber(context);
                        context.getLog().debug("raft node log {} recovered: {} groups, events from {} on",
                                nodeId, state.groups.size(), deletedTo + 1);
                        collector.tell(new JournalReady(deletedTo));
                    })
                    .build();
        }

        @Override
        public CommandHandler<Write, Written, State> commandHandler() {
            return newCommandHandlerBuilder().forAnyState()
                    .onCommand(Write.class, this::onWrite)
                    .build();
        }

        private Effect<Written, State> onWrite(State s, Write w) {
            List<GroupWrite> writes = new ArrayList<>(w.batch().size());
            for (Command c : w.batch()) {
                if (c instanceof Append a) {
                    writes.add(a.write());
                }
            }
            if (writes.isEmpty()) {
                done(s, w.batch());
                return Effect().none();
            }
            Written event = new Written(withCheckpoints(s, writes, lastSequenceNumber(context) + 1));
            long start = System.nanoTime();
            return Effect().persist(event).thenRun(state -> {
                long ms = (System.nanoTime() - start) / 1_000_000;
                if (ms >= 1000) {
                    context.getLog().warn("raft node log {}: one write of {} group writes took {} ms (a slow or "
                            + "overloaded database; the journal plugin's circuit-breaker call-timeout fails writes "
                            + "beyond it, which restarts every member of this node)", nodeId, writes.size(), ms);
                }
                done(state, w.batch());
            });
        }

        /**
         * The event for {@code writes}, to be event {@code seq}: the writes grouped by group, where a group whose log
         * is reset by them (compaction, installed snapshot) or whose latest checkpoint is overdue is written whole
         * instead — its log after them, one checkpoint. Overdue groups without writes here are added, oldest first,
         * a bounded amount per event.
         */
        List<GroupWrite> withCheckpoints(State s, List<GroupWrite> writes, long seq) {
            Set<String> whole = new LinkedHashSet<>();
            for (GroupWrite gw : writes) {
                if (gw.compacted() != null || (gw.ready() != null && gw.ready().snapshotMeta() != null)) {
                    whole.add(gw.groupId());
                }
            }
            long overdue = seq - checkpointEvery;
            int count = 0;
            long bytes = 0;
            for (Aged a : s.byAge) {
                if (a.seq() > overdue || count >= MAX_OVERDUE_CHECKPOINTS_PER_WRITE
                        || bytes >= OVERDUE_CHECKPOINT_BYTES_PER_WRITE) {
                    break;
                }
                if (whole.add(a.group())) {
                    count++;
                    bytes += s.groups.get(a.group()).storedBytes();
                }
            }
            if (whole.isEmpty()) {
                return writes; // the common case: nothing regrouped
            }
            Map<String, List<GroupWrite>> byGroup = new LinkedHashMap<>();
            for (GroupWrite gw : writes) {
                byGroup.computeIfAbsent(gw.groupId(), g -> new ArrayList<>(2)).add(gw);
            }
            List<GroupWrite> out = new ArrayList<>(writes.size() + count);
            for (Map.Entry<String, List<GroupWrite>> e : byGroup.entrySet()) {
                if (whole.contains(e.getKey())) {
                    out.add(checkpoint(s, e.getKey(), e.getValue()));
                } else {
                    out.addAll(e.getValue());
                }
            }
            for (String g : whole) {
                if (!byGroup.containsKey(g)) {
                    out.add(checkpoint(s, g, List.of()));
                }
            }
            return out;
        }

        /** The group's whole log once {@code writes} are applied to it, as one checkpoint write. */
        private static GroupWrite checkpoint(State s, String group, List<GroupWrite> writes) {
            DurableLog log = s.copyOf(group);
            for (GroupWrite gw : writes) {
                State.applyTo(log, gw);
            }
            return new GroupWrite(group, null, null, log.toStored());
        }

        private void done(State s, List<Command> batch) {
            List<DurableLog> recovered = new ArrayList<>();
            for (Command c : batch) {
                if (c instanceof Recover r) {
                    recovered.add(s.copyOf(r.groupId()));
                }
            }
            collector.tell(new BatchDone(batch, recovered, s.deletableTo()));
        }
    }
}
