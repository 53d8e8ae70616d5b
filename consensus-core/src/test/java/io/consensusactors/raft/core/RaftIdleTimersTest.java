package io.consensusactors.raft.core;

import io.consensusactors.raft.core.RaftMessage.Heartbeat;
import io.consensusactors.raft.core.RaftMessage.HeartbeatResponse;
import io.consensusactors.raft.core.RaftMessage.RequestVote;
import io.consensusactors.raft.core.RaftMessage.RequestVoteResponse;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static io.consensusactors.raft.core.RaftNodeTest.ABC;
import static io.consensusactors.raft.core.RaftNodeTest.drain;
import static io.consensusactors.raft.core.RaftNodeTest.elect;
import static io.consensusactors.raft.core.RaftNodeTest.leaderWithCommittedNoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The rules that let a node host thousands of idle groups: the core tells when its next timer can fire (so a shell
 * ticks only members whose timers can fire), staggers the first election after a start, and a leader woken from
 * quiescence holds no stale read lease.
 */
class RaftIdleTimersTest {

    static final int ELECTION = 10;
    static final RaftConfig CFG = RaftConfig.defaults().withElection(ELECTION, 2);

    /**
     * Deadline soundness (what lets the shell skip ticks): fewer ticks than {@link RaftNode#ticksUntilTimer()}
     * produce no output and change neither role nor term, in every role and at every point of the election timer;
     * the timer of a follower fires exactly at the deadline.
     */
    @Test
    void fewerTicksThanTheDeadlineChangeNothing() {
        for (long seed = 0; seed < 200; seed++) {
            Random rng = new Random(seed);
            RaftNode n = RaftNode.create("b", CFG, new Random(seed), ABC);
            // some history: a leader heard from after a random number of ticks, then silence
            for (int i = rng.nextInt(2 * ELECTION); i > 0 && n.role() == Role.FOLLOWER; i--) {
                n.tick();
                drain(n);
            }
            if (n.role() == Role.FOLLOWER && rng.nextBoolean()) {
                n.step(new Heartbeat(1, "a", "b", 0, 1, false));
                drain(n);
                for (int i = rng.nextInt(ELECTION); i > 0; i--) {
                    n.tick();
                    drain(n);
                }
            }
            int deadline = n.ticksUntilTimer();
            Role role = n.role();
            long term = n.term();
            assertTrue(deadline >= 1 && deadline <= 2 * ELECTION, "a follower's timer runs: " + deadline);
            for (int i = 1; i < deadline; i++) {
                n.tick();
                assertFalse(n.hasReady(), "seed " + seed + ": tick " + i + " of " + deadline + " produced output");
                assertEquals(role, n.role());
                assertEquals(term, n.term());
            }
            n.tick();
            assertNotEquals(Role.FOLLOWER, n.role(), "seed " + seed + ": the election timer fires at the deadline");
        }
    }

    /** Idle cost: a quiesced member (leader or follower) and a learner need no ticks at all. */
    @Test
    void quiescedMembersAndLearnersNeedNoTicks() {
        RaftNode leader = leaderWithCommittedNoop(CFG.withPreVote(false).withQuiesceAfter(2));
        assertEquals(1, leader.ticksUntilTimer(), "a leader ticks every tick: its tick count is its lease clock");
        leader.step(new RaftMessage.AppendEntriesResponse(leader.term(), "c", "a", true, 1, 0, 0));
        drain(leader);
        for (int i = 0; i < 10 && !leader.isQuiesced(); i++) {
            leader.tick();
            drain(leader);
        }
        assertTrue(leader.isQuiesced(), "idle leader quiesced");
        assertEquals(Integer.MAX_VALUE, leader.ticksUntilTimer());

        RaftNode follower = RaftNode.create("b", CFG, new Random(1), ABC);
        follower.step(new Heartbeat(1, "a", "b", 0, 1, true));
        drain(follower);
        assertTrue(follower.isQuiesced());
        assertEquals(Integer.MAX_VALUE, follower.ticksUntilTimer());

        RaftNode learner = new RaftNode("d", CFG, new Random(1), Configuration.of(ABC, List.of("d")), HardState.INITIAL,
                Snapshot.EMPTY, List.of());
        assertEquals(Integer.MAX_VALUE, learner.ticksUntilTimer(), "a learner never campaigns");
    }

