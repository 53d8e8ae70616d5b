package io.consensusactors.paxos.core;

import io.consensusactors.paxos.core.MultiPaxosMessage.AcceptedEntry;
import io.consensusactors.paxos.core.MultiPaxosMessage.SlotValue;
import io.consensusactors.statemachine.SessionStateMachine;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

/**
 * One Multi-Paxos replica ("Paxos Made Simple" §3): acceptor, learner and potential distinguished proposer (leader) of
 * a log of slots, driving a {@link SessionStateMachine}. Pure and deterministic: inputs are {@link #step},
 * {@link #tick} and {@link #propose}; outputs are collected by {@link #ready()}.
 *
 * <ul>
 *   <li><b>Leader election by ballot.</b> A replica that hears no leader for a randomized election timeout picks a
 *   ballot above every one it has seen, promises it to itself (durably: that is how it never reuses a ballot) and runs
 *   phase 1 once for all slots above its chosen prefix. A majority of promises makes it leader; a Nack or a higher
 *   ballot makes it a follower again.</li>
 *   <li><b>Gaps.</b> The new leader proposes, in every slot up to the highest one any promise mentions, the value of
 *   the highest-numbered accepted proposal (P2c) or, if none, a no-op (§3: "it fills the gaps by proposing a special
 *   no-op command"). Then it runs only phase 2 for new commands, batched.</li>
 *   <li><b>Learning.</b> The leader sends chosen values to every learner (Learn) and its chosen prefix in heartbeats; a
 *   learner that is behind asks anyone for the missing slots (CatchUp).</li>
 *   <li><b>Applying.</b> The contiguous chosen prefix is applied in slot order through the session table, so a command
 *   chosen twice (a retry after a leader change) is applied once.</li>
 * </ul>
 *
 * <p>Hard state: the promised ballot and the accepted entries. Everything else is volatile and rebuilt after a restart
 * (the state machine replays from slot 1 as the replica learns the log again).
 */
public final class MultiPaxosReplica {

    public enum Role { FOLLOWER, CANDIDATE, LEADER }

    private static final class Pending {
        final LogValue value;
        final Set<Integer> acks = new HashSet<>();

        Pending(LogValue value) {
            this.value = value;
        }
    }

    /** Most chosen slots sent in answer to one CatchUp. */
    static final int CATCH_UP_BATCH = 256;

    private final int id;
    private final int replicas;
    private final int quorum;
    private final PaxosConfig config;
    private final Random random;
    private final SessionStateMachine machine;

    // acceptor: hard state
    private Ballot promised;
    private final NavigableMap<Long, AcceptedEntry> accepted = new TreeMap<>();
    // compaction: every slot <= snapshotSlot is chosen and applied into snapshotState; log entries there are dropped
    private long snapshotSlot;
    private byte[] snapshotState = new byte[0];
    private MultiPaxosReady.Snapshot snapshotToPersist;
    private long snapshotsReceived;
    // candidate: the highest compaction point among the promises, and who reported it
    private long promisedCompacted;
    private int compactedSource = -1;
    // learner
    private final NavigableMap<Long, LogValue> chosen = new TreeMap<>();
    private long chosenPrefix;
    private long knownChosenPrefix;
    private int catchUpWait;
    private long catchUpFrom = -1;
    // proposer / leader
    private Role role = Role.FOLLOWER;
    private Ballot ballot = Ballot.NONE;
    private long highestSeenRound;
    private final Map<Integer, List<AcceptedEntry>> promises = new HashMap<>();
    private final NavigableMap<Long, Pending> pending = new TreeMap<>();
    private long nextSlot = 1;
    private int leader = -1;
    private int electionElapsed;
    private int electionTimeout;
    private int heartbeatElapsed;
    private int retransmitElapsed;
    // outputs
    private Ballot promisedToPersist;
    private final List<AcceptedEntry> acceptedToPersist = new ArrayList<>();
    private final List<MultiPaxosReady.Send> messages = new ArrayList<>();
    private final List<MultiPaxosReady.Send> afterPersist = new ArrayList<>();
    private final List<MultiPaxosReady.Applied> applied = new ArrayList<>();
    private final List<SlotValue> acceptBatch = new ArrayList<>();

