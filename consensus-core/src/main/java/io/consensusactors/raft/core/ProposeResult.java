package io.consensusactors.raft.core;

/** Answer of {@link RaftNode#propose}: accepted at an index (not yet committed), or rejected with a reason. */
public sealed interface ProposeResult {
    record Accepted(long index, long term) implements ProposeResult {
    }

    record Rejected(Reason reason, String leaderHint, String detail) implements ProposeResult {
    }

    enum Reason { NOT_LEADER, TRANSFER_IN_PROGRESS, CONFIG_CHANGE_IN_PROGRESS, INVALID }
}
