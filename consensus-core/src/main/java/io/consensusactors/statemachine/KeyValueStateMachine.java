package io.consensusactors.statemachine;



import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * A deterministic key/value state machine (example, simulations, benchmarks): PUT k v (returns the previous value), CAS k expect update
 * (returns "true"/"false"), GET k as a query. Values are strings; absent is "".
 */
public final class KeyValueStateMachine implements StateMachine {
    private final TreeMap<String, String> data = new TreeMap<>();

    public static byte[] put(String key, String value) {
        return ("P\u0000" + key + "\u0000" + value).getBytes(StandardCharsets.UTF_8);
    }

    public static byte[] cas(String key, String expect, String update) {
        return ("C\u0000" + key + "\u0000" + expect + "\u0000" + update).getBytes(StandardCharsets.UTF_8);
    }

    public static byte[] get(String key) {
        return key.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public byte[] apply(long index, byte[] command) {
        String[] p = new String(command, StandardCharsets.UTF_8).split("\u0000", -1);
        switch (p[0]) {
            case "P": {
                String prev = data.put(p[1], p[2]);
                return (prev == null ? "" : prev).getBytes(StandardCharsets.UTF_8);
            }
            case "C": {
                String cur = data.getOrDefault(p[1], "");
                boolean ok = cur.equals(p[2]);
                if (ok) {
                    data.put(p[1], p[3]);
                }
                return Boolean.toString(ok).getBytes(StandardCharsets.UTF_8);
            }
            default:
                throw new IllegalArgumentException("unknown command " + p[0]);
        }
    }

    @Override
    public byte[] query(byte[] query) {
        return data.getOrDefault(new String(query, StandardCharsets.UTF_8), "").getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public byte[] snapshot() {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeInt(data.size());
            for (Map.Entry<String, String> e : data.entrySet()) {
                out.writeUTF(e.getKey());
                out.writeUTF(e.getValue());
            }
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void restore(byte[] snapshot) {
        data.clear();
        if (snapshot.length == 0) {
            return;
        }
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(snapshot));
            int n = in.readInt();
            for (int i = 0; i < n; i++) {
                data.put(in.readUTF(), in.readUTF());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Map<String, String> contents() {
        return Map.copyOf(data);
    }
}
