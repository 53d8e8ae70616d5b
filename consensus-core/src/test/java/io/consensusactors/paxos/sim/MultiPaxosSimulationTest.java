package io.consensusactors.paxos.sim;

import io.consensusactors.paxos.core.LogValue;
import io.consensusactors.paxos.core.MultiPaxosReady;
import io.consensusactors.paxos.core.PaxosConfig;
import io.consensusactors.statemachine.SessionStateMachine;
import io.consensusactors.testkit.sim.NetworkFaults;
import io.consensusactors.testkit.sim.Partitions;
import io.consensusactors.testkit.sim.Seeds;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;


import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Multi-Paxos under randomized faults (drops, duplicates, reordering, partitions, crashes before and after the durable
 * write, restarts from durable state, leader changes), with clients that retry through sessions. The oracle in
 * {@link MultiPaxosSim} checks after every step that each slot has at most one chosen value, only proposed commands or
 * no-ops are chosen, learners never disagree, applied sequences are prefixes of each other and no command is applied
 * twice. After healing, a leader must emerge and a new command be applied by every replica within
 * {@link #HEAL_BOUND_TICKS} ("Paxos Made Simple" §3: progress with a single distinguished proposer). Replay one seed
 * with {@code -Dmultipaxos.seed=N}.
 */
class MultiPaxosSimulationTest {

    static final int CHAOS_TICKS = 300;
    static final int HEAL_BOUND_TICKS = 200;
    static final int CLIENT_TIMEOUT = 40;

    record Outcome(long applied, long leaderChanges, long healTicks, long messages, long trace, long compactions,
                   long snapshotsInstalled) {
    }

    /** A client with a session: opens it (sequence 0), then one outstanding command at a time, retried elsewhere. */
    static final class Client {
        final long id;
        long seq = -1;
        LogValue current;
        int target;
        long sentAt = -1;
        long completed;

        Client(long id) {
            this.id = id;
        }

        void tick(MultiPaxosSim sim, boolean wantsNew) {
            if (current == null) {
                if (!wantsNew && seq >= 0) {
                    return;
                }
                seq++;
                current = seq == 0 ? LogValue.command(id, 0, new byte[0])
                        : LogValue.command(id, seq, ("c" + id + "-" + seq).getBytes(StandardCharsets.UTF_8));
                sentAt = -1;
            }
            if (sentAt >= 0 && sim.now - sentAt < CLIENT_TIMEOUT) {
                return;
            }
            MultiPaxosSim.Replica hinted = sim.replicas.get(target);
            int hint = hinted.up ? hinted.node.leaderHint() : -1;
            int to = hint >= 0 ? hint : sim.rng.nextInt(sim.n);
            if (sim.propose(to, current) >= 0) {
                target = to;
                sentAt = sim.now;
            } else {
                target = sim.rng.nextInt(sim.n);
                sentAt = -1;
            }
        }

        void onApplied(int replica, MultiPaxosReady.Applied a) {
            if (current != null && replica == target && a.value().equals(current)) {
                if (a.result().outcome() != SessionStateMachine.Outcome.SESSION_EXPIRED) {
                    completed++;
                }
                current = null;
            }
        }
    }

    @Test
    void slotsAreChosenOnceLogsArePrefixesAndCommandsAppliedOnceUnderRandomFaults() {
        long[] stats = new long[9];
        long start = System.nanoTime();
        Seeds.forEach("multipaxos.seed", 1000, seed -> {
            Outcome o = run(seed);
            stats[0]++;
            stats[1] += o.applied;
            stats[2] += o.leaderChanges;
            if (o.healTicks > stats[3]) {
                stats[3] = o.healTicks;
                stats[5] = seed;
            }
            stats[6] += o.healTicks;
            stats[4] += o.messages;
            stats[7] += o.compactions;
            stats[8] += o.snapshotsInstalled;
        });
        System.out.printf("multi-paxos simulation: %d seeds, %d client commands completed, %d elections, "
                        + "heal-to-applied max %d ticks (seed %d, mean %.1f), %d messages, %.1f s%n", stats[0], stats[1], stats[2],
                stats[3], stats[5], (double) stats[6] / Math.max(1, stats[0]), stats[4], (System.nanoTime() - start) / 1e9);
        System.out.printf("multi-paxos simulation: %d compactions, %d snapshots installed by transfer%n", stats[7],
                stats[8]);
        if (stats[0] >= 100) {
            assertTrue(stats[7] > 0 && stats[8] > 0, "compaction and snapshot transfer must be exercised: "
                    + stats[7] + " compactions, " + stats[8] + " snapshot transfers");
        }
    }

    @Test
    void aSeedReplaysTheSameRun() {
        for (long seed = 1; seed <= 10; seed++) {
            assertEquals(run(seed), run(seed), "seed " + seed + " is not deterministic");
        }
    }

    static Outcome run(long seed) {
        java.util.Random pick = new java.util.Random(seed * 104729 + 11);
        int n = pick.nextInt(3) == 0 ? 5 : 3;
        PaxosConfig config = PaxosConfig.defaults().withElection(2, 8 + pick.nextInt(8))
                .withAttempt(2 + pick.nextInt(4), 24, 4).withMaxBatch(1 + pick.nextInt(8));
        MultiPaxosSim sim = new MultiPaxosSim(seed, n, config);
        sim.crashBeforePersist = pick.nextDouble() * 0.01;
        sim.crashAfterPersist = pick.nextDouble() * 0.01;
        // compaction in half of the runs, from rare to aggressive (lagging replicas then need snapshot transfer)
        sim.compactProbability = pick.nextBoolean() ? 0 : 0.002 + pick.nextDouble() * 0.1;
        sim.net.setFaults(NetworkFaults.random(sim.rng));
        List<Client> clients = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            clients.add(new Client(1000 + i));
        }
        sim.onApplied = e -> clients.forEach(c -> c.onApplied(e.getKey(), e.getValue()));
        long partitionEnds = -1;
        long elections = 0;
        MultiPaxosSim.Replica lastLeader = null;
        for (int t = 0; t < CHAOS_TICKS; t++) {
            sim.tick();
            for (Client c : clients) {
                c.tick(sim, sim.rng.nextInt(3) == 0);
            }
            MultiPaxosSim.Replica leader = sim.leader();
            if (leader != null && leader != lastLeader) {
                elections++;
                lastLeader = leader;
            }
            double r = sim.rng.nextDouble();
            if (partitionEnds < 0 && r < 0.02) {
                int shape = sim.rng.nextInt(3);
                if (shape == 0 && leader != null) {
                    sim.net.isolate(leader.index);
                } else if (shape == 1 && n == 5) {
                    Partitions.bridge(sim.net, sim.rng, n);
                } else {
                    sim.net.partition(Partitions.randomHalf(sim.rng, n));
                }
                partitionEnds = sim.now + 10 + sim.rng.nextInt(60);
            } else if (partitionEnds >= 0 && sim.now >= partitionEnds) {
                sim.net.heal();
                partitionEnds = -1;
            }
            if (sim.rng.nextDouble() < 0.01) {
                sim.crash(sim.rng.nextInt(n));
            }
            for (int i = 0; i < n; i++) {
                if (!sim.replicas.get(i).up && sim.rng.nextDouble() < 0.05) {
                    sim.restart(i);
                }
            }
            if (sim.rng.nextDouble() < 0.01) {
                sim.net.setFaults(NetworkFaults.random(sim.rng));
            }
        }
        sim.checkPrefixes();
        // Heal: every replica up, a reliable network; a leader must get a new command applied everywhere.
        sim.net.heal();
        sim.net.setFaults(new NetworkFaults(0, 0, 1, 3));
        sim.crashBeforePersist = 0;
        sim.crashAfterPersist = 0;
        for (int i = 0; i < n; i++) {
            sim.restart(i);
        }
        long healStart = sim.now;
        // A fresh client: opens its session, then its probe command; it retries through the session on timeouts.
        Client prober = new Client(999);
        LogValue probe = LogValue.command(999, 1, "c999-1".getBytes(StandardCharsets.UTF_8));
        int[] appliedBy = new int[1];
        sim.onApplied = e -> {
            prober.onApplied(e.getKey(), e.getValue());
            if (e.getValue().value().equals(probe)) {
                appliedBy[0]++;
            }
        };
        while (appliedBy[0] < n) {
            assertTrue(sim.now - healStart < HEAL_BOUND_TICKS, "probe not applied by every replica "
                    + HEAL_BOUND_TICKS + " ticks after healing (n=" + n + ", applied by " + appliedBy[0] + ", leader "
                    + (sim.leader() == null ? "none" : sim.leader().index) + ") " + sim.describe());
            sim.tick();
            if (prober.seq < 1 || prober.current != null) {
                prober.tick(sim, true);
            }
        }
        sim.checkPrefixes();
        long applied = clients.stream().mapToLong(c -> c.completed).sum();
        return new Outcome(applied, elections, sim.now - healStart, sim.net.sent(), sim.trace, sim.compactions,
                sim.snapshotsInstalled);
    }

}
