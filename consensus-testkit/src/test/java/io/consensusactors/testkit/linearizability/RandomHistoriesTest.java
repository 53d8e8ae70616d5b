package io.consensusactors.testkit.linearizability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consensusactors.testkit.linearizability.CheckResult.Verdict;
import io.consensusactors.testkit.linearizability.KvModel.Op;
import io.consensusactors.testkit.sim.Seeds;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

/**
 * Histories recorded from a real sequential execution with random overlapping intervals are linearizable by
 * construction: the checker must say OK (no false alarms). Corrupting one read so that it is provably illegal
 * must make it say ILLEGAL (no missed violations). Replay one seed with {@code -Dlinz.seed=N}.
 */
class RandomHistoriesTest {
    private static final KvModel MODEL = new KvModel();
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @Test
    void historiesFromASequentialExecutionAreLinearizableAndProvablyBadReadsAreCaught() {
        AtomicLong corrupted = new AtomicLong();
        AtomicLong plausibleCaught = new AtomicLong();
        AtomicLong plausibleTried = new AtomicLong();
        Seeds.forEach("linz.seed", 1000, seed -> {
            Random rng = new Random(seed);
            int clients = 2 + rng.nextInt(6);
            int keys = 1 + rng.nextInt(4);
            // unknown outcomes stay rare: each one is concurrent with everything after it, and the search is exponential
            // in how many of them touch one key (as in Porcupine and Knossos)
            double unknownRate = rng.nextInt(3) == 0 ? 0 : rng.nextDouble() * 0.04;
            KvHistoryGenerator.Generated g = KvHistoryGenerator.generate(rng, clients, keys, 60 + rng.nextInt(120),
                    unknownRate);
            List<Operation<Op, String>> history = g.history();
            CheckResult ok = LinearizabilityChecker.check(MODEL, history, TIMEOUT);
            assertEquals(Verdict.OK, ok.verdict(), () -> ok.explanation() + "\nhistory: " + history);

            List<Integer> reads = new ArrayList<>();
            for (int i = 0; i < history.size(); i++) {
                if (history.get(i).input() instanceof KvModel.Get && !history.get(i).pending()) {
                    reads.add(i);
                }
            }
            if (reads.isEmpty()) {
                return;
            }
            int victim = reads.get(rng.nextInt(reads.size()));
            Operation<Op, String> read = history.get(victim);

            // 1. a value nobody ever wrote
            assertIllegal(history, victim, read.withOutput("never-written-" + seed), read);
            corrupted.incrementAndGet();

            // 2. a value whose write was called only after this read returned (a read from the future)
            String future = futureValue(g.putCalledAt(), read.returnTime(), rng);
            if (future != null) {
                assertIllegal(history, victim, read.withOutput(future), read);
                corrupted.incrementAndGet();
            }

            // 3. some other value that was written: usually illegal, not provably so; only counted
            List<String> values = new ArrayList<>(g.putCalledAt().keySet());
            String other = values.isEmpty() ? null : values.get(rng.nextInt(values.size()));
            if (other != null && !other.equals(read.output())) {
                plausibleTried.incrementAndGet();
                List<Operation<Op, String>> bad = new ArrayList<>(history);
                bad.set(victim, read.withOutput(other));
                if (LinearizabilityChecker.check(MODEL, bad, TIMEOUT).illegal()) {
                    plausibleCaught.incrementAndGet();
                }
            }
        });
        System.out.printf("random histories: %d provably illegal corruptions all caught; %d of %d substitutions of "
                + "another written value found illegal%n", corrupted.get(), plausibleCaught.get(), plausibleTried.get());
        assertTrue(corrupted.get() > 0);
    }

    private static void assertIllegal(List<Operation<Op, String>> history, int victim, Operation<Op, String> bad,
                                      Operation<Op, String> original) {
        List<Operation<Op, String>> h = new ArrayList<>(history);
        h.set(victim, bad);
        CheckResult r = LinearizabilityChecker.check(MODEL, h, TIMEOUT);
        assertEquals(Verdict.ILLEGAL, r.verdict(), () -> "corrupted " + original + " into " + bad + ": " + r);
        assertTrue(r.explanation().contains("key=" + original.input().key()), r.explanation());
    }

    private static String futureValue(Map<String, Long> putCalledAt, long after, Random rng) {
        List<String> candidates = new ArrayList<>();
        for (Map.Entry<String, Long> e : putCalledAt.entrySet()) {
            if (e.getValue() > after) {
                candidates.add(e.getKey());
            }
        }
        candidates.sort(null);
        return candidates.isEmpty() ? null : candidates.get(rng.nextInt(candidates.size()));
    }

    /** A measurement, printed (no timed assert): 10k operations over 100 keys by 10 clients. */
    @Test
    void measureTenThousandOperationsOverHundredKeysWithTenClients() {
        for (int run = 0; run < 3; run++) {
            Random rng = new Random(run);
            List<Operation<Op, String>> h = KvHistoryGenerator.generate(rng, 10, 100, 10_000, 0.01).history();
            long t0 = System.nanoTime();
            CheckResult r = LinearizabilityChecker.check(MODEL, h, TIMEOUT);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(Verdict.OK, r.verdict(), r.explanation());
            System.out.printf("linearizability check, 10k ops / 100 keys / 10 clients / 1%% unknown, run %d: %d ms (%s)%n",
                    run, ms, r.explanation());
        }
        for (int clients : new int[] {10, 20}) {
            Random rng = new Random(7);
            List<Operation<Op, String>> h = KvHistoryGenerator.generate(rng, clients, 1, 2_000, 0.01).history();
            long t0 = System.nanoTime();
            CheckResult r = LinearizabilityChecker.check(MODEL, h, TIMEOUT);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.out.printf("linearizability check, 2k ops / 1 key / %d clients / 1%% unknown: %s in %d ms (%s)%n",
                    clients, r.verdict(), ms, r.explanation());
        }
    }
}
