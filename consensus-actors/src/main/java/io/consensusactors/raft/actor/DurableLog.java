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
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The persistent state of one Raft member as rebuilt from its journal: hard state, latest snapshot and the entries
 * after it. It is the event-sourced state of {@link RaftMember}; the running {@link io.consensusactors.raft.core.RaftNode}
 * is created from it once recovery completes. Updated in place by the event handler (no side effects).
 *
 * <p>The entries are kept <em>encoded</em>, as the journal events carried them ({@link RaftCodec#encodeEntries}
 * batches of consecutive indexes): the running member already holds them decoded in its {@code RaftNode}, so this
 * copy is only read at recovery ({@link #entries()}) and when the node log checkpoints it ({@link #toStored()},
 * which concatenates the batches without re-encoding them). A batch is decoded only when a log conflict truncates
 * it in the middle or an installed snapshot must be matched against it — both rare.
 */
final class DurableLog {
    /** Bytes before the first entry of an encoded batch (the entry count), and the index field of an entry. */
    private static final int COUNT_BYTES = 4;

    long term;
    String votedFor;
    long commit;
    Snapshot snapshot = Snapshot.EMPTY;
    /** Encoded batches, consecutive and ascending; the first may start at or before the snapshot's index. */
    private final ArrayList<Batch> batches = new ArrayList<>();

    /** Entries {@code first..last} encoded by {@link RaftCodec#encodeEntries}. */
    private record Batch(long first, long last, byte[] bytes) {
        static Batch of(byte[] bytes) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            int n = b.getInt(0);
            if (n <= 0 || bytes.length < COUNT_BYTES + Long.BYTES) {
                throw new IllegalArgumentException("corrupt entry batch: " + n + " entries in " + bytes.length + " bytes");
            }
            long first = b.getLong(COUNT_BYTES);
            return new Batch(first, first + n - 1, bytes);
        }
    }

    /** A copy for another actor (the batches and snapshot are immutable values: only the list is copied). */
    DurableLog copy() {
        DurableLog d = new DurableLog();
        d.term = term;
        d.votedFor = votedFor;
        d.commit = commit;
        d.snapshot = snapshot;
        d.batches.addAll(batches);
        return d;
    }

    HardState hardState() {
        return new HardState(term, votedFor, commit);
    }

    DurableLog apply(RaftEvent event) {
        if (event instanceof RaftEvent.ReadyPersisted r) {
            if (r.snapshotMeta() != null) {
                installSnapshot(new Snapshot(decodeMeta(r.snapshotMeta()), r.snapshotData()));
            }
            if (r.entries() != null && r.entries().length > 0) {
                append(Batch.of(r.entries()));
            }
            term = r.term();
            votedFor = r.votedFor();
            commit = Math.max(commit, r.commit());
        } else if (event instanceof RaftEvent.Compacted c) {
            snapshot = new Snapshot(decodeMeta(c.snapshotMeta()), c.snapshotData());
            dropThrough(snapshot.meta().index());
        }
        return this;
    }

    /** Appends a batch, replacing any stored entries from its first index on (a follower's log conflict, §5.3). */
    private void append(Batch b) {
        truncateFrom(b.first());
        if (!batches.isEmpty() && batches.get(batches.size() - 1).last() + 1 != b.first()) {
            // a gap: only possible after an installed snapshot that did not match, which cleared the log
            throw new IllegalStateException("journal entries not contiguous: stored up to "
                    + batches.get(batches.size() - 1).last() + ", next batch starts at " + b.first());
        }
        batches.add(b);
    }

    private void truncateFrom(long from) {
        while (!batches.isEmpty()) {
            Batch last = batches.get(batches.size() - 1);
            if (last.first() >= from) {
                batches.remove(batches.size() - 1);
            } else {
                if (last.last() >= from) {
                    List<Entry> kept = new ArrayList<>();
                    for (Entry e : RaftCodec.decodeEntries(last.bytes())) {
                        if (e.index() < from) {
                            kept.add(e);
                        }
                    }
                    batches.set(batches.size() - 1, Batch.of(RaftCodec.encodeEntries(kept)));
                }
                return;
            }
        }
    }

    /** Drops the batches wholly at or below {@code index}; a batch straddling it stays (filtered at recovery). */
    private void dropThrough(long index) {
        int n = 0;
        while (n < batches.size() && batches.get(n).last() <= index) {
            n++;
        }
        batches.subList(0, n).clear();
    }

    private void installSnapshot(Snapshot s) {
        long idx = s.meta().index();
        Entry at = entryAt(idx);
        if (at != null && at.term() == s.meta().term()) {
            dropThrough(idx);
        } else {
            batches.clear();
        }
        snapshot = s;
    }

    private Entry entryAt(long index) {
        for (Batch b : batches) {
            if (b.first() <= index && index <= b.last()) {
                return RaftCodec.decodeEntries(b.bytes()).get((int) (index - b.first()));
            }
        }
        return null;
    }

    /** The entries after the snapshot, decoded (at recovery). */
    List<Entry> entries() {
        long floor = snapshot.meta().index();
        ArrayList<Entry> out = new ArrayList<>();
        for (Batch b : batches) {
            for (Entry e : RaftCodec.decodeEntries(b.bytes())) {
                if (e.index() > floor) {
                    out.add(e);
                }
            }
        }
        for (int i = 1; i < out.size(); i++) {
            if (out.get(i).index() != out.get(i - 1).index() + 1) {
                throw new IllegalStateException("corrupt journal: entry " + out.get(i).index() + " follows "
                        + out.get(i - 1).index());
            }
        }
        return out;
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

    /**
     * The whole log as one value: a node-log checkpoint ({@link RaftNodeLog.GroupWrite#checkpoint()}), and each
     * group's part of earlier versions' node-log snapshots. {@code entries} is one
     * {@link RaftCodec#encodeEntries} list of consecutive entries; it may start at or before the snapshot's index
     * (those entries are ignored at recovery).
     */
    record Stored(long term, String votedFor, long commit, byte[] snapshotMeta, byte[] snapshotData, byte[] entries)
            implements CborSerializable {
    }

    /** About the size of {@link #toStored()}: the snapshot's data and the encoded entries. */
    long storedBytes() {
        long n = snapshot.data() == null ? 0 : snapshot.data().length;
        for (Batch b : batches) {
            n += b.bytes().length;
        }
        return n;
    }

    /** Concatenates the encoded batches under one entry count: a copy of bytes, no entry is re-encoded. */
    Stored toStored() {
        int count = 0;
        int size = COUNT_BYTES;
        for (Batch b : batches) {
            count += (int) (b.last() - b.first() + 1);
            size += b.bytes().length - COUNT_BYTES;
        }
        ByteBuffer all = ByteBuffer.allocate(size);
        all.putInt(count);
        for (Batch b : batches) {
            all.put(b.bytes(), COUNT_BYTES, b.bytes().length - COUNT_BYTES);
        }
        return new Stored(term, votedFor, commit, encodeMeta(snapshot.meta()), snapshot.data(), all.array());
    }

    static DurableLog fromStored(Stored s) {
        DurableLog d = new DurableLog();
        d.term = s.term();
        d.votedFor = s.votedFor();
        d.commit = s.commit();
        d.snapshot = new Snapshot(decodeMeta(s.snapshotMeta()), s.snapshotData());
        if (s.entries() != null && s.entries().length > COUNT_BYTES && ByteBuffer.wrap(s.entries()).getInt(0) > 0) {
            d.batches.add(Batch.of(s.entries()));
        }
        return d;
    }
}
