package io.consensusactors.raft.actor;

import io.consensusactors.raft.core.ReadConsistency;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.ByteBufferSerializer;
import org.apache.pekko.serialization.SerializerWithStringManifest;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.NotSerializableException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Binary serializer of the messages every Raft request crosses the network with: {@link RaftHost.ClientPropose},
 * {@link RaftHost.ClientRead}, their batches ({@link RaftHost.ClientBatch}: each distinct reply-to written once),
 * {@link ClientReply} (and {@link ClientReply.Batch}) and {@link RaftHost.InboundBatch} (whose payload is already
 * {@code RaftCodec} bytes). They would otherwise go through Jackson CBOR (reflection-driven, a parser and generator
 * per message); here each is a fixed sequence of fields. Bound in this module's reference.conf; everything else
 * stays on Jackson. Strings are length-prefixed UTF-8 (no 64 KB limit), -1 for null.
 */
public final class RaftWireSerializer extends SerializerWithStringManifest implements ByteBufferSerializer {

    /** Unique among the serializers of an ActorSystem (Pekko reserves 0–40). */
    public static final int IDENTIFIER = 734_101;

    static final String PROPOSE = "P";
    static final String READ = "R";
    static final String BATCH = "B";
    static final String OK = "O";
    static final String NOT_LEADER = "N";
    static final String REJECTED = "J";
    static final String CLIENT_BATCH = "Q";
    static final String REPLY_BATCH = "L";

    private static final ReadConsistency[] CONSISTENCIES = ReadConsistency.values();

    private final ActorRefResolver resolver;

    public RaftWireSerializer(ExtendedActorSystem system) {
        this.resolver = ActorRefResolver.get(Adapter.toTyped(system));
    }

    @Override
    public int identifier() {
        return IDENTIFIER;
    }

    @Override
    public String manifest(Object o) {
        if (o instanceof RaftHost.ClientPropose) {
            return PROPOSE;
        } else if (o instanceof RaftHost.ClientRead) {
            return READ;
        } else if (o instanceof RaftHost.InboundBatch) {
            return BATCH;
        } else if (o instanceof ClientReply.Ok) {
            return OK;
        } else if (o instanceof ClientReply.NotLeader) {
            return NOT_LEADER;
        } else if (o instanceof ClientReply.Rejected) {
            return REJECTED;
        } else if (o instanceof RaftHost.ClientBatch) {
            return CLIENT_BATCH;
        } else if (o instanceof ClientReply.Batch) {
            return REPLY_BATCH;
        }
        throw new IllegalArgumentException("RaftWireSerializer cannot serialize " + o.getClass().getName());
    }