    /**
     * A replica restarting from its durable state ({@link Ballot#NONE} and no entries the first time).
     *
     * @param id       this replica's index in 0..replicas-1 (also its proposer id in ballots)
     * @param machine  the state machine, empty: it is rebuilt from slot 1
     */
    public MultiPaxosReplica(int id, int replicas, Ballot promised, Collection<AcceptedEntry> accepted,
                             SessionStateMachine machine, PaxosConfig config, Random random) {
        this(id, replicas, promised, null, accepted, machine, config, random);
    }

    /**
     * A replica restarting from its durable state including its latest snapshot ({@code null}: none): the state
     * machine is restored from it and only the slots above it are learned again.
     */
    public MultiPaxosReplica(int id, int replicas, Ballot promised, MultiPaxosReady.Snapshot snapshot,
                             Collection<AcceptedEntry> accepted, SessionStateMachine machine, PaxosConfig config,
                             Random random) {
        if (id < 0 || id >= replicas) {
            throw new IllegalArgumentException("id " + id + " not in 0.." + (replicas - 1));
        }
        this.id = id;
        this.replicas = replicas;
        this.quorum = replicas / 2 + 1;
        this.config = config;
        this.random = random;
        this.machine = machine;
        this.promised = promised;
        this.highestSeenRound = promised.round();
        if (snapshot != null && snapshot.slot() > 0) {
            machine.restore(snapshot.state());
            this.snapshotSlot = snapshot.slot();
            this.snapshotState = snapshot.state();
            this.chosenPrefix = snapshot.slot();
            this.knownChosenPrefix = snapshot.slot();
        }
        for (AcceptedEntry e : accepted) {
            if (e.slot() > snapshotSlot) {
                this.accepted.put(e.slot(), e);
            }
        }
        resetElectionTimer();
    }

    // ------------------------------------------------------------------------------------------------ inputs

    /**
     * Proposes a command. Only a leader that has finished phase 1 takes it: the slot it will try to fill is
     * returned; otherwise -1 (see {@link #leaderHint()}). Being given a slot does not mean being chosen there: the
     * caller waits for the command in {@link MultiPaxosReady#applied()} and retries elsewhere after a timeout.
     */
    public long propose(LogValue command) {
        if (role != Role.LEADER) {
            return -1;
        }
        long slot = nextSlot++;
        pending.put(slot, new Pending(command));
        acceptBatch.add(new SlotValue(slot, command));
        if (acceptBatch.size() >= config.maxBatch()) {
            flushAccepts();
        }
        return slot;
    }

    public void step(int from, MultiPaxosMessage message) {
        if (message instanceof MultiPaxosMessage.Prepare p) {
            onPrepare(from, p);
        } else if (message instanceof MultiPaxosMessage.Promise p) {
            onPromise(from, p);
        } else if (message instanceof MultiPaxosMessage.Accept a) {
            onAccept(from, a);
        } else if (message instanceof MultiPaxosMessage.Accepted a) {
            onAccepted(from, a);
        } else if (message instanceof MultiPaxosMessage.Nack n) {
            onNack(n);
        } else if (message instanceof MultiPaxosMessage.Learn l) {
            onLearn(from, l);
        } else if (message instanceof MultiPaxosMessage.Heartbeat h) {
            onHeartbeat(from, h);
        } else if (message instanceof MultiPaxosMessage.CatchUp c) {
            onCatchUp(from, c);
        } else if (message instanceof MultiPaxosMessage.Snapshot s) {
            onSnapshot(from, s);
        }
    }

    /**
     * Compaction: snapshots the state machine at the chosen (and applied) prefix and drops every chosen value and
     * accepted entry up to it; the snapshot is reported in {@link MultiPaxosReady#snapshot()} for the shell to make
     * durable. Safe because those slots are chosen: a learner that needs them gets the snapshot instead
     * ({@link MultiPaxosMessage.Snapshot}), and a candidate that receives a {@code Promise} with a compaction point
     * above its own chosen prefix learns up to there before it leads. Returns false if there is nothing new to compact.
     */
    public boolean compact() {
        if (chosenPrefix <= snapshotSlot) {
            return false;
        }
        installSnapshot(chosenPrefix, machine.snapshot());
        return true;
    }

