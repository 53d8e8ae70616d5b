package io.consensusactors.paxos.core;

import java.util.Objects;

/**
 * The hard state of a single-decree acceptor ("Paxos Made Simple" §2.3: "an acceptor needs to remember only the
 * highest-numbered proposal that it has ever accepted and the number of the highest-numbered prepare request to
 * which it has responded ... even if it fails and then restarts"). Immutable; changed only by {@link #apply}, which
 * is what an event-sourced shell runs on recovery.
 */
public record AcceptorState<V>(Ballot promised, Ballot acceptedBallot, V acceptedValue) {

    public AcceptorState {
        Objects.requireNonNull(promised, "promised");
        Objects.requireNonNull(acceptedBallot, "acceptedBallot");
    }

    public static <V> AcceptorState<V> initial() {
        return new AcceptorState<>(Ballot.NONE, Ballot.NONE, null);
    }

    public boolean hasAccepted() {
        return !acceptedBallot.isNone();
    }

    /** A tombstone ({@link AcceptorEvent.Forgotten}): the instance is over and {@link #acceptedValue()} was chosen. */
    public boolean isForgotten() {
        return acceptedBallot.equals(Ballot.FORGOTTEN);
    }

    /** The state after a persisted event (the event handler: no side effects). */
    public AcceptorState<V> apply(AcceptorEvent<V> event) {
        if (event instanceof AcceptorEvent.Promised<V> p && !isForgotten()) {
            return new AcceptorState<>(Ballot.max(promised, p.ballot()), acceptedBallot, acceptedValue);
        }
        if (event instanceof AcceptorEvent.Forgotten<V> f) {
            return new AcceptorState<>(Ballot.FORGOTTEN, Ballot.FORGOTTEN, f.chosen());
        }
        if (isForgotten()) {
            return this; // nothing changes a tombstone
        }
        AcceptorEvent.Accepted<V> a = (AcceptorEvent.Accepted<V>) event;
        return new AcceptorState<>(Ballot.max(promised, a.ballot()), a.ballot(), a.value());
    }
}