    @Override
    public byte[] toBinary(Object o) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(o instanceof RaftHost.InboundBatch b
                ? b.payload().length + 32 : 128);
        write(o, new DataOutputStream(bytes));
        return bytes.toByteArray();
    }

    /**
     * Straight into Artery's envelope buffer (Artery prefers this over {@link #toBinary(Object)}): no intermediate
     * stream buffer and array per message, each a copy of a node's transport batch. A message larger than the buffer
     * fails as an oversized one would ({@link RaftHost} splits its batches below the frame size).
     */
    @Override
    public void toBinary(Object o, ByteBuffer buf) {
        write(o, new DataOutputStream(new ByteBufferOutput(buf)));
    }

    private void write(Object o, DataOutputStream out) {
        try {
            if (o instanceof RaftHost.ClientPropose p) {
                writePropose(out, p);
                writeString(out, resolver.toSerializationFormat(p.replyTo()));
            } else if (o instanceof RaftHost.ClientRead r) {
                writeRead(out, r);
                writeString(out, resolver.toSerializationFormat(r.replyTo()));
            } else if (o instanceof RaftHost.ClientBatch b) {
                writeClientBatch(out, b);
            } else if (o instanceof ClientReply.Batch b) {
                out.writeInt(b.replies().size());
                for (ClientReply r : b.replies()) {
                    String m = manifest(r);
                    if (m.equals(REPLY_BATCH)) {
                        throw new IllegalArgumentException("a reply batch cannot contain a reply batch");
                    }
                    out.writeByte(m.charAt(0));
                    writeReply(out, r);
                }
            } else if (o instanceof ClientReply r) {
                writeReply(out, r);
            } else if (o instanceof RaftHost.InboundBatch b) {
                writeString(out, b.fromNode());
                writeBytes(out, b.payload());
            } else {
                throw new IllegalArgumentException("RaftWireSerializer cannot serialize " + o.getClass().getName());
            }
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // neither a byte array nor a byte buffer stream throws it
        }
    }

    @Override
    public Object fromBinary(byte[] data, String manifest) throws NotSerializableException {
        return read(new DataInputStream(new ByteArrayInputStream(data)), manifest, data.length);
    }

    /** Straight from Artery's envelope buffer (no copy of the whole message into an array first). */
    @Override
    public Object fromBinary(ByteBuffer buf, String manifest) {
        try {
            return read(new DataInputStream(new ByteBufferInput(buf)), manifest, buf.remaining());
        } catch (NotSerializableException e) {
            return throwUnchecked(e); // the Scala interface declares no exception; Artery logs and drops either way
        }
    }

    @SuppressWarnings("unchecked")
    private static <E extends Throwable> Object throwUnchecked(Throwable e) throws E {
        throw (E) e;
    }

    private Object read(DataInputStream in, String manifest, int size) throws NotSerializableException {
        try {
            switch (manifest) {
                case PROPOSE:
                    return readPropose(in, () -> ref(readString(in)));
                case READ:
                    return readRead(in, () -> ref(readString(in)));
                case BATCH:
                    return new RaftHost.InboundBatch(readString(in), readBytes(in));
                case OK:
                case NOT_LEADER:
                case REJECTED:
                    return readReply(in, manifest);
                case CLIENT_BATCH:
                    return readClientBatch(in);
                case REPLY_BATCH: {
                    int n = count(in);
                    List<ClientReply> replies = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        replies.add(readReply(in, readKind(in)));
                    }
                    return new ClientReply.Batch(replies);
                }
                default:
                    throw new NotSerializableException("RaftWireSerializer: unknown manifest '" + manifest
                            + "' (a node of another version?)");
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof NotSerializableException n) {
                throw n;
            }
            NotSerializableException n = new NotSerializableException("RaftWireSerializer: malformed " + manifest
                    + " message of " + size + " bytes: " + e);
            n.initCause(e);
            throw n;
        }
    }

    /** Writes into a byte buffer; one that is full throws {@link java.nio.BufferOverflowException}. */
    private static final class ByteBufferOutput extends OutputStream {
        private final ByteBuffer buf;

        ByteBufferOutput(ByteBuffer buf) {
            this.buf = buf;
        }

        @Override
        public void write(int b) {
            buf.put((byte) b);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            buf.put(b, off, len);
        }
    }

    /** Reads a byte buffer from its position to its limit. */
    private static final class ByteBufferInput extends InputStream {
        private final ByteBuffer buf;

        ByteBufferInput(ByteBuffer buf) {
            this.buf = buf;
        }

        @Override
        public int read() {
            return buf.hasRemaining() ? buf.get() & 0xff : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (len == 0) {
                return 0;
            }
            if (!buf.hasRemaining()) {
                return -1;
            }
            int n = Math.min(len, buf.remaining());
            buf.get(b, off, n);
            return n;
        }

        @Override
        public int available() {
            return buf.remaining();
        }
    }

    private static void writePropose(DataOutputStream out, RaftHost.ClientPropose p) throws IOException {
        writeString(out, p.groupId());
        out.writeLong(p.clientId());
        out.writeLong(p.seq());
        writeBytes(out, p.command());
        out.writeLong(p.requestId());
    }

    private static void writeRead(DataOutputStream out, RaftHost.ClientRead r) throws IOException {
        writeString(out, r.groupId());
        writeBytes(out, r.query());
        out.writeByte(r.consistency().ordinal());
        out.writeLong(r.requestId());
    }

    /** The distinct reply-to references first (usually one: the sending client), then each request with its index. */
    private void writeClientBatch(DataOutputStream out, RaftHost.ClientBatch b) throws IOException {
        List<ActorRef<ClientReply>> refs = new ArrayList<>();
        int[] refOf = new int[b.requests().size()];
        for (int i = 0; i < refOf.length; i++) {
            RaftHost.Command c = b.requests().get(i);
            ActorRef<ClientReply> to;
            if (c instanceof RaftHost.ClientPropose p) {
                to = p.replyTo();
            } else if (c instanceof RaftHost.ClientRead r) {
                to = r.replyTo();
            } else {
                throw new IllegalArgumentException("a client batch holds proposals and reads only, not "
                        + c.getClass().getName());
            }
            int k = refs.indexOf(to);
            if (k < 0) {
                k = refs.size();
                refs.add(to);
            }
            refOf[i] = k;
        }
        out.writeInt(refs.size());
        for (ActorRef<ClientReply> ref : refs) {
            writeString(out, resolver.toSerializationFormat(ref));
        }
        out.writeInt(refOf.length);
        for (int i = 0; i < refOf.length; i++) {
            if (b.requests().get(i) instanceof RaftHost.ClientPropose p) {
                out.writeByte(PROPOSE.charAt(0));
                writePropose(out, p);
            } else {
                out.writeByte(READ.charAt(0));
                writeRead(out, (RaftHost.ClientRead) b.requests().get(i));
            }
            out.writeInt(refOf[i]);
        }
    }

    private RaftHost.ClientBatch readClientBatch(DataInputStream in) throws IOException {
        int nRefs = count(in);
        List<ActorRef<ClientReply>> refs = new ArrayList<>(nRefs);
        for (int i = 0; i < nRefs; i++) {
            refs.add(ref(readString(in)));
        }
        int n = count(in);
        List<RaftHost.Command> requests = new ArrayList<>(n);
        ReplyToReader replyTo = () -> refs.get(in.readInt());
        for (int i = 0; i < n; i++) {
            String kind = readKind(in);
            switch (kind) {
                case PROPOSE -> requests.add(readPropose(in, replyTo));
                case READ -> requests.add(readRead(in, replyTo));
                default -> throw new IllegalArgumentException("unknown request kind '" + kind + "' in a client batch");
            }
        }
        return new RaftHost.ClientBatch(requests);
    }

    private static void writeReply(DataOutputStream out, ClientReply r) throws IOException {
        out.writeLong(r.requestId());
        if (r instanceof ClientReply.Ok ok) {
            writeBytes(out, ok.result());
        } else if (r instanceof ClientReply.NotLeader nl) {
            writeString(out, nl.groupId());
            writeString(out, nl.leaderHint());
        } else if (r instanceof ClientReply.Rejected rj) {
            writeString(out, rj.reason());
        } else {
            throw new IllegalArgumentException("RaftWireSerializer cannot serialize " + r.getClass().getName());
        }
    }

    /** A reply whose kind is its manifest (in a batch: the manifest's one character before it). */
    private static ClientReply readReply(DataInputStream in, String kind) throws IOException {
        long requestId = in.readLong();
        return switch (kind) {
            case OK -> new ClientReply.Ok(requestId, readBytes(in));
            case NOT_LEADER -> new ClientReply.NotLeader(requestId, readString(in), readString(in));
            case REJECTED -> new ClientReply.Rejected(requestId, readString(in));
            default -> throw new IllegalArgumentException("unknown reply kind '" + kind + "' in a reply batch");
        };
    }

    /** The kind of an item of a batch: the one-character manifest it would have on its own. */
    private static String readKind(DataInputStream in) throws IOException {
        return String.valueOf((char) in.readByte());
    }

    /** Where a request's reply-to comes from: its own path string, or an index into its batch's table. */
    @FunctionalInterface
    private interface ReplyToReader {
        ActorRef<ClientReply> read() throws IOException;
    }

    /** The fields {@link #writePropose} wrote, then the reply-to. */
    private static RaftHost.ClientPropose readPropose(DataInputStream in, ReplyToReader replyTo) throws IOException {
        return new RaftHost.ClientPropose(readString(in), in.readLong(), in.readLong(), readBytes(in), in.readLong(),
                replyTo.read());
    }

    /** The fields {@link #writeRead} wrote, then the reply-to. */
    private static RaftHost.ClientRead readRead(DataInputStream in, ReplyToReader replyTo) throws IOException {
        return new RaftHost.ClientRead(readString(in), readBytes(in), CONSISTENCIES[in.readByte()], in.readLong(),
                replyTo.read());
    }

    /** A count of items that follow: never negative, never more than the bytes left could hold. */
    private static int count(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > in.available()) {
            throw new IllegalArgumentException("count " + n + " with " + in.available() + " bytes left");
        }
        return n;
    }

    private <T> ActorRef<T> ref(String path) {
        return resolver.resolveActorRef(path);
    }

    private static void writeString(DataOutputStream out, String s) throws IOException {
        if (s == null) {
            out.writeInt(-1);
        } else {
            writeBytes(out, s.getBytes(StandardCharsets.UTF_8));
        }
    }

    private static String readString(DataInputStream in) throws IOException {
        byte[] b = readBytes(in);
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    private static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
        if (b == null) {
            out.writeInt(-1);
        } else {
            out.writeInt(b.length);
            out.write(b);
        }
    }

    private static byte[] readBytes(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0) {
            return null;
        }
        if (n > in.available()) { // both sources know exactly what is left: no array for a corrupt length
            throw new java.io.EOFException("field of " + n + " bytes cut off after " + in.available());
        }
        byte[] b = new byte[n];
        in.readFully(b); // one copy (readNBytes would gather 8 KB pieces and copy them again)
        return b;
    }
}
