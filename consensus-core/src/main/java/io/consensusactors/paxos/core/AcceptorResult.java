package io.consensusactors.paxos.core;

/**
 * The outcome of one acceptor step. If {@link #persist()} is not null the shell must make it durable (and only then)
 * send {@link #reply()}: a promise or an acceptance that is forgotten after a crash breaks safety. {@link #state()}
 * is the state after the event ({@code state == previous.apply(persist)}).
 */
public record AcceptorResult<V>(AcceptorState<V> state, AcceptorEvent<V> persist, PaxosMessage<V> reply) {

    public boolean mustPersist() {
        return persist != null;
    }
}
