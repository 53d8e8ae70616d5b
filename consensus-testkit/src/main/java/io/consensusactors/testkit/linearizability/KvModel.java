package io.consensusactors.testkit.linearizability;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A map of independent registers, checked key by key. Absent values read as {@code ""}.
 * <ul>
 *   <li>{@code put(key, value)} returns the previous value (or null if the caller does not know it);</li>
 *   <li>{@code get(key)} returns the value;</li>
 *   <li>{@code cas(key, expect, update)} returns "true" (and sets update) iff the value was expect, else "false".</li>
 * </ul>
 */
public final class KvModel implements Model<String, KvModel.Op, String> {

    public enum Kind { PUT, GET, CAS }

    public record Op(Kind kind, String key, String value, String expect) {
        public static Op put(String key, String value) {
            return new Op(Kind.PUT, key, value, null);
        }

        public static Op get(String key) {
            return new Op(Kind.GET, key, null, null);
        }

        public static Op cas(String key, String expect, String update) {
            return new Op(Kind.CAS, key, update, expect);
        }

        @Override
        public String toString() {
            return switch (kind) {
                case PUT -> "put(" + key + "=" + value + ")";
                case GET -> "get(" + key + ")";
                case CAS -> "cas(" + key + ": " + expect + "->" + value + ")";
            };
        }
    }

    @Override
    public String init() {
        return "";
    }

    @Override
    public String step(String state, Op op, String output) {
        switch (op.kind()) {
            case PUT:
                return output == null || output.equals(state) ? op.value() : null;
            case GET:
                return output == null || output.equals(state) ? state : null;
            default:
                boolean swapped = state.equals(op.expect());
                if (output != null && !output.equals(Boolean.toString(swapped))) {
                    return null;
                }
                return swapped ? op.value() : state;
        }
    }

    @Override
    public List<List<Operation<Op, String>>> partition(List<Operation<Op, String>> history) {
        Map<String, List<Operation<Op, String>>> byKey = new LinkedHashMap<>();
        for (Operation<Op, String> o : history) {
            byKey.computeIfAbsent(Objects.requireNonNull(o.input().key()), k -> new ArrayList<>()).add(o);
        }
        return new ArrayList<>(byKey.values());
    }
}
