package io.consensusactors.raft.actor;

import com.typesafe.config.ConfigFactory;
import io.consensusactors.raft.core.ReadConsistency;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.ByteBufferSerializer;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.io.NotSerializableException;
import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The wire messages of Raft requests round-trip through the serializer Pekko picks for them (the binary one, not
 * Jackson): every field, nulls, empty and large payloads, all read consistencies, reply-to references that resolve to
 * the same actor. Malformed input is refused with NotSerializableException, never turned into a wrong message.
 */
class RaftWireSerializerTest {

    private static final ActorTestKit KIT = ActorTestKit.create("RaftWireSerializerTest",
            ConfigFactory.parseString("pekko.loglevel = WARNING").withFallback(ConfigFactory.load()));
    private static final Serialization SERIALIZATION = SerializationExtension.get(Adapter.toClassic(KIT.system()));

    @AfterAll
    static void stop() {
        KIT.shutdownTestKit();
    }

    /**
     * Through the byte buffer, as Artery serializes (into its pooled direct envelope buffer) and deserializes, after
     * checking that the buffer receives exactly the bytes of {@code toBinary(Object)} and those read back as well.
     */
    private static Object roundTrip(Object message) throws NotSerializableException {
        Serializer s = SERIALIZATION.findSerializerFor(message);
        assertEquals(RaftWireSerializer.IDENTIFIER, s.identifier(), message.getClass() + " must use the wire serializer");
        String manifest = Serializers.manifestFor(s, message);
        byte[] bytes = s.toBinary(message);
        assertEquals(message.getClass(), SERIALIZATION.deserialize(bytes, s.identifier(), manifest).get().getClass());
        ByteBuffer buf = ByteBuffer.allocateDirect(256 * 1024);
        buf.put(new byte[]{42, 42, 42}); // Artery's envelope header comes first: the message starts mid-buffer
        int start = buf.position();
        ((ByteBufferSerializer) s).toBinary(message, buf);
        byte[] written = new byte[buf.position() - start];
        buf.flip().position(start);
        buf.duplicate().get(written);
        assertArrayEquals(bytes, written, "the buffer must receive the bytes toBinary(Object) returns");
        Object back = SERIALIZATION.deserializeByteBuffer(buf, s.identifier(), manifest);
        assertEquals(0, buf.remaining(), "reading must consume exactly the message");
        return back;
    }

    @Test
    void clientRequestsRoundTripWithTheirReplyTo() throws Exception {
        TestProbe<ClientReply> probe = KIT.createTestProbe();
        byte[] command = new byte[70_000];
        Arrays.fill(command, (byte) 7);
        RaftHost.ClientPropose p = new RaftHost.ClientPropose("bank-äccounts-3", Long.MAX_VALUE, 42, command, -5,
                probe.getRef());
        RaftHost.ClientPropose p2 = (RaftHost.ClientPropose) roundTrip(p);
        assertEquals(p.groupId(), p2.groupId());
        assertEquals(p.clientId(), p2.clientId());
        assertEquals(p.seq(), p2.seq());
        assertArrayEquals(p.command(), p2.command());
        assertEquals(p.requestId(), p2.requestId());
        assertEquals(probe.getRef(), p2.replyTo());
        p2.replyTo().tell(new ClientReply.Rejected(1, "via the resolved reference"));
        probe.expectMessageClass(ClientReply.Rejected.class);

        for (ReadConsistency c : ReadConsistency.values()) {
            RaftHost.ClientRead r = new RaftHost.ClientRead("g", new byte[0], c, 9, probe.getRef());
            RaftHost.ClientRead r2 = (RaftHost.ClientRead) roundTrip(r);
            assertEquals(c, r2.consistency());
            assertArrayEquals(new byte[0], r2.query());
            assertEquals(9, r2.requestId());
            assertEquals(probe.getRef(), r2.replyTo());
        }
    }

    @Test
    void repliesAndBatchesRoundTripIncludingNulls() throws Exception {
        ClientReply.Ok ok = (ClientReply.Ok) roundTrip(new ClientReply.Ok(3, new byte[]{1, 2, 3}));
        assertEquals(3, ok.requestId());
        assertArrayEquals(new byte[]{1, 2, 3}, ok.result());
        assertNull(((ClientReply.Ok) roundTrip(new ClientReply.Ok(4, null))).result());

        assertEquals(new ClientReply.NotLeader(5, "g-1", "node2"), roundTrip(new ClientReply.NotLeader(5, "g-1", "node2")));
        assertEquals(new ClientReply.NotLeader(6, null, null), roundTrip(new ClientReply.NotLeader(6, null, null)));
        String longReason = "x".repeat(100_000); // beyond DataOutputStream.writeUTF's 64 KB
        assertEquals(new ClientReply.Rejected(7, longReason), roundTrip(new ClientReply.Rejected(7, longReason)));

        RaftHost.InboundBatch b = (RaftHost.InboundBatch) roundTrip(new RaftHost.InboundBatch("node3", new byte[]{9, 8}));
        assertEquals("node3", b.fromNode());
        assertArrayEquals(new byte[]{9, 8}, b.payload());
    }

