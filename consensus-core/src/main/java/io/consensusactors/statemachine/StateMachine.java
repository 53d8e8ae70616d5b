package io.consensusactors.statemachine;

/**
 * The replicated state machine SPI shared by the Raft and Paxos engines: the same implementation runs on either.
 *
 * <p>Commands, results, queries and snapshots are opaque bytes so that the consensus cores stay free of any
 * serialization choice. {@link #apply} is called with committed entries in log order, exactly once per index on
 * a given replica, and <b>must be deterministic</b>: the same sequence of commands from the same snapshot must
 * produce the same state and results on every replica (no clock, randomness or I/O inside).
 */
public interface StateMachine {

    /** Applies the committed command at {@code index} and returns its result (may be empty, never null). */
    byte[] apply(long index, byte[] command);

    /** Answers a read-only query against the current applied state; must not change the state. */
    byte[] query(byte[] query);

    /** Serializes the full applied state (everything up to the last applied index). */
    byte[] snapshot();

    /** Replaces the applied state with the one in {@code snapshot} (as produced by {@link #snapshot()}). */
    void restore(byte[] snapshot);
}
