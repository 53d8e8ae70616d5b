package io.consensusactors.raft.core;

/** The last log entry a snapshot covers and the configuration in force at that index (Raft §7). */
public record SnapshotMeta(long index, long term, Configuration configuration) {
    public static final SnapshotMeta EMPTY = new SnapshotMeta(0, 0, Configuration.EMPTY);
}
