package io.consensusactors.paxos.core;

import io.consensusactors.paxos.core.MultiPaxosMessage.AcceptedEntry;
import io.consensusactors.paxos.core.MultiPaxosMessage.SlotValue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Binary wire format of {@link MultiPaxosMessage}s, batched per node pair (no reflection, no schema library). Pure:
 * bytes in, records out. Numbers are big-endian; strings are a length-prefixed UTF-8 byte array.
 *
 * <pre>
 * batch    = version:u8 (=1) count:i32 envelope*
 * envelope = group:string from:i32 to:i32 message
 * message  = tag:u8 body
 *   1 Prepare   ballot fromSlot:i64
 *   2 Promise   ballot compactedUpTo:i64 count:i32 (slot:i64 ballot value)*
 *   3 Accept    ballot chosenPrefix:i64 count:i32 (slot:i64 value)*
 *   4 Accepted  ballot count:i32 slot:i64*
 *   5 Nack      ballot promised:ballot
 *   6 Learn     count:i32 (slot:i64 value)*
 *   7 Heartbeat ballot chosenPrefix:i64
 *   8 CatchUp   fromSlot:i64
 *   9 Snapshot  snapshotSlot:i64 chosenPrefix:i64 length:i32 bytes
 * ballot   = round:i64 proposer:i64
 * value    = 0 (no-op) | 1 clientId:i64 sequence:i64 length:i32 bytes
 * string   = length:i32 utf8-bytes
 * </pre>
 *
 * Decoding rejects anything malformed (unknown version or tag, negative or oversized lengths, trailing bytes) with an
 * {@link IllegalArgumentException} that says where and what, never with a partly decoded batch.
 */
public final class MultiPaxosCodec {

    public static final int VERSION = 1;

    /** One message of a batch: in group {@code group}, from replica {@code from} to replica {@code to}. */
    public record Envelope(String group, int from, int to, MultiPaxosMessage message) {
    }

    private MultiPaxosCodec() {
    }

    // ------------------------------------------------------------------------------------------------ encode

