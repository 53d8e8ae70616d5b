package io.consensusactors.testkit.linearizability;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A map of independent string registers, partitioned (and so checked) key by key; the state of one partition is
 * the value of its key. An absent key reads as {@code ""}. Outputs are strings, as a client sees them:
 * <ul>
 *   <li>{@link Put} returns the previous value ({@code ""} if absent); a null output on a completed put means
 *       "not observed" and only the write is checked;</li>
 *   <li>{@link Get} returns the value;</li>
 *   <li>{@link Cas} returns {@code "true"} (and sets {@code update}) iff the value was {@code expect}, else
 *       {@code "false"}.</li>
 * </ul>
 * Operations of unknown outcome have a null output: a put or cas may or may not have been applied; an unknown get
 * is left out of the check.
 */
public final class KvModel implements Model<String, KvModel.Op, String> {

    /** A key-value operation; every operation concerns exactly one key. */
    public sealed interface Op permits Put, Get, Cas {
        String key();

        static Op put(String key, String value) {
            return new Put(key, value);
        }

        static Op get(String key) {
            return new Get(key);
        }

        static Op cas(String key, String expect, String update) {
            return new Cas(key, expect, update);
        }
    }

    public record Put(String key, String value) implements Op {
        public Put {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "value");
        }

        @Override
        public String toString() {
            return "put(" + key + "=" + value + ")";
        }
    }

    public record Get(String key) implements Op {
        public Get {
            Objects.requireNonNull(key, "key");
        }

        @Override
        public String toString() {
            return "get(" + key + ")";
        }
    }

    public record Cas(String key, String expect, String update) implements Op {
        public Cas {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(expect, "expect");
            Objects.requireNonNull(update, "update");
        }

        @Override
        public String toString() {
            return "cas(" + key + ": " + expect + "->" + update + ")";
        }
    }

    public static final String ABSENT = "";

    @Override
    public String init() {
        return ABSENT;
    }

    @Override
    public String step(String state, Op op, String output) {
        if (op instanceof Put put) {
            return output == null || output.equals(state) ? put.value() : null;
        }
        if (op instanceof Get) {
            return output == null || output.equals(state) ? state : null;
        }
        Cas cas = (Cas) op;
        boolean swapped = state.equals(cas.expect());
        if (output != null && !output.equals(Boolean.toString(swapped))) {
            return null;
        }
        return swapped ? cas.update() : state;
    }

    @Override
    public List<List<Operation<Op, String>>> partition(List<Operation<Op, String>> history) {
        Map<String, List<Operation<Op, String>>> byKey = new LinkedHashMap<>();
        for (Operation<Op, String> o : history) {
            byKey.computeIfAbsent(o.input().key(), k -> new ArrayList<>()).add(o);
        }
        return new ArrayList<>(byKey.values());
    }

    @Override
    public String describe(Op input, String output) {
        return input + " -> " + (output == null ? "?" : "\"" + output + "\"");
    }

    @Override
    public String describePartition(List<Operation<Op, String>> partition) {
        return "key=" + partition.get(0).input().key();
    }

    @Override
    public String describeState(String state) {
        return "\"" + state + "\"";
    }

    @Override
    public boolean readOnly(Op input) {
        return input instanceof Get;
    }
}
