package io.consensusactors.paxos.core;

import io.consensusactors.paxos.core.MultiPaxosMessage.AcceptedEntry;
import io.consensusactors.statemachine.SessionStateMachine;
import io.consensusactors.statemachine.StateMachine;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Scripted Multi-Paxos scenarios ("Paxos Made Simple" §3, "Implementing a State Machine"). */
class MultiPaxosTest {

    static final PaxosConfig CONFIG = PaxosConfig.defaults().withElection(2, 10);

    /** Applies commands as strings into a list. */
    static final class ListMachine implements StateMachine {
        final List<String> log = new ArrayList<>();

        @Override
        public byte[] apply(long index, byte[] command) {
            log.add(new String(command, StandardCharsets.UTF_8));
            return new byte[0];
        }

        @Override
        public byte[] query(byte[] query) {
            return new byte[0];
        }

        @Override
        public byte[] snapshot() {
            return new byte[0];
        }

        @Override
        public void restore(byte[] snapshot) {
        }
    }

    /** Three replicas, FIFO delivery, writes that complete at once; links can be cut and messages counted. */
    static final class Local {
        record InFlight(int from, int to, MultiPaxosMessage message) {
        }

        final List<MultiPaxosReplica> replicas = new ArrayList<>();
        final List<ListMachine> machines = new ArrayList<>();
        final Deque<InFlight> queue = new ArrayDeque<>();
        final Set<Integer> down = new HashSet<>();
        final List<InFlight> delivered = new ArrayList<>();

        Local(int n) {
            for (int i = 0; i < n; i++) {
                ListMachine m = new ListMachine();
                machines.add(m);
                replicas.add(new MultiPaxosReplica(i, n, Ballot.NONE, List.of(), new SessionStateMachine(m, 16, 1000),
                        CONFIG, new Random(i)));
            }
        }

        void drain(int i) {
            MultiPaxosReady r = replicas.get(i).ready();
            for (MultiPaxosReady.Send s : r.messages()) {
                queue.add(new InFlight(i, s.to(), s.message()));
            }
            for (MultiPaxosReady.Send s : r.messagesAfterPersist()) {
                queue.add(new InFlight(i, s.to(), s.message()));
            }
        }

        void deliverAll() {
            while (!queue.isEmpty()) {
                InFlight f = queue.poll();
                if (down.contains(f.to) || down.contains(f.from)) {
                    continue;
                }
                delivered.add(f);
                replicas.get(f.to).step(f.from, f.message);
                drain(f.to);
            }
        }

        /** Ticks replica i until it is leader. */
        void elect(int i) {
            for (int t = 0; t < 100 && !replicas.get(i).isLeader(); t++) {
                replicas.get(i).tick();
                drain(i);
                deliverAll();
            }
            assertTrue(replicas.get(i).isLeader(), "replica " + i + " did not become leader");
        }

        long propose(int i, long client, long seq, String cmd) {
            long slot = replicas.get(i).propose(LogValue.command(client, seq, cmd.getBytes(StandardCharsets.UTF_8)));
            drain(i);
            deliverAll();
            return slot;
        }
    }

    @Test
    void aStableLeaderRunsPhase1OnceAndThenOnlyPhase2() {
        // §3: "phase 1 ... for infinitely many instances"; afterwards each command costs only phase 2.
        Local c = new Local(3);
        c.elect(0);
        c.delivered.clear();
        for (int i = 1; i <= 5; i++) {
            c.propose(0, 0, 0, "cmd" + i);
        }
        assertTrue(c.delivered.stream().noneMatch(f -> f.message instanceof MultiPaxosMessage.Prepare),
                "no Prepare once the leader is established");
        for (ListMachine m : c.machines) {
            assertEquals(List.of("cmd1", "cmd2", "cmd3", "cmd4", "cmd5"), m.log);
        }
    }

