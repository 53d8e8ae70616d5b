package io.consensusactors.sharding.kademlia;

import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The 160-bit id and the XOR metric (Kademlia §2.1), checked against BigInteger arithmetic. */
class NodeIdTest {

    static BigInteger big(NodeId id) {
        return new BigInteger(1, id.toBytes());
    }

    @Test
    void sha1MatchesTheFips180Vector() {
        assertEquals("a9993e364706816aba3e25717850c26c9cd0d89d", NodeId.sha1("abc").hex());
    }

    @Test
    void bytesAndHexRoundTrip() {
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < 1000; i++) {
            NodeId id = NodeId.random(r);
            assertEquals(id, NodeId.fromBytes(id.toBytes()));
            assertEquals(id, NodeId.fromHex(id.hex()));
            assertEquals(id.hex(), String.format("%040x", big(id)));
        }
        assertThrows(IllegalArgumentException.class, () -> new NodeId(1L << 32, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> NodeId.fromBytes(new byte[19]));
    }

    @Test
    void xorIsAMetricAndOrderingAgreesWithUnsigned160BitIntegers() {
        SplittableRandom r = new SplittableRandom(2);
        for (int i = 0; i < 5000; i++) {
            NodeId x = NodeId.random(r);
            NodeId y = NodeId.random(r);
            NodeId z = i % 7 == 0 ? x.flip(r.nextInt(160)) : NodeId.random(r);
            assertEquals(NodeId.ZERO, x.xor(x), "d(x, x) = 0");
            assertEquals(x.xor(y), y.xor(x), "d(x, y) = d(y, x)");
            assertTrue(big(x.xor(z)).compareTo(big(x.xor(y)).add(big(y.xor(z)))) <= 0, "triangle inequality");
            assertEquals(Integer.signum(big(x).compareTo(big(y))), Integer.signum(x.compareTo(y)));
            assertEquals(Integer.signum(big(x.xor(z)).compareTo(big(y.xor(z)))),
                    Integer.signum(NodeId.compareDistance(x, y, z)));
            assertEquals(big(x.xor(y)).bitLength() - 1, x.bucketIndex(y), "bucket = highest differing bit");
        }
    }

    @Test
    void randomIdInBucketFallsInThatBucket() {
        SplittableRandom r = new SplittableRandom(3);
        NodeId self = NodeId.random(r);
        for (int i = 0; i < NodeId.BITS; i++) {
            for (int j = 0; j < 20; j++) {
                assertEquals(i, self.bucketIndex(self.randomInBucket(i, r)));
            }
        }
        assertEquals(-1, self.bucketIndex(self));
        assertArrayEquals(new byte[20], NodeId.ZERO.toBytes());
    }
}
