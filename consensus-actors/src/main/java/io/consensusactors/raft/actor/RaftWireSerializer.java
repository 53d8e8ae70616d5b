package io.consensusactors.raft.actor;

import io.consensusactors.raft.core.ReadConsistency;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.SerializerWithStringManifest;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.NotSerializableException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * Binary serializer of the messages every Raft request crosses the network with: {@link RaftHost.ClientPropose},
 * {@link RaftHost.ClientRead}, {@link ClientReply} and {@link RaftHost.InboundBatch} (whose payload is already
 * {@code RaftCodec} bytes). They would otherwise go through Jackson CBOR (reflection-driven, a parser and generator
 * per message); here each is a fixed sequence of fields. Bound in this module's reference.conf; everything else
 * stays on Jackson. Strings are length-prefixed UTF-8 (no 64 KB limit), -1 for null.
 */
public final class RaftWireSerializer extends SerializerWithStringManifest {

    /** Unique among the serializers of an ActorSystem (Pekko reserves 0–40). */
    public static final int IDENTIFIER = 734_101;

    static final String PROPOSE = "P";
    static final String READ = "R";
    static final String BATCH = "B";
    static final String OK = "O";
    static final String NOT_LEADER = "N";
    static final String REJECTED = "J";

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
        }
        throw new IllegalArgumentException("RaftWireSerializer cannot serialize " + o.getClass().getName());
    }

    @Override
    public byte[] toBinary(Object o) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(o instanceof RaftHost.InboundBatch b
                    ? b.payload().length + 32 : 128);
            DataOutputStream out = new DataOutputStream(bytes);
            if (o instanceof RaftHost.ClientPropose p) {
                writeString(out, p.groupId());
                out.writeLong(p.clientId());
                out.writeLong(p.seq());
                writeBytes(out, p.command());
                out.writeLong(p.requestId());
                writeString(out, resolver.toSerializationFormat(p.replyTo()));
            } else if (o instanceof RaftHost.ClientRead r) {
                writeString(out, r.groupId());
                writeBytes(out, r.query());
                out.writeByte(r.consistency().ordinal());
                out.writeLong(r.requestId());
                writeString(out, resolver.toSerializationFormat(r.replyTo()));
            } else if (o instanceof RaftHost.InboundBatch b) {
                writeString(out, b.fromNode());
                writeBytes(out, b.payload());
            } else if (o instanceof ClientReply.Ok ok) {
                out.writeLong(ok.requestId());
                writeBytes(out, ok.result());
            } else if (o instanceof ClientReply.NotLeader nl) {
                out.writeLong(nl.requestId());
                writeString(out, nl.groupId());
                writeString(out, nl.leaderHint());
            } else if (o instanceof ClientReply.Rejected rj) {
                out.writeLong(rj.requestId());
                writeString(out, rj.reason());
            } else {
                throw new IllegalArgumentException("RaftWireSerializer cannot serialize " + o.getClass().getName());
            }
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
    }

    @Override
    public Object fromBinary(byte[] data, String manifest) throws NotSerializableException {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(data));
            switch (manifest) {
                case PROPOSE:
                    return new RaftHost.ClientPropose(readString(in), in.readLong(), in.readLong(), readBytes(in),
                            in.readLong(), ref(readString(in)));
                case READ:
                    return new RaftHost.ClientRead(readString(in), readBytes(in), CONSISTENCIES[in.readByte()],
                            in.readLong(), ref(readString(in)));
                case BATCH:
                    return new RaftHost.InboundBatch(readString(in), readBytes(in));
                case OK:
                    return new ClientReply.Ok(in.readLong(), readBytes(in));
                case NOT_LEADER:
                    return new ClientReply.NotLeader(in.readLong(), readString(in), readString(in));
                case REJECTED:
                    return new ClientReply.Rejected(in.readLong(), readString(in));
                default:
                    throw new NotSerializableException("RaftWireSerializer: unknown manifest '" + manifest
                            + "' (a node of another version?)");
            }
        } catch (IOException | RuntimeException e) {
            NotSerializableException n = new NotSerializableException("RaftWireSerializer: malformed " + manifest
                    + " message of " + data.length + " bytes: " + e);
            n.initCause(e);
            throw n;
        }
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
        byte[] b = in.readNBytes(n);
        if (b.length != n) {
            throw new java.io.EOFException("field of " + n + " bytes cut off after " + b.length);
        }
        return b;
    }
}
