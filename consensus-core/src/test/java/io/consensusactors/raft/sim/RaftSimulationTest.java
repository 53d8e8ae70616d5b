package io.consensusactors.raft.sim;

import io.consensusactors.raft.core.Configuration;
import io.consensusactors.raft.core.RaftConfig;
import io.consensusactors.raft.core.Role;
import io.consensusactors.testkit.sim.NetworkFaults;
import io.consensusactors.testkit.sim.Partitions;
import io.consensusactors.testkit.sim.Seeds;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Randomized schedules over a simulated network: drops, duplicates, reordering, delays, partitions (random halves,
 * isolated leader, bridge), crashes that lose unpersisted writes (also between sending and persisting), restarts,
 * snapshots with chunked InstallSnapshot, leadership transfers and joint-consensus membership changes, with writes
 * made durable at once or (half the seeds) pipelined: handed off, made durable later in order, lost by a crash. After every
 * step {@link RaftSimCluster} asserts election safety, log matching, leader completeness and state machine safety;
 * at the end the client history must be linearizable and, once the network heals, a leader must emerge and every
 * outstanding request complete within a bound. Replay a failure with {@code -Draft.seed=N}.
 */
class RaftSimulationTest {

    static final int CHAOS_TICKS = 300;
    static final int HEAL_BOUND_TICKS = 400;

    @Test
    void safetyAndLinearizabilityUnderRandomFaults() {
        long[] stats = new long[4];
        long start = System.nanoTime();
        Seeds.forEach("raft.seed", 1000, seed -> {
            SimResult r = runSeed(seed);
            stats[0] += r.ops;
            stats[1] += r.leaders;
            stats[2] += r.net;
            stats[3]++;
        });
        System.out.printf("raft simulation: %d seeds, %d completed client ops, %d committed entries, %d messages, %.1f s%n",
                stats[3], stats[0], stats[1], stats[2], (System.nanoTime() - start) / 1e9);
    }

    record SimResult(long ops, long leaders, long net) {
    }

