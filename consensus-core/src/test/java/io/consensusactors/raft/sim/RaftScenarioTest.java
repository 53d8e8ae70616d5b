package io.consensusactors.raft.sim;
import io.consensusactors.statemachine.KeyValueStateMachine;

import io.consensusactors.raft.core.ProposeResult;
import io.consensusactors.raft.core.RaftConfig;
import io.consensusactors.raft.core.ReadConsistency;
import io.consensusactors.raft.core.Role;
import io.consensusactors.testkit.sim.NetworkFaults;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Scripted regression scenarios on a simulated cluster with a reliable network unless stated otherwise. */
class RaftScenarioTest {

    static RaftSimCluster cluster(int size, int voters, RaftConfig cfg) {
        RaftSimCluster c = new RaftSimCluster(42, size, voters, cfg);
        c.net.setFaults(NetworkFaults.NONE);
        return c;
    }

    static RaftSimCluster.Member awaitLeader(RaftSimCluster c) {
        assertTrue(c.runUntil(() -> c.leader() != null, 300), "a leader is elected: " + c.describe());
        return c.leader();
    }

    /** Proposes PUT key=value on the leader and runs until the leader applied it. */
    static void write(RaftSimCluster c, long clientId, long seq, String key, String value) {
        RaftSimCluster.Member leader = awaitLeader(c);
        if (seq == 1) {
            c.propose(leader, clientId, 0, new byte[0]);
        }
        ProposeResult r = c.propose(leader, clientId, seq, KeyValueStateMachine.put(key, value));
        assertTrue(r instanceof ProposeResult.Accepted, "accepted: " + r);
        long index = ((ProposeResult.Accepted) r).index();
        assertTrue(c.runUntil(() -> leader.up() && leader.node.appliedIndex() >= index, 200), "write applied: " + c.describe());
    }

    /** Reads key at member with the given consistency; null when no answer within the ticks. */
    static String read(RaftSimCluster c, RaftSimCluster.Member m, String key, ReadConsistency consistency, int ticks) {
        String[] answer = {null};
        boolean[] failed = {false};
        long ctx = 777_000 + c.now;
        c.onRead(r -> {
            if (r.context() == ctx) {
                if (r.ok()) {
                    answer[0] = new String(r.value(), StandardCharsets.UTF_8);
                } else {
                    failed[0] = true;
                }
            }
        });
        c.read(m, ctx, KeyValueStateMachine.get(key), consistency);
        c.runUntil(() -> answer[0] != null || failed[0], ticks);
        return answer[0];
    }

    @Test
    void partitionedOldLeaderDoesNotServeStaleReads() { // dissertation §6.4; Jepsen "stale reads"
        for (ReadConsistency consistency : List.of(ReadConsistency.LINEARIZABLE, ReadConsistency.LEASE)) {
            RaftSimCluster c = cluster(3, 3, RaftConfig.defaults());
            write(c, 1, 1, "x", "1");
            RaftSimCluster.Member old = c.leader();
            // let a lease be established, then cut the old leader off
            c.runUntil(() -> false, 3);
            c.net.isolate(old.index);
            assertTrue(c.runUntil(() -> {
                RaftSimCluster.Member l = c.leader();
                return l != null && l != old;
            }, 300), "the majority elects a new leader");
            RaftSimCluster.Member fresh = c.leader();
            fresh.node.propose(1, 2, KeyValueStateMachine.put("x", "2"));
            c.drain(fresh);
            assertTrue(c.runUntil(() -> fresh.node.appliedIndex() >= fresh.node.lastIndex(), 100));
            String stale = read(c, old, "x", consistency, 50);
            assertNotEquals("1", stale, consistency + " read on the deposed leader must not return the old value");
            assertEquals("2", read(c, fresh, "x", consistency, 50), consistency + " read on the new leader sees the write");
        }
    }

