package io.consensusactors.paxos.core;

/** A change of an acceptor's hard state; the shell makes it durable before sending the reply that depends on it. */
public sealed interface AcceptorEvent<V> {

    /** The acceptor promised not to accept any ballot below {@code ballot}. */
    record Promised<V>(Ballot ballot) implements AcceptorEvent<V> {
    }

    /** The acceptor accepted {@code value} at {@code ballot} (which also raises its promise to {@code ballot}). */
    record Accepted<V>(Ballot ballot, V value) implements AcceptorEvent<V> {
    }
}
