package io.consensusactors.raft.sim;
import io.consensusactors.statemachine.KeyValueStateMachine;

import io.consensusactors.raft.core.Configuration;
import io.consensusactors.raft.core.Entry;
import io.consensusactors.raft.core.HardState;
import io.consensusactors.raft.core.ProposeResult;
import io.consensusactors.raft.core.RaftConfig;
import io.consensusactors.raft.core.RaftMessage;
import io.consensusactors.raft.core.RaftNode;
import io.consensusactors.raft.core.ReadConsistency;
import io.consensusactors.raft.core.ReadState;
import io.consensusactors.raft.core.Ready;
import io.consensusactors.raft.core.Role;
import io.consensusactors.raft.core.Snapshot;
import io.consensusactors.statemachine.SessionStateMachine;
import io.consensusactors.testkit.sim.Envelope;
import io.consensusactors.testkit.sim.SimNetwork;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

/**
 * A Raft group in one thread: {@link RaftNode}s, a seeded {@link SimNetwork}, an in-memory durable store per member
 * that survives crashes (and loses whatever was not yet persisted), and the safety invariants of the Raft paper
 * (Figure 3) checked after every step:
 * <ul>
 *   <li>Election safety: at most one leader per term.</li>
 *   <li>Log matching: two entries with the same index and term carry the same command and follow the same term.</li>
 *   <li>Leader completeness: a new leader holds every entry committed before it.</li>
 *   <li>State machine safety: no two members apply different entries at the same index; no member's commit index
 *   covers an entry different from the one committed there.</li>
 *   <li>Lease safety: while a leader holds a read lease, no other member leads a later term.</li>
 * </ul>
 */
public final class RaftSimCluster {

    public final RaftConfig config;
    public final Random rng;
    public final SimNetwork<RaftMessage> net;
    public final List<Member> members = new ArrayList<>();
    private final Configuration initial;
    public long now;
    /** Logical event counter: orders client calls and returns finer than ticks. */
    public long clock;
    public boolean crashMidReady;
    /**
     * Write like the actor shell with pipelining: a ready that {@link Ready#canPipeline() can be pipelined} is handed
     * off at once ({@link RaftNode#advanceBeforePersisted}) and becomes durable later, in order, at a random step
     * ({@link RaftNode#persisted}); a crash loses the writes still in flight. A ready with a new term, vote or
     * snapshot waits for the writes before it and is written at once, as without pipelining.
     */
    public boolean pipelined;
    /** Pipelining: the chance per tick that a member's oldest write in flight becomes durable (then the next, ...). */
    public double writeCompletion = 0.5;
    /**
     * Tick like the actor shell: a member is ticked only when {@link RaftNode#ticksUntilTimer()} ticks are owed, and
     * catches up on owed ticks before it steps a message; no ticks count while it is quiesced.
     */
    public boolean lazyTicks;
    /** Stagger the first election after every start by rank ({@link RaftNode#staggerFirstElection}); -1 = off. */
    public int staggerOffset = -1;

    // invariants
    private final Map<Long, String> leaderOfTerm = new HashMap<>();
    private final Map<Long, Entry> committed = new HashMap<>();
    private final Map<Long, Entry> appliedAt = new HashMap<>();
    private final Map<String, long[]> logIdentity = new HashMap<>(); // "index@term" -> {hash, prevTerm}
    private final ArrayDeque<String> trace = new ArrayDeque<>();
    private final List<Consumer<Applied>> applyListeners = new ArrayList<>();
    private final List<Consumer<ServedRead>> readListeners = new ArrayList<>();

    /** An entry applied on a member with its session outcome. */
    public record Applied(Member member, Entry entry, SessionStateMachine.Result result) {
    }

    /** A read answered by a member: query result for the context. */
    public record ServedRead(Member member, long context, boolean ok, byte[] value, String leaderHint) {
    }

    public final class Member {
        public final String id;
        public final int index;
        public RaftNode node;
        public SessionStateMachine sm;
        // durable
        public HardState hard = HardState.INITIAL;
        public Snapshot snap = Snapshot.EMPTY;
        public final ArrayList<Entry> log = new ArrayList<>();
        // volatile, for reads
        private final Map<Long, byte[]> pendingReadKeys = new HashMap<>();
        private final List<ReadState> waitingReads = new ArrayList<>();
        private long checkedCommit;
        private long lastLeaderCheckTerm;
        public int restarts;
        int owedTicks;
        /** Writes handed off and not yet durable, oldest first. */
        final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();

        Member(String id, int index) {
            this.id = id;
            this.index = index;
        }

        public boolean up() {
            return node != null;
        }

        @Override
        public String toString() {
            return node == null ? id + "[down]" : node + (node.isLeader() ? " " + node.describeProgress() : "");
        }
    }