    /**
     * Lease safety (dissertation §6.4) across quiescence: no ticks are counted while quiesced although real time
     * passes, so a woken leader must not serve lease reads from a heartbeat round sent before it quiesced — nor while
     * quiesced (a new leader may have been elected by followers woken on another node).
     */
    @Test
    void aWokenLeaderHoldsNoLeaseFromBeforeItQuiesced() {
        RaftNode a = leaderWithCommittedNoop(CFG.withPreVote(false).withQuiesceAfter(4));
        a.step(new RaftMessage.AppendEntriesResponse(a.term(), "c", "a", true, 1, 0, 0));
        drain(a);
        long round = 0;
        for (int i = 0; i < 20 && !a.isQuiesced(); i++) {
            a.tick();
            for (Heartbeat hb : RaftNodeTest.ofType(drain(a).messages(), Heartbeat.class)) {
                round = hb.readRound();
            }
        }
        assertTrue(a.isQuiesced());
        // the followers acknowledge the quiescing heartbeat round: without the rule this renews the lease
        a.step(new HeartbeatResponse(a.term(), "b", "a", round, 1));
        a.step(new HeartbeatResponse(a.term(), "c", "a", round, 1));
        drain(a);
        assertFalse(a.leaseValid(), "a quiesced leader holds no lease");
        a.wake();
        assertFalse(a.leaseValid(), "a woken leader holds no lease from before quiescence");
        // a round sent after waking grants it again (the rule does not disable leases)
        a.tick();
        a.tick();
        long newRound = RaftNodeTest.ofType(drain(a).messages(), Heartbeat.class).get(0).readRound();
        a.step(new HeartbeatResponse(a.term(), "b", "a", newRound, 1));
        drain(a);
        assertTrue(a.leaseValid(), "a round after waking grants the lease again");
    }

    /**
     * A quiesced leader woken because its followers' nodes became unreachable must not quiesce again before
     * CheckQuorum has run (Raft §6.2, leader stickiness / check quorum): with no answer from any follower it steps
     * down within two election timeouts, whatever quiesce-after is (here 4 ticks, below the election timeout).
     */
    @Test
    void aWokenLeaderCutOffFromItsFollowersStepsDownInsteadOfQuiescingAgain() {
        RaftNode a = leaderWithCommittedNoop(CFG.withPreVote(false).withQuiesceAfter(4));
        a.step(new RaftMessage.AppendEntriesResponse(a.term(), "c", "a", true, 1, 0, 0));
        drain(a);
        for (int i = 0; i < 20 && !a.isQuiesced(); i++) {
            a.tick();
            drain(a);
        }
        assertTrue(a.isQuiesced(), "an idle leader that heard from a quorum quiesces");
        a.wake(); // the host lost the followers' nodes
        for (int t = 0; t < 2 * ELECTION && a.role() == Role.LEADER; t++) {
            a.tick();
            drain(a); // nothing reaches b or c, nothing comes back
            assertFalse(a.isQuiesced() && a.role() == Role.LEADER, "tick " + t + ": re-quiesced as a cut-off leader");
        }
        assertEquals(Role.FOLLOWER, a.role(), "CheckQuorum stepped the cut-off leader down");
    }

