package io.consensusactors.raft.core;

import io.consensusactors.raft.core.RaftMessage.AppendEntries;
import io.consensusactors.raft.core.RaftMessage.AppendEntriesResponse;
import io.consensusactors.raft.core.RaftMessage.Heartbeat;
import io.consensusactors.raft.core.RaftMessage.HeartbeatResponse;
import io.consensusactors.raft.core.RaftMessage.InstallSnapshot;
import io.consensusactors.raft.core.RaftMessage.InstallSnapshotResponse;
import io.consensusactors.raft.core.RaftMessage.ReadIndexRequest;
import io.consensusactors.raft.core.RaftMessage.ReadIndexResponse;
import io.consensusactors.raft.core.RaftMessage.RequestVote;
import io.consensusactors.raft.core.RaftMessage.RequestVoteResponse;
import io.consensusactors.raft.core.RaftMessage.TimeoutNow;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Unit tests of one {@link RaftNode} driven by hand, in the spirit of etcd's {@code raft_paper_test.go}: every input
 * is a message or tick built here, every expectation is read from the {@link Ready}. Each test names the section of
 * the Raft paper (or of Ongaro's dissertation, "diss.") whose rule it protects.
 */
class RaftNodeTest {

    static final List<String> ABC = List.of("a", "b", "c");
    static final int ELECTION = 10;

    /** PreVote and CheckQuorum off: the plain protocol of the paper. */
    static final RaftConfig PLAIN = RaftConfig.defaults().withElection(ELECTION, 1).withPreVote(false)
            .withCheckQuorum(false);

    /** A random source whose bounded draws always return {@code value} (clamped to the bound): a fixed timeout. */
    static Random fixed(int value) {
        return new Random(0) {
            @Override
            public int nextInt(int bound) {
                return Math.min(value, bound - 1);
            }
        };
    }

    static RaftNode node(String id, RaftConfig cfg, List<String> voters) {
        return RaftNode.create(id, cfg, fixed(0), voters);
    }

    /** A member restarted from durable state: log terms {@code terms[i]} at index i + 1. */
    static RaftNode restored(String id, RaftConfig cfg, Configuration conf, HardState hs, long... terms) {
        List<Entry> entries = new ArrayList<>();
        for (int i = 0; i < terms.length; i++) {
            entries.add(new Entry(i + 1, terms[i], Entry.Type.COMMAND, 0, 0, new byte[]{(byte) i}));
        }
        return new RaftNode(id, cfg, fixed(0), conf, hs, Snapshot.EMPTY, entries);
    }

    /** ready() + advance(): the shell persisted, sent and applied everything. */
    static Ready drain(RaftNode n) {
        Ready r = n.ready();
        n.advance(r);
        return r;
    }

    static List<RaftMessage> allMessages(Ready r) {
        List<RaftMessage> all = new ArrayList<>(r.messages());
        all.addAll(r.messagesAfterPersist());
        return all;
    }

    static <T extends RaftMessage> List<T> ofType(List<RaftMessage> msgs, Class<T> type) {
        List<T> out = new ArrayList<>();
        for (RaftMessage m : msgs) {
            if (type.isInstance(m)) {
                out.add(type.cast(m));
            }
        }
        return out;
    }

    static <T extends RaftMessage> T single(List<RaftMessage> msgs, Class<T> type) {
        List<T> found = ofType(msgs, type);
        assertEquals(1, found.size(), "exactly one " + type.getSimpleName() + " in " + msgs);
        return found.get(0);
    }

    /** Ticks until the node leaves FOLLOWER; returns the number of ticks it took. */
    static int tickUntilCampaign(RaftNode n) {
        return tickUntilCampaign(n, 10 * ELECTION);
    }

    static int tickUntilCampaign(RaftNode n, int maxTicks) {
        for (int t = 1; t <= maxTicks; t++) {
            n.tick();
            if (n.role() != Role.FOLLOWER) {
                return t;
            }
        }
        throw new AssertionError(n + " never campaigned");
    }

    /** Makes {@code n} the leader of the next term by stepping granted votes from every other voter. */
    static RaftNode elect(RaftNode n) {
        tickUntilCampaign(n);
        drain(n);
        for (String v : n.configuration().allVoters()) {
            if (!v.equals(n.id()) && n.role() != Role.LEADER) {
                n.step(new RequestVoteResponse(n.term(), v, n.id(), true, false));
            }
        }
        assertEquals(Role.LEADER, n.role(), "elected: " + n);
        drain(n); // persists the no-op of the new term and sends the first AppendEntries
        return n;
    }

    /** A leader of term 1 over a, b, c whose no-op (index 1) is committed and b is in REPLICATE. */
    static RaftNode leaderWithCommittedNoop(RaftConfig cfg) {
        RaftNode a = elect(node("a", cfg, ABC));
        a.step(new AppendEntriesResponse(a.term(), "b", "a", true, 1, 0, 0));
        assertEquals(1, a.commitIndex(), "the no-op is committed");
        drain(a);
        return a;
    }

    // ------------------------------------------------------------------ §5.1 terms

    static Stream<Arguments> higherTermCases() {
        return Stream.of(
                Arguments.of(Role.FOLLOWER, "Heartbeat"),
                Arguments.of(Role.FOLLOWER, "AppendEntries"),
                Arguments.of(Role.FOLLOWER, "RequestVote"),
                Arguments.of(Role.CANDIDATE, "Heartbeat"),
                Arguments.of(Role.CANDIDATE, "AppendEntries"),
                Arguments.of(Role.CANDIDATE, "RequestVote"),
                Arguments.of(Role.CANDIDATE, "RequestVoteResponse"),
                Arguments.of(Role.LEADER, "Heartbeat"),
                Arguments.of(Role.LEADER, "AppendEntries"),
                Arguments.of(Role.LEADER, "RequestVote"),
                Arguments.of(Role.LEADER, "AppendEntriesResponse"));
    }

    /**
     * Reference: section 5.1. "If one server's current term is smaller than the other's, then it updates its current
     * term to the larger value. If a candidate or leader discovers that its term is out of date, it immediately
     * reverts to follower state."
     */
    @ParameterizedTest(name = "{0} steps {1} of a higher term")
    @MethodSource("higherTermCases")
    void updatesTermAndStepsDownOnHigherTerm(Role start, String kind) {
        RaftNode a = node("a", PLAIN, ABC);
        if (start == Role.CANDIDATE) {
            tickUntilCampaign(a);
            drain(a);
        } else if (start == Role.LEADER) {
            elect(a);
        }
        assertEquals(start, a.role());
        boolean expectVote = kind.equals("RequestVote") && a.lastIndex() == 0; // b's empty log is as up to date
        long t = a.term() + 5;
        RaftMessage m = switch (kind) {
            case "Heartbeat" -> new Heartbeat(t, "b", "a", 0, 1, false);
            case "AppendEntries" -> new AppendEntries(t, "b", "a", 0, 0, List.of(), 0);
            case "RequestVote" -> new RequestVote(t, "b", "a", 0, 0, false, false); // log not up to date: no vote
            case "RequestVoteResponse" -> new RequestVoteResponse(t, "b", "a", false, false);
            case "AppendEntriesResponse" -> new AppendEntriesResponse(t, "b", "a", false, 0, 0, 0);
            default -> throw new IllegalArgumentException(kind);
        };
        a.step(m);
        assertEquals(Role.FOLLOWER, a.role());
        assertEquals(t, a.term());
        Ready r = drain(a);
        assertNotNull(r.hardState(), "the new term is persisted");
        assertEquals(t, r.hardState().term());
        assertEquals(expectVote ? "b" : null, r.hardState().votedFor(), "the vote of the old term does not carry over");
        boolean fromLeader = kind.equals("Heartbeat") || kind.equals("AppendEntries");
        assertEquals(fromLeader ? "b" : null, a.leader(), "only a leader's message names a leader");
    }

    /** Reference: section 5.1. "If a server receives a request with a stale term number, it rejects the request." */
    @Test
    void ignoresAndRejectsStaleTermMessages() {
        RaftNode a = restored("a", PLAIN, Configuration.of(ABC), new HardState(5, null, 0), 1, 2);
        a.step(new AppendEntries(3, "b", "a", 2, 2, List.of(new Entry(3, 3, Entry.Type.NOOP, 0, 0, null)), 3));
        a.step(new RequestVote(4, "c", "a", 10, 4, false, false));
        Ready r = drain(a);
        assertEquals(2, a.lastIndex(), "stale AppendEntries appended nothing");
        assertEquals(0, a.commitIndex(), "and advanced no commit index");
        assertNull(a.votedFor(), "stale RequestVote got no vote");
        assertNull(r.hardState());
        assertTrue(ofType(allMessages(r), RequestVoteResponse.class).stream().noneMatch(RequestVoteResponse::granted));

        // with CheckQuorum (or PreVote) a stale leader is told the newer term, so that it steps down
        RaftNode b = restored("b", RaftConfig.defaults(), Configuration.of(ABC), new HardState(5, null, 0), 1, 2);
        b.step(new Heartbeat(3, "c", "b", 0, 1, false));
        AppendEntriesResponse resp = single(drain(b).messages(), AppendEntriesResponse.class);
        assertEquals(5, resp.term());
        assertFalse(resp.success());
    }

    // ------------------------------------------------------------------ §5.2 leader election

    /**
     * Reference: section 5.2. "If a follower receives no communication over a period of time called the election
     * timeout, then it ... begins an election": it increments its term, votes for itself and requests votes; the
     * timeout is randomized ("chosen randomly from a fixed interval") so that split votes are rare.
     */
    @Test
    void followerStartsElectionAfterRandomizedTimeout() {
        Set<Integer> timeouts = new HashSet<>();
        for (int seed = 0; seed < 50; seed++) {
            RaftNode a = RaftNode.create("a", PLAIN, new Random(seed), ABC);
            int ticks = tickUntilCampaign(a);
            assertTrue(ticks >= ELECTION && ticks < 2 * ELECTION, "timeout " + ticks + " in [e, 2e)");
            timeouts.add(ticks);
            assertEquals(Role.CANDIDATE, a.role());
            assertEquals(1, a.term());
            Ready r = drain(a);
            assertEquals(new HardState(1, "a", 0), r.hardState(), "the new term and the self-vote are persisted");
            assertTrue(r.messages().isEmpty(), "nothing is sent before the self-vote is durable");
            List<RequestVote> votes = ofType(r.messagesAfterPersist(), RequestVote.class);
            assertEquals(Set.of("b", "c"), Set.of(votes.get(0).to(), votes.get(1).to()));
            for (RequestVote v : votes) {
                assertEquals(1, v.term());
                assertFalse(v.preVote());
            }
        }
        assertTrue(timeouts.size() > 3, "election timeouts are randomized: " + timeouts);
    }

    /** A follower that keeps hearing from its leader never starts an election (section 5.2). */
    @Test
    void followerHearingFromLeaderDoesNotCampaign() {
        RaftNode b = node("b", PLAIN, ABC);
        for (int t = 0; t < 10 * ELECTION; t++) {
            b.tick();
            b.step(new Heartbeat(1, "a", "b", 0, t, false));
            drain(b);
        }
        assertEquals(Role.FOLLOWER, b.role());
        assertEquals(1, b.term());
    }

    static Stream<Arguments> voteTallies() {
        return Stream.of(
                // voters, responses (member -> granted), expected role
                Arguments.of(List.of("a", "b", "c"), Map.of("b", true), Role.LEADER),
                Arguments.of(List.of("a", "b", "c"), Map.of("b", false), Role.CANDIDATE),
                Arguments.of(List.of("a", "b", "c"), Map.of("b", false, "c", false), Role.FOLLOWER),
                Arguments.of(List.of("a", "b", "c", "d", "e"), Map.of("b", true), Role.CANDIDATE),
                Arguments.of(List.of("a", "b", "c", "d", "e"), Map.of("b", true, "c", true), Role.LEADER),
                Arguments.of(List.of("a", "b", "c", "d", "e"), Map.of("b", false, "c", false), Role.CANDIDATE),
                Arguments.of(List.of("a", "b", "c", "d", "e"), Map.of("b", false, "c", false, "d", false),
                        Role.FOLLOWER),
                Arguments.of(List.of("a", "b", "c", "d"), Map.of("b", true), Role.CANDIDATE),
                Arguments.of(List.of("a", "b", "c", "d"), Map.of("b", true, "c", true), Role.LEADER),
                Arguments.of(List.of("a", "b", "c", "d"), Map.of("b", false, "c", false), Role.FOLLOWER));
    }

    /**
     * Reference: section 5.2. "A candidate wins an election if it receives votes from a majority of the servers in
     * the full cluster for the same term"; once a majority is impossible it gives up.
     */
    @ParameterizedTest(name = "{0} with responses {1} -> {2}")
    @MethodSource("voteTallies")
    void candidateWinsWithMajority(List<String> voters, Map<String, Boolean> responses, Role expected) {
        RaftNode a = node("a", PLAIN, voters);
        tickUntilCampaign(a);
        drain(a);
        for (Map.Entry<String, Boolean> e : new TreeMap<>(responses).entrySet()) {
            a.step(new RequestVoteResponse(1, e.getKey(), "a", e.getValue(), false));
        }
        assertEquals(expected, a.role());
        if (expected == Role.LEADER) {
            Ready r = drain(a);
            assertEquals(1, r.entries().size(), "a new leader appends a no-op of its term");
            assertEquals(Entry.Type.NOOP, r.entries().get(0).type());
            assertEquals(1, r.entries().get(0).term());
        }
    }

    /** A duplicated vote from one member is counted once (section 5.2: a majority of distinct servers). */
    @Test
    void duplicateVoteIsCountedOnce() {
        RaftNode a = node("a", PLAIN, List.of("a", "b", "c", "d", "e"));
        tickUntilCampaign(a);
        drain(a);
        a.step(new RequestVoteResponse(1, "b", "a", true, false));
        a.step(new RequestVoteResponse(1, "b", "a", true, false));
        assertEquals(Role.CANDIDATE, a.role());
        a.step(new RequestVoteResponse(1, "c", "a", true, false));
        assertEquals(Role.LEADER, a.role());
    }

    /**
     * Reference: section 5.2. "Each server will vote for at most one candidate in a given term, on a first-come-
     * first-served basis"; Figure 2: votedFor is persistent state, updated on stable storage before responding.
     */
    @Test
    void votesAtMostOncePerTermAndPersistsTheVoteBeforeAnswering() {
        RaftNode a = node("a", PLAIN, ABC);
        a.step(new RequestVote(1, "b", "a", 0, 0, false, false));
        Ready r = a.ready();
        assertEquals(new HardState(1, "b", 0), r.hardState(), "the vote is in the Ready's hard state");
        assertTrue(ofType(r.messages(), RequestVoteResponse.class).isEmpty(),
                "the vote is never in messages (sent before persisting)");
        assertTrue(single(r.messagesAfterPersist(), RequestVoteResponse.class).granted(),
                "the vote is in messagesAfterPersist");
        a.advance(r);

        a.step(new RequestVote(1, "c", "a", 5, 1, false, false)); // a better log, same term: still no
        RequestVoteResponse second = single(drain(a).messagesAfterPersist(), RequestVoteResponse.class);
        assertFalse(second.granted(), "a second candidate in the same term gets no vote");
        assertEquals("b", a.votedFor());

        a.step(new RequestVote(1, "b", "a", 0, 0, false, false)); // a retried request of the same candidate
        assertTrue(single(drain(a).messagesAfterPersist(), RequestVoteResponse.class).granted(),
                "the same candidate may ask again (lost response)");

        // the vote survives a restart: the restored member refuses c in term 1 as well
        RaftNode restarted = new RaftNode("a", PLAIN, fixed(0), Configuration.of(ABC), new HardState(1, "b", 0),
                Snapshot.EMPTY, List.of());
        restarted.step(new RequestVote(1, "c", "a", 5, 1, false, false));
        assertFalse(single(drain(restarted).messagesAfterPersist(), RequestVoteResponse.class).granted());

        // a new term is a new vote
        a.step(new RequestVote(2, "c", "a", 5, 1, false, false));
        Ready r2 = a.ready();
        assertEquals(new HardState(2, "c", 0), r2.hardState());
        assertTrue(single(r2.messagesAfterPersist(), RequestVoteResponse.class).granted());
        a.advance(r2);
    }

    // ------------------------------------------------------------------ §5.3 log replication

    static Stream<Arguments> consistencyCheckCases() {
        // follower log [1@1, 2@1, 3@2] in term 2; AppendEntries(prevIndex, prevTerm) -> success, hintIndex, hintTerm
        return Stream.of(
                Arguments.of(3L, 2L, true, 0L, 0L),
                Arguments.of(2L, 1L, true, 0L, 0L),
                Arguments.of(0L, 0L, true, 0L, 0L),
                Arguments.of(3L, 3L, false, 3L, 2L),  // term mismatch at 3: skip the whole of term 2 (starts at 3)
                Arguments.of(2L, 2L, false, 1L, 1L),  // term mismatch at 2: term 1 starts at 1
                Arguments.of(5L, 2L, false, 4L, 0L),  // beyond the end: retry from our last index + 1
                Arguments.of(4L, 2L, false, 4L, 0L));
    }

    /**
     * Reference: section 5.3. "When sending an AppendEntries RPC, the leader includes the index and term of the entry
     * in its log that immediately precedes the new entries. If the follower does not find an entry in its log with
     * the same index and term, then it refuses the new entries." The rejection carries a hint (the first index of
     * the conflicting term, or the follower's log end) for the optimization described at the end of §5.3.
     */
    @ParameterizedTest(name = "prev={0}@{1} -> success={2} hint={3}@{4}")
    @MethodSource("consistencyCheckCases")
    void appendEntriesConsistencyCheck(long prev, long prevTerm, boolean success, long hintIndex, long hintTerm) {
        RaftNode f = restored("f", PLAIN, Configuration.of(List.of("f", "l", "x")), new HardState(2, null, 0), 1, 1, 2);
        Entry e = new Entry(prev + 1, 2, Entry.Type.COMMAND, 0, 0, new byte[]{42});
        f.step(new AppendEntries(2, "l", "f", prev, prevTerm, List.of(e), 0));
        Ready r = drain(f);
        AppendEntriesResponse resp = single(allMessages(r), AppendEntriesResponse.class);
        assertEquals(success, resp.success());
        if (success) {
            assertEquals(prev + 1, resp.index(), "acknowledges the last new entry");
            assertTrue(r.messagesAfterPersist().contains(resp), "an acknowledgement waits for the append to be durable");
            assertEquals(2, f.termAt(prev + 1));
        } else {
            assertEquals(prev, resp.index(), "names the rejected prevLogIndex");
            assertEquals(hintIndex, resp.hintIndex());
            assertEquals(hintTerm, resp.hintTerm());
            assertEquals(3, f.lastIndex(), "a rejected AppendEntries changes nothing");
            assertTrue(r.entries().isEmpty());
        }
    }

    /**
     * Reference: section 5.3. "If an existing entry conflicts with a new one (same index but different terms),
     * delete the existing entry and all that follow it" — and only then: entries already present are kept.
     */
    @Test
    void conflictingSuffixIsTruncatedAndMatchingEntriesKept() {
        RaftNode f = restored("f", PLAIN, Configuration.of(List.of("f", "l", "x")), new HardState(1, null, 0), 1, 1, 1, 1);
        // a stale, duplicated AppendEntries of entries we already have truncates nothing
        f.step(new AppendEntries(1, "l", "f", 0, 0, List.of(f.entriesFrom(1).get(0)), 0));
        drain(f);
        assertEquals(4, f.lastIndex(), "matching entries are not deleted");

        Entry e2 = new Entry(2, 2, Entry.Type.COMMAND, 0, 0, new byte[]{9});
        Entry e3 = new Entry(3, 2, Entry.Type.COMMAND, 0, 0, new byte[]{10});
        f.step(new AppendEntries(2, "l", "f", 1, 1, List.of(e2, e3), 1));
        Ready r = drain(f);
        assertEquals(3, f.lastIndex(), "entry 4@1 that followed the conflict is gone");
        assertEquals(List.of(1L, 2L, 2L), List.of(f.termAt(1), f.termAt(2), f.termAt(3)));
        assertEquals(List.of(e2, e3), r.entries(), "the shell is told to overwrite from index 2");
        assertEquals(1, f.commitIndex());
        assertTrue(single(r.messagesAfterPersist(), AppendEntriesResponse.class).success());
    }

    static Stream<Arguments> figure7Followers() {
        // Raft paper Figure 7: the leader of term 8 and followers (a)-(f)
        return Stream.of(
                Arguments.of("a", new long[]{1, 1, 1, 4, 4, 5, 5, 6, 6}),
                Arguments.of("b", new long[]{1, 1, 1, 4}),
                Arguments.of("c", new long[]{1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6}),
                Arguments.of("d", new long[]{1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7}),
                Arguments.of("e", new long[]{1, 1, 1, 4, 4, 4, 4}),
                Arguments.of("f", new long[]{1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3}));
    }

    /**
     * Reference: section 5.3 (end) and Figure 7. "The follower can include the term of the conflicting entry and the
     * first index it stores for that term. With this information, the leader can decrement nextIndex to bypass all
     * of the conflicting entries in that term; one AppendEntries RPC will be required for each term with conflicting
     * entries, rather than one RPC per entry." The follower ends with exactly the leader's log.
     */
    @ParameterizedTest(name = "Figure 7 follower ({0})")
    @MethodSource("figure7Followers")
    void fastBackOffNeedsAtMostOneRejectionPerConflictingTerm(String name, long[] followerTerms) {
        long[] leaderTerms = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6};
        List<String> voters = List.of("l", "f", "x");
        RaftNode leader = elect(restored("l", PLAIN, Configuration.of(voters), new HardState(7, null, 0), leaderTerms));
        assertEquals(8, leader.term());
        long followerTerm = followerTerms[followerTerms.length - 1];
        RaftNode follower = restored("f", PLAIN, Configuration.of(voters), new HardState(followerTerm, null, 0),
                followerTerms);
        // elect() dropped the leader's first AppendEntries; a heartbeat and its response re-open the probe
        List<RaftMessage> toFollower = new ArrayList<>();
        leader.tick();
        toFollower.addAll(allMessages(drain(leader)));
        toFollower.removeIf(m -> !m.to().equals("f"));

        int rejections = 0;
        for (int round = 0; round < 50 && !toFollower.isEmpty(); round++) {
            List<RaftMessage> toLeader = new ArrayList<>();
            for (RaftMessage m : toFollower) {
                follower.step(m);
                toLeader.addAll(allMessages(drain(follower)));
            }
            toFollower.clear();
            for (RaftMessage m : toLeader) {
                if (m instanceof AppendEntriesResponse resp && !resp.success()) {
                    rejections++;
                }
                leader.step(m);
                toFollower.addAll(allMessages(drain(leader)));
            }
            toFollower.removeIf(m -> !(m instanceof AppendEntries));
        }
        assertEquals(leader.entriesFrom(1), follower.entriesFrom(1), "the follower's log equals the leader's");
        // terms of the follower's entries that are not in the leader's log (plus one for a log that is too short)
        Set<Long> conflictingTerms = new HashSet<>();
        for (int i = 0; i < followerTerms.length; i++) {
            if (i >= leaderTerms.length || leaderTerms[i] != followerTerms[i]) {
                conflictingTerms.add(followerTerms[i]);
            }
        }
        int bound = conflictingTerms.size() + (followerTerms.length < leaderTerms.length ? 1 : 0);
        System.out.println("Figure 7 (" + name + "): " + rejections + " rejection(s), bound " + bound);
        assertTrue(rejections <= Math.max(1, bound), "rejections " + rejections + " <= " + bound + " for (" + name + ")");
    }

    // ------------------------------------------------------------------ §5.4 safety

    static Stream<Arguments> upToDateCases() {
        // voter log [1@1, 2@2] in term 2; candidate (lastLogIndex, lastLogTerm) -> granted
        return Stream.of(
                Arguments.of(2L, 2L, true),   // same log
                Arguments.of(5L, 2L, true),   // same last term, longer
                Arguments.of(1L, 3L, true),   // later last term wins even if shorter
                Arguments.of(1L, 2L, false),  // same last term, shorter
                Arguments.of(3L, 1L, false),  // longer, but earlier last term
                Arguments.of(0L, 0L, false)); // empty log
    }

    /**
     * Reference: section 5.4.1. "The voter denies its vote if its own log is more up-to-date than that of the
     * candidate. ... If the logs have last entries with different terms, then the log with the later term is more
     * up-to-date. If the logs end with the same term, then whichever log is longer is more up-to-date."
     */
    @ParameterizedTest(name = "candidate last={0}@{1} -> granted={2}")
    @MethodSource("upToDateCases")
    void voterRejectsCandidateWithLessUpToDateLog(long lastIndex, long lastTerm, boolean granted) {
        RaftNode v = restored("v", PLAIN, Configuration.of(List.of("v", "c", "x")), new HardState(2, null, 0), 1, 2);
        v.step(new RequestVote(3, "c", "v", lastIndex, lastTerm, false, false));
        Ready r = drain(v);
        assertEquals(granted, single(r.messagesAfterPersist(), RequestVoteResponse.class).granted());
        assertEquals(3, v.term(), "the candidate's term is adopted either way (§5.1)");
        assertEquals(granted ? "c" : null, v.votedFor());
    }

    /**
     * Reference: section 5.4.2 and Figure 8. "Raft never commits log entries from previous terms by counting
     * replicas. Only log entries from the leader's current term are committed by counting replicas; once an entry
     * from the current term has been committed in this way, then all prior entries are committed indirectly."
     */
    @Test
    void figure8LeaderCommitsEarlierTermEntriesOnlyThroughAnEntryOfItsOwnTerm() {
        RaftNode a = restored("a", PLAIN, Configuration.of(ABC), new HardState(3, null, 1), 1, 2);
        tickUntilCampaign(a);
        assertEquals(4, a.term());
        drain(a);
        a.step(new RequestVoteResponse(4, "b", "a", true, false));
        assertEquals(Role.LEADER, a.role());
        Ready r = drain(a);
        assertEquals(List.of(Entry.noop(3, 4)), r.entries(), "the no-op of term 4 is at index 3");
        assertEquals(1, a.commitIndex());

        // b has replicated entry 2 (of term 2): a majority {a, b} holds it, but it is not of the current term
        a.step(new AppendEntriesResponse(4, "b", "a", true, 2, 0, 0));
        assertTrue(a.commitIndex() < 2, "entry 2@2 is not committed by counting replicas: commit=" + a.commitIndex());
        Ready afterAck2 = drain(a);
        assertTrue(afterAck2.committed().isEmpty(), "nothing is handed to the state machine");

        // b acknowledges the no-op 3@4: entries 2 and 3 are committed together
        a.step(new AppendEntriesResponse(4, "b", "a", true, 3, 0, 0));
        assertEquals(3, a.commitIndex());
        Ready afterAck3 = drain(a);
        assertEquals(List.of(2L, 3L), afterAck3.committed().stream().map(Entry::index).toList());
    }

    /** Reference: section 5.4.2. A leader counts itself only once its own entry is durable (Ready, then advance). */
    @Test
    void leaderCountsItselfOnlyAfterItsOwnWrite() {
        RaftNode a = leaderWithCommittedNoop(PLAIN);
        ProposeResult p = a.propose(7, 1, new byte[]{1});
        long index = ((ProposeResult.Accepted) p).index();
        // a fast follower acknowledges before the leader's own write is done (the leader sends before it writes)
        a.step(new AppendEntriesResponse(1, "b", "a", true, index, 0, 0));
        assertEquals(index - 1, a.commitIndex(), "b alone is no majority while the leader's copy is not durable");
        Ready r = a.ready();
        assertEquals(index, r.lastEntryIndex(), "the leader's write of the entry");
        a.advance(r);
        assertEquals(index, a.commitIndex(), "leader (durable) + b form a majority");
        assertEquals(List.of(index), drain(a).committed().stream().map(Entry::index).toList());
    }

    /**
     * Pipelined writes: a leader that handed its entry off (advanceBeforePersisted) takes more input at once but
     * still counts its own copy only once that write is durable (persisted).
     */
    @Test
    void pipelinedLeaderCountsItselfOnlyOnceTheWriteIsDurable() {
        RaftNode a = leaderWithCommittedNoop(PLAIN);
        long first = ((ProposeResult.Accepted) a.propose(7, 1, new byte[]{1})).index();
        Ready w1 = a.ready();
        assertTrue(w1.canPipeline(), "entries only: " + w1);
        a.advanceBeforePersisted(w1);
        long second = ((ProposeResult.Accepted) a.propose(7, 2, new byte[]{2})).index(); // input while w1 is written
        Ready w2 = a.ready();
        a.advanceBeforePersisted(w2);
        a.step(new AppendEntriesResponse(1, "b", "a", true, second, 0, 0));
        assertEquals(first - 1, a.commitIndex(), "b alone is no majority while the leader's writes are in flight");
        a.persisted(w1);
        assertEquals(first, a.commitIndex(), "leader's durable copy of the first entry + b");
        a.persisted(w2);
        assertEquals(second, a.commitIndex());
        assertEquals(List.of(first, second), drain(a).committed().stream().map(Entry::index).toList());
    }

    /** A new term or vote must be durable before the member takes more input: it cannot be pipelined. */
    @Test
    void aReadyWithANewHardStateCannotBePipelined() {
        RaftNode b = node("b", PLAIN, ABC);
        b.step(new RequestVote(1, "a", "b", 0, 0, false, false));
        Ready vote = b.ready();
        assertNotNull(vote.hardState(), "the vote is part of the hard state");
        assertFalse(vote.canPipeline());
        assertThrows(IllegalStateException.class, () -> b.advanceBeforePersisted(vote));
        b.advance(vote);
        assertEquals(1, ofType(vote.messagesAfterPersist(), RequestVoteResponse.class).size(),
                "the vote leaves only after it is durable");
    }

    /** Entries replaced (log conflict, §5.3) while their write was in flight do not become stable with it. */
    @Test
    void pipelinedEntriesReplacedBeforeTheirWriteCompletesAreNotStable() {
        RaftNode b = restored("b", PLAIN, Configuration.of(ABC), new HardState(2, null, 0), 1);
        b.step(new AppendEntries(2, "a", "b", 1, 1, List.of(
                new Entry(2, 2, Entry.Type.COMMAND, 0, 0, new byte[]{2}),
                new Entry(3, 2, Entry.Type.COMMAND, 0, 0, new byte[]{3})), 0));
        Ready w1 = b.ready();
        assertTrue(w1.canPipeline());
        b.advanceBeforePersisted(w1);
        // term 3's leader overwrites index 3 (b adopts term 3: that ready is written before anything else)
        b.step(new AppendEntries(3, "c", "b", 2, 2, List.of(new Entry(3, 3, Entry.Type.COMMAND, 0, 0, new byte[]{9})), 0));
        Ready w2 = b.ready();
        assertFalse(w2.canPipeline(), "a new term");
        b.persisted(w1); // completes while w2 waits for it
        assertEquals(2, stableOf(b), "2@2 is stable, 3@2 was replaced");
        b.advance(w2);
        assertEquals(3, stableOf(b));
        assertEquals(3, b.termAt(3));
    }

    private static long stableOf(RaftNode n) {
        return n.matchIndex(n.id());
    }

    // ------------------------------------------------------------------ §6.4 ReadIndex

    /**
     * Reference: dissertation section 6.4. The leader records its commit index as the read index, "sends a new round
     * of heartbeats, and waits for their acknowledgments from a majority of the cluster"; only then is the read
     * answered.
     */
    @Test
    void readIndexIsAnsweredOnlyAfterAQuorumAcknowledgedAHeartbeatRound() {
        RaftNode a = leaderWithCommittedNoop(PLAIN);
        a.read(7, ReadConsistency.LINEARIZABLE);
        Ready r = drain(a);
        assertTrue(r.readStates().isEmpty(), "no answer before the heartbeat round");
        List<Heartbeat> hbs = ofType(r.messages(), Heartbeat.class);
        assertEquals(Set.of("b", "c"), Set.of(hbs.get(0).to(), hbs.get(1).to()));
        long round = hbs.get(0).readRound();

        a.step(new HeartbeatResponse(1, "b", "a", round - 1, 1)); // an older round proves nothing about this read
        assertTrue(drain(a).readStates().isEmpty());
        a.step(new HeartbeatResponse(1, "b", "a", round, 1)); // a + b: a quorum of 3
        Ready answered = drain(a);
        assertEquals(List.of(ReadState.ok(7, 1)), answered.readStates(), "read index = commit index at request time");
        a.step(new HeartbeatResponse(1, "c", "a", round, 1));
        assertTrue(drain(a).readStates().isEmpty(), "answered once");
    }

    /**
     * Reference: dissertation section 6.4, step 1: "If the leader has not yet marked an entry from its current term
     * committed, it waits until it has done so" — a new leader does not know the commit index before that.
     */
    @Test
    void newLeaderAnswersReadsOnlyAfterCommittingAnEntryOfItsTerm() {
        RaftNode a = restored("a", PLAIN, Configuration.of(ABC), new HardState(1, null, 1), 1, 1);
        elect(a);
        a.read(9, ReadConsistency.LINEARIZABLE);
        Ready r = drain(a);
        assertTrue(r.readStates().isEmpty());
        assertTrue(ofType(r.messages(), Heartbeat.class).isEmpty(), "no read round before the term's first commit");
        a.tick(); // a regular heartbeat round, acknowledged by everyone
        long first = ofType(drain(a).messages(), Heartbeat.class).get(0).readRound();
        a.step(new HeartbeatResponse(2, "b", "a", first, 2));
        a.step(new HeartbeatResponse(2, "c", "a", first, 2));
        assertTrue(drain(a).readStates().isEmpty(), "a quorum of heartbeat acks alone does not answer it");

        a.step(new AppendEntriesResponse(2, "b", "a", true, 3, 0, 0)); // the no-op 3@2 commits
        assertEquals(3, a.commitIndex());
        Ready afterCommit = drain(a);
        assertTrue(afterCommit.readStates().isEmpty(), "still needs its heartbeat round");
        long round = ofType(afterCommit.messages(), Heartbeat.class).get(0).readRound();
        a.step(new HeartbeatResponse(2, "c", "a", round, 3));
        assertEquals(List.of(ReadState.ok(9, 3)), drain(a).readStates());
    }

    /** Reference: dissertation section 6.4 ("Followers ... issue a request to the leader to learn the read index"). */
    @Test
    void followerForwardsReadsToTheLeader() {
        RaftNode b = node("b", PLAIN, ABC);
        b.read(3, ReadConsistency.LINEARIZABLE);
        ReadState failed = drain(b).readStates().get(0);
        assertFalse(failed.ok(), "no leader known: fail fast");

        b.step(new Heartbeat(1, "a", "b", 0, 1, false));
        drain(b);
        b.read(4, ReadConsistency.LINEARIZABLE);
        Ready r = drain(b);
        ReadIndexRequest fwd = single(r.messages(), ReadIndexRequest.class);
        assertEquals("a", fwd.to());
        assertEquals(4, fwd.context());
        assertTrue(r.readStates().isEmpty());
        b.step(new ReadIndexResponse(1, "a", "b", 4, 12, true));
        assertEquals(List.of(ReadState.ok(4, 12)), drain(b).readStates());

        // and the leader answers the forwarded read to the follower after its round
        RaftNode a = leaderWithCommittedNoop(PLAIN);
        a.step(new ReadIndexRequest(1, "c", "a", 5));
        long round = ofType(drain(a).messages(), Heartbeat.class).get(0).readRound();
        a.step(new HeartbeatResponse(1, "b", "a", round, 1));
        ReadIndexResponse resp = single(drain(a).messages(), ReadIndexResponse.class);
        assertEquals("c", resp.to());
        assertTrue(resp.ok());
        assertEquals(1, resp.index());
    }

    /**
     * Commit propagation without extra messages: a commit advance alone sends nothing (it is not needed for safety,
     * and the leader answers clients from its own apply); followers learn it from the next AppendEntries or, when no
     * entries flow, the next heartbeat — never beyond what they hold (min of their match index and the commit).
     */
    @Test
    void aCommitAdvanceAloneSendsNothingAndFollowersLearnItFromTheNextMessage() {
        RaftNode a = leaderWithCommittedNoop(PLAIN);
        a.step(new AppendEntriesResponse(1, "c", "a", true, 1, 0, 0)); // c in REPLICATE too
        drain(a);
        long index = ((ProposeResult.Accepted) a.propose(7, 1, new byte[]{1})).index();
        assertEquals(2, ofType(drain(a).messages(), AppendEntries.class).size(), "the entry to b and c");

        a.step(new AppendEntriesResponse(1, "b", "a", true, index, 0, 0));
        assertEquals(index, a.commitIndex());
        Ready commit = drain(a);
        assertEquals(List.of(index), commit.committed().stream().map(Entry::index).toList(), "applied by the leader");
        assertEquals(List.of(), allMessages(commit), "the commit advance alone sends no message");

        a.tick(); // PLAIN heartbeats every tick
        List<Heartbeat> beats = ofType(drain(a).messages(), Heartbeat.class);
        assertEquals(index, beats.stream().filter(h -> h.to().equals("b")).findFirst().orElseThrow().commit(),
                "b holds the entry: the heartbeat tells it the commit");
        assertEquals(1, beats.stream().filter(h -> h.to().equals("c")).findFirst().orElseThrow().commit(),
                "c has not acknowledged the entry: told no more than its match index");

        a.propose(7, 2, new byte[]{2});
        for (AppendEntries ae : ofType(drain(a).messages(), AppendEntries.class)) {
            assertEquals(index, ae.leaderCommit(), "the next entries carry the commit to " + ae.to());
        }
    }

    /** A follower serving a read (ReadIndex) gets the commit with the answer, not at the next heartbeat. */
    @Test
    void aFollowerReadIsAnsweredTogetherWithTheCommit() {
        RaftNode a = leaderWithCommittedNoop(PLAIN);
        long index = ((ProposeResult.Accepted) a.propose(7, 1, new byte[]{1})).index();
        drain(a);
        a.step(new AppendEntriesResponse(1, "b", "a", true, index, 0, 0));
        assertEquals(List.of(), allMessages(drain(a)));

        a.step(new ReadIndexRequest(1, "b", "a", 5));
        long round = ofType(drain(a).messages(), Heartbeat.class).get(0).readRound();
        a.step(new HeartbeatResponse(1, "b", "a", round, index));
        Ready r = drain(a);
        assertEquals(index, single(r.messages(), ReadIndexResponse.class).index());
        AppendEntries ae = single(r.messages(), AppendEntries.class);
        assertEquals("b", ae.to());
        assertEquals(index, ae.leaderCommit(), "b can apply up to the read index at once");
    }

    // ------------------------------------------------------------------ §9.6 PreVote, §6.2 CheckQuorum

    /**
     * Reference: dissertation section 9.6. "A candidate would first ask other servers whether its log was
     * up-to-date enough to get their vote. Only if the candidate believed it could get votes from a majority of the
     * cluster would it increment its term and start a normal election."
     */
    @Test
    void preCandidateDoesNotIncreaseItsTerm() {
        RaftConfig cfg = PLAIN.withPreVote(true);
        RaftNode a = restored("a", cfg, Configuration.of(ABC), new HardState(3, null, 0), 1, 3);
        tickUntilCampaign(a);
        assertEquals(Role.PRE_CANDIDATE, a.role());
        assertEquals(3, a.term(), "PreVote does not touch the term");
        Ready r = drain(a);
        assertNull(r.hardState(), "nothing to persist");
        List<RequestVote> probes = ofType(r.messagesAfterPersist(), RequestVote.class);
        assertEquals(2, probes.size());
        for (RequestVote p : probes) {
            assertTrue(p.preVote());
            assertEquals(4, p.term(), "asks for the term it would use");
        }
        // a timed-out pre-campaign does not inflate the term either (the partitioned-node case)
        for (int i = 0; i < 5; i++) {
            tickUntilCampaign(becomeFollowerAgain(a));
            drain(a);
        }
        assertEquals(3, a.term());

        a.step(new RequestVoteResponse(4, "b", "a", true, true));
        assertEquals(Role.CANDIDATE, a.role(), "a granted PreVote majority starts the real election");
        assertEquals(4, a.term());
        assertEquals(new HardState(4, "a", 0), drain(a).hardState());
    }

    private static RaftNode becomeFollowerAgain(RaftNode n) {
        if (n.role() == Role.PRE_CANDIDATE) {
            n.step(new RequestVoteResponse(n.term(), "b", n.id(), false, true));
            n.step(new RequestVoteResponse(n.term(), "c", n.id(), false, true));
            drain(n);
        }
        return n;
    }

    /**
     * Reference: dissertation section 9.6 (and 4.2.3). A server that has heard from a current leader within the
     * minimum election timeout does not grant a PreVote (nor, with CheckQuorum, a vote): a rejoining server cannot
     * disrupt a working leader. After a full election timeout without the leader, it does.
     */
    @Test
    void followerThatHeardFromALeaderRejectsPreVote() {
        for (RaftConfig cfg : List.of(RaftConfig.defaults().withElection(ELECTION, 1),
                PLAIN.withPreVote(true), PLAIN.withCheckQuorum(true))) {
            RaftNode b = RaftNode.create("b", cfg, fixed(Integer.MAX_VALUE), ABC); // timeout 2e - 1: no campaign
            b.step(new Heartbeat(1, "a", "b", 0, 1, false));
            drain(b);
            b.step(new RequestVote(2, "c", "b", 10, 1, true, false));
            Ready r = drain(b);
            assertTrue(ofType(allMessages(r), RequestVoteResponse.class).stream().noneMatch(RequestVoteResponse::granted),
                    "no PreVote granted while the leader is heard from (" + cfg + ")");
            assertEquals(1, b.term());
            assertEquals("a", b.leader());
            if (cfg.checkQuorum()) {
                b.step(new RequestVote(2, "c", "b", 10, 1, false, false));
                assertEquals(1, b.term(), "CheckQuorum: a real vote request does not disrupt the leader either");
                assertNull(drain(b).hardState());
            }
            for (int i = 0; i < ELECTION; i++) {
                b.tick();
            }
            assertEquals(Role.FOLLOWER, b.role());
            b.step(new RequestVote(2, "c", "b", 10, 1, true, false));
            RequestVoteResponse granted = single(drain(b).messagesAfterPersist(), RequestVoteResponse.class);
            assertTrue(granted.granted(), "after an election timeout of silence the PreVote is granted (" + cfg + ")");
            assertEquals(1, b.term(), "granting a PreVote changes no term");
        }
    }

    /**
     * Reference: dissertation section 6.2 ("CheckQuorum"): "a leader steps down if an election timeout elapses
     * without a successful round of heartbeats to a majority of its cluster".
     */
    @Test
    void checkQuorumLeaderStepsDownWithoutAQuorum() {
        RaftConfig cfg = PLAIN.withCheckQuorum(true);
        RaftNode alone = elect(node("a", cfg, ABC));
        RaftNode heard = elect(node("a", cfg, ABC));
        for (int t = 0; t < 2 * ELECTION; t++) {
            alone.tick();
            drain(alone);
            heard.tick();
            heard.step(new HeartbeatResponse(1, "b", "a", 0, 0));
            drain(heard);
        }
        assertEquals(Role.FOLLOWER, alone.role(), "isolated leader stepped down");
        assertEquals(1, alone.term(), "without changing the term");
        assertEquals(Role.LEADER, heard.role(), "a leader that hears from a majority stays");

        RaftNode plain = elect(node("a", PLAIN, ABC));
        for (int t = 0; t < 5 * ELECTION; t++) {
            plain.tick();
            drain(plain);
        }
        assertEquals(Role.LEADER, plain.role(), "without CheckQuorum it would not notice (the test can fail)");
    }

    // ------------------------------------------------------------------ learners (diss. §4.2.1)

    /**
     * Reference: dissertation section 4.2.1: new servers join as non-voting members (learners): they receive the log
     * but are not counted for elections or commitment, and never campaign.
     */
    @Test
    void learnersNeitherVoteNorCountTowardsCommit() {
        Configuration conf = Configuration.of(ABC, List.of("d"));
        RaftNode d = new RaftNode("d", PLAIN, fixed(0), conf, HardState.INITIAL, Snapshot.EMPTY, List.of());
        for (int t = 0; t < 10 * ELECTION; t++) {
            d.tick();
            assertTrue(drain(d).messagesAfterPersist().isEmpty());
        }
        assertEquals(Role.FOLLOWER, d.role(), "a learner never campaigns");
        assertEquals(0, d.term());

        RaftNode a = new RaftNode("a", PLAIN, fixed(0), conf, HardState.INITIAL, Snapshot.EMPTY, List.of());
        tickUntilCampaign(a);
        Ready campaign = drain(a);
        assertEquals(Set.of("b", "c"), Set.copyOf(ofType(campaign.messagesAfterPersist(), RequestVote.class)
                .stream().map(RaftMessage::to).toList()), "votes are requested from voters only");
        a.step(new RequestVoteResponse(1, "d", "a", true, false));
        assertEquals(Role.CANDIDATE, a.role(), "a learner's vote does not count");
        a.step(new RequestVoteResponse(1, "b", "a", true, false));
        assertEquals(Role.LEADER, a.role());
        Ready first = drain(a);
        assertTrue(ofType(first.messages(), AppendEntries.class).stream().anyMatch(m -> m.to().equals("d")),
                "the learner receives the log");

        a.step(new AppendEntriesResponse(1, "d", "a", true, 1, 0, 0));
        assertEquals(0, a.commitIndex(), "leader + learner is no majority of the voters");
        a.step(new AppendEntriesResponse(1, "c", "a", true, 1, 0, 0));
        assertEquals(1, a.commitIndex());
    }

    // ------------------------------------------------------------------ Ready contract

    /**
     * Reference: section 10.2.1 of the dissertation ("the leader can write to its disk in parallel with replicating
     * to the followers") and Figure 2 (followers respond only after persisting): a leader's AppendEntries are in
     * {@code messages}, a follower's acknowledgement in {@code messagesAfterPersist}.
     */
    @Test
    void readyOrdersLeaderAppendsBeforeAndFollowerAcksAfterPersistence() {
        RaftNode a = leaderWithCommittedNoop(PLAIN);
        a.propose(1, 1, new byte[]{7});
        Ready lr = drain(a);
        assertEquals(1, lr.entries().size(), "the new entry, to persist");
        assertTrue(ofType(lr.messagesAfterPersist(), AppendEntries.class).isEmpty(), "no AppendEntries waits");
        AppendEntries toB = single(lr.messages().stream().filter(m -> m.to().equals("b")).toList(), AppendEntries.class);
        assertEquals(lr.entries(), toB.entries(), "the same entry goes to b while the leader writes it");

        RaftNode b = node("b", PLAIN, ABC);
        b.step(new AppendEntries(1, "a", "b", 0, 0, List.of(Entry.noop(1, 1)), 0));
        Ready fr = drain(b);
        assertEquals(List.of(Entry.noop(1, 1)), fr.entries());
        assertTrue(ofType(fr.messages(), AppendEntriesResponse.class).isEmpty(), "no ack before the write");
        assertTrue(single(fr.messagesAfterPersist(), AppendEntriesResponse.class).success());
    }

    /** The Ready contract (etcd {@code Node.Advance}): no new input before the previous Ready was handled. */
    @Test
    void advanceIsRequiredBeforeNewInput() {
        RaftNode a = leaderWithCommittedNoop(PLAIN);
        Ready r = a.ready();
        assertThrows(IllegalStateException.class, a::tick);
        assertThrows(IllegalStateException.class, () -> a.step(new HeartbeatResponse(1, "b", "a", 0, 1)));
        assertThrows(IllegalStateException.class, () -> a.propose(1, 1, new byte[0]));
        assertThrows(IllegalStateException.class, () -> a.read(1, ReadConsistency.LINEARIZABLE));
        assertThrows(IllegalStateException.class, a::ready);
        a.advance(r);
        assertThrows(IllegalStateException.class, () -> a.advance(r), "advance without an outstanding ready");
        a.tick(); // fine again
        drain(a);
    }

    /**
     * Pipelining (etcd Progress REPLICATE with an in-flight window; dissertation §10.2.2): a follower in REPLICATE
     * gets up to maxInflightMessages AppendEntries before any acknowledgement, and no more until one arrives.
     */
    @Test
    void pipelinesAtMostMaxInflightAppendEntries() {
        RaftConfig cfg = PLAIN.withBatching(4, 1);
        RaftNode a = leaderWithCommittedNoop(cfg); // b acked the no-op: REPLICATE
        for (int i = 1; i <= 10; i++) {
            a.propose(1, i, new byte[]{(byte) i});
        }
        List<AppendEntries> toB = appendsTo(drain(a), "b");
        assertEquals(4, toB.size(), "a full window of 4 before any ack: " + toB);
        for (int i = 0; i < 4; i++) {
            assertEquals(2 + i, toB.get(i).entries().get(0).index(), "consecutive entries, one per message");
        }
        for (int t = 0; t < 3; t++) {
            a.tick();
            assertTrue(appendsTo(drain(a), "b").isEmpty(), "no more while the window is full");
        }
        a.step(new AppendEntriesResponse(1, "b", "a", true, 3, 0, 0)); // two of the four acknowledged
        List<AppendEntries> more = appendsTo(drain(a), "b");
        assertEquals(2, more.size(), "each ack frees its slots: " + more);
        assertEquals(6, more.get(0).entries().get(0).index());
    }

    static List<AppendEntries> appendsTo(Ready r, String to) {
        return ofType(allMessages(r), AppendEntries.class).stream().filter(m -> m.to().equals(to)).toList();
    }

    // ------------------------------------------------------------------ RaftCodec

    static List<RaftMessage> everyMessageType() {
        List<Entry> entries = List.of(Entry.noop(5, 2),
                new Entry(6, 2, Entry.Type.COMMAND, 77, 3, new byte[]{1, 2, 3}),
                Entry.config(7, 3, new Configuration(new TreeSet<>(Set.of("a", "b", "d")),
                        new TreeSet<>(Set.of("a", "b", "c")), new TreeSet<>(Set.of("e")))),
                new Entry(8, 3, Entry.Type.COMMAND, -1, Long.MAX_VALUE, new byte[0]));
        SnapshotMeta meta = new SnapshotMeta(42, 7, Configuration.of(ABC, List.of("læarner-ü")));
        return List.of(
                new AppendEntries(9, "a", "b", 4, 2, entries, 3),
                new AppendEntries(9, "a", "b", 0, 0, List.of(), 0),
                new AppendEntriesResponse(9, "b", "a", true, 8, 0, 0),
                new AppendEntriesResponse(9, "b", "a", false, 8, 6, 2),
                new Heartbeat(9, "a", "c", 3, 17, true),
                new Heartbeat(9, "a", "c", 3, 18, false),
                new HeartbeatResponse(9, "c", "a", 17, 8),
                new RequestVote(10, "c", "a", 8, 3, false, false),
                new RequestVote(10, "c", "a", 8, 3, true, true),
                new RequestVoteResponse(10, "a", "c", true, false),
                new RequestVoteResponse(10, "a", "c", false, true),
                new InstallSnapshot(9, "a", "b", meta, 65536, new byte[]{9, 8, 7}, false),
                new InstallSnapshot(9, "a", "b", meta, 0, new byte[0], true),
                new InstallSnapshotResponse(9, "b", "a", 42, 65539, false, 0),
                new InstallSnapshotResponse(9, "b", "a", 42, 0, true, 42),
                new TimeoutNow(9, "a", "b"),
                new ReadIndexRequest(9, "b", "a", Long.MIN_VALUE),
                new ReadIndexResponse(9, "a", "b", 12, 8, true),
                new ReadIndexResponse(9, "a", "b", 13, -1, false));
    }

    static RaftMessage roundTrip(RaftMessage m) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        RaftCodec.writeMessage(new DataOutputStream(bytes), m);
        assertEquals(bytes.size(), RaftCodec.encodedSize(m), "the size computed before encoding " + m);
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes.toByteArray()));
        RaftMessage back = RaftCodec.readMessage(in);
        assertEquals(-1, in.read(), "the whole encoding is consumed");
        return back;
    }

    /** Every message type survives encode/decode with equal fields (byte arrays compared by content). */
    @Test
    void codecRoundTripsEveryMessageType() throws Exception {
        Set<Class<?>> covered = new HashSet<>();
        for (RaftMessage m : everyMessageType()) {
            RaftMessage back = roundTrip(m);
            covered.add(m.getClass());
            if (m instanceof InstallSnapshot s) {
                InstallSnapshot b = (InstallSnapshot) back;
                assertEquals(List.of(s.term(), s.from(), s.to(), s.meta(), s.offset(), s.done()),
                        List.of(b.term(), b.from(), b.to(), b.meta(), b.offset(), b.done()));
                assertArrayEquals(s.chunk(), b.chunk());
            } else {
                assertEquals(m, back); // records: field-wise equality; Entry compares its data by content
            }
        }
        assertEquals(RaftMessage.class.getPermittedSubclasses().length, covered.size(), "every message type: " + covered);

        // a batch of (group, message) pairs, as one network envelope carries them
        List<RaftMessage> msgs = everyMessageType().stream().filter(m -> !(m instanceof InstallSnapshot))
                .toList();
        List<String> groups = msgs.stream().map(m -> "g" + (m.hashCode() & 3)).toList();
        List<String> gotGroups = new ArrayList<>();
        List<RaftMessage> gotMsgs = new ArrayList<>();
        RaftCodec.decodeBatch(RaftCodec.encodeBatch(groups, msgs), (g, m) -> {
            gotGroups.add(g);
            gotMsgs.add(m);
        });
        assertEquals(groups, gotGroups);
        assertEquals(msgs, gotMsgs);

        List<Entry> entries = ((AppendEntries) everyMessageType().get(0)).entries();
        assertEquals(entries, RaftCodec.decodeEntries(RaftCodec.encodeEntries(entries)));
        assertEquals(4 + entries.stream().mapToInt(RaftCodec::entrySize).sum(), RaftCodec.encodeEntries(entries).length);
        // sizes of names beyond ASCII (modified UTF-8: 2 bytes up to U+07FF and for U+0000, 3 beyond)
        assertEquals(new TimeoutNow(3, "nöde-\u0000", "ノード"), roundTrip(new TimeoutNow(3, "nöde-\u0000", "ノード")));
        assertEquals(Configuration.decode(entries.get(2).data()).outgoing(), Set.of("a", "b", "c"));
    }

    /** A message of another wire version is refused, not misread. */
    @Test
    void codecRejectsUnknownVersion() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        RaftCodec.writeMessage(new DataOutputStream(bytes), new TimeoutNow(1, "a", "b"));
        byte[] data = bytes.toByteArray();
        data[0] = 99;
        assertThrows(IOException.class, () -> RaftCodec.readMessage(
                new DataInputStream(new ByteArrayInputStream(data))));
    }
}