    @Test
    void clientBatchesKeepEveryRequestAndItsOwnReplyTo() throws Exception {
        TestProbe<ClientReply> a = KIT.createTestProbe();
        TestProbe<ClientReply> b = KIT.createTestProbe();
        RaftHost.ClientBatch batch = new RaftHost.ClientBatch(java.util.List.of(
                new RaftHost.ClientPropose("g-1", 11, 0, new byte[0], 1, a.getRef()),
                new RaftHost.ClientRead("g-2", new byte[]{5}, ReadConsistency.LEASE, 2, b.getRef()),
                new RaftHost.ClientPropose("g-1", 11, 1, new byte[]{1, 2}, 3, a.getRef())));
        RaftHost.ClientBatch back = (RaftHost.ClientBatch) roundTrip(batch);
        assertEquals(3, back.requests().size());
        RaftHost.ClientPropose p0 = (RaftHost.ClientPropose) back.requests().get(0);
        RaftHost.ClientRead r1 = (RaftHost.ClientRead) back.requests().get(1);
        RaftHost.ClientPropose p2 = (RaftHost.ClientPropose) back.requests().get(2);
        assertEquals(a.getRef(), p0.replyTo());
        assertEquals(b.getRef(), r1.replyTo());
        assertEquals(a.getRef(), p2.replyTo());
        assertEquals(1, p2.seq());
        assertArrayEquals(new byte[]{1, 2}, p2.command());
        assertEquals(ReadConsistency.LEASE, r1.consistency());
        assertArrayEquals(new byte[]{5}, r1.query());
        assertEquals(2, r1.requestId());

        ClientReply.Batch replies = (ClientReply.Batch) roundTrip(new ClientReply.Batch(java.util.List.of(
                new ClientReply.Ok(1, new byte[]{7}), new ClientReply.NotLeader(2, "g-2", null),
                new ClientReply.Rejected(3, "no"))));
        assertEquals(3, replies.replies().size());
        assertArrayEquals(new byte[]{7}, ((ClientReply.Ok) replies.replies().get(0)).result());
        assertEquals(new ClientReply.NotLeader(2, "g-2", null), replies.replies().get(1));
        assertEquals(new ClientReply.Rejected(3, "no"), replies.replies().get(2));
    }

    @Test
    void malformedBytesAreRefusedNotMisread() {
        Serializer s = SERIALIZATION.serializerByIdentity().apply(RaftWireSerializer.IDENTIFIER);
        RaftWireSerializer wire = (RaftWireSerializer) s;
        byte[] ok = wire.toBinary(new ClientReply.Ok(1, new byte[]{1, 2, 3, 4}));
        byte[] truncated = Arrays.copyOf(ok, ok.length - 6);
        assertThrows(NotSerializableException.class, () -> wire.fromBinary(truncated, RaftWireSerializer.OK));
        byte[] shortPayload = Arrays.copyOf(ok, ok.length - 2); // the length says 4 bytes, 2 are there
        assertThrows(NotSerializableException.class, () -> wire.fromBinary(shortPayload, RaftWireSerializer.OK));
        assertThrows(NotSerializableException.class, () -> wire.fromBinary(ok, "?"));
        byte[] replies = wire.toBinary(new ClientReply.Batch(java.util.List.of(new ClientReply.Ok(1, new byte[]{1}))));
        replies[3] = 100; // a count of 100 replies in a dozen bytes
        assertThrows(NotSerializableException.class, () -> wire.fromBinary(replies, RaftWireSerializer.REPLY_BATCH));
        assertInstanceOf(ClientReply.Ok.class, assertDoesNotThrowResult(() -> wire.fromBinary(ok, RaftWireSerializer.OK)));

        // the same refusals through a byte buffer, as Artery reads
        assertThrows(NotSerializableException.class,
                () -> wire.fromBinary(ByteBuffer.wrap(shortPayload), RaftWireSerializer.OK));
        assertThrows(NotSerializableException.class,
                () -> wire.fromBinary(ByteBuffer.wrap(replies), RaftWireSerializer.REPLY_BATCH));
        // a message larger than the buffer fails to serialize instead of being cut off
        assertThrows(BufferOverflowException.class,
                () -> wire.toBinary(new RaftHost.InboundBatch("node1", new byte[100]), ByteBuffer.allocate(64)));
    }

    private interface Call {
        Object run() throws Exception;
    }

    private static Object assertDoesNotThrowResult(Call c) {
        try {
            return c.run();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
