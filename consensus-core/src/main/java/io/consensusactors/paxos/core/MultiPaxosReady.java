package io.consensusactors.paxos.core;

import io.consensusactors.statemachine.SessionStateMachine;

import java.util.List;

/**
 * What a {@link MultiPaxosReplica} asks its shell to do after a batch of inputs, in this order (the persist-before-send
 * contract of etcd's {@code Ready}):
 * <ol>
 *   <li>send {@link #messages()} (they do not depend on this replica's durable state: Accept, Learn, Heartbeat ...);</li>
 *   <li>durably write {@link #snapshot()} (if not null: the state machine at a slot; the accepted entries up to that
 *   slot may then be deleted), then {@link #promised()} (if not null) and {@link #accepted()} (replacing the entry of
 *   the same slot);</li>
 *   <li>only then send {@link #messagesAfterPersist()} (Promise, Accepted, and a new leader's Prepare, whose ballot is
 *   remembered through its own promise);</li>
 *   <li>hand {@link #applied()} to whoever waits for those commands.</li>
 * </ol>
 */
public record MultiPaxosReady(Snapshot snapshot, Ballot promised, List<MultiPaxosMessage.AcceptedEntry> accepted,
                              List<Send> messages, List<Send> messagesAfterPersist, List<Applied> applied) {

    /**
     * Compaction: the {@link io.consensusactors.statemachine.SessionStateMachine} snapshot at {@code slot} (every slot up
     * to it chosen and applied). Once durable, it replaces the log prefix up to {@code slot}: a restart passes it to
     * the replica's constructor together with the accepted entries above it.
     */
    public record Snapshot(long slot, byte[] state) {
    }

    /** A message to replica {@code to} (possibly the sender itself). */
    public record Send(int to, MultiPaxosMessage message) {
    }

    /** A command chosen at {@code slot} and applied to the state machine (no-ops are not reported). */
    public record Applied(long slot, LogValue value, SessionStateMachine.Result result) {
    }

    public boolean needsPersistence() {
        return snapshot != null || promised != null || !accepted.isEmpty();
    }

    public boolean isEmpty() {
        return !needsPersistence() && messages.isEmpty() && messagesAfterPersist.isEmpty() && applied.isEmpty();
    }
}