    @Test
    void preVoteKeepsARejoiningNodeFromDisruptingTheLeader() { // dissertation §9.6
        RaftSimCluster c = cluster(3, 3, RaftConfig.defaults());
        RaftSimCluster.Member leader = awaitLeader(c);
        long term = leader.node.term();
        RaftSimCluster.Member follower = c.members.stream().filter(m -> m != leader).findFirst().orElseThrow();
        c.net.isolate(follower.index);
        c.runUntil(() -> false, 200);
        assertEquals(term, follower.node.term(), "with PreVote an isolated node does not inflate its term");
        c.net.heal();
        c.runUntil(() -> false, 50);
        assertEquals(leader, c.leader(), "the healthy leader keeps leading after the node rejoins");
        assertEquals(term, leader.node.term());

        // without PreVote (and CheckQuorum) the same schedule deposes the leader: the test above can fail
        RaftSimCluster d = cluster(3, 3, RaftConfig.defaults().withPreVote(false).withCheckQuorum(false));
        RaftSimCluster.Member l2 = awaitLeader(d);
        long t2 = l2.node.term();
        RaftSimCluster.Member f2 = d.members.stream().filter(m -> m != l2).findFirst().orElseThrow();
        d.net.isolate(f2.index);
        d.runUntil(() -> false, 200);
        d.net.heal();
        d.runUntil(() -> false, 50);
        assertTrue(f2.node.term() > t2 + 1 && d.leader().node.term() > t2, "without PreVote the rejoining node forces a new term");
    }

    @Test
    void checkQuorumMakesAnIsolatedLeaderStepDown() { // dissertation §6.2
        RaftSimCluster c = cluster(3, 3, RaftConfig.defaults());
        RaftSimCluster.Member leader = awaitLeader(c);
        c.net.isolate(leader.index);
        assertTrue(c.runUntil(() -> leader.node.role() != Role.LEADER, 2 * 10 + 1),
                "an isolated leader steps down within two election timeouts");
    }

    @Test
    void leadershipTransferHandsOverWithoutLosingWrites() { // dissertation §3.10
        RaftSimCluster c = cluster(3, 3, RaftConfig.defaults());
        write(c, 5, 1, "k", "v1");
        RaftSimCluster.Member leader = c.leader();
        RaftSimCluster.Member target = c.members.stream().filter(m -> m != leader).findFirst().orElseThrow();
        assertTrue(leader.node.transferLeadership(target.id));
        ProposeResult during = leader.node.propose(5, 2, KeyValueStateMachine.put("k", "x"));
        assertTrue(during instanceof ProposeResult.Rejected r && r.reason() == ProposeResult.Reason.TRANSFER_IN_PROGRESS);
        c.drain(leader);
        assertTrue(c.runUntil(() -> c.leader() == target, 10), "the target leads within a few ticks: " + c.describe());
        assertEquals("v1", read(c, target, "k", ReadConsistency.LINEARIZABLE, 20));
    }

    @Test
    void membershipChangeInterruptedByLeaderCrashCompletes() { // dissertation §4.3 joint consensus
        RaftSimCluster c = cluster(5, 3, RaftConfig.defaults());
        write(c, 9, 1, "a", "1");
        RaftSimCluster.Member leader = c.leader();
        // n4 and n5 join as learners, catch up, then become voters together (joint consensus)
        assertTrue(leader.node.changeMembership(Set.of("n1", "n2", "n3"), Set.of("n4", "n5")) instanceof ProposeResult.Accepted);
        c.drain(leader);
        assertTrue(c.runUntil(() -> leader.node.matchIndex("n4") == leader.node.lastIndex()
                && leader.node.matchIndex("n5") == leader.node.lastIndex() && leader.node.commitIndex() == leader.node.lastIndex(), 100));
        ProposeResult r = leader.node.changeMembership(Set.of("n1", "n2", "n3", "n4", "n5"), Set.of());
        assertTrue(r instanceof ProposeResult.Accepted, r.toString());
        c.drain(leader);
        // deliver C(old,new) to the followers, then crash the leader before C(new) is committed
        c.runUntil(() -> c.members.stream().filter(m -> m != leader).allMatch(m -> m.node.configuration().joint()), 5);
        assertTrue(leader.node.configuration().joint());
        c.crash(leader);
        assertTrue(c.runUntil(() -> {
            RaftSimCluster.Member l = c.leader();
            return l != null && !l.node.configuration().joint() && l.node.commitIndex() == l.node.lastIndex();
        }, 300), "a new leader finishes the change: " + c.describe());
        c.restart(leader);
        assertTrue(c.runUntil(() -> c.members.stream().allMatch(m -> !m.node.configuration().joint()
                && m.node.configuration().voters().size() == 5), 200), "everyone ends in C(new): " + c.describe());
        write(c, 9, 2, "a", "2");
    }