    private void installSnapshot(long slot, byte[] state) {
        snapshotSlot = slot;
        snapshotState = state;
        chosen.headMap(slot, true).clear();
        accepted.headMap(slot, true).clear();
        acceptedToPersist.removeIf(e -> e.slot() <= slot);
        snapshotToPersist = new MultiPaxosReady.Snapshot(slot, state);
    }

    public void tick() {
        if (catchUpWait > 0) {
            catchUpWait--;
        }
        if (role == Role.LEADER) {
            if (++heartbeatElapsed >= config.heartbeatTicks()) {
                heartbeatElapsed = 0;
                broadcastOthers(new MultiPaxosMessage.Heartbeat(ballot, chosenPrefix), messages);
            }
            if (++retransmitElapsed >= config.retransmitTicks()) {
                retransmitElapsed = 0;
                retransmitAccepts();
            }
            return;
        }
        if (role == Role.CANDIDATE) {
            maybeBecomeLeader(); // re-asks for the compacted prefix if the answer was lost
        }
        if (role == Role.CANDIDATE && ++retransmitElapsed >= config.retransmitTicks()) {
            retransmitElapsed = 0;
            for (int to = 0; to < replicas; to++) {
                if (!promises.containsKey(to)) {
                    afterPersist.add(new MultiPaxosReady.Send(to, new MultiPaxosMessage.Prepare(ballot, chosenPrefix + 1)));
                }
            }
        }
        if (++electionElapsed >= electionTimeout) {
            startElection();
        }
    }

    /** Takes the pending outputs (see {@link MultiPaxosReady} for what the shell must do with them). */
    public MultiPaxosReady ready() {
        flushAccepts();
        MultiPaxosReady r = new MultiPaxosReady(snapshotToPersist, promisedToPersist, List.copyOf(acceptedToPersist), List.copyOf(messages),
                List.copyOf(afterPersist), List.copyOf(applied));
        snapshotToPersist = null;
        promisedToPersist = null;
        acceptedToPersist.clear();
        messages.clear();
        afterPersist.clear();
        applied.clear();
        return r;
    }

    // ------------------------------------------------------------------------------------------------ acceptor

    private void onPrepare(int from, MultiPaxosMessage.Prepare p) {
        Ballot b = p.ballot();
        seen(b);
        if (!b.atLeast(promised)) {
            messages.add(new MultiPaxosReady.Send(from, new MultiPaxosMessage.Nack(b, promised)));
            return;
        }
        promise(b);
        if (b.proposer() != id) {
            if (role != Role.FOLLOWER && b.greaterThan(ballot)) {
                becomeFollower();
            }
            resetElectionTimer(); // give the candidate its chance
        }
        List<AcceptedEntry> entries = new ArrayList<>(accepted.tailMap(p.fromSlot(), true).values());
        afterPersist.add(new MultiPaxosReady.Send(from, new MultiPaxosMessage.Promise(b, entries, snapshotSlot)));
    }

    private void onAccept(int from, MultiPaxosMessage.Accept a) {
        Ballot b = a.ballot();
        seen(b);
        if (!b.atLeast(promised)) {
            messages.add(new MultiPaxosReady.Send(from, new MultiPaxosMessage.Nack(b, promised)));
            return;
        }
        promise(b);
        List<Long> slots = new ArrayList<>(a.entries().size());
        for (SlotValue sv : a.entries()) {
            if (sv.slot() <= snapshotSlot) {
                // chosen and compacted here: any leader allowed to propose in it proposes the chosen value (P2c)
                slots.add(sv.slot());
                continue;
            }
            AcceptedEntry e = new AcceptedEntry(sv.slot(), b, sv.value());
            AcceptedEntry before = accepted.put(sv.slot(), e);
            if (!e.equals(before)) {
                acceptedToPersist.add(e);
            }
            slots.add(sv.slot());
        }
        afterPersist.add(new MultiPaxosReady.Send(from, new MultiPaxosMessage.Accepted(b, slots)));
        if (b.proposer() != id) {
            followLeader(from, b, a.chosenPrefix());
        }
    }

