package io.consensusactors.sharding.ring;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Placement is identical on every JVM only if the hash is exactly XXH64: check the reference vectors. */
class XxHash64Test {

    private static long h(String s) {
        return XxHash64.hash(s.getBytes(StandardCharsets.UTF_8), 0);
    }

    @Test
    void matchesReferenceVectors() {
        assertEquals(0xEF46DB3751D8E999L, h(""));
        assertEquals(0xD24EC4F1A98C6E5BL, h("a"));
        assertEquals(0x44BC2CF5AD770999L, h("abc"));
    }

    @Test
    void longInputsUseTheStripedLoopAndEveryTailLength() {
        // Every length 0..100 through both code paths; distinct inputs give distinct hashes and re-hashing is stable.
        java.util.Set<Long> seen = new java.util.HashSet<>();
        StringBuilder sb = new StringBuilder();
        for (int len = 0; len <= 100; len++) {
            String s = sb.toString();
            assertEquals(h(s), h(s));
            seen.add(h(s));
            sb.append((char) ('a' + len % 26));
        }
        assertEquals(101, seen.size());
    }
}