    /**
     * A write under way: the ready, the commit index its hard state records (taken when it was handed off), and
     * messages of later readies that must wait for it (they were to be sent after persisting, and the member's
     * writes are durable in order).
     */
    private record InFlight(Ready ready, long commit, List<RaftMessage> after) {
    }

    public RaftSimCluster(long seed, int size, int voters, RaftConfig config) {
        this.config = config;
        this.rng = new Random(seed);
        this.net = new SimNetwork<>(size, rng);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            ids.add("n" + (i + 1));
        }
        this.initial = Configuration.of(ids.subList(0, voters));
        for (int i = 0; i < size; i++) {
            Member m = new Member(ids.get(i), i);
            members.add(m);
            start(m);
        }
    }

    public void onApply(Consumer<Applied> listener) {
        applyListeners.add(listener);
    }

    public void onRead(Consumer<ServedRead> listener) {
        readListeners.add(listener);
    }

    public Member member(String id) {
        for (Member m : members) {
            if (m.id.equals(id)) {
                return m;
            }
        }
        throw new IllegalArgumentException(id);
    }

    // ------------------------------------------------------------------ lifecycle

    private void start(Member m) {
        m.node = new RaftNode(m.id, config, new Random(rng.nextLong()), initial, m.hard, m.snap, new ArrayList<>(m.log));
        m.sm = new SessionStateMachine(new KeyValueStateMachine(), 10_000, 1_000_000_000L);
        if (m.snap.meta().index() > 0) {
            m.sm.restore(m.snap.data());
        }
        m.owedTicks = 0;
        if (staggerOffset >= 0) {
            m.node.staggerFirstElection(Math.floorMod(m.index - staggerOffset, members.size()));
        }
        m.checkedCommit = m.snap.meta().index();
        m.lastLeaderCheckTerm = 0;
        m.pendingReadKeys.clear();
        m.waitingReads.clear();
        checkCommit(m);
    }

    /** Process crash: everything not persisted is lost. */
    public void crash(Member m) {
        if (m.node == null) {
            return;
        }
        note("CRASH " + m.id + (m.inFlight.isEmpty() ? "" : " losing " + m.inFlight.size() + " writes in flight"));
        m.inFlight.clear();
        m.node = null;
        m.sm = null;
        m.pendingReadKeys.clear();
        m.waitingReads.clear();
    }

    public void restart(Member m) {
        if (m.node != null) {
            return;
        }
        m.restarts++;
        note("RESTART " + m.id);
        start(m);
        drain(m);
    }

    // ------------------------------------------------------------------ driving

    /** One tick: deliver due messages, then tick every live member. */
    public void tick() {
        now++;
        completeWritesAtRandom();
        deliverDue();
        for (Member m : members) {
            if (m.up() && !lazyTicks) {
                m.node.tick();
                drain(m);
            } else if (m.up()) {
                m.owedTicks++;
                if (m.owedTicks >= m.node.ticksUntilTimer()) {
                    catchUp(m);
                }
            }
        }
    }

    public void deliverDue() {
        for (Envelope<RaftMessage> e : net.deliverDue(now)) {
            Member to = members.get(e.to());
            if (!to.up()) {
                continue;
            }
            catchUp(to);
            to.node.step(e.message());
            drain(to);
        }
    }

    /** Pipelining: some writes in flight become durable (each member's in order). */
    private void completeWritesAtRandom() {
        for (Member m : members) {
            boolean any = false;
            while (m.up() && !m.inFlight.isEmpty() && rng.nextDouble() < writeCompletion) {
                completeWrite(m);
                any = true;
            }
            if (any) {
                drain(m);
            }
        }
    }

    /** The oldest write in flight of {@code m} is durable: persist it, send what waited for it, tell the member. */
    private void completeWrite(Member m) {
        InFlight w = m.inFlight.pollFirst();
        persist(m, w.ready(), w.commit());
        send(m, w.ready().messagesAfterPersist());
        send(m, w.after());
        m.node.persisted(w.ready());
    }

    private void completeAllWrites(Member m) {
        while (!m.inFlight.isEmpty()) {
            completeWrite(m);
        }
    }

    private void catchUp(Member m) {
        for (; m.owedTicks > 0 && !m.node.isQuiesced(); m.owedTicks--) {
            m.node.tick();
        }
        m.owedTicks = 0;
        drain(m);
    }

    /** Restarts the stagger of every live member's first election (as after a start of all members). */
    public void staggerFirstElections(int offset) {
        staggerOffset = offset;
        for (Member m : members) {
            if (m.up()) {
                m.node.staggerFirstElection(Math.floorMod(m.index - offset, members.size()));
            }
        }
    }

    /** Runs ticks until the predicate holds or maxTicks pass; returns whether it held. */
    public boolean runUntil(java.util.function.BooleanSupplier done, int maxTicks) {
        for (int i = 0; i < maxTicks; i++) {
            if (done.getAsBoolean()) {
                return true;
            }
            tick();
        }
        return done.getAsBoolean();
    }

    public Member leader() {
        Member best = null;
        for (Member m : members) {
            if (m.up() && m.node.role() == Role.LEADER && (best == null || m.node.term() > best.node.term())) {
                best = m;
            }
        }
        return best;
    }

    public ProposeResult propose(Member m, long clientId, long seq, byte[] command) {
        ProposeResult r = m.node.propose(clientId, seq, command);
        drain(m);
        return r;
    }

    public void read(Member m, long context, byte[] key, ReadConsistency consistency) {
        m.pendingReadKeys.put(context, key);
        m.node.read(context, consistency);
        drain(m);
    }

    /** Processes every Ready of a member: send, persist, send-after-persist, apply, advance. */
    public void drain(Member m) {
        while (m.node != null && m.node.hasReady()) {
            RaftNode node = m.node;
            Ready r = node.ready();
            long commit = node.commitIndex();
            for (Entry e : r.entries()) {
                checkLogMatching(m, e);
            }
            send(m, r.messages());
            if (crashMidReady && r.needsPersistence() && rng.nextInt(500) == 0) {
                // crash after sending but before the write reached the disk
                note("CRASH-MID-READY " + m.id + " losing " + r.entries().size() + " entries and "
                        + m.inFlight.size() + " writes in flight");
                m.inFlight.clear();
                m.node = null;
                m.sm = null;
                return;
            }
            if (pipelined && r.needsPersistence() && r.canPipeline()) {
                m.inFlight.addLast(new InFlight(r, commit, new ArrayList<>()));
                handOff(m, r);
                node.advanceBeforePersisted(r);
            } else {
                if (!r.needsPersistence() && !m.inFlight.isEmpty()) {
                    m.inFlight.peekLast().after().addAll(r.messagesAfterPersist()); // after the writes before them
                } else {
                    completeAllWrites(m); // one ordered journal: the writes before this one are durable first
                    persist(m, r, commit);
                    send(m, r.messagesAfterPersist());
                }
                handOff(m, r);
                node.advance(r);
            }
            serveReads(m);
            checkAfterStep(m);
        }
    }

    /** Restore a snapshot, apply committed entries, take read states. */
    private void handOff(Member m, Ready r) {
        if (r.snapshot() != null) {
            m.sm.restore(r.snapshot().data());
        }
        for (Entry e : r.committed()) {
            apply(m, e);
        }
        for (ReadState rs : r.readStates()) {
            if (!rs.ok()) {
                byte[] key = m.pendingReadKeys.remove(rs.context());
                if (key != null) {
                    for (Consumer<ServedRead> l : readListeners) {
                        l.accept(new ServedRead(m, rs.context(), false, null, rs.leaderHint()));
                    }
                }
            } else {
                m.waitingReads.add(rs);
            }
        }
    }

    private void send(Member m, List<RaftMessage> msgs) {
        for (RaftMessage msg : msgs) {
            net.send(now, m.index, indexOf(msg.to()), msg);
        }
    }

    private int indexOf(String id) {
        return Integer.parseInt(id.substring(1)) - 1;
    }

    private void persist(Member m, Ready r, long commit) {
        if (r.snapshot() != null) {
            Snapshot s = r.snapshot();
            long keepTerm = termIn(m, s.meta().index());
            if (keepTerm == s.meta().term()) {
                m.log.removeIf(e -> e.index() <= s.meta().index());
            } else {
                m.log.clear();
            }
            m.snap = s;
        }
        if (!r.entries().isEmpty()) {
            long from = r.entries().get(0).index();
            m.log.removeIf(e -> e.index() >= from);
            m.log.addAll(r.entries());
        }
        if (r.hardState() != null) {
            m.hard = r.hardState();
        }
        m.hard = new HardState(m.hard.term(), m.hard.votedFor(), Math.max(m.hard.commit(), commit));
    }

    private long termIn(Member m, long index) {
        if (index == m.snap.meta().index()) {
            return m.snap.meta().term();
        }
        for (Entry e : m.log) {
            if (e.index() == index) {
                return e.term();
            }
        }
        return -1;
    }

    private void apply(Member m, Entry e) {
        Entry prev = appliedAt.putIfAbsent(e.index(), e);
        if (prev != null && !prev.equals(e)) {
            fail("state machine safety: " + m.id + " applies " + e + " at " + e.index() + " but " + prev + " was applied there before");
        }
        SessionStateMachine.Result result;
        if (e.type() == Entry.Type.COMMAND) {
            result = m.sm.apply(e.index(), e.clientId(), e.seq(), e.data());
        } else {
            m.sm.skip(e.index());
            result = null;
        }
        for (Consumer<Applied> l : applyListeners) {
            l.accept(new Applied(m, e, result));
        }
    }

    private void serveReads(Member m) {
        if (m.waitingReads.isEmpty() || m.sm == null) {
            return;
        }
        List<ReadState> still = new ArrayList<>();
        for (ReadState rs : m.waitingReads) {
            if (m.node.appliedIndex() >= rs.index()) {
                byte[] key = m.pendingReadKeys.remove(rs.context());
                if (key != null) {
                    byte[] value = m.sm.query(key);
                    for (Consumer<ServedRead> l : readListeners) {
                        l.accept(new ServedRead(m, rs.context(), true, value, null));
                    }
                }
            } else {
                still.add(rs);
            }
        }
        m.waitingReads.clear();
        m.waitingReads.addAll(still);
    }

    /** Takes a snapshot on a member at its applied index and compacts its log (§7). */
    public void compact(Member m) {
        if (!m.up() || m.node.appliedIndex() <= m.node.snapshotMeta().index()) {
            return;
        }
        completeAllWrites(m); // the shell writes a compaction after the writes in flight, and waits for it
        long index = m.node.appliedIndex();
        byte[] data = m.sm.snapshot();
        m.node.compact(index, data);
        m.snap = m.node.snapshot();
        m.log.removeIf(e -> e.index() <= index);
        note("COMPACT " + m.id + " at " + index);
    }

    // ------------------------------------------------------------------ invariants

    private void checkAfterStep(Member m) {
        RaftNode n = m.node;
        if (n == null) {
            return;
        }
        if (n.role() == Role.LEADER) {
            String prev = leaderOfTerm.putIfAbsent(n.term(), m.id);
            if (prev != null && !prev.equals(m.id)) {
                fail("election safety: " + prev + " and " + m.id + " are both leaders of term " + n.term());
            }
            if (m.lastLeaderCheckTerm != n.term()) {
                m.lastLeaderCheckTerm = n.term();
                note("LEADER " + m.id + " term " + n.term());
                for (Map.Entry<Long, Entry> c : committed.entrySet()) {
                    long i = c.getKey();
                    if (i > n.snapshotMeta().index() && n.termAt(i) != c.getValue().term()) {
                        fail("leader completeness: leader " + m.id + " of term " + n.term() + " lacks committed entry "
                                + c.getValue() + " (has term " + n.termAt(i) + " at " + i + ")");
                    }
                }
            }
        }
        checkCommit(m);
        checkLeases();
    }

    /** Lease safety (§6.4): while a leader holds a read lease, no other member leads a later term. */
    private void checkLeases() {
        for (Member a : members) {
            if (a.node == null || !a.node.leaseValid()) {
                continue;
            }
            for (Member b : members) {
                if (b != a && b.node != null && b.node.role() == Role.LEADER && b.node.term() > a.node.term()) {
                    fail("lease safety: " + a.id + " holds a read lease in term " + a.node.term() + " while " + b.id
                            + " leads term " + b.node.term());
                }
            }
        }
    }

    private void checkCommit(Member m) {
        RaftNode n = m.node;
        for (long i = m.checkedCommit + 1; i <= n.commitIndex(); i++) {
            if (i <= n.snapshotMeta().index()) {
                continue;
            }
            Entry e = n.entriesFrom(i).get(0);
            Entry prev = committed.putIfAbsent(i, e);
            if (prev != null && !prev.equals(e)) {
                fail("state machine safety: " + m.id + " commits " + e + " at " + i + " but " + prev + " was committed there");
            }
        }
        m.checkedCommit = Math.max(m.checkedCommit, n.commitIndex());
    }

    private void checkLogMatching(Member m, Entry e) {
        long prevTerm = e.index() == 1 ? 0 : m.node.termAt(e.index() - 1);
        String key = e.index() + "@" + e.term();
        long[] id = {java.util.Arrays.hashCode(e.data()) * 31L + e.clientId() * 7 + e.seq() + e.type().ordinal(), prevTerm};
        long[] prev = logIdentity.putIfAbsent(key, id);
        if (prev != null && (prev[0] != id[0] || (prev[1] != id[1] && prev[1] >= 0 && id[1] >= 0))) {
            fail("log matching: " + m.id + " holds " + e + " (prev term " + prevTerm + ") unlike another member's entry "
                    + key + " (prev term " + prev[1] + ")");
        }
    }

    public Map<Long, Entry> committedEntries() {
        return committed;
    }

    public void note(String s) {
        trace.addLast("t" + now + " " + s);
        if (trace.size() > 80) {
            trace.pollFirst();
        }
    }

    public void fail(String what) {
        throw new AssertionError(what + "\nstate: " + members + "\nrecent events:\n  " + String.join("\n  ", trace));
    }

    public String describe() {
        return members + "\nrecent events:\n  " + String.join("\n  ", trace);
    }
}
