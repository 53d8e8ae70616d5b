package io.consensusactors.paxos.core;

import java.util.List;

/**
 * Multi-Paxos messages ("Paxos Made Simple" §3): phase 1 runs once for every slot from {@code fromSlot} on, phase 2 per
 * slot (in batches). Replicas are addressed by index; every replica is acceptor, learner and potential leader.
 */
public sealed interface MultiPaxosMessage {

    /** One slot's value. */
    record SlotValue(long slot, LogValue value) {
    }

    /** A value an acceptor accepted in a slot, at a ballot. */
    record AcceptedEntry(long slot, Ballot ballot, LogValue value) {
    }

    /** Phase 1a for every slot >= {@code fromSlot} at once. */
    record Prepare(Ballot ballot, long fromSlot) implements MultiPaxosMessage {
    }

    /**
     * Phase 1b: the promise, with everything the acceptor accepted in slots >= the Prepare's fromSlot and above
     * {@code compactedUpTo}, the slot up to which it truncated its log after a snapshot (every slot up to there is
     * chosen; the candidate must learn them before it may lead, since this promise no longer reports them).
     */
    record Promise(Ballot ballot, List<AcceptedEntry> accepted, long compactedUpTo) implements MultiPaxosMessage {
    }

    /** Phase 2a for a batch of slots; {@code chosenPrefix} tells followers how far the leader knows the log. */
    record Accept(Ballot ballot, List<SlotValue> entries, long chosenPrefix) implements MultiPaxosMessage {
    }

    /** Phase 2b: the acceptor accepted these slots at {@code ballot}. */
    record Accepted(Ballot ballot, List<Long> slots) implements MultiPaxosMessage {
    }

    /** Refusal of {@code ballot}, carrying the acceptor's promise so the sender can step down or jump above it. */
    record Nack(Ballot ballot, Ballot promised) implements MultiPaxosMessage {
    }

    /** Chosen values, from the leader (or anyone who knows them, answering a CatchUp) to learners. */
    record Learn(List<SlotValue> chosen) implements MultiPaxosMessage {
    }

    /** The leader is alive and knows the log up to {@code chosenPrefix}. */
    record Heartbeat(Ballot ballot, long chosenPrefix) implements MultiPaxosMessage {
    }

    /** A learner asks for chosen values from {@code fromSlot} on. */
    record CatchUp(long fromSlot) implements MultiPaxosMessage {
    }

    /**
     * Snapshot transfer: the state machine (with its session table) as applied up to {@code snapshotSlot}, sent to a
     * learner that asked for slots the sender has already truncated; {@code chosenPrefix} is the sender's.
     */
    record Snapshot(long snapshotSlot, long chosenPrefix, byte[] state) implements MultiPaxosMessage {
        @Override
        public boolean equals(Object o) {
            return o instanceof Snapshot s && snapshotSlot == s.snapshotSlot && chosenPrefix == s.chosenPrefix
                    && java.util.Arrays.equals(state, s.state);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(snapshotSlot) * 31 + java.util.Arrays.hashCode(state);
        }

        @Override
        public String toString() {
            return "Snapshot(" + snapshotSlot + ", prefix " + chosenPrefix + ", " + state.length + "B)";
        }
    }
}