    static SimResult runSeed(long seed) {
        java.util.Random pick = new java.util.Random(seed * 31 + 7);
        boolean five = pick.nextInt(3) == 0;
        boolean membership = pick.nextInt(3) == 0;
        int size = membership ? 5 : (five ? 5 : 3);
        int voters = membership ? 3 : size;
        RaftConfig cfg = RaftConfig.defaults().withElection(10, 1)
                .withBatching(1 + pick.nextInt(4), 1 + pick.nextInt(8)).withSnapshotChunkBytes(16 + pick.nextInt(64));
        RaftSimCluster c = new RaftSimCluster(seed, size, voters, cfg);
        c.crashMidReady = true;
        c.lazyTicks = pick.nextBoolean(); // as the actor shell ticks: only members whose timers can fire
        if (pick.nextBoolean()) {
            c.staggerFirstElections(pick.nextInt(size)); // as the actor shell starts a group
        }
        c.pipelined = pick.nextBoolean(); // as the actor shell writes with max-writes-in-flight > 1
        c.writeCompletion = 0.1 + 0.8 * pick.nextDouble(); // slow disks leave several writes in flight
        c.net.setFaults(NetworkFaults.random(c.rng));
        List<SimClient.Record> history = new ArrayList<>();
        List<SimClient> clients = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            clients.add(new SimClient(c, i, history));
        }
        String[] keys = {"x", "y"};
        long partitionEnds = -1;
        long leaders = 0;
        for (int t = 0; t < CHAOS_TICKS; t++) {
            c.tick();
            for (SimClient cl : clients) {
                cl.tick(c.rng.nextInt(3) == 0, keys);
            }
            double p = c.rng.nextDouble();
            if (partitionEnds < 0 && p < 0.02) {
                int shape = c.rng.nextInt(3);
                RaftSimCluster.Member leader = c.leader();
                if (shape == 0 || size < 5) {
                    c.net.partition(Partitions.randomHalf(c.rng, size));
                    c.note("PARTITION half");
                } else if (shape == 1 && leader != null) {
                    c.net.isolate(leader.index);
                    c.note("PARTITION isolate leader " + leader.id);
                } else {
                    c.note("PARTITION bridge " + Partitions.bridge(c.net, c.rng, size));
                }
                partitionEnds = c.now + 10 + c.rng.nextInt(60);
            } else if (partitionEnds >= 0 && c.now >= partitionEnds) {
                c.net.heal();
                c.note("HEAL");
                partitionEnds = -1;
            }
            if (c.rng.nextDouble() < 0.012) {
                RaftSimCluster.Member m = c.members.get(c.rng.nextInt(size));
                c.crash(m);
            }
            for (RaftSimCluster.Member m : c.members) {
                if (!m.up() && c.rng.nextDouble() < 0.05) {
                    c.restart(m);
                }
                if (m.up() && c.rng.nextDouble() < 0.02) {
                    c.compact(m);
                }
            }
            if (c.rng.nextDouble() < 0.01) {
                c.net.setFaults(NetworkFaults.random(c.rng));
            }
            RaftSimCluster.Member leader = c.leader();
            if (leader != null && c.rng.nextDouble() < 0.005) {
                List<String> vs = new ArrayList<>(leader.node.configuration().voters());
                String to = vs.get(c.rng.nextInt(vs.size()));
                if (leader.node.transferLeadership(to)) {
                    c.note("TRANSFER " + leader.id + " -> " + to);
                }
                c.drain(leader);
            }
            if (membership && leader != null && c.rng.nextDouble() < 0.03) {
                changeMembership(c, leader);
            }
        }
        for (RaftSimCluster.Member m : c.members) {
            if (m.up() && m.node.role() == Role.LEADER) {
                leaders++;
            }
        }
        // heal: every link up, no faults, everyone restarted; a leader must emerge and every request complete
        c.crashMidReady = false;
        c.net.heal();
        c.net.setFaults(NetworkFaults.NONE);
        c.note("HEAL ALL");
        for (RaftSimCluster.Member m : c.members) {
            c.restart(m);
        }
        boolean done = c.runUntil(() -> {
            for (SimClient cl : clients) {
                cl.tick(false, keys);
            }
            if (c.leader() == null) {
                return false;
            }
            for (SimClient cl : clients) {
                if (cl.hasOutstanding()) {
                    return false;
                }
            }
            return true;
        }, HEAL_BOUND_TICKS);
        if (!done) {
            c.fail("liveness: " + HEAL_BOUND_TICKS + " ticks after healing there is " + (c.leader() == null
                    ? "no leader" : "a leader but client requests still outstanding"));
        }
        for (SimClient cl : clients) {
            cl.abandon();
        }
        LinearizabilityCheck.assertLinearizable(history, () -> c.describe());
        return new SimResult(history.size(), c.committedEntries().size(), c.net.sent());
    }

    /** Random joint-consensus steps: add a learner, promote a caught-up learner, remove a voter or a learner. */
    static void changeMembership(RaftSimCluster c, RaftSimCluster.Member leader) {
        Configuration cfg = leader.node.configuration();
        Set<String> voters = new TreeSet<>(cfg.voters());
        Set<String> learners = new TreeSet<>(cfg.learners());
        List<String> outsiders = new ArrayList<>();
        for (RaftSimCluster.Member m : c.members) {
            if (!voters.contains(m.id) && !learners.contains(m.id) && !cfg.outgoing().contains(m.id)) {
                outsiders.add(m.id);
            }
        }
        int action = c.rng.nextInt(4);
        if (action == 0 && !outsiders.isEmpty()) {
            learners.add(outsiders.get(c.rng.nextInt(outsiders.size())));
        } else if (action == 1 && !learners.isEmpty()) {
            String l = new ArrayList<>(learners).get(c.rng.nextInt(learners.size()));
            learners.remove(l);
            voters.add(l);
        } else if (action == 2 && voters.size() > 3) {
            voters.remove(new ArrayList<>(voters).get(c.rng.nextInt(voters.size())));
        } else if (action == 3 && !learners.isEmpty()) {
            learners.remove(new ArrayList<>(learners).get(c.rng.nextInt(learners.size())));
        } else {
            return;
        }
        var r = leader.node.changeMembership(voters, learners);
        c.note("MEMBERSHIP " + voters + " learners " + learners + " -> " + r);
        c.drain(leader);
    }
}
