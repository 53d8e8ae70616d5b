package io.consensusactors.raft.actor;

import io.consensusactors.persistence.CborSerializable;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.SnapshotAdapter;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

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
 * entries after it); a (re)starting member gets a copy of its own ({@link Recover}). The journal is compacted by
 * Pekko snapshots of that state every {@code journal-snapshot-every} writes (older events deleted); each group keeps
 * its own log short by state-machine snapshots ({@code compact-after-entries}).
 *
 * <p>A failed write stops both actors (Pekko's default for a journal failure): nothing of that batch was
 * acknowledged, and the {@link RaftHost} restarts the log and its members from what is durable.
 */
public final class RaftNodeLog extends AbstractBehavior<RaftNodeLog.Command> {

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

    private enum JournalReady implements Command { INSTANCE }

    /** From the journal: {@code batch} is durable; {@code recovered} holds the copies asked for, in batch order. */
    private record BatchDone(List<Command> batch, List<DurableLog> recovered) implements Command {
    }

    /** What one group writes: a Ready made durable and/or a compaction. */
    public record GroupWrite(String groupId, RaftEvent.ReadyPersisted ready, RaftEvent.Compacted compacted)
            implements CborSerializable {
    }

    /** One journal event: the writes of every group that were waiting, in arrival order. */
    public record Written(List<GroupWrite> writes) implements CborSerializable {
    }

    /** The journal snapshot: every group's durable log. */
    public record Stored(List<String> groups, List<DurableLog.Stored> logs) implements CborSerializable {
    }

    private final ActorRef<Journal.Write> journal;
    private final List<Command> waiting = new ArrayList<>();
    private boolean ready;
    private boolean busy;

    public static PersistenceId persistenceId(String nodeId) {
        return PersistenceId.of("raft-node", nodeId, "|");
    }

    static Behavior<Command> create(String nodeId, int snapshotEvery) {
        return Behaviors.setup(ctx -> new RaftNodeLog(ctx, nodeId, snapshotEvery));
    }

    private RaftNodeLog(ActorContext<Command> context, String nodeId, int snapshotEvery) {
        super(context);
        journal = context.spawn(Behaviors.setup(ctx -> new Journal(ctx, nodeId, snapshotEvery, context.getSelf())),
                "journal");
        context.watch(journal);
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Append.class, this::onRequest)
                .onMessage(Recover.class, this::onRequest)
                .onMessage(JournalReady.class, r -> {
                    ready = true;
                    return flush();
                })
                .onMessage(BatchDone.class, this::onBatchDone)
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
        return flush();
    }

    /** The event-sourced part: one batch at a time, from the collector only. */
    static final class Journal extends EventSourcedBehavior<Journal.Write, Written, Journal.State> {

        record Write(List<Command> batch) {
        }

        /** Every hosted group's durable log; mutated in place by the event handler only. */
        static final class State {
            final Map<String, DurableLog> groups = new HashMap<>();

            void apply(GroupWrite w) {
                DurableLog log = groups.computeIfAbsent(w.groupId(), g -> new DurableLog());
                if (w.ready() != null) {
                    log.apply(w.ready());
                }
                if (w.compacted() != null) {
                    log.apply(w.compacted());
                }
            }

            DurableLog copyOf(String groupId) {
                DurableLog log = groups.get(groupId);
                return log == null ? new DurableLog() : log.copy();
            }
        }

        private final ActorContext<Write> context;
        private final String nodeId;
        private final int snapshotEvery;
        private final ActorRef<Command> collector;

        private Journal(ActorContext<Write> context, String nodeId, int snapshotEvery, ActorRef<Command> collector) {
            super(RaftNodeLog.persistenceId(nodeId));
            this.context = context;
            this.nodeId = nodeId;
            this.snapshotEvery = snapshotEvery;
            this.collector = collector;
        }

        @Override
        public State emptyState() {
            return new State();
        }

        @Override
        public EventHandler<State, Written> eventHandler() {
            return (state, event) -> {
                for (GroupWrite w : event.writes()) {
                    state.apply(w);
                }
                return state;
            };
        }

        @Override
        public RetentionCriteria retentionCriteria() {
            return RetentionCriteria.snapshotEvery(snapshotEvery, 2).withDeleteEventsOnSnapshot();
        }

        @Override
        public SnapshotAdapter<State> snapshotAdapter() {
            return new SnapshotAdapter<>() {
                @Override
                public Object toJournal(State state) {
                    // copies (concatenated entry bytes): the snapshot store serializes them on another thread
                    List<String> groups = new ArrayList<>(state.groups.keySet());
                    List<DurableLog.Stored> logs = new ArrayList<>(groups.size());
                    for (String g : groups) {
                        logs.add(state.groups.get(g).toStored());
                    }
                    return new Stored(groups, logs);
                }

                @Override
                public State fromJournal(Object from) {
                    Stored s = (Stored) from;
                    State state = new State();
                    for (int i = 0; i < s.groups().size(); i++) {
                        state.groups.put(s.groups().get(i), DurableLog.fromStored(s.logs().get(i)));
                    }
                    return state;
                }
            };
        }

        @Override
        public SignalHandler<State> signalHandler() {
            return newSignalHandlerBuilder()
                    .onSignal(RecoveryCompleted.instance(), state -> {
                        context.getLog().debug("raft node log {} recovered: {} groups", nodeId, state.groups.size());
                        collector.tell(JournalReady.INSTANCE);
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
            long start = System.nanoTime();
            return Effect().persist(new Written(writes)).thenRun(state -> {
                long ms = (System.nanoTime() - start) / 1_000_000;
                if (ms >= 1000) {
                    context.getLog().warn("raft node log {}: one write of {} group writes took {} ms (a slow or "
                            + "overloaded database; the journal plugin's circuit-breaker call-timeout fails writes "
                            + "beyond it, which restarts every member of this node)", nodeId, writes.size(), ms);
                }
                done(state, w.batch());
            });
        }

        private void done(State s, List<Command> batch) {
            List<DurableLog> recovered = new ArrayList<>();
            for (Command c : batch) {
                if (c instanceof Recover r) {
                    recovered.add(s.copyOf(r.groupId()));
                }
            }
            collector.tell(new BatchDone(batch, recovered));
        }
    }
}
