package io.consensusactors.statemachine;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Exactly-once client sessions inside the replicated state (Raft dissertation §6.3), usable by any engine: wraps a
 * user {@link StateMachine} and keeps, per client, the sequence number and result of its latest request.
 *
 * <ul>
 *   <li>A client opens a session with an entry of sequence number 0 (its client id chosen at random), then numbers
 *   its requests 1, 2, 3… with at most one outstanding at a time; a retry reuses the number.</li>
 *   <li>A request whose number equals the session's latest is a retry: it is answered from the table and never
 *   applied again. An older number is answered {@link Outcome#STALE}.</li>
 *   <li>Sessions are bounded ({@code maxSessions}, least recently used evicted first) and expire when unused for
 *   {@code expireAfterEntries} log entries. Both decisions depend only on the applied log, so every replica makes
 *   them identically. A request on an unknown (expired) session is answered {@link Outcome#SESSION_EXPIRED} and not
 *   applied: its earlier attempt may or may not have been, and the client must say so rather than guess.</li>
 * </ul>
 */
public final class SessionStateMachine {

    /** What happened to a request. */
    public enum Outcome { APPLIED, DUPLICATE, STALE, SESSION_EXPIRED, SESSION_OPENED }

    /** The answer to one applied entry. */
    public record Result(Outcome outcome, byte[] value) {
        public boolean ok() {
            return outcome == Outcome.APPLIED || outcome == Outcome.DUPLICATE || outcome == Outcome.SESSION_OPENED;
        }
    }

    private record Session(long seq, byte[] result, long lastIndex) {
    }

    private static final byte[] EMPTY = new byte[0];

    private final StateMachine machine;
    private final int maxSessions;
    private final long expireAfterEntries;
    /** Insertion order = order of last use, since every use removes and re-inserts. */
    private final LinkedHashMap<Long, Session> sessions = new LinkedHashMap<>();
    private long appliedIndex;

    public SessionStateMachine(StateMachine machine, int maxSessions, long expireAfterEntries) {
        if (maxSessions < 1 || expireAfterEntries < 1) {
            throw new IllegalArgumentException("maxSessions and expireAfterEntries must be positive");
        }
        this.machine = machine;
        this.maxSessions = maxSessions;
        this.expireAfterEntries = expireAfterEntries;
    }

    public StateMachine machine() {
        return machine;
    }

    public long appliedIndex() {
        return appliedIndex;
    }

    public int sessionCount() {
        return sessions.size();
    }

    /** Applies a committed entry. {@code clientId == 0}: no session, applied as is. */
    public Result apply(long index, long clientId, long seq, byte[] command) {
        appliedIndex = index;
        expire(index);
        if (clientId == 0) {
            return new Result(Outcome.APPLIED, machine.apply(index, command));
        }
        Session s = sessions.get(clientId);
        if (seq == 0) {
            if (s == null) {
                touch(clientId, new Session(0, EMPTY, index));
            }
            return new Result(Outcome.SESSION_OPENED, EMPTY);
        }
        if (s == null) {
            return new Result(Outcome.SESSION_EXPIRED, EMPTY);
        }
        if (seq == s.seq) {
            touch(clientId, new Session(s.seq, s.result, index));
            return new Result(Outcome.DUPLICATE, s.result);
        }
        if (seq < s.seq) {
            return new Result(Outcome.STALE, EMPTY);
        }
        byte[] result = machine.apply(index, command);
        touch(clientId, new Session(seq, result, index));
        return new Result(Outcome.APPLIED, result);
    }

    /**
     * What applying (clientId, seq) would do now, without applying it: {@link Outcome#APPLIED} if it is new,
     * {@link Outcome#DUPLICATE} with the cached result, {@link Outcome#STALE} or {@link Outcome#SESSION_EXPIRED}.
     * A leader uses it to answer retries without proposing them again.
     */
    public Result precheck(long clientId, long seq) {
        if (clientId == 0) {
            return new Result(Outcome.APPLIED, EMPTY);
        }
        Session s = sessions.get(clientId);
        if (seq == 0) {
            return new Result(s == null ? Outcome.APPLIED : Outcome.SESSION_OPENED, EMPTY);
        }
        if (s == null) {
            return new Result(Outcome.SESSION_EXPIRED, EMPTY);
        }
        if (seq == s.seq) {
            return new Result(Outcome.DUPLICATE, s.result);
        }
        return seq < s.seq ? new Result(Outcome.STALE, EMPTY) : new Result(Outcome.APPLIED, EMPTY);
    }

    /** Advances the applied index past an entry that carries no command (no-op, configuration). */
    public void skip(long index) {
        appliedIndex = index;
        expire(index);
    }

    public byte[] query(byte[] query) {
        return machine.query(query);
    }

    private void touch(long clientId, Session s) {
        sessions.remove(clientId);
        sessions.put(clientId, s);
        while (sessions.size() > maxSessions) {
            Iterator<Long> it = sessions.keySet().iterator();
            it.next();
            it.remove();
        }
    }

    private void expire(long index) {
        Iterator<Map.Entry<Long, Session>> it = sessions.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<Long, Session> e = it.next();
            if (e.getValue().lastIndex >= index - expireAfterEntries) {
                break; // ordered by last use: the rest are younger
            }
            it.remove();
        }
    }

    /** Snapshot of the sessions and the user state, consistent at {@link #appliedIndex()}. */
    public byte[] snapshot() {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeLong(appliedIndex);
            out.writeInt(sessions.size());
            for (Map.Entry<Long, Session> e : sessions.entrySet()) {
                out.writeLong(e.getKey());
                out.writeLong(e.getValue().seq);
                out.writeLong(e.getValue().lastIndex);
                out.writeInt(e.getValue().result.length);
                out.write(e.getValue().result);
            }
            byte[] user = machine.snapshot();
            out.writeInt(user.length);
            out.write(user);
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public void restore(byte[] snapshot) {
        sessions.clear();
        if (snapshot.length == 0) {
            appliedIndex = 0;
            machine.restore(EMPTY);
            return;
        }
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(snapshot));
            appliedIndex = in.readLong();
            int n = in.readInt();
            for (int i = 0; i < n; i++) {
                long client = in.readLong();
                long seq = in.readLong();
                long last = in.readLong();
                byte[] result = in.readNBytes(in.readInt());
                sessions.put(client, new Session(seq, result, last));
            }
            machine.restore(in.readNBytes(in.readInt()));
        } catch (IOException e) {
            throw new IllegalArgumentException("corrupt session snapshot", e);
        }
    }
}