    @Test
    void newVoterMustBeACaughtUpLearner() { // dissertation §4.2.1 (catching up new servers)
        RaftSimCluster c = cluster(4, 3, RaftConfig.defaults());
        RaftSimCluster.Member leader = awaitLeader(c);
        c.runUntil(() -> leader.node.commitIndex() == leader.node.lastIndex(), 20);
        ProposeResult r = leader.node.changeMembership(Set.of("n1", "n2", "n3", "n4"), Set.of());
        assertTrue(r instanceof ProposeResult.Rejected rej && rej.reason() == ProposeResult.Reason.INVALID
                && rej.detail().contains("learner"), r.toString());
    }

    @Test
    void laggingFollowerCatchesUpBySnapshotInChunks() { // §7
        RaftSimCluster c = cluster(3, 3, RaftConfig.defaults().withSnapshotChunkBytes(32));
        RaftSimCluster.Member leader = awaitLeader(c);
        RaftSimCluster.Member lagging = c.members.stream().filter(m -> m != leader).findFirst().orElseThrow();
        c.crash(lagging);
        for (int i = 1; i <= 30; i++) {
            write(c, 3, i, "k" + (i % 7), "v" + i);
        }
        c.compact(leader);
        assertTrue(leader.node.firstIndex() > 2, "the leader's log was compacted");
        long[] chunks = {0};
        c.restart(lagging);
        assertTrue(c.runUntil(() -> lagging.node.appliedIndex() == leader.node.appliedIndex(), 200), c.describe());
        assertEquals(((KeyValueStateMachine) leader.sm.machine()).contents(), ((KeyValueStateMachine) lagging.sm.machine()).contents(),
                "the follower's state machine equals the leader's after InstallSnapshot");
        assertTrue(lagging.node.snapshotMeta().index() >= leader.node.snapshotMeta().index());
    }

    @Test
    void idleGroupQuiescesAndWakesOnDemand() {
        RaftSimCluster c = cluster(3, 3, RaftConfig.defaults().withQuiesceAfter(5));
        write(c, 4, 1, "q", "1");
        RaftSimCluster.Member leader = c.leader();
        c.runUntil(() -> false, 20);
        assertTrue(c.members.stream().allMatch(m -> m.node.isQuiesced()), "all members quiesced: " + c.describe());
        long sent = c.net.sent();
        c.runUntil(() -> false, 100);
        assertEquals(sent, c.net.sent(), "a quiesced group sends nothing");
        assertEquals(leader, c.leader(), "and nobody campaigns");
        write(c, 4, 2, "q", "2");
        assertFalse(leader.node.isQuiesced());
    }

