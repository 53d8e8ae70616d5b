package io.consensusactors.raft.core;

import io.consensusactors.raft.core.RaftMessage.AppendEntries;
import io.consensusactors.raft.core.RaftMessage.AppendEntriesResponse;
import io.consensusactors.raft.core.RaftMessage.Heartbeat;
import io.consensusactors.raft.core.RaftMessage.HeartbeatResponse;
import io.consensusactors.raft.core.RaftMessage.InstallSnapshot;
import io.consensusactors.raft.core.RaftMessage.InstallSnapshotResponse;
import io.consensusactors.raft.core.RaftMessage.ReadIndexRequest;
import io.consensusactors.raft.core.RaftMessage.ReadIndexResponse;
import io.consensusactors.raft.core.RaftMessage.RequestVote;
import io.consensusactors.raft.core.RaftMessage.RequestVoteResponse;
import io.consensusactors.raft.core.RaftMessage.TimeoutNow;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Compact binary encoding of Raft messages and entries for the wire and the journal (no reflection, no schema
 * library: the hot path of replication). Strings are modified UTF-8, numbers big-endian.
 */
public final class RaftCodec {
    private RaftCodec() {
    }

    private static final int VERSION = 1;

    /*
     * Encodings are written into an array of their exact size, computed first (encodedSize, entrySize, utfSize):
     * a ByteArrayOutputStream sized by guess grew by doubling and copied once more in toByteArray — a node's largest
     * source of garbage after H2 (entries: ~250 bytes each, encoded for every follower batch and the node log).
     */

    /** A byte-array stream whose array is handed out as is once exactly filled; a wrong size only costs a copy. */
    private static final class Exact extends ByteArrayOutputStream {
        Exact(int size) {
            super(size);
        }

        byte[] result() {
            return count == buf.length ? buf : toByteArray();
        }
    }

    /** Bytes {@link #writeEntry} writes. */
    public static int entrySize(Entry e) {
        return 8 + 8 + 1 + 8 + 8 + 4 + e.data().length;
    }

