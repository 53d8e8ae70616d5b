package io.consensusactors.entity;

import io.consensusactors.raft.core.ReadConsistency;
import io.consensusactors.testkit.linearizability.HistoryRecorder;
import io.consensusactors.testkit.linearizability.KvModel;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Closed-loop clients on {@link TestRegister}s (keys {@code k0..k<keys-1>}) for the rebalancing tests, in one JVM and
 * across JVMs: 60% puts, each retried until it completes (no put may fail for good), 40% LINEARIZABLE gets; every
 * attempt recorded in a {@link KvModel} history. Afterwards {@link #finalReads} and {@link #assertAcknowledgedPutsSurvive}
 * check that every acknowledged put is the final value or was overwritten by a put that answered it as previous.
 */
public final class RegisterWorkload {

    private final HistoryRecorder<KvModel.Op, String> history = HistoryRecorder.withClock(System::nanoTime);
    private final int keys;
    private final Duration timeout;
    private final Map<String, List<String>> acked = new HashMap<>(); // per key: acknowledged put values
    private final Map<String, Set<String>> overwritten = new HashMap<>(); // per key: previous values answered
    private final Set<String> keysWithUnknown = new TreeSet<>();
    private final AtomicInteger puts = new AtomicInteger();
    private final AtomicInteger gets = new AtomicInteger();
    private final AtomicInteger retries = new AtomicInteger();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<CompletableFuture<Void>> loops = new ArrayList<>();
    private final ExecutorService pool;

    /**
     * Starts {@code clients} loops; client {@code i} addresses entities through {@code via.apply(i)}.
     *
     * @param timeout of one attempt
     */
    public RegisterWorkload(int clients, int keys, Duration timeout, Function<Integer, ConsensusEntities> via) {
        this.keys = keys;
        this.timeout = timeout;
        this.pool = Executors.newFixedThreadPool(clients);
        for (int w = 0; w < clients; w++) {
            int client = w;
            ConsensusEntities entities = via.apply(w);
            loops.add(CompletableFuture.runAsync(() -> loop(client, entities), pool));
        }
    }

    private void loop(int client, ConsensusEntities entities) {
        int n = 0;
        while (running.get()) {
            String key = "k" + ThreadLocalRandom.current().nextInt(keys);
            EntityRef<TestRegister.Command> ref = entities.entityRefFor(TestRegister.TYPE, key);
            if (ThreadLocalRandom.current().nextInt(10) < 6) {
                String value = "w" + client + "-" + n++;
                boolean done = false;
                while (!done) { // a failed put is retried until it completes (a new operation each time)
                    HistoryRecorder.Pending<KvModel.Op, String> op = history.invoke(client, KvModel.Op.put(key, value));
                    try {
                        TestRegister.Value prev = ref.<TestRegister.Value>ask(new TestRegister.Put(value))
                                .toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                        op.ok(prev.value());
                        synchronized (acked) {
                            acked.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
                            overwritten.computeIfAbsent(key, k -> new TreeSet<>()).add(prev.value());
                        }
                        puts.incrementAndGet();
                        done = true;
                    } catch (Exception e) {
                        op.unknown();
                        synchronized (acked) {
                            keysWithUnknown.add(key);
                        }
                        retries.incrementAndGet();
                    }
                }
            } else {
                HistoryRecorder.Pending<KvModel.Op, String> op = history.invoke(client, KvModel.Op.get(key));
                try {
                    TestRegister.Value v = ref.<TestRegister.Value>ask(new TestRegister.Get(), ReadConsistency.LINEARIZABLE)
                            .toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                    op.ok(v.value());
                    gets.incrementAndGet();
                } catch (Exception e) {
                    op.fail(); // a read has no effect
                }
            }
        }
    }

    /** Stops the loops; each ends once its current put completed. */
    public void stop(Duration limit) throws Exception {
        running.set(false);
        CompletableFuture.allOf(loops.toArray(new CompletableFuture[0])).get(limit.toMillis(), TimeUnit.MILLISECONDS);
        pool.shutdown();
    }

    /** One LINEARIZABLE read of every key through {@code entities}, recorded in the history too; key → value. */
    public Map<String, String> finalReads(ConsensusEntities entities) throws Exception {
        Map<String, String> last = new HashMap<>();
        for (int k = 0; k < keys; k++) {
            String key = "k" + k;
            HistoryRecorder.Pending<KvModel.Op, String> op = history.invoke(99, KvModel.Op.get(key));
            TestRegister.Value v = entities.entityRefFor(TestRegister.TYPE, key)
                    .<TestRegister.Value>ask(new TestRegister.Get(), ReadConsistency.LINEARIZABLE)
                    .toCompletableFuture().get(30, TimeUnit.SECONDS);
            op.ok(v.value());
            last.put(key, v.value());
        }
        return last;
    }

    /**
     * Every acknowledged put survives: it is the final value, or a later put answered it as the value it overwrote.
     * Keys with an attempt of unknown outcome are skipped (it may have overwritten a value unseen).
     *
     * @return how many acknowledged puts were checked
     */
    public int assertAcknowledgedPutsSurvive(Map<String, String> last) {
        int checked = 0;
        synchronized (acked) {
            for (Map.Entry<String, List<String>> e : acked.entrySet()) {
                if (keysWithUnknown.contains(e.getKey())) {
                    continue;
                }
                for (String v : e.getValue()) {
                    assertTrue(v.equals(last.get(e.getKey())) || overwritten.get(e.getKey()).contains(v),
                            "acknowledged put " + e.getKey() + "=" + v + " was lost");
                    checked++;
                }
            }
        }
        return checked;
    }

    public boolean anyUnknown() {
        synchronized (acked) {
            return !keysWithUnknown.isEmpty();
        }
    }

    public HistoryRecorder<KvModel.Op, String> history() {
        return history;
    }

    public int puts() {
        return puts.get();
    }

    public int gets() {
        return gets.get();
    }

    public int retries() {
        return retries.get();
    }
}
