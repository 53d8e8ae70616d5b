package io.consensusactors.raft.core;

/**
 * What must be on disk before this node sends anything that depends on it (Raft §5.1, Figure 2 "persistent state
 * on all servers"): the current term and the vote cast in it. {@code commit} is persisted too so that a restarted
 * replica can re-apply its committed prefix without waiting for a leader; losing it is safe.
 */
public record HardState(long term, String votedFor, long commit) {
    public static final HardState INITIAL = new HardState(0, null, 0);
}
