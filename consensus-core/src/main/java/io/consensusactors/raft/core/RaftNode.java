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

import java.io.ByteArrayOutputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * One member of a Raft group as a deterministic state machine (no threads, clock or I/O): inputs are
 * {@link #step}, {@link #tick}, {@link #propose}, {@link #read}, {@link #transferLeadership},
 * {@link #changeMembership} and {@link #compact}; outputs are collected in a {@link Ready} that the shell persists,
 * sends and applies before calling {@link #advance}.
 *
 * <p>Implements the Raft paper (elections §5.2, log replication §5.3, safety §5.4 incl. the Figure 8 commit rule,
 * snapshots §7) and the dissertation's extensions: PreVote (§9.6), CheckQuorum (§6.2), ReadIndex and leases
 * (§6.4), leadership transfer (§3.10), joint-consensus membership changes with learners (§4.3), plus etcd-style
 * pipelining and batching (Progress PROBE/REPLICATE/SNAPSHOT with an in-flight window) and quiescence of idle groups.
 */
public final class RaftNode {

    private final String id;
    private final RaftConfig config;
    private final Random random;

    // persistent
    private long term;
    private String votedFor;
    private final RaftLog log;
    private HardState lastHardState;

    // volatile
    private long commit;
    private long applied;
    private long stableIndex;
    private Role role = Role.FOLLOWER;
    private String leader;
    private int electionElapsed;
    private int heartbeatElapsed;
    private int randomizedElectionTimeout;
    private long ticks;
    private boolean quiesced;
    private int idleTicks;
    /**
     * A restarted member has forgotten which leader it heard from and when: it must not help elect a new leader
     * before a full election timeout has passed, or a current leader's lease (§6.4) could be broken.
     */
    private boolean justStarted = true;

    // membership
    private Configuration snapshotConfig;
    private final TreeMap<Long, Configuration> configs = new TreeMap<>();
    private long pendingConfigIndex;

    // snapshots
    private Snapshot snapshot;
    private Snapshot pendingInstall;
    private SnapshotMeta incomingMeta;
    private ByteArrayOutputStream incomingData;

    // candidate
    private final Map<String, Boolean> votes = new HashMap<>();

    // leader
    private final Map<String, Progress> progress = new TreeMap<>();
    private boolean needBroadcast;
    private long termStartIndex;
    private String transferTarget;
    private int transferElapsed;
    /** A TimeoutNow may arrive arbitrarily late: once a transfer was tried, no lease reads for the rest of the term. */
    private boolean transferTriedThisTerm;
    private long readRound;
    private final TreeMap<Long, Long> roundSentAt = new TreeMap<>();
    private long leaseUntil;
    private boolean readBroadcastNeeded;
    private final ArrayDeque<PendingRead> pendingReads = new ArrayDeque<>();
    private final List<PendingRead> readsAwaitingCommit = new ArrayList<>();

    // output
    private final List<RaftMessage> messages = new ArrayList<>();
    private final List<RaftMessage> messagesAfterPersist = new ArrayList<>();
    private final List<ReadState> readStates = new ArrayList<>();
    private boolean readyOutstanding;

    private record PendingRead(long context, String origin, long index, long round) {
    }

    /**
     * Starts (or restarts from durable state) a member.
     *
     * @param initial  the group's configuration when the log and snapshot hold none (a new group)
     * @param hard     persisted term/vote/commit ({@link HardState#INITIAL} for a new member)
     * @param snap     persisted snapshot ({@link Snapshot#EMPTY} if none); the shell restores its state machine from it
     * @param entries  persisted entries after the snapshot, in order
     */
    public RaftNode(String id, RaftConfig config, Random random, Configuration initial, HardState hard, Snapshot snap,
                    List<Entry> entries) {
        this.id = id;
        this.config = config;
        this.random = random;
        this.term = hard.term();
        this.votedFor = hard.votedFor();
        this.lastHardState = new HardState(term, votedFor, hard.commit());
        this.snapshot = snap;
        this.log = new RaftLog(snap.meta(), entries);
        this.snapshotConfig = snap.meta().index() > 0 ? snap.meta().configuration() : initial;
        for (Entry e : entries) {
            if (e.index() > snap.meta().index() && e.type() == Entry.Type.CONFIG) {
                configs.put(e.index(), Configuration.decode(e.data()));
            }
        }
        this.applied = snap.meta().index();
        this.commit = Math.max(applied, Math.min(hard.commit(), log.lastIndex()));
        this.stableIndex = log.lastIndex();
        resetElectionTimer();
    }

    /** A brand-new member of a new group with the given voters. */
    public static RaftNode create(String id, RaftConfig config, Random random, Collection<String> voters) {
        return new RaftNode(id, config, random, Configuration.of(voters), HardState.INITIAL, Snapshot.EMPTY, List.of());
    }

    // ------------------------------------------------------------------ queries

    public String id() {
        return id;
    }

    public long term() {
        return term;
    }

    public String votedFor() {
        return votedFor;
    }

    public Role role() {
        return role;
    }

    public String leader() {
        return leader;
    }

    public boolean isLeader() {
        return role == Role.LEADER;
    }

    public long commitIndex() {
        return commit;
    }

    public long appliedIndex() {
        return applied;
    }

    public long lastIndex() {
        return log.lastIndex();
    }

    public long lastTerm() {
        return log.lastTerm();
    }

    public long firstIndex() {
        return log.firstIndex();
    }

    /** Term of the entry at index, or -1 if not in the log (compacted or beyond the end). */
    public long termAt(long index) {
        return log.term(index);
    }

    /** Entries from {@code from} to the end, as this member holds them (tests, debugging). */
    public List<Entry> entriesFrom(long from) {
        return log.entriesFrom(from);
    }

    public SnapshotMeta snapshotMeta() {
        return snapshot.meta();
    }

    public Snapshot snapshot() {
        return snapshot;
    }

    public Configuration configuration() {
        return configs.isEmpty() ? snapshotConfig : configs.lastEntry().getValue();
    }

    public RaftConfig raftConfig() {
        return config;
    }

    public boolean isQuiesced() {
        return quiesced;
    }

    public String transferTarget() {
        return transferTarget;
    }

    /** The leader's match index for a follower, -1 when unknown (not leader, or not a member). */
    public long matchIndex(String member) {
        if (member.equals(id)) {
            return stableIndex;
        }
        Progress pr = progress.get(member);
        return pr == null ? -1 : pr.match;
    }

    /**
     * True when this member leads and has applied everything before its own term (its no-op is applied): its
     * applied state then includes every entry committed by earlier leaders, so it may interpret new commands.
     */
    public boolean leaderCaughtUp() {
        return role == Role.LEADER && applied >= termStartIndex;
    }

    /** True when a leader holds a read lease right now (see {@link ReadConsistency#LEASE}). */
    public boolean leaseValid() {
        return role == Role.LEADER && !quiesced && config.checkQuorum() && !transferTriedThisTerm && ticks < leaseUntil
                && committedInCurrentTerm();
    }

    private boolean committedInCurrentTerm() {
        return log.term(commit) == term;
    }

    private boolean promotable() {
        return configuration().isVoter(id);
    }

    // ------------------------------------------------------------------ inputs

    /** Advances logical time by one tick. */
    public void tick() {
        checkNoReadyOutstanding();
        ticks++;
        if (role == Role.LEADER) {
            tickLeader();
        } else {
            if (quiesced) {
                return;
            }
            electionElapsed++;
            if (electionElapsed >= config.electionTicks()) {
                justStarted = false;
            }
            if (promotable() && electionElapsed >= randomizedElectionTimeout) {
                electionElapsed = 0;
                campaign(config.preVote(), false);
            }
        }
    }

    private void tickLeader() {
        if (quiesced) {
            return;
        }
        electionElapsed++;
        heartbeatElapsed++;
        if (transferTarget != null && ++transferElapsed >= config.electionTicks()) {
            transferTarget = null; // the target did not take over in time: abort (dissertation §3.10)
        }
        if (electionElapsed >= config.electionTicks()) {
            electionElapsed = 0;
            if (config.checkQuorum()) {
                Configuration c = configuration();
                boolean active = c.hasQuorum(m -> m.equals(id) || (progress.containsKey(m) && progress.get(m).recentActive));
                for (Progress pr : progress.values()) {
                    pr.recentActive = false;
                }
                if (!active) {
                    becomeFollower(term, null); // CheckQuorum: we cannot reach a quorum, stop acting as leader
                    return;
                }
            }
        }
        for (Map.Entry<String, Progress> e : progress.entrySet()) {
            Progress pr = e.getValue();
            if (pr.state == Progress.State.SNAPSHOT && ++pr.snapshotStallTicks >= 3 * config.heartbeatTicks() + 2) {
                pr.snapshotStallTicks = 0;
                sendSnapshotChunk(e.getKey(), pr); // a chunk or its reply was lost: resend
            }
        }
        if (heartbeatElapsed >= config.heartbeatTicks()) {
            heartbeatElapsed = 0;
            if (maybeQuiesce()) {
                return;
            }
            broadcastHeartbeat(false);
        }
    }

    private boolean maybeQuiesce() {
        if (config.quiesceAfterTicks() <= 0) {
            return false;
        }
        boolean idle = transferTarget == null && pendingReads.isEmpty() && readsAwaitingCommit.isEmpty()
                && commit == log.lastIndex() && stableIndex == log.lastIndex();
        for (Progress pr : progress.values()) {
            idle &= pr.match == log.lastIndex();
        }
        idleTicks = idle ? idleTicks + config.heartbeatTicks() : 0;
        // only a leader that heard from a quorum since the last CheckQuorum round may quiesce: a woken leader cut off
        // from its followers must stay awake until CheckQuorum steps it down (else it would keep the role, asleep)
        if (idleTicks >= config.quiesceAfterTicks() && (!config.checkQuorum() || configuration().hasQuorum(
                m -> m.equals(id) || (progress.containsKey(m) && progress.get(m).recentActive)))) {
            broadcastHeartbeat(true);
            quiesced = true;
            return true;
        }
        return false;
    }

    /** Wakes a quiesced member (new work, or the shell suspects the leader's node failed). */
    public void wake() {
        if (quiesced) {
            quiesced = false;
            idleTicks = 0;
            electionElapsed = 0;
            // no ticks counted while quiesced, although real time passed: a lease measured in ticks from a round sent
            // before quiescing would last too long. Lease reads wait for a heartbeat round sent after waking.
            leaseUntil = 0;
            roundSentAt.clear();
            // followers heard from before quiescence prove nothing now: they must answer again before it re-quiesces
            for (Progress pr : progress.values()) {
                pr.recentActive = false;
            }
        }
    }

    /**
     * How many {@link #tick()} calls from now the next timer (election timeout, heartbeat, CheckQuorum, transfer
     * abort, snapshot resend) can fire at the earliest: fewer ticks produce no message and no change of role or term,
     * so a shell may deliver them late, all at once, just before the next message or when this many have elapsed.
     * {@link Integer#MAX_VALUE} when no timer runs (quiesced, or a follower that cannot campaign). A leader answers 1:
     * its tick count is the clock of its read lease and must not lag.
     */
    public int ticksUntilTimer() {
        if (quiesced) {
            return Integer.MAX_VALUE;
        }
        if (role == Role.LEADER) {
            return 1;
        }
        if (!promotable()) {
            return Integer.MAX_VALUE;
        }
        return Math.max(1, randomizedElectionTimeout - electionElapsed);
    }

    /**
     * Staggers the first election after a (re)start so that thousands of groups starting at once do not all campaign
     * together: the member of rank 0 (the shell's preferred first leader) times out just after voters that have just
     * started accept votes again (one election timeout plus one tick); the member of rank r waits r more election
     * timeouts plus a random part, so it campaigns only if the preferred ones failed. Only timing changes: no vote
     * rule is relaxed. Has no effect once this member heard from a leader or campaigned.
     */
    public void staggerFirstElection(int rank) {
        staggerFirstElection(rank, 0);
    }

    /**
     * As {@link #staggerFirstElection(int)}, with the preferred member's timeout spread at random over {@code spread}
     * more ticks (and the others' shifted by as much), so that the first elections of thousands of groups starting
     * together are spread over time instead of all running in the same tick.
     */
    public void staggerFirstElection(int rank, int spread) {
        if (rank < 0 || spread < 0) {
            throw new IllegalArgumentException("rank and spread must be >= 0, were " + rank + " and " + spread);
        }
        if (!justStarted || role != Role.FOLLOWER || leader != null) {
            return;
        }
        electionElapsed = 0;
        randomizedElectionTimeout = rank == 0 ? config.electionTicks() + 1 + (spread == 0 ? 0 : random.nextInt(spread + 1))
                : config.electionTicks() * (rank + 1) + spread + random.nextInt(config.electionTicks());
    }

    /** Processes one message from another member of the group. */
    public void step(RaftMessage m) {
        checkNoReadyOutstanding();
        if (!m.to().equals(id)) {
            throw new IllegalArgumentException("message for " + m.to() + " delivered to " + id);
        }
        if (quiesced && !(m instanceof Heartbeat hb && hb.quiesce()) && !(m instanceof HeartbeatResponse)) {
            wake();
        }
        if (m.term() > term) {
            if (m instanceof RequestVote rv) {
                boolean inLease = (leader != null || justStarted) && electionElapsed < config.electionTicks()
                        && (config.checkQuorum() || rv.preVote());
                if (!rv.transfer() && inLease) {
                    return; // §6.2 / §9.6: we hear from a leader, do not help anyone disrupt it
                }
            }
            if (m instanceof RequestVote rv && rv.preVote()) {
                // a PreVote never changes our term
            } else if (m instanceof RequestVoteResponse r && r.preVote() && r.granted()) {
                // the granted PreVote carries the future term; keep ours
            } else {
                boolean fromLeader = m instanceof AppendEntries || m instanceof Heartbeat || m instanceof InstallSnapshot;
                becomeFollower(m.term(), fromLeader ? m.from() : null);
            }
        } else if (m.term() < term) {
            if ((config.checkQuorum() || config.preVote()) && (m instanceof AppendEntries || m instanceof Heartbeat)) {
                // tell a stale leader about the newer term so that it steps down
                messages.add(new AppendEntriesResponse(term, id, m.from(), false, 0, 0, 0));
            } else if (m instanceof RequestVote rv && rv.preVote()) {
                messages.add(new RequestVoteResponse(term, id, m.from(), false, true));
            }
            return;
        }

        if (m instanceof RequestVote rv) {
            onRequestVote(rv);
            return;
        }
        switch (role) {
            case LEADER -> stepLeader(m);
            case CANDIDATE, PRE_CANDIDATE -> stepCandidate(m);
            case FOLLOWER -> stepFollower(m);
        }
    }

    /**
     * Proposes a command (leader only). Proposals accepted between two {@link #ready()} calls are replicated in one
     * AppendEntries per follower (batching).
     */
    public ProposeResult propose(long clientId, long seq, byte[] data) {
        checkNoReadyOutstanding();
        if (role != Role.LEADER) {
            return new ProposeResult.Rejected(ProposeResult.Reason.NOT_LEADER, leader, "not the leader");
        }
        if (transferTarget != null) {
            return new ProposeResult.Rejected(ProposeResult.Reason.TRANSFER_IN_PROGRESS, transferTarget,
                    "leadership is being transferred to " + transferTarget);
        }
        wake();
        long index = log.lastIndex() + 1;
        log.append(new Entry(index, term, Entry.Type.COMMAND, clientId, seq, data));
        needBroadcast = true;
        return new ProposeResult.Accepted(index, term);
    }

    /**
     * Requests a read. The answer is a {@link ReadState} with the same context in a later Ready: serve the read
     * from the state machine once it has applied the read state's index.
     */
    public void read(long context, ReadConsistency consistency) {
        checkNoReadyOutstanding();
        if (consistency == ReadConsistency.STALE) {
            readStates.add(ReadState.ok(context, 0));
            return;
        }
        if (role == Role.LEADER) {
            wake();
            leaderRead(context, id, consistency);
        } else if (leader != null && role == Role.FOLLOWER) {
            messages.add(new ReadIndexRequest(term, id, leader, context));
        } else {
            readStates.add(ReadState.failed(context, "no leader known", null));
        }
    }

    private void leaderRead(long context, String origin, ReadConsistency consistency) {
        if (!committedInCurrentTerm()) {
            // §6.4 step 1: the leader must first commit an entry of its own term to know the commit index
            readsAwaitingCommit.add(new PendingRead(context, origin, 0, 0));
            return;
        }
        if (consistency == ReadConsistency.LEASE && leaseValid()) {
            answerRead(new PendingRead(context, origin, commit, 0));
            return;
        }
        Configuration c = configuration();
        if (c.allVoters().size() == 1 && c.isVoter(id)) {
            answerRead(new PendingRead(context, origin, commit, 0));
            return;
        }
        pendingReads.addLast(new PendingRead(context, origin, commit, readRound + 1));
        readBroadcastNeeded = true;
    }

    private void answerRead(PendingRead r) {
        if (r.origin.equals(id)) {
            readStates.add(ReadState.ok(r.context, r.index));
        } else {
            messages.add(new ReadIndexResponse(term, id, r.origin, r.context, r.index, true));
            // the follower serves the read once it has applied r.index: tell it the commit now rather than at the next
            // heartbeat (a commit advance sends nothing by itself)
            Progress pr = progress.get(r.origin);
            if (pr != null && pr.state == Progress.State.REPLICATE) {
                sendAppend(r.origin, pr, true);
            }
        }
    }

    private void failRead(PendingRead r, String reason) {
        if (r.origin.equals(id)) {
            readStates.add(ReadState.failed(r.context, reason, leader));
        } else if (role == Role.LEADER) {
            messages.add(new ReadIndexResponse(term, id, r.origin, r.context, -1, false));
        }
    }

    /** Starts a leadership transfer to {@code target} (dissertation §3.10). */
    public boolean transferLeadership(String target) {
        checkNoReadyOutstanding();
        if (role != Role.LEADER || target.equals(id) || !configuration().isVoter(target)) {
            return false;
        }
        wake();
        transferTarget = target;
        transferElapsed = 0;
        transferTriedThisTerm = true;
        leaseUntil = 0; // the target will be elected ignoring follower leases: stop serving lease reads now
        Progress pr = progress.get(target);
        if (pr.match == log.lastIndex()) {
            messages.add(new TimeoutNow(term, id, target));
        } else {
            sendAppend(target, pr, false);
        }
        return true;
    }

    /**
     * Changes the voting members by joint consensus (dissertation §4.3): C(old,new) is appended now; once it commits
     * the leader appends C(new) by itself. Learners receive the log but do not vote; a new voter must be a learner
     * that has caught up ({@link RaftConfig#maxPromotionLag()}). Changing only learners needs no joint phase.
     */
    public ProposeResult changeMembership(Set<String> newVoters, Set<String> newLearners) {
        checkNoReadyOutstanding();
        if (role != Role.LEADER) {
            return new ProposeResult.Rejected(ProposeResult.Reason.NOT_LEADER, leader, "not the leader");
        }
        Configuration current = configuration();
        if (current.joint() || pendingConfigIndex > commit) {
            return new ProposeResult.Rejected(ProposeResult.Reason.CONFIG_CHANGE_IN_PROGRESS, id,
                    "a membership change is still being committed; retry when it is done");
        }
        if (transferTarget != null) {
            return new ProposeResult.Rejected(ProposeResult.Reason.TRANSFER_IN_PROGRESS, transferTarget,
                    "leadership transfer in progress");
        }
        if (newVoters.isEmpty()) {
            return new ProposeResult.Rejected(ProposeResult.Reason.INVALID, id, "a group needs at least one voter");
        }
        for (String l : newLearners) {
            if (newVoters.contains(l)) {
                return new ProposeResult.Rejected(ProposeResult.Reason.INVALID, id, l + " cannot be voter and learner");
            }
            if (current.voters().contains(l)) {
                return new ProposeResult.Rejected(ProposeResult.Reason.INVALID, id,
                        "cannot demote voter " + l + " to learner directly: remove it first, then add it as a learner");
            }
        }
        for (String v : newVoters) {
            if (current.voters().contains(v)) {
                continue;
            }
            Progress pr = progress.get(v);
            if (!current.learners().contains(v) || pr == null) {
                return new ProposeResult.Rejected(ProposeResult.Reason.INVALID, id,
                        "new voter " + v + " must first be added as a learner and catch up");
            }
            if (pr.match < log.lastIndex() - config.maxPromotionLag()) {
                return new ProposeResult.Rejected(ProposeResult.Reason.INVALID, id, "learner " + v
                        + " has not caught up yet (match " + pr.match + " of " + log.lastIndex() + "); retry later");
            }
        }
        Configuration next;
        if (newVoters.equals(current.voters())) {
            next = Configuration.of(newVoters, newLearners);
        } else {
            next = new Configuration(new TreeSet<>(newVoters), current.voters(), new TreeSet<>(newLearners));
        }
        wake();
        long index = log.lastIndex() + 1;
        appendLocal(Entry.config(index, term, next));
        pendingConfigIndex = index;
        needBroadcast = true;
        return new ProposeResult.Accepted(index, term);
    }

    /**
     * Records a state-machine snapshot covering everything applied up to {@code index} and drops the log up to it
     * (§7). The shell stores the snapshot durably itself before calling this.
     */
    public void compact(long index, byte[] data) {
        checkNoReadyOutstanding();
        if (index > applied) {
            throw new IllegalArgumentException("cannot snapshot at " + index + ": only " + applied + " applied");
        }
        if (index <= log.snapshotIndex()) {
            return;
        }
        SnapshotMeta meta = new SnapshotMeta(index, log.term(index), configAt(index));
        snapshot = new Snapshot(meta, data);
        log.compact(index);
        snapshotConfig = meta.configuration();
        configs.headMap(index, true).clear();
    }

    /** The snapshot point a state-machine snapshot taken at {@code index} (applied) would have. */
    public SnapshotMeta snapshotMetaAt(long index) {
        if (index > applied || index < log.snapshotIndex()) {
            throw new IllegalArgumentException("cannot describe a snapshot at " + index + " (applied " + applied
                    + ", compacted to " + log.snapshotIndex() + ")");
        }
        return new SnapshotMeta(index, log.term(index), configAt(index));
    }

    private Configuration configAt(long index) {
        Map.Entry<Long, Configuration> e = configs.floorEntry(index);
        return e == null ? snapshotConfig : e.getValue();
    }

    // ------------------------------------------------------------------ role transitions

    private void becomeFollower(long newTerm, String newLeader) {
        if (newTerm > term) {
            term = newTerm;
            votedFor = null;
        }
        boolean wasLeader = role == Role.LEADER;
        role = Role.FOLLOWER;
        leader = newLeader;
        reset();
        if (wasLeader) {
            for (PendingRead r : pendingReads) {
                failRemoteOrLocal(r);
            }
            for (PendingRead r : readsAwaitingCommit) {
                failRemoteOrLocal(r);
            }
        }
        pendingReads.clear();
        readsAwaitingCommit.clear();
        progress.clear();
    }

    private void failRemoteOrLocal(PendingRead r) {
        if (r.origin.equals(id)) {
            readStates.add(ReadState.failed(r.context, "leadership lost", leader));
        }
        // a forwarding follower times its request out: it cannot be answered from a stale term
    }

    private void reset() {
        electionElapsed = 0;
        heartbeatElapsed = 0;
        resetElectionTimer();
        votes.clear();
        transferTarget = null;
        transferTriedThisTerm = false;
        leaseUntil = 0;
        quiesced = false;
        idleTicks = 0;
        needBroadcast = false;
        readBroadcastNeeded = false;
    }

    private void resetElectionTimer() {
        randomizedElectionTimeout = config.electionTicks() + random.nextInt(config.electionTicks());
    }

    private void campaign(boolean pre, boolean transfer) {
        Configuration c = configuration();
        if (!c.isVoter(id)) {
            return;
        }
        if (pre) {
            role = Role.PRE_CANDIDATE;
            leader = null;
            votes.clear();
            votes.put(id, true);
        } else {
            role = Role.CANDIDATE;
            term++;
            votedFor = id;
            leader = null;
            votes.clear();
            votes.put(id, true);
        }
        electionElapsed = 0;
        resetElectionTimer();
        if (c.hasQuorum(m -> votes.getOrDefault(m, false))) {
            if (pre) {
                campaign(false, transfer);
            } else {
                becomeLeader();
            }
            return;
        }
        long voteTerm = pre ? term + 1 : term;
        for (String m : c.allVoters()) {
            if (!m.equals(id)) {
                // sent after the new term and self-vote are durable
                messagesAfterPersist.add(new RequestVote(voteTerm, id, m, log.lastIndex(), log.lastTerm(), pre, transfer));
            }
        }
    }

    private void becomeLeader() {
        role = Role.LEADER;
        leader = id;
        reset();
        progress.clear();
        for (String m : configuration().allMembers()) {
            if (!m.equals(id)) {
                Progress pr = new Progress(0, log.lastIndex() + 1);
                pr.recentActive = true;
                progress.put(m, pr);
            }
        }
        readRound = 0;
        roundSentAt.clear();
        // §5.4.2 / §8: a no-op of the new term lets the leader commit (and learn) everything before it
        termStartIndex = log.lastIndex() + 1;
        appendLocal(Entry.noop(termStartIndex, term));
        pendingConfigIndex = log.lastIndex();
        needBroadcast = true;
    }

    // ------------------------------------------------------------------ votes

    private void onRequestVote(RequestVote m) {
        boolean canVote = m.from().equals(votedFor) || (votedFor == null && leader == null)
                || (m.preVote() && m.term() > term);
        if (m.preVote() && !m.transfer() && (leader != null || justStarted) && electionElapsed < config.electionTicks()) {
            canVote = false; // §9.6: we heard from a leader within the election timeout
        }
        boolean upToDate = m.lastLogTerm() > log.lastTerm()
                || (m.lastLogTerm() == log.lastTerm() && m.lastLogIndex() >= log.lastIndex());
        if (canVote && upToDate) {
            if (!m.preVote()) {
                votedFor = m.from();
                electionElapsed = 0;
            }
            messagesAfterPersist.add(new RequestVoteResponse(m.preVote() ? m.term() : term, id, m.from(), true, m.preVote()));
        } else {
            messagesAfterPersist.add(new RequestVoteResponse(term, id, m.from(), false, m.preVote()));
        }
    }

    private void stepCandidate(RaftMessage m) {
        if (m instanceof AppendEntries || m instanceof Heartbeat || m instanceof InstallSnapshot) {
            becomeFollower(term, m.from());
            stepFollower(m);
            return;
        }
        if (m instanceof RequestVoteResponse r) {
            if (r.preVote() != (role == Role.PRE_CANDIDATE)) {
                return;
            }
            votes.putIfAbsent(r.from(), r.granted());
            Configuration c = configuration();
            if (c.hasQuorum(x -> Boolean.TRUE.equals(votes.get(x)))) {
                if (role == Role.PRE_CANDIDATE) {
                    campaign(false, false);
                } else {
                    becomeLeader();
                }
            } else if (c.quorumImpossible(x -> Boolean.FALSE.equals(votes.get(x)))) {
                becomeFollower(term, null);
            }
        }
    }

    // ------------------------------------------------------------------ follower

    private void stepFollower(RaftMessage m) {
        if (m instanceof AppendEntries a) {
            electionElapsed = 0;
            leader = a.from();
            onAppendEntries(a);
        } else if (m instanceof Heartbeat hb) {
            electionElapsed = 0;
            leader = hb.from();
            if (hb.commit() > commit) {
                commit = Math.min(hb.commit(), log.lastIndex());
            }
            if (hb.quiesce() && hb.commit() == log.lastIndex()) {
                quiesced = true;
            }
            messages.add(new HeartbeatResponse(term, id, hb.from(), hb.readRound(), log.lastIndex()));
        } else if (m instanceof InstallSnapshot s) {
            electionElapsed = 0;
            leader = s.from();
            onInstallSnapshot(s);
        } else if (m instanceof TimeoutNow) {
            if (promotable()) {
                campaign(false, true); // leadership transfer: skip PreVote, voters ignore their leases
            }
        } else if (m instanceof ReadIndexResponse r) {
            readStates.add(r.ok() ? ReadState.ok(r.context(), r.index())
                    : ReadState.failed(r.context(), "leader could not serve the read", leader));
        } else if (m instanceof ReadIndexRequest r) {
            // forwarded to us by mistake (we are not the leader): tell the sender to retry
            messages.add(new ReadIndexResponse(term, id, r.from(), r.context(), -1, false));
        }
    }

    private void onAppendEntries(AppendEntries a) {
        if (a.prevLogIndex() < commit) {
            // everything up to our commit index is known to match; acknowledge it and let the leader move on
            messagesAfterPersist.add(new AppendEntriesResponse(term, id, a.from(), true, commit, 0, 0));
            return;
        }
        if (!log.matchTerm(a.prevLogIndex(), a.prevLogTerm())) {
            long hintIndex;
            long hintTerm;
            if (a.prevLogIndex() > log.lastIndex()) {
                hintIndex = log.lastIndex() + 1;
                hintTerm = 0;
            } else {
                hintTerm = log.term(a.prevLogIndex());
                hintIndex = log.firstIndexOfTerm(a.prevLogIndex(), commit);
            }
            messages.add(new AppendEntriesResponse(term, id, a.from(), false, a.prevLogIndex(), hintIndex, hintTerm));
            return;
        }
        long lastNew = a.prevLogIndex() + a.entries().size();
        for (Entry e : a.entries()) {
            long t = log.term(e.index());
            if (t == e.term()) {
                continue;
            }
            if (t >= 0) {
                if (e.index() <= commit) {
                    throw new IllegalStateException(id + ": leader " + a.from() + " conflicts with committed entry "
                            + e.index() + " (commit " + commit + ") — log matching violated");
                }
                truncateLocal(e.index());
            }
            appendLocal(e);
        }
        if (a.leaderCommit() > commit) {
            commit = Math.max(commit, Math.min(a.leaderCommit(), lastNew));
        }
        messagesAfterPersist.add(new AppendEntriesResponse(term, id, a.from(), true, lastNew, 0, 0));
    }

    private void onInstallSnapshot(InstallSnapshot s) {
        SnapshotMeta meta = s.meta();
        if (meta.index() <= commit) {
            messagesAfterPersist.add(new InstallSnapshotResponse(term, id, s.from(), meta.index(), 0, true, commit));
            return;
        }
        if (s.offset() == 0) {
            incomingMeta = meta;
            incomingData = new ByteArrayOutputStream();
        }
        if (incomingMeta == null || incomingMeta.index() != meta.index() || incomingMeta.term() != meta.term()
                || s.offset() != incomingData.size()) {
            long expected = incomingMeta != null && incomingMeta.index() == meta.index() ? incomingData.size() : 0;
            messages.add(new InstallSnapshotResponse(term, id, s.from(), meta.index(), expected, false, 0));
            return;
        }
        incomingData.writeBytes(s.chunk());
        if (!s.done()) {
            messages.add(new InstallSnapshotResponse(term, id, s.from(), meta.index(), incomingData.size(), false, 0));
            return;
        }
        Snapshot snap = new Snapshot(meta, incomingData.toByteArray());
        incomingMeta = null;
        incomingData = null;
        install(snap);
        messagesAfterPersist.add(new InstallSnapshotResponse(term, id, s.from(), meta.index(), 0, true, meta.index()));
    }

    private void install(Snapshot snap) {
        SnapshotMeta meta = snap.meta();
        if (log.matchTerm(meta.index(), meta.term())) {
            log.compact(meta.index()); // §7: keep the entries that follow the snapshot
            configs.headMap(meta.index(), true).clear();
        } else {
            log.resetTo(meta.index(), meta.term());
            configs.clear();
        }
        snapshotConfig = meta.configuration();
        snapshot = snap;
        pendingInstall = snap;
        commit = Math.max(commit, meta.index());
        applied = meta.index();
        stableIndex = Math.max(stableIndex, meta.index());
    }

    // ------------------------------------------------------------------ leader

    private void stepLeader(RaftMessage m) {
        Progress pr = progress.get(m.from());
        if (m instanceof ReadIndexRequest r) {
            if (pr == null) {
                return;
            }
            if (transferTarget != null) {
                messages.add(new ReadIndexResponse(term, id, r.from(), r.context(), -1, false));
            } else {
                leaderRead(r.context(), r.from(), ReadConsistency.LINEARIZABLE);
            }
            return;
        }
        if (pr == null) {
            return;
        }
        pr.recentActive = true;
        if (m instanceof AppendEntriesResponse r) {
            onAppendResponse(r.from(), pr, r);
        } else if (m instanceof HeartbeatResponse r) {
            onHeartbeatResponse(r.from(), pr, r);
        } else if (m instanceof InstallSnapshotResponse r) {
            onSnapshotResponse(r.from(), pr, r);
        }
    }

    private void onAppendResponse(String from, Progress pr, AppendEntriesResponse r) {
        if (!r.success()) {
            if (r.index() <= pr.match || (pr.state == Progress.State.PROBE && r.index() != pr.next - 1)) {
                return; // stale rejection
            }
            long next;
            if (r.hintTerm() > 0) {
                long last = log.lastIndexOfTerm(r.hintTerm());
                next = last >= 0 ? Math.min(last + 1, r.index()) : r.hintIndex();
            } else {
                next = r.hintIndex();
            }
            next = Math.max(Math.min(next, r.index()), pr.match + 1);
            pr.becomeProbe();
            pr.next = next;
            sendAppend(from, pr, false);
            return;
        }
        boolean moved = pr.maybeUpdate(r.index());
        pr.freeInflightUpTo(r.index());
        if (pr.state == Progress.State.PROBE && pr.match >= pr.next - 1) {
            pr.becomeReplicate();
        } else if (pr.state == Progress.State.PROBE) {
            pr.probeSent = false;
        }
        if (moved) {
            maybeCommit();
        }
        if (from.equals(transferTarget) && pr.match == log.lastIndex()) {
            messages.add(new TimeoutNow(term, id, from));
        }
        sendAppend(from, pr, false);
    }

    private void onHeartbeatResponse(String from, Progress pr, HeartbeatResponse r) {
        pr.readRoundAcked = Math.max(pr.readRoundAcked, r.readRound());
        if (pr.state == Progress.State.PROBE) {
            pr.probeSent = false;
        } else if (pr.state == Progress.State.REPLICATE && pr.match < log.lastIndex()) {
            // entries are outstanding; if the match index has not moved across several heartbeat rounds, an
            // AppendEntries or its reply was lost: fall back to probing from the match index
            pr.stalledHeartbeats = pr.match == pr.matchAtLastHeartbeat ? pr.stalledHeartbeats + 1 : 0;
            pr.matchAtLastHeartbeat = pr.match;
            if (pr.stalledHeartbeats >= 3) {
                pr.stalledHeartbeats = 0;
                pr.becomeProbe();
                pr.next = pr.match + 1;
            }
        }
        if (pr.match < log.lastIndex()) {
            sendAppend(from, pr, false);
        }
        processReads();
    }

    private void onSnapshotResponse(String from, Progress pr, InstallSnapshotResponse r) {
        if (r.installed()) {
            pr.maybeUpdate(r.index());
            pr.becomeProbe();
            pr.next = pr.match + 1;
            maybeCommit();
            sendAppend(from, pr, false);
            return;
        }
        if (pr.state != Progress.State.SNAPSHOT || r.snapshotIndex() != pr.snapshotIndex) {
            return;
        }
        pr.snapshotOffset = r.nextOffset();
        pr.snapshotStallTicks = 0;
        sendSnapshotChunk(from, pr);
    }

    private void broadcastHeartbeat(boolean quiesce) {
        readRound++;
        roundSentAt.put(readRound, ticks);
        readBroadcastNeeded = false;
        for (Map.Entry<String, Progress> e : progress.entrySet()) {
            Progress pr = e.getValue();
            messages.add(new Heartbeat(term, id, e.getKey(), Math.min(pr.match, commit), readRound, quiesce));
        }
        processReads(); // a single-voter group confirms at once
    }

    private void processReads() {
        Configuration c = configuration();
        long confirmed = c.quorumIndex(m -> m.equals(id) ? readRound
                : (progress.containsKey(m) ? progress.get(m).readRoundAcked : 0));
        if (confirmed <= 0) {
            return;
        }
        Long sentAt = roundSentAt.get(confirmed);
        if (sentAt != null && config.checkQuorum()) {
            leaseUntil = Math.max(leaseUntil, sentAt + config.electionTicks() - config.leaseSafetyTicks());
        }
        roundSentAt.headMap(confirmed, false).clear();
        while (!pendingReads.isEmpty() && pendingReads.peekFirst().round <= confirmed) {
            answerRead(pendingReads.pollFirst());
        }
    }

    private void maybeCommit() {
        Configuration c = configuration();
        long q = c.quorumIndex(m -> m.equals(id) ? stableIndex : (progress.containsKey(m) ? progress.get(m).match : 0));
        // §5.4.2 (Figure 8): only entries of the current term are committed by counting replicas
        if (q > commit && log.term(q) == term) {
            commit = q;
            onCommitAdvanced();
        }
    }

    private void onCommitAdvanced() {
        if (committedInCurrentTerm() && !readsAwaitingCommit.isEmpty()) {
            List<PendingRead> waiting = new ArrayList<>(readsAwaitingCommit);
            readsAwaitingCommit.clear();
            for (PendingRead r : waiting) {
                leaderRead(r.context, r.origin, ReadConsistency.LINEARIZABLE);
            }
        }
        Configuration c = configuration();
        long lastConfigIndex = configs.isEmpty() ? 0 : configs.lastKey();
        if (c.joint() && commit >= lastConfigIndex) {
            // C(old,new) is committed: move on to C(new) (dissertation §4.3)
            long index = log.lastIndex() + 1;
            appendLocal(Entry.config(index, term, Configuration.of(c.voters(), c.learners())));
            pendingConfigIndex = index;
            needBroadcast = true;
        } else if (!c.joint() && commit >= lastConfigIndex && !c.voters().contains(id)) {
            becomeFollower(term, null); // we committed our own removal: step down
        }
    }

    private void sendAppend(String to, Progress pr, boolean allowEmpty) {
        while (true) {
            if (pr.paused(config)) {
                return;
            }
            if (pr.next <= log.snapshotIndex()) {
                pr.becomeSnapshot(snapshot.meta().index());
                sendSnapshotChunk(to, pr);
                return;
            }
            long prev = pr.next - 1;
            long prevTerm = log.term(prev);
            List<Entry> entries = pr.next <= log.lastIndex()
                    ? log.slice(pr.next, log.lastIndex(), config.maxEntriesPerMessage(), config.maxBytesPerMessage())
                    : List.of();
            if (entries.isEmpty() && !allowEmpty) {
                return;
            }
            messages.add(new AppendEntries(term, id, to, prev, prevTerm, entries, commit));
            if (pr.state == Progress.State.PROBE) {
                pr.probeSent = true;
                return;
            }
            if (entries.isEmpty()) {
                return;
            }
            long bytes = 0;
            for (Entry e : entries) {
                bytes += e.sizeInBytes();
            }
            long last = entries.get(entries.size() - 1).index();
            pr.next = last + 1;
            pr.addInflight(last, bytes);
            allowEmpty = false;
            if (pr.next > log.lastIndex()) {
                return;
            }
        }
    }

    private void sendSnapshotChunk(String to, Progress pr) {
        if (pr.snapshotIndex != snapshot.meta().index()) {
            pr.becomeSnapshot(snapshot.meta().index()); // a newer snapshot replaced the one being sent
        }
        byte[] data = snapshot.data();
        int offset = (int) Math.min(pr.snapshotOffset, data.length);
        int end = Math.min(data.length, offset + config.snapshotChunkBytes());
        messages.add(new InstallSnapshot(term, id, to, snapshot.meta(), offset, Arrays.copyOfRange(data, offset, end),
                end == data.length));
    }

    // ------------------------------------------------------------------ log helpers

    private void appendLocal(Entry e) {
        log.append(e);
        if (e.type() == Entry.Type.CONFIG) {
            configs.put(e.index(), Configuration.decode(e.data()));
            onConfigurationChanged();
        }
    }

    private void truncateLocal(long from) {
        log.truncateFrom(from);
        stableIndex = Math.min(stableIndex, from - 1);
        if (!configs.tailMap(from, true).isEmpty()) {
            configs.tailMap(from, true).clear();
            onConfigurationChanged();
        }
    }

    private void onConfigurationChanged() {
        if (role != Role.LEADER) {
            return;
        }
        Set<String> members = configuration().allMembers();
        progress.keySet().removeIf(m -> !members.contains(m));
        for (String m : members) {
            if (!m.equals(id) && !progress.containsKey(m)) {
                Progress pr = new Progress(0, log.lastIndex());
                pr.recentActive = true;
                progress.put(m, pr);
            }
        }
        maybeCommit();
    }

    // ------------------------------------------------------------------ ready / advance

    /** True when {@link #ready()} has something to do. */
    public boolean hasReady() {
        return needBroadcast || readBroadcastNeeded || hardStateChanged()
                || log.unstableFrom <= log.lastIndex() || pendingInstall != null || !messages.isEmpty()
                || !messagesAfterPersist.isEmpty() || commit > applied || !readStates.isEmpty();
    }

    private boolean hardStateChanged() {
        return term != lastHardState.term() || !java.util.Objects.equals(votedFor, lastHardState.votedFor());
    }

    /** Collects the work of the inputs since the last call. Call {@link #advance} once it is done. */
    public Ready ready() {
        checkNoReadyOutstanding();
        if (role == Role.LEADER) {
            if (needBroadcast) {
                // new entries only: a commit advance alone sends no message (it makes commit > applied, so a ready to
                // apply on the leader); followers learn it from the next AppendEntries or, when no entries flow, the
                // next heartbeat (both carry the commit index). An empty AppendEntries per follower per commit advance
                // was ~45% of the AppendEntries and, with their answers, ~40% of a busy leader's Raft messages
                // (docs/raft-benchmarks.md, batch 10); the leader answers clients after its own apply and never waits
                // for followers to learn the commit
                for (Map.Entry<String, Progress> e : progress.entrySet()) {
                    sendAppend(e.getKey(), e.getValue(), false);
                }
            }
            if (readBroadcastNeeded) {
                broadcastHeartbeat(false);
            }
        }
        needBroadcast = false;
        HardState hs = null;
        if (hardStateChanged()) {
            hs = new HardState(term, votedFor, commit);
            lastHardState = hs;
            // nothing this member says in a new term or after a new vote may leave before that is durable
            messagesAfterPersist.addAll(0, messages);
            messages.clear();
        }
        List<Entry> entries = log.unstable();
        log.unstableFrom = log.lastIndex() + 1;
        List<Entry> committed = List.of();
        if (commit > applied) {
            committed = log.slice(applied + 1, commit, Integer.MAX_VALUE, Long.MAX_VALUE);
            applied = commit;
        }
        Ready ready = new Ready(hs, entries, pendingInstall, List.copyOf(messages), List.copyOf(messagesAfterPersist),
                committed, List.copyOf(readStates), role, leader, term);
        pendingInstall = null;
        messages.clear();
        messagesAfterPersist.clear();
        readStates.clear();
        readyOutstanding = true;
        return ready;
    }

    /** Tells the member that everything in {@code ready} was persisted, sent and applied. */
    public void advance(Ready ready) {
        handedOff();
        persisted(ready);
    }

    /**
     * Pipelined writes: everything in {@code ready} was done except its durable write, which is under way —
     * {@link Ready#messages()} sent, committed entries applied, read states taken — and the member takes input
     * again. Call {@link #persisted(Ready)} once that write is durable (writes become durable in the order of their
     * readies), and send {@link Ready#messagesAfterPersist()} only then: until it, this member does not count the
     * ready's entries as its own in a quorum, nor does any follower's acknowledgement claim them.
     *
     * <p>Only for a ready that {@link Ready#canPipeline() can be pipelined}: a new term or vote, or an installed
     * snapshot, must be durable before the member takes any further input ({@link #advance}). Applying committed
     * entries that are not yet durable here is safe: they are committed, hence durable on a quorum.
     */
    public void advanceBeforePersisted(Ready ready) {
        if (!ready.canPipeline()) {
            throw new IllegalStateException("a ready with a new hard state or snapshot must be durable before the "
                    + "member takes more input: use advance() after writing it");
        }
        handedOff();
    }

    /**
     * The write of {@code ready} (handed off by {@link #advanceBeforePersisted}) is durable. May be called while a
     * later ready is outstanding (writes complete in order, a later one may be waiting for them).
     */
    public void persisted(Ready ready) {
        List<Entry> written = ready.entries();
        // entries replaced since (a log conflict handled after this ready) do not become stable with it; by log
        // matching, the last written entry still in the log vouches for every one before it
        for (int i = written.size() - 1; i >= 0; i--) {
            Entry e = written.get(i);
            if (log.term(e.index()) == e.term()) {
                if (e.index() > stableIndex) {
                    stableIndex = e.index();
                    if (role == Role.LEADER) {
                        maybeCommit();
                    }
                }
                return;
            }
        }
    }

    private void handedOff() {
        if (!readyOutstanding) {
            throw new IllegalStateException("advance() without an outstanding ready()");
        }
        readyOutstanding = false;
    }

    private void checkNoReadyOutstanding() {
        if (readyOutstanding) {
            throw new IllegalStateException("call advance() with the previous Ready before giving " + id + " new input");
        }
    }

    /** The leader's replication state per follower (debugging). */
    public String describeProgress() {
        return progress.toString();
    }

    @Override
    public String toString() {
        return id + "[" + role + " t" + term + " last=" + log.lastIndex() + "@" + log.lastTerm() + " commit=" + commit
                + " applied=" + applied + " leader=" + leader + "]";
    }
}
