package io.consensusactors.testkit.linearizability;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Generates KV histories that are linearizable by construction: {@code clients} clients, each with at most one
 * operation outstanding, run against a real sequential map. Every operation is called at some tick, takes effect
 * atomically at a later tick (its linearization point, where its output is computed from the map) and returns at
 * a later tick still, so the intervals overlap at random. Some operations end with an unknown outcome: lost before
 * taking effect, or after (the effect stays). Put values are unique, so a read of a value that was never written,
 * or that was written only after the read returned, is provably illegal.
 */
final class KvHistoryGenerator {
    /** The history and, per put value, the call time of its put (for provable corruptions). */
    record Generated(List<Operation<KvModel.Op, String>> history, Map<String, Long> putCalledAt) {
    }

    private KvHistoryGenerator() {
    }

    static Generated generate(Random rng, int clients, int keys, int operations, double unknownRate) {
        Map<String, String> store = new HashMap<>();
        Map<String, Long> putCalledAt = new HashMap<>();
        List<Operation<KvModel.Op, String>> history = new ArrayList<>(operations);
        KvModel.Op[] op = new KvModel.Op[clients];
        long[] called = new long[clients];
        String[] output = new String[clients];
        boolean[] applied = new boolean[clients];
        int[] counter = new int[clients];
        int started = 0;
        int open = 0;
        long now = 0;
        while (started < operations || open > 0) {
            now++;
            int c = rng.nextInt(clients);
            if (op[c] == null) {
                if (started == operations) {
                    continue;
                }
                String key = "k" + rng.nextInt(keys);
                int kind = rng.nextInt(10);
                if (kind < 4) {
                    op[c] = KvModel.Op.get(key);
                } else if (kind < 8) {
                    String value = "c" + c + "-" + (++counter[c]);
                    op[c] = KvModel.Op.put(key, value);
                    putCalledAt.put(value, now);
                } else {
                    String expect = rng.nextBoolean() ? store.getOrDefault(key, KvModel.ABSENT) : "c" + rng.nextInt(clients)
                            + "-" + rng.nextInt(Math.max(1, counter[c]) + 1);
                    String value = "c" + c + "-" + (++counter[c]);
                    op[c] = KvModel.Op.cas(key, expect, value);
                    putCalledAt.put(value, now);
                }
                called[c] = now;
                applied[c] = false;
                started++;
                open++;
            } else if (!applied[c]) {
                if (rng.nextDouble() < unknownRate) { // lost before taking effect
                    history.add(Operation.unknown(c, op[c], called[c]));
                    op[c] = null;
                    open--;
                    continue;
                }
                output[c] = apply(store, op[c]);
                applied[c] = true;
            } else {
                if (rng.nextDouble() < unknownRate) { // took effect, answer lost
                    history.add(Operation.unknown(c, op[c], called[c]));
                } else {
                    history.add(new Operation<>(c, op[c], called[c], output[c], now));
                }
                op[c] = null;
                open--;
            }
        }
        return new Generated(history, putCalledAt);
    }

    private static String apply(Map<String, String> store, KvModel.Op op) {
        String current = store.getOrDefault(op.key(), KvModel.ABSENT);
        if (op instanceof KvModel.Put put) {
            store.put(put.key(), put.value());
            return current;
        }
        if (op instanceof KvModel.Cas cas) {
            boolean swap = current.equals(cas.expect());
            if (swap) {
                store.put(cas.key(), cas.update());
            }
            return Boolean.toString(swap);
        }
        return current;
    }
}
