package io.consensusactors.raft.core;

import java.util.ArrayList;
import java.util.List;

/**
 * The in-memory log of one member: a snapshot point (index/term) followed by the entries after it. Persistence is
 * the shell's job: this class only tracks which suffix has not been handed out for writing yet ({@link #unstableFrom}).
 */
final class RaftLog {
    private long snapshotIndex;
    private long snapshotTerm;
    private final ArrayList<Entry> entries = new ArrayList<>();
    /** First index not yet handed to the shell for writing. */
    long unstableFrom;

    RaftLog(SnapshotMeta snapshot, List<Entry> recovered) {
        this.snapshotIndex = snapshot.index();
        this.snapshotTerm = snapshot.term();
        for (Entry e : recovered) {
            if (e.index() <= snapshotIndex) {
                continue;
            }
            if (e.index() != lastIndex() + 1) {
                throw new IllegalArgumentException("recovered log has a gap: expected index " + (lastIndex() + 1)
                        + " but found " + e.index());
            }
            entries.add(e);
        }
        unstableFrom = lastIndex() + 1;
    }

    long snapshotIndex() {
        return snapshotIndex;
    }

    long snapshotTerm() {
        return snapshotTerm;
    }

    long firstIndex() {
        return snapshotIndex + 1;
    }

    long lastIndex() {
        return snapshotIndex + entries.size();
    }

    long lastTerm() {
        return entries.isEmpty() ? snapshotTerm : entries.get(entries.size() - 1).term();
    }

    /** Term of the entry at index, or -1 when unknown (compacted away or beyond the end). */
    long term(long index) {
        if (index == snapshotIndex) {
            return snapshotTerm;
        }
        if (index < snapshotIndex || index > lastIndex()) {
            return -1;
        }
        return entries.get((int) (index - snapshotIndex - 1)).term();
    }

    boolean matchTerm(long index, long term) {
        return term(index) == term;
    }

    Entry entry(long index) {
        return entries.get((int) (index - snapshotIndex - 1));
    }

    /** Entries [from, to] inclusive, at most maxCount and maxBytes (at least one if any). */
    List<Entry> slice(long from, long to, int maxCount, long maxBytes) {
        List<Entry> out = new ArrayList<>();
        long bytes = 0;
        for (long i = from; i <= to && out.size() < maxCount; i++) {
            Entry e = entry(i);
            bytes += e.sizeInBytes();
            if (!out.isEmpty() && bytes > maxBytes) {
                break;
            }
            out.add(e);
        }
        return out;
    }

    void append(Entry e) {
        if (e.index() != lastIndex() + 1) {
            throw new IllegalStateException("append at " + e.index() + " but last index is " + lastIndex());
        }
        entries.add(e);
    }

    /** Removes every entry at or after index. */
    void truncateFrom(long index) {
        if (index <= snapshotIndex) {
            throw new IllegalStateException("cannot truncate into the snapshot: " + index + " <= " + snapshotIndex);
        }
        int keep = (int) (index - snapshotIndex - 1);
        while (entries.size() > keep) {
            entries.remove(entries.size() - 1);
        }
        unstableFrom = Math.min(unstableFrom, index);
    }

    /** Drops entries up to and including index (which must be in the log or the snapshot point). */
    void compact(long index) {
        if (index <= snapshotIndex) {
            return;
        }
        long t = term(index);
        if (t < 0) {
            throw new IllegalStateException("cannot compact to " + index + ": not in the log (last " + lastIndex() + ")");
        }
        int drop = (int) (index - snapshotIndex);
        entries.subList(0, drop).clear();
        snapshotIndex = index;
        snapshotTerm = t;
    }

    /** Replaces the whole log with a snapshot point (the log did not match the snapshot). */
    void resetTo(long index, long term) {
        entries.clear();
        snapshotIndex = index;
        snapshotTerm = term;
        unstableFrom = index + 1;
    }

    /** Index of the first entry of the term of the entry at index, not below floor. */
    long firstIndexOfTerm(long index, long floor) {
        long t = term(index);
        long i = index;
        while (i - 1 > Math.max(snapshotIndex, floor) && term(i - 1) == t) {
            i--;
        }
        return i;
    }

    /** Last index whose entry has term t, or -1 when no entry has it. */
    long lastIndexOfTerm(long t) {
        for (long i = lastIndex(); i > snapshotIndex; i--) {
            long ti = term(i);
            if (ti == t) {
                return i;
            }
            if (ti < t) {
                return -1;
            }
        }
        return -1;
    }

    List<Entry> unstable() {
        if (unstableFrom > lastIndex()) {
            return List.of();
        }
        return new ArrayList<>(entries.subList((int) (unstableFrom - snapshotIndex - 1), entries.size()));
    }

    List<Entry> entriesFrom(long from) {
        if (from > lastIndex()) {
            return List.of();
        }
        return List.copyOf(entries.subList((int) (Math.max(from, firstIndex()) - snapshotIndex - 1), entries.size()));
    }
}
