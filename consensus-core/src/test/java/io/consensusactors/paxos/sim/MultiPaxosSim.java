package io.consensusactors.paxos.sim;

import io.consensusactors.paxos.core.Ballot;
import io.consensusactors.paxos.core.LogValue;
import io.consensusactors.paxos.core.MultiPaxosMessage;
import io.consensusactors.paxos.core.MultiPaxosMessage.AcceptedEntry;
import io.consensusactors.paxos.core.MultiPaxosReady;
import io.consensusactors.paxos.core.MultiPaxosReplica;
import io.consensusactors.paxos.core.PaxosConfig;
import io.consensusactors.statemachine.SessionStateMachine;
import io.consensusactors.statemachine.StateMachine;
import io.consensusactors.testkit.sim.Envelope;
import io.consensusactors.testkit.sim.SimNetwork;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * n Multi-Paxos replicas over a seeded {@link SimNetwork}. A crash keeps only the durable state (the promise and the
 * accepted entries written from each {@link MultiPaxosReady}); it may hit before the write (nothing of that ready but
 * the messages that do not depend on it went out) or between the write and the replies. The oracle checks after
 * every step: one value per slot, only proposed commands or no-ops, every replica's learned log equals the chosen
 * values (so applied sequences are prefixes of each other), every command applied at most once per replica.
 */
final class MultiPaxosSim {

    /** A user state machine that records what it applied and fails on a command applied twice. */
    static final class RecordingMachine implements StateMachine {
        final List<String> applied = new ArrayList<>();
        final Set<String> seen = new HashSet<>();

