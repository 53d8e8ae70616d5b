package io.consensusactors.paxos.sim;

import io.consensusactors.paxos.core.PaxosConfig;
import io.consensusactors.testkit.sim.NetworkFaults;
import io.consensusactors.testkit.sim.Partitions;
import io.consensusactors.testkit.sim.Seeds;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Single-decree Paxos under randomized faults: drops, duplicates, reordering, partitions (random halves, bridges),
 * acceptor crashes (also between the durable write and the reply) and restarts from durable state, 2–3 duelling
 * proposers. The oracle in {@link SingleDecreeSim} checks after every step the safety properties of "Paxos Made
 * Simple" §2.1: only a proposed value is chosen, at most one value is chosen, and a learner learns a value only if it
 * has been chosen. After healing, a single distinguished proposer (§2.4) must get a value chosen, and every learner
 * learn it, within {@link #HEAL_BOUND_TICKS}. Replay one seed with {@code -Dpaxos.seed=N}.
 */
class SingleDecreeSimulationTest {

    static final int CHAOS_TICKS = 250;
    static final int HEAL_BOUND_TICKS = 250;

    record Outcome(long chaosChosen, long healTicks, long messages, long contended, long trace) {
    }

    @Test
    void atMostOneProposedValueIsChosenAndLearnersAgreeUnderRandomFaults() {
        long[] stats = new long[6];
        long start = System.nanoTime();
        Seeds.forEach("paxos.seed", 1000, seed -> {
            Outcome o = run(seed);
            stats[0]++;
            stats[1] += o.chaosChosen;
            stats[2] = Math.max(stats[2], o.healTicks);
            stats[3] += o.messages;
            stats[4] += o.healTicks;
            stats[5] += o.contended;
        });
        System.out.printf("single-decree paxos simulation: %d seeds, chosen during chaos in %d, heal-to-chosen max %d "
                        + "ticks (mean %.1f), two+ values accepted in %d, %d messages, %.1f s%n", stats[0], stats[1], stats[2],
                (double) stats[4] / Math.max(1, stats[0]), stats[5], stats[3], (System.nanoTime() - start) / 1e9);
    }

    /** Reconcile mode (cassandra-accord BurnTest): the same seed replays the exact same run. */
    @Test
    void aSeedReplaysTheSameRun() {
        for (long seed = 1; seed <= 25; seed++) {
            assertEquals(run(seed), run(seed), "seed " + seed + " is not deterministic");
        }
    }

    static Outcome run(long seed) {
        java.util.Random pick = new java.util.Random(seed * 7919 + 3);
        int n = pick.nextBoolean() ? 3 : 5;
        int proposers = 2 + pick.nextInt(2);
        PaxosConfig config = PaxosConfig.defaults().withAttempt(2 + pick.nextInt(4), 16 + pick.nextInt(24),
                1 + pick.nextInt(6));
        SingleDecreeSim sim = new SingleDecreeSim(seed, n, config);
        sim.crashAfterPersist = pick.nextDouble() * 0.05;
        sim.net.setFaults(NetworkFaults.random(sim.rng));
        // Half the runs start a duel (every proposer within 3 ticks); the others add latecomers, which must adopt
        // the value already chosen (P2c).
        boolean duel = pick.nextBoolean();
        List<Integer> starts = new ArrayList<>();
        for (int p = 0; p < proposers; p++) {
            starts.add(p == 0 ? 0 : sim.rng.nextInt(duel ? 3 : CHAOS_TICKS));
        }
        long partitionEnds = -1;
        for (int t = 0; t < CHAOS_TICKS; t++) {
            for (int p = 0; p < proposers; p++) {
                if (starts.get(p) == t) {
                    sim.startProposer(p, "v" + p + "-" + seed);
                }
            }
            sim.tick();
            double r = sim.rng.nextDouble();
            if (partitionEnds < 0 && r < 0.03) {
                if (n == 5 && sim.rng.nextBoolean()) {
                    Partitions.bridge(sim.net, sim.rng, n);
                } else {
                    sim.net.partition(Partitions.randomHalf(sim.rng, n));
                }
                partitionEnds = sim.now + 5 + sim.rng.nextInt(60);
            } else if (partitionEnds >= 0 && sim.now >= partitionEnds) {
                sim.net.heal();
                partitionEnds = -1;
            }
            if (sim.rng.nextDouble() < 0.02) {
                sim.crash(sim.rng.nextInt(n));
            }
            for (int i = 0; i < n; i++) {
                if (!sim.nodes.get(i).up && sim.rng.nextDouble() < 0.08) {
                    sim.restart(i);
                }
            }
            if (sim.rng.nextDouble() < 0.01) {
                sim.net.setFaults(NetworkFaults.random(sim.rng));
            }
        }
        boolean chosenDuringChaos = sim.chosen != null;
        // Heal: network whole and reliable (still reordering), every node up, one distinguished proposer (§2.4).
        sim.net.heal();
        sim.net.setFaults(new NetworkFaults(0, 0, 1, 3));
        sim.crashAfterPersist = 0;
        for (int i = 0; i < n; i++) {
            sim.restart(i);
        }
        for (int p = 1; p < proposers; p++) {
            sim.stopProposer(p);
        }
        sim.stopProposer(0);
        sim.startProposer(0, "v0-" + seed);
        long healStart = sim.now;
        while (!(sim.chosen != null && sim.nodes.get(0).proposer.chosen().isPresent() && sim.everyUpLearnerKnows())) {
            assertTrue(sim.now - healStart < HEAL_BOUND_TICKS, "no value chosen and learned " + HEAL_BOUND_TICKS
                    + " ticks after healing (n=" + n + ", ballots tried by the distinguished proposer: "
                    + sim.nodes.get(0).proposer.ballotsTried() + ", phase " + sim.nodes.get(0).proposer.phase()
                    + ", chosen " + sim.chosen + ", learners " + sim.learnerView() + ")");
            sim.tick();
        }
        long contended = new java.util.HashSet<>(sim.valueAt.values()).size() > 1 ? 1 : 0;
        return new Outcome(chosenDuringChaos ? 1 : 0, sim.now - healStart, sim.net.sent(), contended, sim.trace);
    }
}
