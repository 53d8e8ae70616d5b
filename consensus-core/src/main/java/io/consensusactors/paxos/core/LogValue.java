package io.consensusactors.paxos.core;

import java.util.Arrays;

/**
 * The value of one Multi-Paxos log slot: a client command or a no-op (used to fill gaps, "Paxos Made Simple" §3).
 * A command carries its client session id and sequence number ({@link
 * io.consensusactors.statemachine.SessionStateMachine}) so that a command chosen in two slots (a retry after a leader
 * change) is applied once. {@code clientId == 0} means no session.
 */
public record LogValue(long clientId, long sequence, byte[] payload) {

    public static final LogValue NOOP = new LogValue(0, 0, null);

    public static LogValue command(long clientId, long sequence, byte[] payload) {
        if (payload == null) {
            throw new IllegalArgumentException("a command needs a payload (null is the no-op)");
        }
        return new LogValue(clientId, sequence, payload);
    }

    public boolean isNoop() {
        return payload == null;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LogValue v && clientId == v.clientId && sequence == v.sequence
                && Arrays.equals(payload, v.payload);
    }

    @Override
    public int hashCode() {
        return (Long.hashCode(clientId) * 31 + Long.hashCode(sequence)) * 31 + Arrays.hashCode(payload);
    }

    @Override
    public String toString() {
        return isNoop() ? "noop" : "cmd(" + clientId + "#" + sequence + ", " + payload.length + "B)";
    }
}
