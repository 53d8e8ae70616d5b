package io.consensusactors.raft.core;

/** A state-machine snapshot: everything applied up to {@code meta.index()}, as produced by the state machine. */
public record Snapshot(SnapshotMeta meta, byte[] data) {
    public static final Snapshot EMPTY = new Snapshot(SnapshotMeta.EMPTY, new byte[0]);

    @Override
    public String toString() {
        return "Snapshot[" + meta + ", " + data.length + "B]";
    }
}