    /** Bytes {@link DataOutputStream#writeUTF} writes (modified UTF-8 with its two-byte length). */
    static int utfSize(String s) {
        int n = 2;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            n += c >= 0x0001 && c <= 0x007F ? 1 : c <= 0x07FF ? 2 : 3;
        }
        return n;
    }

    /** Bytes {@link #writeMessage} writes for {@code m}. */
    public static int encodedSize(RaftMessage m) {
        int header = 1 + 1 + 8 + utfSize(m.from()) + utfSize(m.to());
        if (m instanceof AppendEntries a) {
            int size = header + 8 + 8 + 8 + 4;
            for (Entry e : a.entries()) {
                size += entrySize(e);
            }
            return size;
        } else if (m instanceof AppendEntriesResponse) {
            return header + 1 + 8 + 8 + 8;
        } else if (m instanceof Heartbeat) {
            return header + 8 + 8 + 1;
        } else if (m instanceof HeartbeatResponse) {
            return header + 8 + 8;
        } else if (m instanceof RequestVote) {
            return header + 8 + 8 + 1 + 1;
        } else if (m instanceof RequestVoteResponse) {
            return header + 1 + 1;
        } else if (m instanceof InstallSnapshot s) {
            return header + 8 + 8 + 4 + s.meta().configuration().encode().length + 8 + 4 + s.chunk().length + 1;
        } else if (m instanceof InstallSnapshotResponse) {
            return header + 8 + 8 + 1 + 8;
        } else if (m instanceof TimeoutNow) {
            return header;
        } else if (m instanceof ReadIndexRequest) {
            return header + 8;
        } else if (m instanceof ReadIndexResponse) {
            return header + 8 + 8 + 1;
        }
        throw new IllegalArgumentException("unknown message " + m);
    }

    public static void writeEntry(DataOutputStream out, Entry e) throws IOException {
        out.writeLong(e.index());
        out.writeLong(e.term());
        out.writeByte(e.type().ordinal());
        out.writeLong(e.clientId());
        out.writeLong(e.seq());
        out.writeInt(e.data().length);
        out.write(e.data());
    }

    public static Entry readEntry(DataInputStream in) throws IOException {
        long index = in.readLong();
        long term = in.readLong();
        Entry.Type type = Entry.Type.values()[in.readByte()];
        long client = in.readLong();
        long seq = in.readLong();
        byte[] data = in.readNBytes(in.readInt());
        return new Entry(index, term, type, client, seq, data);
    }

    public static byte[] encodeEntries(List<Entry> entries) {
        try {
            int size = 4;
            for (Entry e : entries) {
                size += entrySize(e);
            }
            Exact bytes = new Exact(size);
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeInt(entries.size());
            for (Entry e : entries) {
                writeEntry(out, e);
            }
            return bytes.result();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static List<Entry> decodeEntries(byte[] data) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(data));
            int n = in.readInt();
            List<Entry> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                out.add(readEntry(in));
            }
            return out;
        } catch (IOException e) {
            throw new IllegalArgumentException("corrupt entry list", e);
        }
    }

    private static void writeString(DataOutputStream out, String s) throws IOException {
        out.writeBoolean(s != null);
        if (s != null) {
            out.writeUTF(s);
        }
    }

    private static String readString(DataInputStream in) throws IOException {
        return in.readBoolean() ? in.readUTF() : null;
    }

    public static void writeSnapshotMeta(DataOutputStream out, SnapshotMeta m) throws IOException {
        out.writeLong(m.index());
        out.writeLong(m.term());
        byte[] c = m.configuration().encode();
        out.writeInt(c.length);
        out.write(c);
    }

    public static SnapshotMeta readSnapshotMeta(DataInputStream in) throws IOException {
        long index = in.readLong();
        long term = in.readLong();
        return new SnapshotMeta(index, term, Configuration.decode(in.readNBytes(in.readInt())));
    }

    /** Writes one message (group-agnostic). */
    public static void writeMessage(DataOutputStream out, RaftMessage m) throws IOException {
        out.writeByte(VERSION);
        if (m instanceof AppendEntries a) {
            out.writeByte(1);
            header(out, m);
            out.writeLong(a.prevLogIndex());
            out.writeLong(a.prevLogTerm());
            out.writeLong(a.leaderCommit());
            out.writeInt(a.entries().size());
            for (Entry e : a.entries()) {
                writeEntry(out, e);
            }
        } else if (m instanceof AppendEntriesResponse r) {
            out.writeByte(2);
            header(out, m);
            out.writeBoolean(r.success());
            out.writeLong(r.index());
            out.writeLong(r.hintIndex());
            out.writeLong(r.hintTerm());
        } else if (m instanceof Heartbeat h) {
            out.writeByte(3);
            header(out, m);
            out.writeLong(h.commit());
            out.writeLong(h.readRound());
            out.writeBoolean(h.quiesce());
        } else if (m instanceof HeartbeatResponse h) {
            out.writeByte(4);
            header(out, m);
            out.writeLong(h.readRound());
            out.writeLong(h.lastIndex());
        } else if (m instanceof RequestVote v) {
            out.writeByte(5);
            header(out, m);
            out.writeLong(v.lastLogIndex());
            out.writeLong(v.lastLogTerm());
            out.writeBoolean(v.preVote());
            out.writeBoolean(v.transfer());
        } else if (m instanceof RequestVoteResponse v) {
            out.writeByte(6);
            header(out, m);
            out.writeBoolean(v.granted());
            out.writeBoolean(v.preVote());
        } else if (m instanceof InstallSnapshot s) {
            out.writeByte(7);
            header(out, m);
            writeSnapshotMeta(out, s.meta());
            out.writeLong(s.offset());
            out.writeInt(s.chunk().length);
            out.write(s.chunk());
            out.writeBoolean(s.done());
        } else if (m instanceof InstallSnapshotResponse s) {
            out.writeByte(8);
            header(out, m);
            out.writeLong(s.snapshotIndex());
            out.writeLong(s.nextOffset());
            out.writeBoolean(s.installed());
            out.writeLong(s.index());
        } else if (m instanceof TimeoutNow) {
            out.writeByte(9);
            header(out, m);
        } else if (m instanceof ReadIndexRequest r) {
            out.writeByte(10);
            header(out, m);
            out.writeLong(r.context());
        } else if (m instanceof ReadIndexResponse r) {
            out.writeByte(11);
            header(out, m);
            out.writeLong(r.context());
            out.writeLong(r.index());
            out.writeBoolean(r.ok());
        } else {
            throw new IllegalArgumentException("unknown message " + m);
        }
    }

    private static void header(DataOutputStream out, RaftMessage m) throws IOException {
        out.writeLong(m.term());
        out.writeUTF(m.from());
        out.writeUTF(m.to());
    }

    public static RaftMessage readMessage(DataInputStream in) throws IOException {
        int version = in.readByte();
        if (version != VERSION) {
            throw new IOException("unsupported raft wire version " + version);
        }
        int type = in.readByte();
        long term = in.readLong();
        String from = in.readUTF();
        String to = in.readUTF();
        switch (type) {
            case 1: {
                long prev = in.readLong();
                long prevTerm = in.readLong();
                long commit = in.readLong();
                int n = in.readInt();
                List<Entry> entries = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    entries.add(readEntry(in));
                }
                return new AppendEntries(term, from, to, prev, prevTerm, entries, commit);
            }
            case 2:
                return new AppendEntriesResponse(term, from, to, in.readBoolean(), in.readLong(), in.readLong(), in.readLong());
            case 3:
                return new Heartbeat(term, from, to, in.readLong(), in.readLong(), in.readBoolean());
            case 4:
                return new HeartbeatResponse(term, from, to, in.readLong(), in.readLong());
            case 5:
                return new RequestVote(term, from, to, in.readLong(), in.readLong(), in.readBoolean(), in.readBoolean());
            case 6:
                return new RequestVoteResponse(term, from, to, in.readBoolean(), in.readBoolean());
            case 7: {
                SnapshotMeta meta = readSnapshotMeta(in);
                long offset = in.readLong();
                byte[] chunk = in.readNBytes(in.readInt());
                return new InstallSnapshot(term, from, to, meta, offset, chunk, in.readBoolean());
            }
            case 8:
                return new InstallSnapshotResponse(term, from, to, in.readLong(), in.readLong(), in.readBoolean(), in.readLong());
            case 9:
                return new TimeoutNow(term, from, to);
            case 10:
                return new ReadIndexRequest(term, from, to, in.readLong());
            case 11:
                return new ReadIndexResponse(term, from, to, in.readLong(), in.readLong(), in.readBoolean());
            default:
                throw new IOException("unknown raft message type " + type);
        }
    }

    /** Encodes (groupId, message) pairs: one network envelope per node pair carries many groups (multi-raft). */
    public static byte[] encodeBatch(List<String> groups, List<RaftMessage> messages) {
        try {
            int size = 4;
            for (int i = 0; i < messages.size(); i++) {
                size += utfSize(groups.get(i)) + encodedSize(messages.get(i));
            }
            Exact bytes = new Exact(size);
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeInt(messages.size());
            for (int i = 0; i < messages.size(); i++) {
                out.writeUTF(groups.get(i));
                writeMessage(out, messages.get(i));
            }
            return bytes.result();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Decodes a batch, calling {@code sink} for every (group, message). */
    public static void decodeBatch(byte[] data, java.util.function.BiConsumer<String, RaftMessage> sink) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(data));
            int n = in.readInt();
            for (int i = 0; i < n; i++) {
                String group = in.readUTF();
                sink.accept(group, readMessage(in));
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("corrupt raft batch", e);
        }
    }
}