        @Override
        public byte[] apply(long index, byte[] command) {
            String c = new String(command, StandardCharsets.UTF_8);
            if (!seen.add(c)) {
                throw new AssertionError("command " + c + " applied twice (again at slot " + index + ")");
            }
            applied.add(c);
            return Integer.toString(applied.size()).getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public byte[] query(byte[] query) {
            return new byte[0];
        }

        @Override
        public byte[] snapshot() {
            return String.join("\n", applied).getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public void restore(byte[] snapshot) {
            applied.clear();
            seen.clear();
            String s = new String(snapshot, StandardCharsets.UTF_8);
            if (!s.isEmpty()) {
                for (String c : s.split("\n", -1)) {
                    applied.add(c);
                    seen.add(c);
                }
            }
        }
    }

    final class Replica {
        final int index;
        boolean up = true;
        Ballot durablePromised = Ballot.NONE;
        MultiPaxosReady.Snapshot durableSnapshot;
        final TreeMap<Long, AcceptedEntry> durableAccepted = new TreeMap<>();
        MultiPaxosReplica node;
        RecordingMachine machine;
        long checkedUpTo;

        Replica(int index) {
            this.index = index;
            start();
        }

        void start() {
            machine = new RecordingMachine();
            node = new MultiPaxosReplica(index, n, durablePromised, durableSnapshot, durableAccepted.values(),
                    new SessionStateMachine(machine, 64, 1_000_000), config, new Random(rng.nextLong()));
            checkedUpTo = durableSnapshot == null ? 0 : durableSnapshot.slot();
        }
    }

    static final boolean DEBUG = Boolean.getBoolean("sim.debug");
    final int n;
    final Random rng;
    final SimNetwork<MultiPaxosMessage> net;
    final PaxosConfig config;
    final List<Replica> replicas = new ArrayList<>();
    final Set<LogValue> proposed = new HashSet<>();
    final Map<Long, Map<Ballot, Set<Integer>>> acceptedBy = new HashMap<>();
    final Map<Long, Map<Ballot, LogValue>> valueAt = new HashMap<>();
    final Map<Long, LogValue> chosen = new HashMap<>();
    /** Called with (replica, applied) for every applied command (clients listen here). */
    Consumer<Map.Entry<Integer, MultiPaxosReady.Applied>> onApplied = e -> { };
    double crashBeforePersist;
    double crashAfterPersist;
    /** Probability per tick and live replica of compacting its log at its chosen prefix. */
    double compactProbability;
    long compactions;
    long snapshotsInstalled;
    long now;
    long trace = 17;

    MultiPaxosSim(long seed, int n, PaxosConfig config) {
        this.n = n;
        this.rng = new Random(seed);
        this.net = new SimNetwork<>(n, rng);
        this.config = config;
        for (int i = 0; i < n; i++) {
            replicas.add(new Replica(i));
        }
    }

    long propose(int i, LogValue v) {
        Replica r = replicas.get(i);
        if (!r.up) {
            return -1;
        }
        proposed.add(v);
        long slot = r.node.propose(v);
        process(r);
        return slot;
    }

    void crash(int i) {
        Replica r = replicas.get(i);
        if (r.up) {
            r.up = false;
            net.dropInFlight(i);
            trace = trace * 31 + i;
        }
    }

    void restart(int i) {
        Replica r = replicas.get(i);
        if (!r.up) {
            r.up = true;
            r.start();
            trace = trace * 31 + 100 + i;
        }
    }

    void tick() {
        now++;
        for (Envelope<MultiPaxosMessage> e : net.deliverDue(now)) {
            Replica r = replicas.get(e.to());
            if (r.up) {
                trace = trace * 31 + e.seq() * 7 + e.to();
                if (DEBUG && now > 300) {
                    System.out.println(now + " " + e.from() + "->" + e.to() + " " + e.message() + " prefix " + r.node.chosenPrefix());
                }
                if (e.message() instanceof MultiPaxosMessage.Snapshot snap && snap.snapshotSlot() > r.node.chosenPrefix()) {
                    snapshotsInstalled++;
                }
                r.node.step(e.from(), e.message());
                process(r);
            }
        }
        for (Replica r : replicas) {
            if (r.up) {
                r.node.tick();
                if (compactProbability > 0 && rng.nextDouble() < compactProbability && r.node.compact()) {
                    compactions++;
                }
                process(r);
            }
        }
        for (Replica r : replicas) {
            if (r.up) {
                checkLearned(r);
            }
        }
    }

    /** The shell: send, persist, send what depended on the write, deliver applied results. */
    private void process(Replica r) {
        MultiPaxosReady ready = r.node.ready();
        if (ready.isEmpty()) {
            return;
        }
        for (MultiPaxosReady.Send s : ready.messages()) {
            net.send(now, r.index, s.to(), s.message());
        }
        if (ready.needsPersistence()) {
            if (crashBeforePersist > 0 && rng.nextDouble() < crashBeforePersist) {
                crash(r.index);
                return;
            }
            if (ready.snapshot() != null) {
                MultiPaxosReady.Snapshot snap = ready.snapshot();
                if (r.durableSnapshot != null && snap.slot() <= r.durableSnapshot.slot()) {
                    throw new AssertionError("replica " + r.index + " snapshot goes back from slot "
                            + r.durableSnapshot.slot() + " to " + snap.slot());
                }
                checkSnapshot(r, snap);
                r.durableSnapshot = snap;
                r.durableAccepted.headMap(snap.slot(), true).clear();
                if (snap.slot() > r.node.chosenPrefix() || r.node.chosen(snap.slot()) != null) {
                    throw new AssertionError("replica " + r.index + " kept slot " + snap.slot() + " after compacting");
                }
            }
            if (ready.promised() != null) {
                if (!ready.promised().greaterThan(r.durablePromised)) {
                    throw new AssertionError("replica " + r.index + " lowers its promise " + r.durablePromised
                            + " to " + ready.promised());
                }
                r.durablePromised = ready.promised();
            }
            for (AcceptedEntry e : ready.accepted()) {
                r.durableAccepted.put(e.slot(), e);
                recordAcceptance(r.index, e);
            }
            if (crashAfterPersist > 0 && rng.nextDouble() < crashAfterPersist) {
                crash(r.index);
                return;
            }
        }
        for (MultiPaxosReady.Send s : ready.messagesAfterPersist()) {
            net.send(now, r.index, s.to(), s.message());
        }
        for (MultiPaxosReady.Applied a : ready.applied()) {
            LogValue c = chosen.get(a.slot());
            if (!a.value().equals(c)) {
                throw new AssertionError("replica " + r.index + " applied " + a.value() + " at slot " + a.slot()
                        + " where " + c + " was chosen");
            }
            onApplied.accept(Map.entry(r.index, a));
        }
    }

    private void recordAcceptance(int acceptor, AcceptedEntry e) {
        if (!e.value().isNoop() && !proposed.contains(e.value())) {
            throw new AssertionError("acceptor " + acceptor + " accepted " + e.value() + " at slot " + e.slot()
                    + " which nobody proposed");
        }
        LogValue before = valueAt.computeIfAbsent(e.slot(), s -> new HashMap<>()).putIfAbsent(e.ballot(), e.value());
        if (before != null && !before.equals(e.value())) {
            throw new AssertionError("two values at slot " + e.slot() + " ballot " + e.ballot());
        }
        Set<Integer> by = acceptedBy.computeIfAbsent(e.slot(), s -> new HashMap<>())
                .computeIfAbsent(e.ballot(), b -> new HashSet<>());
        by.add(acceptor);
        if (by.size() >= n / 2 + 1) {
            LogValue c = chosen.putIfAbsent(e.slot(), e.value());
            if (c != null && !c.equals(e.value())) {
                throw new AssertionError("two values chosen in slot " + e.slot() + ": " + c + " and " + e.value());
            }
        }
    }

    /**
     * A snapshot (own or transferred) is the state after applying exactly the chosen commands of slots 1..slot in
     * order: the oracle replays the chosen values through a fresh session machine and compares.
     */
    private void checkSnapshot(Replica r, MultiPaxosReady.Snapshot snap) {
        RecordingMachine m = new RecordingMachine();
        SessionStateMachine sm = new SessionStateMachine(m, 64, 1_000_000);
        for (long s = 1; s <= snap.slot(); s++) {
            LogValue v = chosen.get(s);
            if (v == null) {
                throw new AssertionError("replica " + r.index + " snapshot at slot " + snap.slot() + " but slot " + s
                        + " was never chosen");
            }
            if (v.isNoop()) {
                sm.skip(s);
            } else {
                sm.apply(s, v.clientId(), v.sequence(), v.payload());
            }
        }
        if (!java.util.Arrays.equals(sm.snapshot(), snap.state())) {
            throw new AssertionError("replica " + r.index + " snapshot at slot " + snap.slot()
                    + " differs from the chosen log applied in order");
        }
    }

    /** Learners never disagree: every slot a replica knows as chosen holds the value the oracle saw chosen. */
    private void checkLearned(Replica r) {
        long snapshotSlot = r.node.snapshotSlot();
        for (long s = Math.max(r.checkedUpTo, snapshotSlot) + 1; s <= r.node.chosenPrefix(); s++) {
            LogValue learned = r.node.chosen(s);
            if (!learned.equals(chosen.get(s))) {
                throw new AssertionError("replica " + r.index + " learned " + learned + " at slot " + s + " but "
                        + chosen.get(s) + " was chosen");
            }
        }
        r.checkedUpTo = Math.max(r.checkedUpTo, r.node.chosenPrefix());
    }

    Replica leader() {
        Replica best = null;
        for (Replica r : replicas) {
            if (r.up && r.node.isLeader() && (best == null || r.node.ballot().greaterThan(best.node.ballot()))) {
                best = r;
            }
        }
        return best;
    }

    /** Applied sequences of all live replicas are prefixes of one another. */
    void checkPrefixes() {
        List<String> longest = List.of();
        for (Replica r : replicas) {
            if (r.up && r.machine.applied.size() > longest.size()) {
                longest = r.machine.applied;
            }
        }
        for (Replica r : replicas) {
            if (r.up && !longest.subList(0, r.machine.applied.size()).equals(r.machine.applied)) {
                throw new AssertionError("replica " + r.index + " applied " + r.machine.applied
                        + " which is not a prefix of " + longest);
            }
        }
    }

    String describe() {
        StringBuilder b = new StringBuilder("max chosen slot " + maxChosenSlot() + "; ");
        for (Replica r : replicas) {
            b.append(r.index).append(r.up ? "" : "(down)").append(": ").append(r.node.role()).append(' ')
                    .append(r.node.ballot()).append(" promised ").append(r.node.promised()).append(" prefix ")
                    .append(r.node.chosenPrefix()).append(" pending ").append(r.node.pendingCount()).append(" leader ")
                    .append(r.node.leaderHint()).append("; ");
        }
        return b.toString();
    }

    long maxChosenSlot() {
        return chosen.keySet().stream().mapToLong(Long::longValue).max().orElse(0);
    }
}
