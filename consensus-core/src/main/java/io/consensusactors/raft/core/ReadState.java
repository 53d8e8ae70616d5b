package io.consensusactors.raft.core;

/**
 * Outcome of a read request. When {@code ok}, the read identified by {@code context} may be answered from the local
 * state machine as soon as it has applied {@code index} (ReadIndex, dissertation §6.4). Otherwise it failed
 * ({@code reason}) and should be retried, at {@code leaderHint} if known.
 */
public record ReadState(long context, long index, boolean ok, String reason, String leaderHint) {
    public static ReadState ok(long context, long index) {
        return new ReadState(context, index, true, null, null);
    }

    public static ReadState failed(long context, String reason, String leaderHint) {
        return new ReadState(context, -1, false, reason, leaderHint);
    }
}