    /**
     * Start storm: after a start, only the preferred member (rank 0) campaigns within the first two election
     * timeouts; the others would only if it failed. Only timing changes: it wins with ordinary votes.
     */
    @Test
    void staggeredFirstElectionHasOnePreferredCandidate() {
        for (long seed = 0; seed < 50; seed++) {
            RaftNode[] n = new RaftNode[3];
            for (int i = 0; i < 3; i++) {
                n[i] = RaftNode.create(ABC.get(i), CFG, new Random(seed * 3 + i), ABC);
                n[i].staggerFirstElection((i + (int) seed) % 3);
            }
            int preferred = Math.floorMod(-(int) seed, 3);
            for (int t = 1; t <= ELECTION + 1; t++) {
                for (int i = 0; i < 3; i++) {
                    n[i].tick();
                    assertEquals(t == ELECTION + 1 && i == preferred, n[i].role() != Role.FOLLOWER,
                            "seed " + seed + " tick " + t + ": only the preferred member campaigns, at e + 1");
                    drain(n[i]);
                }
            }
            for (int t = ELECTION + 2; t < 2 * ELECTION; t++) {
                for (int i = 0; i < 3; i++) {
                    if (i != preferred) {
                        n[i].tick();
                        assertEquals(Role.FOLLOWER, n[i].role(), "seed " + seed + ": others wait two timeouts");
                        drain(n[i]);
                    }
                }
            }
            // the pre-vote of the preferred member is granted by voters that have passed one election timeout
            RaftNode p = n[preferred];
            RaftNode v = n[(preferred + 1) % 3];
            v.step(new RequestVote(1, p.id(), v.id(), 0, 0, true, false));
            RequestVoteResponse granted = RaftNodeTest.single(drain(v).messagesAfterPersist(), RequestVoteResponse.class);
            assertTrue(granted.granted(), "seed " + seed + ": voters grant the preferred member's PreVote");
        }
    }

    /**
     * Spread start: with a spread of S ticks the preferred member still campaigns first (between e + 1 and e + 1 + S),
     * and the others only after it could have (not before 2e + S): still one candidate per group.
     */
    @Test
    void spreadFirstElectionsKeepOnePreferredCandidate() {
        int spread = 200;
        for (long seed = 0; seed < 50; seed++) {
            RaftNode preferred = RaftNode.create("a", CFG, new Random(seed), ABC);
            preferred.staggerFirstElection(0, spread);
            int first = RaftNodeTest.tickUntilCampaign(preferred, ELECTION + 1 + spread);
            assertTrue(first >= ELECTION + 1, "seed " + seed + ": not before voters accept votes: " + first);
            for (int rank = 1; rank < 3; rank++) {
                RaftNode other = RaftNode.create("b", CFG, new Random(seed), ABC);
                other.staggerFirstElection(rank, spread);
                int t = RaftNodeTest.tickUntilCampaign(other, 10 * ELECTION + spread);
                assertTrue(t > ELECTION + 1 + spread, "seed " + seed + ": rank " + rank + " waits for the preferred: " + t);
            }
        }
    }

    /** Liveness: if the preferred member is down, another member is elected after the staggered wait. */
    @Test
    void firstElectionSucceedsWithoutThePreferredMember() {
        RaftNode b = RaftNode.create("b", CFG, new Random(7), ABC);
        b.staggerFirstElection(1);
        int t = RaftNodeTest.tickUntilCampaign(b);
        assertTrue(t >= 2 * ELECTION && t < 3 * ELECTION, "rank 1 campaigns after two to three timeouts: " + t);
        drain(b);
        b.step(new RequestVoteResponse(1, "c", "b", true, true));
        drain(b);
        b.step(new RequestVoteResponse(1, "c", "b", true, false));
        assertEquals(Role.LEADER, b.role());
    }

    /** A member that already heard from a leader is not delayed by the stagger (it is not a start any more). */
    @Test
    void staggerDoesNotDelayAMemberThatHeardFromALeader() {
        RaftNode b = RaftNode.create("b", CFG, new Random(7), ABC);
        b.step(new Heartbeat(1, "a", "b", 0, 1, false));
        drain(b);
        int before = b.ticksUntilTimer();
        b.staggerFirstElection(2);
        assertEquals(before, b.ticksUntilTimer());
    }
}
