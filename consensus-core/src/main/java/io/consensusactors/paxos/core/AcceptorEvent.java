package io.consensusactors.paxos.core;

/** A change of an acceptor's hard state; the shell makes it durable before sending the reply that depends on it. */
public sealed interface AcceptorEvent<V> {

    /** The acceptor promised not to accept any ballot below {@code ballot}. */
    record Promised<V>(Ballot ballot) implements AcceptorEvent<V> {
    }

    /** The acceptor accepted {@code value} at {@code ballot} (which also raises its promise to {@code ballot}). */
    record Accepted<V>(Ballot ballot, V value) implements AcceptorEvent<V> {
    }

    /**
     * The instance is over and its chosen value is {@code chosen}: the acceptor's ballots are replaced by a compact
     * tombstone that only ever accepts (and reports) {@code chosen}. Safe because every proposal of a ballot above the
     * choosing one carries the chosen value (P2c) and an acceptor may always refuse; the caller must pass the value
     * that was really chosen (learned through a quorum), never a guess.
     */
    record Forgotten<V>(V chosen) implements AcceptorEvent<V> {
    }
}
