package io.consensusactors.paxos.sim;

import io.consensusactors.paxos.core.Acceptor;
import io.consensusactors.paxos.core.AcceptorEvent;
import io.consensusactors.paxos.core.AcceptorResult;
import io.consensusactors.paxos.core.AcceptorState;
import io.consensusactors.paxos.core.Ballot;
import io.consensusactors.paxos.core.Learner;
import io.consensusactors.paxos.core.PaxosConfig;
import io.consensusactors.paxos.core.PaxosMessage;
import io.consensusactors.paxos.core.Proposer;
import io.consensusactors.testkit.sim.Envelope;
import io.consensusactors.testkit.sim.SimNetwork;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;

/**
 * n simulated nodes, each an acceptor and a learner, some also a proposer, over a seeded {@link SimNetwork}. A node
 * crash loses everything but its durable state: the acceptor state persisted before each reply and the proposer's
 * persisted round. An oracle watches the durable acceptances and asserts, after every step, that at most one value is
 * chosen, that it was proposed, and that no learner learned anything else.
 */
final class SingleDecreeSim {

    final class Node {
        final int index;
        boolean up = true;
        AcceptorState<String> durable = AcceptorState.initial();
        long durableRound;
        Proposer<String> proposer;
        Learner<String> learner;
        String proposal;

        Node(int index) {
            this.index = index;
            this.learner = new Learner<>(n);
        }

        boolean isProposer() {
            return proposal != null;
        }
    }

    final int n;
    final Random rng;
    final SimNetwork<PaxosMessage<String>> net;
    final PaxosConfig config;
    final List<Node> nodes = new ArrayList<>();
    final Set<String> proposed = new HashSet<>();
    /** Every acceptance that reached durable state: ballot -> acceptors, ballot -> value. */
    final Map<Ballot, Set<Integer>> acceptedBy = new HashMap<>();
    final Map<Ballot, String> valueAt = new HashMap<>();
    /** Probability that a crash hits between the durable write and the reply (so the reply is lost). */
    double crashAfterPersist = 0.0;
    String chosen;
    long now;
    long steps;
    long trace = 17;

    SingleDecreeSim(long seed, int n, PaxosConfig config) {
        this.n = n;
        this.rng = new Random(seed);
        this.net = new SimNetwork<>(n, rng);
        this.config = config;
        for (int i = 0; i < n; i++) {
            nodes.add(new Node(i));
        }
    }

    /** Makes node i a proposer of {@code value} (proposer id i + 1) and starts it. */
    void startProposer(int i, String value) {
        Node node = nodes.get(i);
        node.proposal = value;
        proposed.add(value);
        if (node.up) {
            node.proposer = new Proposer<>(i + 1, n, node.durableRound, config, new Random(rng.nextLong()));
            node.proposer.propose(value);
            flush(node);
        }
    }

    void stopProposer(int i) {
        nodes.get(i).proposer = null;
    }

    void crash(int i) {
        Node node = nodes.get(i);
        if (!node.up) {
            return;
        }
        node.up = false;
        node.proposer = null;
        node.learner = null;
        net.dropInFlight(i);
        trace = trace * 31 + i;
    }

    void restart(int i) {
        Node node = nodes.get(i);
        if (node.up) {
            return;
        }
        node.up = true;
        node.learner = new Learner<>(n);
        if (node.isProposer()) {
            node.proposer = new Proposer<>(i + 1, n, node.durableRound, config, new Random(rng.nextLong()));
            node.proposer.propose(node.proposal);
            flush(node);
        }
        trace = trace * 31 + 100 + i;
    }

    /** One tick: deliver what is due, then tick every proposer. */
    void tick() {
        now++;
        for (Envelope<PaxosMessage<String>> e : net.deliverDue(now)) {
            deliver(e);
        }
        for (Node node : nodes) {
            if (node.up && node.proposer != null) {
                node.proposer.tick();
                flush(node);
            }
        }
    }

