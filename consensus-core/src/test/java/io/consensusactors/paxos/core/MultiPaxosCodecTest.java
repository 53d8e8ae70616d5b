package io.consensusactors.paxos.core;

import io.consensusactors.paxos.core.MultiPaxosCodec.Envelope;
import io.consensusactors.paxos.core.MultiPaxosMessage.AcceptedEntry;
import io.consensusactors.paxos.core.MultiPaxosMessage.SlotValue;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The wire format of {@link MultiPaxosMessage}: every message type survives encode/decode unchanged (including edge
 * cases: no-ops, empty payloads, empty lists, extreme numbers, non-ASCII group names), and malformed input is
 * rejected with a message naming the problem instead of being decoded into something else.
 */
class MultiPaxosCodecTest {

    static final Ballot B = new Ballot(7, 2);

    static LogValue cmd(String s) {
        return LogValue.command(42, 3, s.getBytes(StandardCharsets.UTF_8));
    }

    static List<MultiPaxosMessage> everyMessageType() {
        return List.of(
                new MultiPaxosMessage.Prepare(B, 1),
                new MultiPaxosMessage.Prepare(Ballot.NONE, Long.MAX_VALUE),
                new MultiPaxosMessage.Promise(B, List.of(), 0),
                new MultiPaxosMessage.Promise(B, List.of(new AcceptedEntry(3, new Ballot(5, 1), cmd("x")),
                        new AcceptedEntry(4, new Ballot(6, 0), LogValue.NOOP)), 2),
                new MultiPaxosMessage.Accept(B, List.of(), 0),
                new MultiPaxosMessage.Accept(B, List.of(new SlotValue(9, cmd("héllo")), new SlotValue(10, LogValue.NOOP),
                        new SlotValue(11, LogValue.command(-1, Long.MAX_VALUE, new byte[0]))), 8),
                new MultiPaxosMessage.Accepted(B, List.of()),
                new MultiPaxosMessage.Accepted(B, List.of(1L, 2L, Long.MAX_VALUE)),
                new MultiPaxosMessage.Nack(B, new Ballot(Long.MAX_VALUE, Long.MIN_VALUE)),
                new MultiPaxosMessage.Learn(List.of()),
                new MultiPaxosMessage.Learn(List.of(new SlotValue(1, cmd("a")), new SlotValue(2, LogValue.NOOP))),
                new MultiPaxosMessage.Heartbeat(B, 12345),
                new MultiPaxosMessage.CatchUp(0),
                new MultiPaxosMessage.Snapshot(100, 120, new byte[]{1, 2, 3, 0, -1}),
                new MultiPaxosMessage.Snapshot(0, 0, new byte[0]));
    }

    @Test
    void everyMessageTypeRoundTripsAlone() {
        for (MultiPaxosMessage m : everyMessageType()) {
            assertEquals(m, MultiPaxosCodec.decode(MultiPaxosCodec.encode(m)), m.toString());
        }
    }

    @Test
    void aBatchRoundTripsWithGroupsAndReplicaIds() {
        List<Envelope> batch = new ArrayList<>();
        int i = 0;
        for (MultiPaxosMessage m : everyMessageType()) {
            batch.add(new Envelope(i % 2 == 0 ? "group-" + i : "grüppe/ü", i % 3, Integer.MAX_VALUE - i, m));
            i++;
        }
        assertEquals(batch, MultiPaxosCodec.decodeBatch(MultiPaxosCodec.encodeBatch(batch)));
        assertEquals(List.of(), MultiPaxosCodec.decodeBatch(MultiPaxosCodec.encodeBatch(List.of())));
    }

    @Test
    void aLargePayloadRoundTrips() {
        byte[] big = new byte[1 << 20];
        new Random(1).nextBytes(big);
        MultiPaxosMessage m = new MultiPaxosMessage.Learn(List.of(new SlotValue(1, LogValue.command(1, 1, big))));
        assertEquals(m, MultiPaxosCodec.decode(MultiPaxosCodec.encode(m)));
    }

    @Test
    void malformedInputIsRejectedWithAClearMessage() {
        byte[] good = MultiPaxosCodec.encodeBatch(List.of(new Envelope("g", 0, 1, new MultiPaxosMessage.Learn(
                List.of(new SlotValue(1, cmd("abc")))))));
        // every strict prefix is truncated input
        for (int len = 0; len < good.length; len++) {
            byte[] cut = Arrays.copyOf(good, len);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> MultiPaxosCodec.decodeBatch(cut), "prefix of " + len + " bytes");
            assertTrue(e.getMessage().startsWith("malformed Multi-Paxos wire data"), e.getMessage());
        }
        byte[] wrongVersion = good.clone();
        wrongVersion[0] = 9;
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MultiPaxosCodec.decodeBatch(wrongVersion))
                .getMessage().contains("unknown wire version 9"));
        byte[] trailing = Arrays.copyOf(good, good.length + 1);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MultiPaxosCodec.decodeBatch(trailing))
                .getMessage().contains("trailing"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MultiPaxosCodec.decode(new byte[]{77}))
                .getMessage().contains("unknown message tag 77"));
        // a huge list length is refused before anything is allocated
        byte[] hugeList = {6, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff};
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MultiPaxosCodec.decode(hugeList))
                .getMessage().contains("list length"));
        byte[] badValueKind = MultiPaxosCodec.encode(new MultiPaxosMessage.Learn(List.of(new SlotValue(1, LogValue.NOOP))));
        badValueKind[badValueKind.length - 1] = 5;
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MultiPaxosCodec.decode(badValueKind))
                .getMessage().contains("unknown value kind 5"));
        byte[] negativeRound = MultiPaxosCodec.encode(new MultiPaxosMessage.CatchUp(1));
        byte[] prepare = MultiPaxosCodec.encode(new MultiPaxosMessage.Prepare(B, 1));
        prepare[1] = (byte) 0x80; // sign bit of the round
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MultiPaxosCodec.decode(prepare))
                .getMessage().contains("negative ballot round"));
        assertEquals(new MultiPaxosMessage.CatchUp(1), MultiPaxosCodec.decode(negativeRound));
    }

    @Test
    void randomMessagesRoundTrip() {
        Random r = new Random(4);
        for (int i = 0; i < 2000; i++) {
            List<SlotValue> values = new ArrayList<>();
            for (int k = r.nextInt(5); k > 0; k--) {
                byte[] p = new byte[r.nextInt(40)];
                r.nextBytes(p);
                values.add(new SlotValue(r.nextLong() & Long.MAX_VALUE,
                        r.nextInt(4) == 0 ? LogValue.NOOP : LogValue.command(r.nextLong(), r.nextLong(), p)));
            }
            Ballot b = new Ballot(r.nextLong() & Long.MAX_VALUE, r.nextLong());
            MultiPaxosMessage m = r.nextBoolean() ? new MultiPaxosMessage.Accept(b, values, r.nextLong())
                    : new MultiPaxosMessage.Learn(values);
            assertEquals(m, MultiPaxosCodec.decode(MultiPaxosCodec.encode(m)));
        }
    }
}
