package io.consensusactors.statemachine;

/**
 * A state machine whose commands are interpreted once, on the leader, and replicated as their outcome (events):
 * followers only apply outcomes. The leader interprets each command against its applied state <em>plus</em> the
 * outcomes it has proposed but not yet applied (speculation), so pipelined commands on one entity see each other.
 * Speculation is safe because a leader's proposals commit in log order or not at all: if one is lost, so is every
 * later one, and the speculation is discarded with the leadership.
 *
 * <p>{@link #apply} receives the prepared entry (never a raw command) and returns the reply recorded in it.
 */
public interface SpeculativeStateMachine extends StateMachine {

    /** A command turned into the entry to replicate; {@code speculation} is opaque to the engine. */
    record Preparation(byte[] entry, Object speculation) {
    }

    /** Interprets a client command on the leader (applied state + speculation). Must not change applied state. */
    Preparation prepare(byte[] command);

    /** The prepared entry was accepted into the log at {@code index}: remember its speculation until applied. */
    void proposed(long index, Preparation preparation);

    /** Every entry up to {@code index} has been applied or skipped: drop speculation up to there. */
    void retire(long index);

    /** Leadership lost: forget all speculation. */
    void discardSpeculation();
}