    /**
     * Liveness of quiescence: a quiesced group whose leader dies notices nothing by itself (no timer runs), and elects a
     * new leader once its members are woken (the actor host wakes them when a peer node leaves). Ticks are delivered
     * lazily, as the actor shell does (only members whose timers can fire).
     */
    @Test
    void quiescedGroupElectsANewLeaderAfterItsLeaderDies() {
        RaftSimCluster c = cluster(3, 3, RaftConfig.defaults().withQuiesceAfter(5));
        c.lazyTicks = true;
        write(c, 4, 1, "q", "1");
        RaftSimCluster.Member leader = c.leader();
        c.runUntil(() -> false, 20);
        assertTrue(c.members.stream().allMatch(m -> m.node.isQuiesced()), "all members quiesced: " + c.describe());
        c.crash(leader);
        c.runUntil(() -> false, 100);
        assertEquals(null, c.leader(), "without a wake nobody notices the dead leader (the test can fail)");
        for (RaftSimCluster.Member m : c.members) {
            if (m.up()) {
                m.node.wake();
                c.drain(m);
            }
        }
        assertTrue(c.runUntil(() -> c.leader() != null, 100), "woken followers elect a new leader: " + c.describe());
        assertNotEquals(leader, c.leader());
        write(c, 4, 2, "q", "2");
    }

    /**
     * Election and lease safety across a partial wake: only one follower is woken (its node saw a peer leave, the
     * others did not) while the quiesced leader is alive. Never two leaders of one term, no lease held while another
     * member leads a later term (both checked after every step), and the group still serves writes and reads.
     */
    @Test
    void partiallyWokenGroupNeverHasTwoLeadersInATerm() {
        for (long seed = 0; seed < 20; seed++) {
            RaftSimCluster c = new RaftSimCluster(seed, 3, 3, RaftConfig.defaults().withQuiesceAfter(5));
            c.net.setFaults(NetworkFaults.NONE);
            c.lazyTicks = true;
            c.staggerFirstElections((int) seed % 3);
            write(c, 4, 1, "q", "1");
            c.runUntil(() -> false, 20);
            assertTrue(c.members.stream().allMatch(m -> m.node.isQuiesced()), "all members quiesced: " + c.describe());
            RaftSimCluster.Member follower = c.members.stream().filter(m -> !m.node.isLeader()).findFirst().orElseThrow();
            follower.node.wake();
            c.drain(follower);
            c.runUntil(() -> false, 100);
            write(c, 4, 2, "q", "2");
            assertEquals("2", read(c, c.leader(), "q", ReadConsistency.LEASE, 50));
        }
    }

    /** The staggered first election after a start elects the preferred member in term 1 with no competing candidate. */
    @Test
    void staggeredStartElectsThePreferredMemberInTheFirstTerm() {
        for (int offset = 0; offset < 3; offset++) {
            RaftSimCluster c = cluster(3, 3, RaftConfig.defaults());
            c.lazyTicks = true;
            c.staggerFirstElections(offset);
            RaftSimCluster.Member leader = awaitLeader(c);
            assertEquals(c.members.get(offset), leader, "the preferred member leads");
            assertEquals(1, leader.node.term(), "in the first term: nobody else campaigned");
        }
    }

    @Test
    void proposalsBetweenReadiesShareOneAppendEntriesPerFollower() { // batching
        RaftSimCluster c = cluster(3, 3, RaftConfig.defaults().withQuiesceAfter(0));
        RaftSimCluster.Member leader = awaitLeader(c);
        c.runUntil(() -> leader.node.commitIndex() == leader.node.lastIndex(), 20);
        List<io.consensusactors.raft.core.RaftMessage> out = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            leader.node.propose(0, 0, KeyValueStateMachine.put("b", "" + i));
        }
        var ready = leader.node.ready();
        out.addAll(ready.messages());
        leader.node.advance(ready);
        long appends = out.stream().filter(m -> m instanceof io.consensusactors.raft.core.RaftMessage.AppendEntries a
                && !a.entries().isEmpty()).count();
        assertEquals(2, appends, "100 proposals leave as one AppendEntries per follower");
        assertEquals(100, ready.entries().size(), "and one write of 100 entries");
        assertNotNull(ready);
    }
}
