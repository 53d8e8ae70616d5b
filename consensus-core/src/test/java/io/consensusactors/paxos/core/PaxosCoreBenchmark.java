package io.consensusactors.paxos.core;

import io.consensusactors.statemachine.SessionStateMachine;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Random;

/**
 * Throughput of the pure cores with three acceptors in one thread (no I/O, no serialization, writes assumed
 * instantaneous): an upper bound of what the protocol logic costs. Figures are printed, not asserted; they go into
 * docs/paxos.md. Run with {@code mvn -pl consensus-core test -Dtest=PaxosCoreBenchmark -Dsurefire.excludedGroups=}.
 */
@Tag("bench")
@Tag("soak")
class PaxosCoreBenchmark {

    @Test
    void singleDecreeDecisionsPerSecond() {
        for (int round = 0; round < 3; round++) { // the first rounds warm up the JIT
            int decisions = 300_000;
            long start = System.nanoTime();
            Random random = new Random(1);
            long messages = 0;
            for (int i = 0; i < decisions; i++) {
                List<AcceptorState<String>> acceptors = new ArrayList<>(Collections.nCopies(3,
                        AcceptorState.<String>initial()));
                Proposer<String> p = new Proposer<>(1, 3, 0, PaxosConfig.defaults(), random);
                p.propose("v" + i);
                while (p.chosen().isEmpty()) {
                    for (PaxosMessage<String> m : p.ready().toAcceptors()) {
                        for (int a = 0; a < 3; a++) {
                            AcceptorResult<String> r = Acceptor.step(acceptors.get(a), m);
                            acceptors.set(a, r.state());
                            p.step(a, r.reply());
                            messages += 2;
                        }
                    }
                }
            }
            double secs = (System.nanoTime() - start) / 1e9;
            System.out.printf("pure single-decree core, 3 acceptors: %,.0f decisions/s (%,.0f messages/s)%n",
                    decisions / secs, messages / secs);
        }
    }

    @Test
    void multiPaxosCommandsPerSecond() {
        for (int batch : new int[] {1, 16, 64, 64}) {
            int commands = 400_000;
            PaxosConfig config = PaxosConfig.defaults().withElection(2, 10).withMaxBatch(batch);
            List<MultiPaxosReplica> rs = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                rs.add(new MultiPaxosReplica(i, 3, Ballot.NONE, List.of(),
                        new SessionStateMachine(new NullMachine(), 16, 1_000_000), config, new Random(i)));
            }
            Deque<Object[]> queue = new ArrayDeque<>();
            while (!rs.get(0).isLeader()) {
                rs.get(0).tick();
                pump(rs, 0, queue);
            }
            byte[] payload = new byte[16];
            long start = System.nanoTime();
            long applied0 = rs.get(2).chosenPrefix();
            for (int i = 0; i < commands; i += batch) {
                for (int j = 0; j < batch; j++) {
                    rs.get(0).propose(LogValue.command(0, 0, payload));
                }
                pump(rs, 0, queue);
            }
            double secs = (System.nanoTime() - start) / 1e9;
            System.out.printf("pure multi-paxos core, 3 replicas, batch %d: %,.0f commands/s (all applied: %b)%n",
                    batch, commands / secs, rs.get(2).chosenPrefix() - applied0 >= commands);
        }
    }

    /** Applies nothing: measures the protocol, not a state machine. */
    static final class NullMachine implements io.consensusactors.statemachine.StateMachine {
        @Override
        public byte[] apply(long index, byte[] command) {
            return command;
        }

        @Override
        public byte[] query(byte[] query) {
            return query;
        }

        @Override
        public byte[] snapshot() {
            return new byte[0];
        }

        @Override
        public void restore(byte[] snapshot) {
        }
    }

    private static void pump(List<MultiPaxosReplica> rs, int first, Deque<Object[]> queue) {
        enqueue(rs, first, queue);
        while (!queue.isEmpty()) {
            Object[] f = queue.poll();
            int to = (Integer) f[1];
            rs.get(to).step((Integer) f[0], (MultiPaxosMessage) f[2]);
            enqueue(rs, to, queue);
        }
    }

    private static void enqueue(List<MultiPaxosReplica> rs, int i, Deque<Object[]> queue) {
        MultiPaxosReady r = rs.get(i).ready();
        for (MultiPaxosReady.Send s : r.messages()) {
            queue.add(new Object[] {i, s.to(), s.message()});
        }
        for (MultiPaxosReady.Send s : r.messagesAfterPersist()) {
            queue.add(new Object[] {i, s.to(), s.message()});
        }
    }
}