    private void deliver(Envelope<PaxosMessage<String>> e) {
        Node node = nodes.get(e.to());
        if (!node.up) {
            return;
        }
        steps++;
        trace = trace * 31 + e.seq() * 7 + e.to();
        PaxosMessage<String> m = e.message();
        if (m instanceof PaxosMessage.Prepare<String> || m instanceof PaxosMessage.Accept<String>) {
            AcceptorResult<String> r = Acceptor.step(node.durable, m);
            if (r.mustPersist()) {
                node.durable = r.state(); // the write completes before the reply leaves
                if (r.persist() instanceof AcceptorEvent.Accepted<String> a) {
                    recordAcceptance(node.index, a.ballot(), a.value());
                }
                if (crashAfterPersist > 0 && rng.nextDouble() < crashAfterPersist) {
                    crash(node.index);
                    return;
                }
            }
            if (r.reply() instanceof PaxosMessage.Accepted<String>) {
                for (int to = 0; to < n; to++) {
                    net.send(now, node.index, to, r.reply());
                }
            } else {
                net.send(now, node.index, e.from(), r.reply());
            }
            return;
        }
        if (node.proposer != null && !(m instanceof PaxosMessage.Chosen<String> && e.from() == node.index)) {
            node.proposer.step(e.from(), m);
            flush(node);
        }
        if (m instanceof PaxosMessage.Accepted<String> || m instanceof PaxosMessage.Chosen<String>) {
            node.learner.step(e.from(), m);
            node.learner.chosen().ifPresent(v -> checkLearned(node.index, v));
        }
    }

    private void flush(Node node) {
        Proposer.Ready<String> r = node.proposer.ready();
        if (r.persistRound() > 0) {
            if (r.persistRound() <= node.durableRound) {
                throw new AssertionError("node " + node.index + " would reuse round " + r.persistRound()
                        + " (durable " + node.durableRound + ")");
            }
            node.durableRound = r.persistRound();
        }
        for (PaxosMessage<String> m : r.toAcceptors()) {
            for (int to = 0; to < n; to++) {
                net.send(now, node.index, to, m);
            }
        }
        for (PaxosMessage<String> m : r.toLearners()) {
            for (int to = 0; to < n; to++) {
                net.send(now, node.index, to, m);
            }
        }
        node.proposer.chosen().ifPresent(v -> checkLearned(node.index, v));
    }

    private void recordAcceptance(int acceptor, Ballot ballot, String value) {
        if (!proposed.contains(value)) {
            throw new AssertionError("acceptor " + acceptor + " accepted " + value + " which nobody proposed");
        }
        String before = valueAt.putIfAbsent(ballot, value);
        if (before != null && !before.equals(value)) {
            throw new AssertionError("two values at " + ballot + ": " + before + " and " + value);
        }
        Set<Integer> by = acceptedBy.computeIfAbsent(ballot, b -> new HashSet<>());
        by.add(acceptor);
        if (by.size() >= n / 2 + 1) {
            if (chosen != null && !chosen.equals(value)) {
                throw new AssertionError("two values chosen: " + chosen + " and " + value + " (at " + ballot + ")");
            }
            chosen = value;
        }
    }

    private void checkLearned(int node, String v) {
        if (!Objects.equals(chosen, v)) {
            throw new AssertionError("node " + node + " learned " + v + " but the chosen value is " + chosen);
        }
    }

    String learnerView() {
        StringBuilder b = new StringBuilder();
        for (Node node : nodes) {
            b.append(node.index).append(node.up ? "=" + node.learner.chosen().orElse("?") : "=down").append(' ');
        }
        return b.toString();
    }

    boolean everyUpLearnerKnows() {
        for (Node node : nodes) {
            if (node.up && node.learner.chosen().isEmpty()) {
                return false;
            }
        }
        return true;
    }
}
