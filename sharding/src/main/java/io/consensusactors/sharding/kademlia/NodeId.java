package io.consensusactors.sharding.kademlia;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.random.RandomGenerator;

/**
 * A 160-bit Kademlia identifier (Maymounkov &amp; Mazières, §2), kept in three longs: {@code high} holds bits
 * 159..128 in its low 32 bits, {@code middle} bits 127..64, {@code low} bits 63..0. Compared as an unsigned
 * 160-bit integer. The distance between two ids is their XOR, itself a {@code NodeId}.
 *
 * <p>A record so that messages carrying ids serialize with Jackson without annotations.
 */
public record NodeId(long high, long middle, long low) implements Comparable<NodeId> {

    public static final int BITS = 160;
    public static final NodeId ZERO = new NodeId(0, 0, 0);

    public NodeId {
        if ((high >>> 32) != 0) {
            throw new IllegalArgumentException("a node id has 160 bits: the high word must fit in 32 bits, was "
                    + Long.toHexString(high));
        }
    }

    /** The standard Kademlia id of a key or a node name: the SHA-1 of its bytes. */
    public static NodeId sha1(byte[] bytes) {
        try {
            return fromBytes(MessageDigest.getInstance("SHA-1").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform must provide SHA-1", e);
        }
    }

    public static NodeId sha1(String text) {
        return sha1(text.getBytes(StandardCharsets.UTF_8));
    }

    /** From 20 big-endian bytes. */
    public static NodeId fromBytes(byte[] b) {
        if (b.length != 20) {
            throw new IllegalArgumentException("a node id is 20 bytes, got " + b.length);
        }
        long h = 0;
        for (int i = 0; i < 4; i++) {
            h = (h << 8) | (b[i] & 0xFF);
        }
        long m = 0;
        for (int i = 4; i < 12; i++) {
            m = (m << 8) | (b[i] & 0xFF);
        }
        long l = 0;
        for (int i = 12; i < 20; i++) {
            l = (l << 8) | (b[i] & 0xFF);
        }
        return new NodeId(h, m, l);
    }

    public static NodeId random(RandomGenerator random) {
        return new NodeId(random.nextLong() >>> 32, random.nextLong(), random.nextLong());
    }

    /** From 40 hex digits (as printed by {@link #toString}). */
    public static NodeId fromHex(String hex) {
        if (hex.length() != 40) {
            throw new IllegalArgumentException("a node id is 40 hex digits, got '" + hex + "'");
        }
        return new NodeId(Long.parseUnsignedLong(hex.substring(0, 8), 16),
                Long.parseUnsignedLong(hex.substring(8, 24), 16), Long.parseUnsignedLong(hex.substring(24), 16));
    }

    public byte[] toBytes() {
        byte[] b = new byte[20];
        for (int i = 0; i < 4; i++) {
            b[i] = (byte) (high >>> (8 * (3 - i)));
        }
        for (int i = 0; i < 8; i++) {
            b[4 + i] = (byte) (middle >>> (8 * (7 - i)));
            b[12 + i] = (byte) (low >>> (8 * (7 - i)));
        }
        return b;
    }

    /** The XOR metric: d(x, y) = x ⊕ y. */
    public NodeId xor(NodeId other) {
        return new NodeId(high ^ other.high, middle ^ other.middle, low ^ other.low);
    }

    /** Bit {@code i} (0 = least significant, 159 = most significant). */
    public boolean bit(int i) {
        if (i < 64) {
            return ((low >>> i) & 1) != 0;
        }
        if (i < 128) {
            return ((middle >>> (i - 64)) & 1) != 0;
        }
        return ((high >>> (i - 128)) & 1) != 0;
    }

    /** This id with bit {@code i} flipped. */
    public NodeId flip(int i) {
        if (i < 64) {
            return new NodeId(high, middle, low ^ (1L << i));
        }
        if (i < 128) {
            return new NodeId(high, middle ^ (1L << (i - 64)), low);
        }
        return new NodeId(high ^ (1L << (i - 128)), middle, low);
    }

    /**
     * The index of the k-bucket that {@code other} falls into as seen from this id: the position of the highest bit
     * in which they differ (bucket {@code i} holds distances in [2^i, 2^(i+1))), or -1 if the ids are equal.
     */
    public int bucketIndex(NodeId other) {
        long h = high ^ other.high;
        if (h != 0) {
            return 191 - Long.numberOfLeadingZeros(h);
        }
        long m = middle ^ other.middle;
        if (m != 0) {
            return 127 - Long.numberOfLeadingZeros(m);
        }
        long l = low ^ other.low;
        return l != 0 ? 63 - Long.numberOfLeadingZeros(l) : -1;
    }

    /**
     * A uniformly random id in bucket {@code i} of this id: same bits above {@code i}, bit {@code i} flipped, random
     * bits below (used by bucket refresh, §2.3).
     */
    public NodeId randomInBucket(int i, RandomGenerator random) {
        NodeId r = random(random);
        // keep our bits above i, flip bit i, random below.
        long maskH = mask(i, 128, 32);
        long maskM = mask(i, 64, 64);
        long maskL = mask(i, 0, 64);
        NodeId mixed = new NodeId((high & ~maskH) | (r.high & maskH), (middle & ~maskM) | (r.middle & maskM),
                (low & ~maskL) | (r.low & maskL));
        return mixed.bit(i) == bit(i) ? mixed.flip(i) : mixed;
    }

    /** Mask of the bits of a word (bits [offset, offset + width)) that lie at or below global bit {@code i}. */
    private static long mask(int i, int offset, int width) {
        int n = i - offset + 1; // bits of this word at or below i
        if (n <= 0) {
            return 0;
        }
        if (n >= width) {
            return width == 64 ? -1L : (1L << width) - 1;
        }
        return (1L << n) - 1;
    }

    /**
     * Compares the distances of {@code a} and {@code b} to {@code target} without allocating: negative if {@code a}
     * is closer.
     */
    public static int compareDistance(NodeId a, NodeId b, NodeId target) {
        int c = Long.compareUnsigned(a.high ^ target.high, b.high ^ target.high);
        if (c != 0) {
            return c;
        }
        c = Long.compareUnsigned(a.middle ^ target.middle, b.middle ^ target.middle);
        if (c != 0) {
            return c;
        }
        return Long.compareUnsigned(a.low ^ target.low, b.low ^ target.low);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NodeId other && low == other.low && middle == other.middle && high == other.high;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(low); // the low 64 bits of a SHA-1 or random id are uniform
    }

    @Override
    public int compareTo(NodeId o) {
        int c = Long.compare(high, o.high); // high is non-negative
        if (c != 0) {
            return c;
        }
        c = Long.compareUnsigned(middle, o.middle);
        return c != 0 ? c : Long.compareUnsigned(low, o.low);
    }

    /** 40 hex digits. */
    public String hex() {
        return String.format("%08x%016x%016x", high, middle, low);
    }

    @Override
    public String toString() {
        return hex();
    }
}