    public static byte[] encodeBatch(List<Envelope> envelopes) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(32 + 48 * envelopes.size());
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeByte(VERSION);
            out.writeInt(envelopes.size());
            for (Envelope e : envelopes) {
                writeString(out, e.group());
                out.writeInt(e.from());
                out.writeInt(e.to());
                write(out, e.message());
            }
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // not thrown by an in-memory stream
        }
    }

    /** One message on its own (no envelope, no version byte): for tests and journals. */
    public static byte[] encode(MultiPaxosMessage message) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
            write(new DataOutputStream(bytes), message);
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void write(DataOutputStream out, MultiPaxosMessage m) throws IOException {
        if (m instanceof MultiPaxosMessage.Prepare p) {
            out.writeByte(1);
            writeBallot(out, p.ballot());
            out.writeLong(p.fromSlot());
        } else if (m instanceof MultiPaxosMessage.Promise p) {
            out.writeByte(2);
            writeBallot(out, p.ballot());
            out.writeLong(p.compactedUpTo());
            out.writeInt(p.accepted().size());
            for (AcceptedEntry e : p.accepted()) {
                out.writeLong(e.slot());
                writeBallot(out, e.ballot());
                writeValue(out, e.value());
            }
        } else if (m instanceof MultiPaxosMessage.Accept a) {
            out.writeByte(3);
            writeBallot(out, a.ballot());
            out.writeLong(a.chosenPrefix());
            writeSlotValues(out, a.entries());
        } else if (m instanceof MultiPaxosMessage.Accepted a) {
            out.writeByte(4);
            writeBallot(out, a.ballot());
            out.writeInt(a.slots().size());
            for (long s : a.slots()) {
                out.writeLong(s);
            }
        } else if (m instanceof MultiPaxosMessage.Nack n) {
            out.writeByte(5);
            writeBallot(out, n.ballot());
            writeBallot(out, n.promised());
        } else if (m instanceof MultiPaxosMessage.Learn l) {
            out.writeByte(6);
            writeSlotValues(out, l.chosen());
        } else if (m instanceof MultiPaxosMessage.Heartbeat h) {
            out.writeByte(7);
            writeBallot(out, h.ballot());
            out.writeLong(h.chosenPrefix());
        } else if (m instanceof MultiPaxosMessage.CatchUp c) {
            out.writeByte(8);
            out.writeLong(c.fromSlot());
        } else if (m instanceof MultiPaxosMessage.Snapshot s) {
            out.writeByte(9);
            out.writeLong(s.snapshotSlot());
            out.writeLong(s.chosenPrefix());
            out.writeInt(s.state().length);
            out.write(s.state());
        } else {
            throw new IllegalArgumentException("no wire encoding for " + m);
        }
    }

    private static void writeSlotValues(DataOutputStream out, List<SlotValue> values) throws IOException {
        out.writeInt(values.size());
        for (SlotValue sv : values) {
            out.writeLong(sv.slot());
            writeValue(out, sv.value());
        }
    }

    private static void writeBallot(DataOutputStream out, Ballot b) throws IOException {
        out.writeLong(b.round());
        out.writeLong(b.proposer());
    }

    private static void writeValue(DataOutputStream out, LogValue v) throws IOException {
        if (v.isNoop()) {
            out.writeByte(0);
            return;
        }
        out.writeByte(1);
        out.writeLong(v.clientId());
        out.writeLong(v.sequence());
        out.writeInt(v.payload().length);
        out.write(v.payload());
    }

    private static void writeString(DataOutputStream out, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    // ------------------------------------------------------------------------------------------------ decode

    public static List<Envelope> decodeBatch(byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        try {
            int version = in.get() & 0xff;
            if (version != VERSION) {
                throw corrupt(in, bytes, "unknown wire version " + version + " (this node speaks " + VERSION
                        + "): run the same release on every node");
            }
            int n = count(in, bytes, 4 + 4 + 4 + 1);
            List<Envelope> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                String group = readString(in, bytes);
                int from = in.getInt();
                int to = in.getInt();
                out.add(new Envelope(group, from, to, read(in, bytes)));
            }
            expectEnd(in, bytes);
            return out;
        } catch (BufferUnderflowException e) {
            throw corrupt(in, bytes, "truncated input");
        }
    }

    public static MultiPaxosMessage decode(byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        try {
            MultiPaxosMessage m = read(in, bytes);
            expectEnd(in, bytes);
            return m;
        } catch (BufferUnderflowException e) {
            throw corrupt(in, bytes, "truncated input");
        }
    }

    private static MultiPaxosMessage read(ByteBuffer in, byte[] bytes) {
        int tag = in.get() & 0xff;
        switch (tag) {
            case 1:
                return new MultiPaxosMessage.Prepare(readBallot(in, bytes), in.getLong());
            case 2: {
                Ballot b = readBallot(in, bytes);
                long compacted = in.getLong();
                int n = count(in, bytes, 8 + 16 + 1);
                List<AcceptedEntry> entries = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    entries.add(new AcceptedEntry(in.getLong(), readBallot(in, bytes), readValue(in, bytes)));
                }
                return new MultiPaxosMessage.Promise(b, entries, compacted);
            }
            case 3: {
                Ballot b = readBallot(in, bytes);
                long prefix = in.getLong();
                return new MultiPaxosMessage.Accept(b, readSlotValues(in, bytes), prefix);
            }
            case 4: {
                Ballot b = readBallot(in, bytes);
                int n = count(in, bytes, 8);
                List<Long> slots = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    slots.add(in.getLong());
                }
                return new MultiPaxosMessage.Accepted(b, slots);
            }
            case 5:
                return new MultiPaxosMessage.Nack(readBallot(in, bytes), readBallot(in, bytes));
            case 6:
                return new MultiPaxosMessage.Learn(readSlotValues(in, bytes));
            case 7:
                return new MultiPaxosMessage.Heartbeat(readBallot(in, bytes), in.getLong());
            case 8:
                return new MultiPaxosMessage.CatchUp(in.getLong());
            case 9: {
                long snapshotSlot = in.getLong();
                long prefix = in.getLong();
                return new MultiPaxosMessage.Snapshot(snapshotSlot, prefix, readBytes(in, bytes));
            }
            default:
                throw corrupt(in, bytes, "unknown message tag " + tag);
        }
    }

    private static List<SlotValue> readSlotValues(ByteBuffer in, byte[] bytes) {
        int n = count(in, bytes, 8 + 1);
        List<SlotValue> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(new SlotValue(in.getLong(), readValue(in, bytes)));
        }
        return out;
    }

    private static Ballot readBallot(ByteBuffer in, byte[] bytes) {
        long round = in.getLong();
        long proposer = in.getLong();
        if (round < 0) {
            throw corrupt(in, bytes, "negative ballot round " + round);
        }
        return new Ballot(round, proposer);
    }

    private static LogValue readValue(ByteBuffer in, byte[] bytes) {
        int kind = in.get() & 0xff;
        if (kind == 0) {
            return LogValue.NOOP;
        }
        if (kind != 1) {
            throw corrupt(in, bytes, "unknown value kind " + kind);
        }
        long client = in.getLong();
        long seq = in.getLong();
        return LogValue.command(client, seq, readBytes(in, bytes));
    }

    private static byte[] readBytes(ByteBuffer in, byte[] bytes) {
        int len = in.getInt();
        if (len < 0 || len > in.remaining()) {
            throw corrupt(in, bytes, "byte array length " + len + " but " + in.remaining() + " bytes remain");
        }
        byte[] b = new byte[len];
        in.get(b);
        return b;
    }

    private static String readString(ByteBuffer in, byte[] bytes) {
        return new String(readBytes(in, bytes), StandardCharsets.UTF_8);
    }

    /** A list length, checked against what the remaining bytes can hold (so garbage cannot allocate gigabytes). */
    private static int count(ByteBuffer in, byte[] bytes, int minElementSize) {
        int n = in.getInt();
        if (n < 0 || (long) n * minElementSize > in.remaining()) {
            throw corrupt(in, bytes, "list length " + n + " but " + in.remaining() + " bytes remain");
        }
        return n;
    }

    private static void expectEnd(ByteBuffer in, byte[] bytes) {
        if (in.hasRemaining()) {
            throw corrupt(in, bytes, in.remaining() + " unexpected trailing bytes");
        }
    }

    private static IllegalArgumentException corrupt(ByteBuffer in, byte[] bytes, String what) {
        return new IllegalArgumentException("malformed Multi-Paxos wire data: " + what + " (at byte " + in.position()
                + " of " + bytes.length + "). The sender runs an incompatible release or the bytes were corrupted;"
                + " the batch is dropped (Paxos treats it as lost), check that every node runs the same version.");
    }
}
