package io.consensusactors.paxos.core;

/**
 * The single-decree Paxos messages of "Paxos Made Simple" §2.2–2.3, with a value type {@code V} compared with
 * {@code equals} (use immutable values such as {@code String}). Senders and receivers are addressed by the shell;
 * acceptor replies are identified by the acceptor index the shell passes to {@link Proposer#step}/{@link Learner#step}.
 */
public sealed interface PaxosMessage<V> {

    /** Phase 1a: "prepare request with number n". */
    record Prepare<V>(Ballot ballot) implements PaxosMessage<V> {
    }

    /**
     * Phase 1b: the promise not to accept anything numbered below {@code ballot}, "with the proposal with the highest
     * number less than n that it has accepted, if any" ({@code acceptedBallot} {@link Ballot#NONE} and
     * {@code acceptedValue} null when none).
     */
    record Promise<V>(Ballot ballot, Ballot acceptedBallot, V acceptedValue) implements PaxosMessage<V> {
        public boolean hasAccepted() {
            return !acceptedBallot.isNone();
        }
    }

    /** Phase 2a: "accept request for a proposal numbered n with a value v". */
    record Accept<V>(Ballot ballot, V value) implements PaxosMessage<V> {
    }

    /** Phase 2b: the acceptor accepted (ballot, value); sent to the proposer and the learners (§2.3). */
    record Accepted<V>(Ballot ballot, V value) implements PaxosMessage<V> {
    }

    /**
     * The request for {@code ballot} was refused because the acceptor has promised {@code promised} (an optimisation
     * suggested in §2.2: "the acceptor [should] inform the proposer, who should then abandon its proposal"). The
     * proposer jumps above {@code promised} on its next attempt.
     */
    record Nack<V>(Ballot ballot, Ballot promised) implements PaxosMessage<V> {
    }

    /** A learner or proposer that knows {@code value} was chosen tells the other learners (§2.3). */
    record Chosen<V>(V value) implements PaxosMessage<V> {
    }
}
