package io.consensusactors.paxos.core;

import java.util.Objects;

/**
 * The single-decree acceptor as a pure function {@code (state, Prepare | Accept) -> (state', persist, reply)}
 * ("Paxos Made Simple" §2.2, P1a: "an acceptor can accept a proposal numbered n iff it has not responded to a prepare
 * request having a number greater than n").
 *
 * <p>A repeated request with the ballot already promised or accepted is answered again without a new event, so
 * duplicated messages cost no write. A request below the promise is answered with a {@link PaxosMessage.Nack}
 * carrying the promise.
 */
public final class Acceptor {

    private Acceptor() {
    }

    public static <V> AcceptorResult<V> step(AcceptorState<V> state, PaxosMessage<V> request) {
        if (request instanceof PaxosMessage.Prepare<V> p) {
            return onPrepare(state, p);
        }
        if (request instanceof PaxosMessage.Accept<V> a) {
            return onAccept(state, a);
        }
        throw new IllegalArgumentException("an acceptor handles Prepare and Accept, not " + request);
    }

    public static <V> AcceptorResult<V> onPrepare(AcceptorState<V> state, PaxosMessage.Prepare<V> prepare) {
        Ballot b = prepare.ballot();
        if (state.isForgotten()) {
            // the instance is over: report its chosen value as the highest accepted proposal, so it is proposed again
            return new AcceptorResult<>(state, null, new PaxosMessage.Promise<>(b, Ballot.FORGOTTEN, state.acceptedValue()));
        }
        if (!b.atLeast(state.promised())) {
            return new AcceptorResult<>(state, null, new PaxosMessage.Nack<>(b, state.promised()));
        }
        AcceptorEvent<V> event = b.greaterThan(state.promised()) ? new AcceptorEvent.Promised<>(b) : null;
        AcceptorState<V> next = event == null ? state : state.apply(event);
        return new AcceptorResult<>(next, event,
                new PaxosMessage.Promise<>(b, next.acceptedBallot(), next.acceptedValue()));
    }

    public static <V> AcceptorResult<V> onAccept(AcceptorState<V> state, PaxosMessage.Accept<V> accept) {
        Ballot b = accept.ballot();
        if (state.isForgotten()) {
            // accepting the chosen value again is harmless; anything else is refused (the proposer retries above b,
            // gets the tombstone's promise and proposes the chosen value)
            return Objects.equals(accept.value(), state.acceptedValue())
                    ? new AcceptorResult<>(state, null, new PaxosMessage.Accepted<>(b, accept.value()))
                    : new AcceptorResult<>(state, null, new PaxosMessage.Nack<>(b, b));
        }
        if (!b.atLeast(state.promised())) {
            return new AcceptorResult<>(state, null, new PaxosMessage.Nack<>(b, state.promised()));
        }
        boolean same = b.equals(state.acceptedBallot()) && Objects.equals(accept.value(), state.acceptedValue());
        AcceptorEvent<V> event = same ? null : new AcceptorEvent.Accepted<>(b, accept.value());
        AcceptorState<V> next = event == null ? state : state.apply(event);
        return new AcceptorResult<>(next, event, new PaxosMessage.Accepted<>(b, accept.value()));
    }

    /** Replaces the instance's state by a tombstone holding {@code chosen}, the value known chosen (idempotent). */
    public static <V> AcceptorResult<V> forget(AcceptorState<V> state, V chosen) {
        if (state.isForgotten()) {
            if (!Objects.equals(state.acceptedValue(), chosen)) {
                throw new IllegalArgumentException("instance already forgotten with chosen value "
                        + state.acceptedValue() + ", not " + chosen + ": two values cannot both have been chosen");
            }
            return new AcceptorResult<>(state, null, null);
        }
        AcceptorEvent<V> event = new AcceptorEvent.Forgotten<>(chosen);
        return new AcceptorResult<>(state.apply(event), event, null);
    }
}
