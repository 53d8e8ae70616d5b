package io.consensusactors.testkit.linearizability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consensusactors.testkit.linearizability.CheckResult.Verdict;
import io.consensusactors.testkit.linearizability.KvModel.Op;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

class HistoryRecorderTest {
    private static final KvModel MODEL = new KvModel();

    /** A store whose per-key operations are atomic (ConcurrentHashMap.compute), hence linearizable. */
    private static String apply(Map<String, String> store, Op op) {
        AtomicReference<String> out = new AtomicReference<>();
        store.compute(op.key(), (k, v) -> {
            String cur = v == null ? KvModel.ABSENT : v;
            if (op instanceof KvModel.Put p) {
                out.set(cur);
                return p.value();
            }
            if (op instanceof KvModel.Cas c) {
                boolean swap = cur.equals(c.expect());
                out.set(Boolean.toString(swap));
                return swap ? c.update() : v;
            }
            out.set(cur);
            return v;
        });
        return out.get();
    }

    @Test
    void concurrentThreadsRecordEveryOperationAndALinearizableStorePasses() throws Exception {
        int threads = 8;
        int perThread = 1500;
        HistoryRecorder<Op, String> recorder = new HistoryRecorder<>();
        Map<String, String> store = new ConcurrentHashMap<>();
        CyclicBarrier start = new CyclicBarrier(threads);
        List<Thread> workers = new ArrayList<>();
        int[] failed = new int[threads];
        for (int t = 0; t < threads; t++) {
            int client = t;
            Thread w = new Thread(() -> {
                Random rng = new Random(client);
                try {
                    start.await();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                for (int i = 0; i < perThread; i++) {
                    String key = "k" + rng.nextInt(20);
                    int kind = rng.nextInt(10);
                    Op op = kind < 4 ? Op.get(key) : kind < 8 ? Op.put(key, client + "-" + i)
                            : Op.cas(key, store.getOrDefault(key, ""), client + "-" + i);
                    HistoryRecorder.Pending<Op, String> p = recorder.invoke(client, op);
                    int fate = rng.nextInt(100);
                    if (fate == 0) {
                        p.fail(); // rejected before reaching the store: never took effect
                        failed[client]++;
                        continue;
                    }
                    String out = apply(store, op);
                    if (fate == 1) {
                        p.unknown(); // took effect, answer lost
                    } else {
                        p.ok(out);
                    }
                    p.ok("ignored: only the first completion counts");
                }
            });
            workers.add(w);
            w.start();
        }
        for (Thread w : workers) {
            w.join();
        }
        int totalFailed = 0;
        for (int f : failed) {
            totalFailed += f;
        }
        List<Operation<Op, String>> history = recorder.history();
        assertEquals(threads * perThread - totalFailed, history.size());
        assertEquals(history.size(), recorder.size());
        for (Operation<Op, String> o : history) {
            assertTrue(o.pending() || !o.output().startsWith("ignored"), o.toString());
        }
        CheckResult r = LinearizabilityChecker.check(MODEL, history, Duration.ofSeconds(60));
        System.out.println("recorded " + history.size() + " operations from " + threads + " threads: " + r);
        assertEquals(Verdict.OK, r.verdict(), r.explanation());
    }

    @Test
    void staleReadFromALaggingReplicaIsCaughtAcrossThreads() throws Exception {
        HistoryRecorder<Op, String> recorder = new HistoryRecorder<>();
        Map<String, String> primary = new ConcurrentHashMap<>();
        Map<String, String> replica = new ConcurrentHashMap<>(); // never refreshed: reads are stale
        Thread writer = new Thread(() -> {
            HistoryRecorder.Pending<Op, String> p = recorder.invoke(0, Op.put("x", "1"));
            p.ok(apply(primary, Op.put("x", "1")));
        });
        writer.start();
        writer.join(); // the write returned before the read is called
        Thread reader = new Thread(() -> {
            HistoryRecorder.Pending<Op, String> p = recorder.invoke(1, Op.get("x"));
            p.ok(apply(replica, Op.get("x")));
        });
        reader.start();
        reader.join();
        CheckResult r = LinearizabilityChecker.check(MODEL, recorder.history());
        assertEquals(Verdict.ILLEGAL, r.verdict());
        assertTrue(r.explanation().contains("key=x"), r.explanation());
    }

    @Test
    void stillOpenOperationsAreUnknownAndFailedOnesAreLeftOut() {
        HistoryRecorder<Op, String> recorder = HistoryRecorder.withClock(System::nanoTime);
        HistoryRecorder.Pending<Op, String> done = recorder.invoke(0, Op.put("k", "a"));
        done.ok("");
        HistoryRecorder.Pending<Op, String> rejected = recorder.invoke(1, Op.put("k", "b"));
        rejected.fail();
        rejected.ok("too late");
        recorder.invoke(2, Op.put("k", "c")); // never answered
        List<Operation<Op, String>> h = recorder.history();
        assertEquals(2, h.size());
        assertTrue(h.get(0).callTime() <= h.get(0).returnTime());
        assertEquals("", h.get(0).output());
        assertTrue(h.get(1).pending() && h.get(1).output() == null && h.get(1).clientId() == 2);
    }
}
