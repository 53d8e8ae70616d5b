package io.consensusactors.raft.core;

import java.util.Arrays;

/**
 * One log entry. {@code clientId}/{@code seq} identify the client session request it carries (0/0 when none), so the
 * replicated state machine can answer a retried request from its deduplication table instead of applying it twice.
 *
 * @param index position in the log, from 1
 * @param term  term of the leader that created it
 * @param type  command, no-op (first entry of every term) or configuration
 * @param data  command bytes, or the encoded {@link Configuration} for {@link Type#CONFIG}
 */
public record Entry(long index, long term, Type type, long clientId, long seq, byte[] data) {

    /** What an entry carries. */
    public enum Type { COMMAND, NOOP, CONFIG }

    private static final byte[] EMPTY = new byte[0];

    public Entry {
        if (data == null) {
            data = EMPTY;
        }
    }

    public static Entry noop(long index, long term) {
        return new Entry(index, term, Type.NOOP, 0, 0, EMPTY);
    }

    public static Entry config(long index, long term, Configuration configuration) {
        return new Entry(index, term, Type.CONFIG, 0, 0, configuration.encode());
    }

    /** Approximate size for batching and flow control. */
    public int sizeInBytes() {
        return 40 + data.length;
    }

    public Entry withIndexAndTerm(long newIndex, long newTerm) {
        return new Entry(newIndex, newTerm, type, clientId, seq, data);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Entry e && e.index == index && e.term == term && e.type == type
                && e.clientId == clientId && e.seq == seq && Arrays.equals(e.data, data);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(index) * 31 + Long.hashCode(term);
    }

    @Override
    public String toString() {
        return "Entry[" + index + "@" + term + " " + type + (clientId != 0 ? " c" + clientId + "#" + seq : "")
                + " " + data.length + "B]";
    }
}
