package io.consensusactors.raft.actor;

import io.consensusactors.persistence.CborSerializable;
import io.consensusactors.raft.core.Entry;
import io.consensusactors.raft.core.HardState;
import io.consensusactors.raft.core.RaftCodec;
import io.consensusactors.raft.core.Snapshot;
import io.consensusactors.raft.core.SnapshotMeta;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The persistent state of one Raft member as rebuilt from its journal: hard state, latest snapshot and the entries
 * after it. It is the event-sourced state of {@link RaftMember}; the running {@link io.consensusactors.raft.core.RaftNode}
 * is created from it once recovery completes. Updated in place by the event handler (no side effects).
 */
final class DurableLog {
    long term;
    String votedFor;
    long commit;
    Snapshot snapshot = Snapshot.EMPTY;
    final ArrayList<Entry> entries = new ArrayList<>();

    HardState hardState() {
        return new HardState(term, votedFor, commit);
    }

    DurableLog apply(RaftEvent event) {
        if (event instanceof RaftEvent.ReadyPersisted r) {
            if (r.snapshotMeta() != null) {
                installSnapshot(new Snapshot(decodeMeta(r.snapshotMeta()), r.snapshotData()));
            }
            List<Entry> es = r.entries() == null || r.entries().length == 0 ? List.of() : RaftCodec.decodeEntries(r.entries());
            if (!es.isEmpty()) {
                long from = es.get(0).index();
                while (!entries.isEmpty() && entries.get(entries.size() - 1).index() >= from) {
                    entries.remove(entries.size() - 1);
                }
                entries.addAll(es);
            }
            term = r.term();
            votedFor = r.votedFor();
            commit = Math.max(commit, r.commit());
        } else if (event instanceof RaftEvent.Compacted c) {
            SnapshotMeta meta = decodeMeta(c.snapshotMeta());
            snapshot = new Snapshot(meta, c.snapshotData());
            entries.removeIf(e -> e.index() <= meta.index());
        }
        return this;
    }

    private void installSnapshot(Snapshot s) {
        long idx = s.meta().index();
        boolean matches = false;
        for (Entry e : entries) {
            if (e.index() == idx && e.term() == s.meta().term()) {
                matches = true;
                break;
            }
        }
        if (matches) {
            entries.removeIf(e -> e.index() <= idx);
        } else {
            entries.clear();
        }
        snapshot = s;
    }

    static byte[] encodeMeta(SnapshotMeta meta) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            RaftCodec.writeSnapshotMeta(new DataOutputStream(bytes), meta);
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static SnapshotMeta decodeMeta(byte[] data) {
        try {
            return RaftCodec.readSnapshotMeta(new DataInputStream(new ByteArrayInputStream(data)));
        } catch (IOException e) {
            throw new IllegalArgumentException("corrupt snapshot metadata", e);
        }
    }

    /** The form stored in the snapshot store (Pekko snapshot of the event-sourced state). */
    record Stored(long term, String votedFor, long commit, byte[] snapshotMeta, byte[] snapshotData, byte[] entries)
            implements CborSerializable {
    }

    Stored toStored() {
        return new Stored(term, votedFor, commit, encodeMeta(snapshot.meta()), snapshot.data(), RaftCodec.encodeEntries(entries));
    }

    static DurableLog fromStored(Stored s) {
        DurableLog d = new DurableLog();
        d.term = s.term();
        d.votedFor = s.votedFor();
        d.commit = s.commit();
        d.snapshot = new Snapshot(decodeMeta(s.snapshotMeta()), s.snapshotData());
        d.entries.addAll(RaftCodec.decodeEntries(s.entries()));
        return d;
    }
}