    private void promise(Ballot b) {
        if (b.greaterThan(promised)) {
            promised = b;
            promisedToPersist = b;
        }
    }

    // ------------------------------------------------------------------------------------------------ proposer

    private void startElection() {
        role = Role.CANDIDATE;
        leader = -1;
        long round = Math.max(Math.max(highestSeenRound, promised.round()), ballot.round()) + 1;
        ballot = new Ballot(round, id);
        highestSeenRound = round;
        promises.clear();
        promisedCompacted = 0;
        compactedSource = -1;
        pending.clear();
        acceptBatch.clear();
        retransmitElapsed = 0;
        resetElectionTimer();
        // Our own promise is the durable memory of the ballot: after a restart we start above it.
        promise(ballot);
        for (int to = 0; to < replicas; to++) {
            afterPersist.add(new MultiPaxosReady.Send(to, new MultiPaxosMessage.Prepare(ballot, chosenPrefix + 1)));
        }
    }

    private void onPromise(int from, MultiPaxosMessage.Promise p) {
        if (role != Role.CANDIDATE || !p.ballot().equals(ballot)) {
            return;
        }
        promises.put(from, p.accepted());
        if (p.compactedUpTo() > promisedCompacted) {
            promisedCompacted = p.compactedUpTo();
            compactedSource = from;
        }
        maybeBecomeLeader();
    }

    /**
     * With a majority of promises the candidate leads, unless a promiser compacted slots this replica does not know
     * chosen yet (its promise no longer reports what it accepted there): then it first catches up from that promiser.
     */
    private void maybeBecomeLeader() {
        if (role != Role.CANDIDATE || promises.size() < quorum) {
            return;
        }
        if (chosenPrefix < promisedCompacted) {
            if (catchUpWait == 0) {
                catchUpWait = config.retransmitTicks();
                catchUpFrom = chosenPrefix + 1;
                messages.add(new MultiPaxosReady.Send(compactedSource, new MultiPaxosMessage.CatchUp(catchUpFrom)));
            }
            return;
        }
        becomeLeader();
    }

    private void becomeLeader() {
        role = Role.LEADER;
        leader = id;
        heartbeatElapsed = 0;
        retransmitElapsed = 0;
        Map<Long, AcceptedEntry> highest = new HashMap<>();
        long maxSlot = chosen.isEmpty() ? chosenPrefix : Math.max(chosenPrefix, chosen.lastKey());
        for (List<AcceptedEntry> entries : promises.values()) {
            for (AcceptedEntry e : entries) {
                maxSlot = Math.max(maxSlot, e.slot());
                AcceptedEntry h = highest.get(e.slot());
                if (h == null || e.ballot().greaterThan(h.ballot())) {
                    highest.put(e.slot(), e);
                }
            }
        }
        promises.clear();
        for (long slot = chosenPrefix + 1; slot <= maxSlot; slot++) {
            LogValue known = chosen.get(slot);
            AcceptedEntry h = highest.get(slot);
            LogValue v = known != null ? known : h != null ? h.value() : LogValue.NOOP; // P2c, else fill the gap
            pending.put(slot, new Pending(v));
            acceptBatch.add(new SlotValue(slot, v));
            if (acceptBatch.size() >= config.maxBatch()) {
                flushAccepts();
            }
        }
        nextSlot = maxSlot + 1;
        broadcastOthers(new MultiPaxosMessage.Heartbeat(ballot, chosenPrefix), messages);
    }

    private void onAccepted(int from, MultiPaxosMessage.Accepted a) {
        if (role != Role.LEADER || !a.ballot().equals(ballot)) {
            return;
        }
        List<SlotValue> newlyChosen = new ArrayList<>();
        for (long slot : a.slots()) {
            Pending p = pending.get(slot);
            if (p != null && p.acks.add(from) && p.acks.size() >= quorum) {
                pending.remove(slot);
                newlyChosen.add(new SlotValue(slot, p.value));
                learn(slot, p.value);
            }
        }
        if (!newlyChosen.isEmpty()) {
            for (int i = 0; i < newlyChosen.size(); i += config.maxBatch()) {
                broadcastOthers(new MultiPaxosMessage.Learn(List.copyOf(
                        newlyChosen.subList(i, Math.min(newlyChosen.size(), i + config.maxBatch())))), messages);
            }
        }
    }

