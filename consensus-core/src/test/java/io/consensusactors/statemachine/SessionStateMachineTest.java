package io.consensusactors.statemachine;

import io.consensusactors.statemachine.SessionStateMachine.Outcome;
import io.consensusactors.statemachine.SessionStateMachine.Result;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Exactly-once client sessions (Raft dissertation §6.3, "Implementing linearizable semantics"): a retried command is
 * answered from the session table and never applied twice, and every decision depends on the applied log only.
 */
class SessionStateMachineTest {

    /** Counts how often commands reach the user state machine, so a second application is visible. */
    static final class CountingKv implements StateMachine {
        final KeyValueStateMachine kv = new KeyValueStateMachine();
        int applied;

        @Override
        public byte[] apply(long index, byte[] command) {
            applied++;
            return kv.apply(index, command);
        }

        @Override
        public byte[] query(byte[] query) {
            return kv.query(query);
        }

        @Override
        public byte[] snapshot() {
            return kv.snapshot();
        }

        @Override
        public void restore(byte[] snapshot) {
            kv.restore(snapshot);
        }
    }

    static String str(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    static SessionStateMachine machine(int maxSessions, long expireAfter) {
        return new SessionStateMachine(new CountingKv(), maxSessions, expireAfter);
    }

    static int appliedCount(SessionStateMachine m) {
        return ((CountingKv) m.machine()).applied;
    }

    /**
     * Dissertation §6.3: "If it receives a command whose serial number has already been executed, it responds
     * immediately without re-executing the request" — with the original result.
     */
    @Test
    void duplicateIsAnsweredFromTheTableAndNotAppliedAgain() {
        SessionStateMachine m = machine(10, 1000);
        m.apply(1, 0, 0, KeyValueStateMachine.put("x", "0")); // a sessionless write
        assertEquals(Outcome.SESSION_OPENED, m.apply(2, 7, 0, null).outcome());
        Result first = m.apply(3, 7, 1, KeyValueStateMachine.put("x", "1"));
        assertEquals(Outcome.APPLIED, first.outcome());
        assertEquals("0", str(first.value()), "PUT returns the previous value");
        assertEquals(Outcome.SESSION_OPENED, m.apply(4, 8, 0, null).outcome()); // another client in between
        m.apply(5, 8, 1, KeyValueStateMachine.put("x", "2"));
        Result retry = m.apply(6, 7, 1, KeyValueStateMachine.put("x", "1")); // the retry, committed again
        assertEquals(Outcome.DUPLICATE, retry.outcome());
        assertTrue(retry.ok());
        assertEquals("0", str(retry.value()), "the original result (a second application would return 2)");
        assertEquals(3, appliedCount(m), "the retry never reached the user state machine");
        assertEquals("2", str(m.query(KeyValueStateMachine.get("x"))), "the retry did not overwrite x");

        assertEquals(Outcome.DUPLICATE, m.precheck(7, 1).outcome(), "a leader can answer the retry without proposing");
        assertArrayEquals(first.value(), m.precheck(7, 1).value());
        assertEquals(Outcome.APPLIED, m.precheck(7, 2).outcome());

        // reopening an existing session does not reset it
        assertEquals(Outcome.SESSION_OPENED, m.apply(7, 7, 0, null).outcome());
        assertEquals(Outcome.DUPLICATE, m.apply(8, 7, 1, KeyValueStateMachine.put("x", "1")).outcome());
    }

    /** A request older than the session's latest is answered STALE: its answer is gone and it must not run. */
    @Test
    void olderSequenceNumberIsStale() {
        SessionStateMachine m = machine(10, 1000);
        m.apply(1, 7, 0, null);
        m.apply(2, 7, 1, KeyValueStateMachine.put("x", "1"));
        m.apply(3, 7, 2, KeyValueStateMachine.put("x", "2"));
        Result late = m.apply(4, 7, 1, KeyValueStateMachine.put("x", "1"));
        assertEquals(Outcome.STALE, late.outcome());
        assertFalse(late.ok());
        assertEquals(Outcome.STALE, m.precheck(7, 1).outcome());
        assertEquals("2", str(m.query(KeyValueStateMachine.get("x"))));
        assertEquals(2, appliedCount(m));
    }

    /**
     * Dissertation §6.3: sessions expire, and "servers must agree on when a client's session expires": expiry is by
     * log index (entries applied since the session was last used), never by a clock, so every replica decides alike.
     * A request on an expired session is refused, not applied: its earlier attempt may or may not have run.
     */
    @Test
    void sessionExpiryIsDeterministicByLogIndex() {
        SessionStateMachine m = machine(10, 5);
        m.apply(1, 7, 0, null);
        m.apply(2, 7, 1, KeyValueStateMachine.put("x", "1")); // last use at index 2
        for (long i = 3; i <= 7; i++) {
            m.skip(i); // no-ops / other traffic
        }
        assertEquals(1, m.sessionCount(), "at index 7, last use 2 >= 7 - 5: still alive");
        m.skip(8);
        assertEquals(0, m.sessionCount(), "at index 8, unused for more than 5 entries: expired");
        Result r = m.apply(9, 7, 2, KeyValueStateMachine.put("x", "2"));
        assertEquals(Outcome.SESSION_EXPIRED, r.outcome());
        assertEquals("1", str(m.query(KeyValueStateMachine.get("x"))), "not applied");
        assertEquals(Outcome.SESSION_EXPIRED, m.apply(10, 7, 1, KeyValueStateMachine.put("x", "1")).outcome(),
                "a retry after expiry is refused rather than applied twice");
        assertEquals(1, appliedCount(m));

        // using a session keeps it alive
        SessionStateMachine busy = machine(10, 5);
        busy.apply(1, 7, 0, null);
        for (long i = 2; i <= 40; i++) {
            busy.apply(i, 7, i - 1, KeyValueStateMachine.put("k", "v" + i));
        }
        assertEquals(1, busy.sessionCount());
    }

    /** Two replicas applying the same log (with different timing, which they never see) end byte-identical. */
    @Test
    void replicasApplyingTheSameLogAgreeOnEverySessionDecision() {
        Random rnd = new Random(2024);
        List<long[]> log = new ArrayList<>(); // {clientId, seq}
        long[] nextSeq = new long[6];
        for (int i = 0; i < 3000; i++) {
            int c = rnd.nextInt(6);
            if (c == 0) {
                log.add(new long[]{0, 0});
            } else if (nextSeq[c] == 0 || rnd.nextInt(50) == 0) {
                log.add(new long[]{c, 0});
                nextSeq[c] = Math.max(nextSeq[c], 1);
            } else {
                int kind = rnd.nextInt(8);
                long seq = kind == 0 ? nextSeq[c] - 1 : kind == 1 ? nextSeq[c] - 2 : nextSeq[c]++; // retry, late, new
                log.add(new long[]{c, Math.max(seq, 1)});
            }
        }
        SessionStateMachine r1 = machine(3, 40);
        SessionStateMachine r2 = machine(3, 40);
        List<Outcome> o1 = new ArrayList<>();
        List<Outcome> o2 = new ArrayList<>();
        for (int i = 0; i < log.size(); i++) {
            long[] e = log.get(i);
            byte[] cmd = KeyValueStateMachine.put("k" + e[0], "v" + i);
            o1.add(r1.apply(i + 1, e[0], e[1], cmd).outcome());
            if (i == 1500) {
                // r2 restarts from r1's snapshot half way (a lagging replica that installed a snapshot)
                r2 = machine(3, 40);
                r2.restore(r1.snapshot());
                o2 = new ArrayList<>(o1);
                continue;
            }
            o2.add(r2.apply(i + 1, e[0], e[1], cmd).outcome());
        }
        assertEquals(o1, o2, "identical outcomes on every entry");
        assertArrayEquals(r1.snapshot(), r2.snapshot(), "identical state and session tables");
        assertTrue(o1.contains(Outcome.SESSION_EXPIRED) && o1.contains(Outcome.DUPLICATE) && o1.contains(Outcome.STALE),
                "the log exercises every outcome: " + new TreeSet<>(o1));
    }

    /** Sessions are bounded: beyond maxSessions the least recently used one is evicted (deterministically). */
    @Test
    void leastRecentlyUsedSessionIsEvictedBeyondTheBound() {
        SessionStateMachine m = machine(2, 1_000_000);
        m.apply(1, 1, 0, null);
        m.apply(2, 2, 0, null);
        m.apply(3, 1, 1, KeyValueStateMachine.put("a", "1")); // client 1 used last: client 2 is the LRU
        m.apply(4, 3, 0, null);
        assertEquals(2, m.sessionCount());
        assertEquals(Outcome.SESSION_EXPIRED, m.apply(5, 2, 1, KeyValueStateMachine.put("b", "1")).outcome(),
                "client 2 was evicted");
        assertEquals(Outcome.DUPLICATE, m.apply(6, 1, 1, KeyValueStateMachine.put("a", "1")).outcome(),
                "client 1 kept its table");
        assertEquals(Outcome.APPLIED, m.apply(7, 3, 1, KeyValueStateMachine.put("c", "1")).outcome());
        // a duplicate counts as a use, but client 3 (index 7) was used after client 1 (index 6): a new client evicts 1
        m.apply(8, 4, 0, null);
        assertEquals(Outcome.SESSION_EXPIRED, m.precheck(1, 2).outcome());
        assertEquals(Outcome.DUPLICATE, m.precheck(3, 1).outcome());
    }

    /** Snapshots carry the session table (dissertation §6.3: sessions are part of the replicated state). */
    @Test
    void snapshotAndRestoreRoundTrip() {
        SessionStateMachine m = machine(10, 100);
        m.apply(1, 7, 0, null);
        Result put = m.apply(2, 7, 1, KeyValueStateMachine.put("x", "1"));
        m.apply(3, 7, 2, KeyValueStateMachine.put("x", "2"));
        m.apply(4, 9, 0, null);
        m.apply(5, 9, 1, KeyValueStateMachine.cas("x", "2", "3"));
        byte[] snap = m.snapshot();

        SessionStateMachine copy = machine(10, 100);
        copy.apply(1, 5, 0, null); // whatever it held before is replaced
        copy.restore(snap);
        assertEquals(5, copy.appliedIndex());
        assertEquals(2, copy.sessionCount());
        assertEquals("3", str(copy.query(KeyValueStateMachine.get("x"))));
        assertArrayEquals(snap, copy.snapshot(), "restore(snapshot()) is the identity");
        Result dup = copy.apply(6, 9, 1, KeyValueStateMachine.cas("x", "2", "3"));
        assertEquals(Outcome.DUPLICATE, dup.outcome());
        assertEquals("true", str(dup.value()), "the cached result survives the snapshot");
        assertEquals(Outcome.STALE, copy.apply(7, 7, 1, KeyValueStateMachine.put("x", "1")).outcome());
        assertEquals(Outcome.SESSION_EXPIRED, copy.precheck(5, 1).outcome(), "the pre-restore session is gone");
        assertTrue(put.ok());

        // expiry keeps working from the restored last-use indexes
        for (long i = 8; i <= 103; i++) {
            copy.skip(i);
        }
        assertEquals(2, copy.sessionCount(), "client 7 (last use 3) and client 9 (last use 6) are within 100 entries");
        copy.skip(104);
        assertEquals(1, copy.sessionCount(), "client 7 (last use 3) expired at 104, client 9 (last use 6) not");

        SessionStateMachine empty = machine(10, 100);
        empty.restore(new byte[0]);
        assertEquals(0, empty.appliedIndex());
        assertEquals(0, empty.sessionCount());
    }

    @Test
    void rejectsNonsenseBounds() {
        assertThrows(IllegalArgumentException.class, () -> machine(0, 10));
        assertThrows(IllegalArgumentException.class, () -> machine(10, 0));
        assertThrows(IllegalArgumentException.class, () -> new SessionStateMachine(new KeyValueStateMachine(), 1, 1)
                .restore(new byte[]{1, 2, 3}));
    }
}