    @Test
    void aNewLeaderFillsGapsWithNoopsAndReproposesAcceptedValues() {
        // §3: a new leader learns the accepted values of the slots it does not know as chosen (phase 1), proposes
        // them again (P2c) and fills the gaps with no-ops so that the commands after them can be executed.
        Local c = new Local(3);
        c.elect(0);
        c.propose(0, 0, 0, "a"); // slot 1, chosen everywhere
        // The old leader gets slot 3 accepted by replica 1 only (slot 2's Accept is lost): then it dies.
        c.down.add(2);
        c.replicas.get(0).propose(LogValue.command(0, 0, "lost".getBytes(StandardCharsets.UTF_8)));
        c.replicas.get(0).ready(); // slot 2's Accept never leaves
        c.replicas.get(0).propose(LogValue.command(0, 0, "b".getBytes(StandardCharsets.UTF_8)));
        MultiPaxosReady r = c.replicas.get(0).ready();
        for (MultiPaxosReady.Send s : r.messages()) {
            if (s.to() == 1) {
                c.replicas.get(1).step(0, s.message()); // replica 1 accepts slot 3 = "b"; its reply is lost
                c.replicas.get(1).ready();
            }
        }
        c.down.clear();
        c.down.add(0);
        c.elect(1);
        for (int i : List.of(1, 2)) {
            assertEquals(List.of("a", "b"), c.machines.get(i).log, "replica " + i);
            assertTrue(c.replicas.get(i).chosen(2).isNoop(), "the gap at slot 2 is a no-op");
            assertEquals(3, c.replicas.get(i).chosenPrefix());
        }
    }

    @Test
    void aCommandChosenInTwoSlotsIsAppliedOnce() {
        // A client's retry after a leader change can be chosen twice; its session sequence makes the second a no-op
        // for the state machine.
        Local c = new Local(3);
        c.elect(0);
        c.propose(0, 7, 0, "open");
        c.propose(0, 7, 1, "x");
        c.propose(0, 7, 1, "x");
        c.propose(0, 7, 2, "y");
        for (ListMachine m : c.machines) {
            assertEquals(List.of("x", "y"), m.log);
        }
    }

    @Test
    void onlyTheLeaderTakesProposalsAndFollowersKnowItsIndex() {
        Local c = new Local(3);
        c.elect(2);
        assertEquals(-1, c.propose(0, 0, 0, "x"));
        assertEquals(2, c.replicas.get(0).leaderHint());
        assertEquals(1, c.propose(2, 0, 0, "x"));
    }

    @Test
    void aLaggingLearnerCatchesUp() {
        // §3: a replica that missed chosen values learns them (here from heartbeats and CatchUp).
        Local c = new Local(3);
        c.elect(0);
        c.down.add(2);
        for (int i = 0; i < 300; i++) {
            c.propose(0, 0, 0, "c" + i);
        }
        assertTrue(c.machines.get(2).log.isEmpty());
        c.down.clear();
        for (int t = 0; t < 20 && c.replicas.get(2).chosenPrefix() < 300; t++) {
            c.replicas.get(0).tick();
            c.drain(0);
            c.deliverAll();
        }
        assertEquals(c.machines.get(0).log, c.machines.get(2).log);
    }

    @Test
    void aHigherBallotDeposesTheLeader() {
        Local c = new Local(3);
        c.elect(0);
        c.down.add(0);
        c.elect(1);
        c.down.clear();
        assertTrue(c.replicas.get(0).isLeader(), "it has not heard yet");
        c.propose(0, 0, 0, "stale");
        assertFalse(c.replicas.get(0).isLeader(), "the Nack carrying the higher promise made it step down");
        for (ListMachine m : c.machines) {
            assertFalse(m.log.contains("stale"));
        }
    }

    @Test
    void aRestartedReplicaResumesFromItsDurableAcceptorState() {
        Ballot promised = new Ballot(4, 1);
        MultiPaxosReplica r = new MultiPaxosReplica(0, 3, promised,
                List.of(new AcceptedEntry(1, promised, LogValue.command(0, 0, new byte[] {1}))),
                new SessionStateMachine(new ListMachine(), 4, 100), CONFIG, new Random(1));
        r.step(2, new MultiPaxosMessage.Prepare(new Ballot(3, 2), 1));
        MultiPaxosReady ready = r.ready();
        assertEquals(List.of(new MultiPaxosReady.Send(2, new MultiPaxosMessage.Nack(new Ballot(3, 2), promised))),
                ready.messages(), "a restarted acceptor keeps its promise");
        r.step(2, new MultiPaxosMessage.Prepare(new Ballot(5, 2), 1));
        ready = r.ready();
        assertEquals(new Ballot(5, 2), ready.promised());
        MultiPaxosMessage.Promise p = (MultiPaxosMessage.Promise) ready.messagesAfterPersist().get(0).message();
        assertEquals(1, p.accepted().size(), "and reports what it accepted before the crash");
    }
}