    private void onNack(MultiPaxosMessage.Nack n) {
        seen(n.promised());
        if (role != Role.FOLLOWER && n.ballot().equals(ballot)) {
            becomeFollower();
        }
    }

    private void becomeFollower() {
        role = Role.FOLLOWER;
        pending.clear();
        acceptBatch.clear();
        promises.clear();
        resetElectionTimer();
    }

    private void flushAccepts() {
        if (acceptBatch.isEmpty()) {
            return;
        }
        MultiPaxosMessage.Accept accept = new MultiPaxosMessage.Accept(ballot, List.copyOf(acceptBatch), chosenPrefix);
        acceptBatch.clear();
        for (int to = 0; to < replicas; to++) {
            messages.add(new MultiPaxosReady.Send(to, accept));
        }
    }

    /** Resends, to each acceptor, the pending slots it has not acknowledged (at most CATCH_UP_BATCH per round). */
    private void retransmitAccepts() {
        for (int to = 0; to < replicas; to++) {
            List<SlotValue> missing = new ArrayList<>();
            int sent = 0;
            for (Map.Entry<Long, Pending> e : pending.entrySet()) {
                if (sent >= CATCH_UP_BATCH) {
                    break;
                }
                if (!e.getValue().acks.contains(to)) {
                    missing.add(new SlotValue(e.getKey(), e.getValue().value));
                    sent++;
                    if (missing.size() >= config.maxBatch()) {
                        messages.add(new MultiPaxosReady.Send(to,
                                new MultiPaxosMessage.Accept(ballot, List.copyOf(missing), chosenPrefix)));
                        missing.clear();
                    }
                }
            }
            if (!missing.isEmpty()) {
                messages.add(new MultiPaxosReady.Send(to, new MultiPaxosMessage.Accept(ballot, missing, chosenPrefix)));
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ learner

    private void onHeartbeat(int from, MultiPaxosMessage.Heartbeat h) {
        seen(h.ballot());
        if (!h.ballot().atLeast(promised)) {
            messages.add(new MultiPaxosReady.Send(from, new MultiPaxosMessage.Nack(h.ballot(), promised)));
            return;
        }
        followLeader(from, h.ballot(), h.chosenPrefix());
        maybeCatchUp(from); // heartbeats, not Accepts, trigger catch-up: chosen values normally follow in a Learn
    }

    private void followLeader(int from, Ballot b, long leaderChosenPrefix) {
        if (role != Role.FOLLOWER && b.greaterThan(ballot)) {
            becomeFollower();
        }
        if (role == Role.FOLLOWER) {
            leader = from;
            electionElapsed = 0;
        }
        knownChosenPrefix = Math.max(knownChosenPrefix, leaderChosenPrefix);
    }

    private void maybeCatchUp(int from) {
        if (knownChosenPrefix > chosenPrefix && catchUpWait == 0 && from != id) {
            catchUpWait = config.retransmitTicks();
            catchUpFrom = chosenPrefix + 1;
            messages.add(new MultiPaxosReady.Send(from, new MultiPaxosMessage.CatchUp(catchUpFrom)));
        }
    }

    private void onCatchUp(int from, MultiPaxosMessage.CatchUp c) {
        long first = c.fromSlot();
        if (first <= snapshotSlot) {
            // the slots asked for are compacted here: send the snapshot, then what follows it
            messages.add(new MultiPaxosReady.Send(from,
                    new MultiPaxosMessage.Snapshot(snapshotSlot, chosenPrefix, snapshotState)));
            first = snapshotSlot + 1;
        }
        List<SlotValue> out = new ArrayList<>();
        for (long slot = first; slot <= chosenPrefix && out.size() < CATCH_UP_BATCH; slot++) {
            out.add(new SlotValue(slot, chosen.get(slot)));
        }
        if (!out.isEmpty()) {
            messages.add(new MultiPaxosReady.Send(from, new MultiPaxosMessage.Learn(out)));
        }
    }

    private void onSnapshot(int from, MultiPaxosMessage.Snapshot s) {
        knownChosenPrefix = Math.max(knownChosenPrefix, s.chosenPrefix());
        if (s.snapshotSlot() > chosenPrefix) {
            machine.restore(s.state());
            snapshotsReceived++;
            chosenPrefix = s.snapshotSlot();
            installSnapshot(s.snapshotSlot(), s.state()); // ours now: durable before we rely on having it
            applyChosenPrefix();
            // waiting proposals in the skipped slots are over (the shell answers them as superseded)
        }
        if (catchUpFrom >= 0 && catchUpFrom <= s.snapshotSlot() + 1) {
            catchUpWait = 0;
            catchUpFrom = -1;
        }
        maybeBecomeLeader();
    }

    private void onLearn(int from, MultiPaxosMessage.Learn l) {
        for (SlotValue sv : l.chosen()) {
            learn(sv.slot(), sv.value());
            knownChosenPrefix = Math.max(knownChosenPrefix, sv.slot());
        }
        if (!l.chosen().isEmpty() && l.chosen().get(0).slot() == catchUpFrom) {
            catchUpWait = 0; // the answer to our CatchUp: ask for the next page at once
            catchUpFrom = -1;
            maybeCatchUp(from);
        }
    }

    private void learn(long slot, LogValue value) {
        if (slot <= chosenPrefix) {
            LogValue before = chosen.get(slot);
            if (before != null && !before.equals(value)) {
                throw new IllegalStateException("replica " + id + " learned " + value + " at slot " + slot
                        + " where " + before + " was chosen");
            }
            return;
        }
        LogValue before = chosen.putIfAbsent(slot, value);
        if (before != null && !before.equals(value)) {
            throw new IllegalStateException("replica " + id + " learned " + value + " at slot " + slot + " where "
                    + before + " was chosen");
        }
        applyChosenPrefix();
        maybeBecomeLeader();
    }

    private void applyChosenPrefix() {
        while (chosen.containsKey(chosenPrefix + 1)) {
            chosenPrefix++;
            apply(chosenPrefix, chosen.get(chosenPrefix));
        }
        knownChosenPrefix = Math.max(knownChosenPrefix, chosenPrefix);
    }

    private void apply(long slot, LogValue v) {
        if (v.isNoop()) {
            machine.skip(slot);
            return;
        }
        SessionStateMachine.Result result = machine.apply(slot, v.clientId(), v.sequence(), v.payload());
        applied.add(new MultiPaxosReady.Applied(slot, v, result));
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private void seen(Ballot b) {
        highestSeenRound = Math.max(highestSeenRound, b.round());
    }

    private void resetElectionTimer() {
        electionElapsed = 0;
        electionTimeout = config.electionTicks() + random.nextInt(config.electionTicks());
    }

    private void broadcastOthers(MultiPaxosMessage m, List<MultiPaxosReady.Send> into) {
        for (int to = 0; to < replicas; to++) {
            if (to != id) {
                into.add(new MultiPaxosReady.Send(to, m));
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ views

    public int id() {
        return id;
    }

    public Role role() {
        return role;
    }

    public boolean isLeader() {
        return role == Role.LEADER;
    }

    /** The replica this one believes leads (itself if leader), or -1. */
    public int leaderHint() {
        return leader;
    }

    public Ballot ballot() {
        return ballot;
    }

    public Ballot promised() {
        return promised;
    }

    /** Highest slot such that every slot up to it is known chosen (and applied). */
    public long chosenPrefix() {
        return chosenPrefix;
    }

    public LogValue chosen(long slot) {
        return chosen.get(slot);
    }

    public SessionStateMachine machine() {
        return machine;
    }

    /** The slot of the latest snapshot (0: none): chosen values and accepted entries up to it are dropped. */
    public long snapshotSlot() {
        return snapshotSlot;
    }

    /** Snapshots installed by transfer from another replica since this replica was created. */
    public long snapshotsReceived() {
        return snapshotsReceived;
    }

    /** Accepted entries held (above the snapshot). */
    public int acceptedCount() {
        return accepted.size();
    }

    /** Slots this leader proposed and is still waiting for a majority on. */
    public int pendingCount() {
        return pending.size();
    }
}
