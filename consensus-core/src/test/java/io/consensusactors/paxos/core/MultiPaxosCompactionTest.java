package io.consensusactors.paxos.core;

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
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Scripted Multi-Paxos compaction: a replica truncates its log behind a snapshot; a learner behind the truncation
 * point catches up by snapshot transfer; a candidate that knows less than a promiser compacted learns that prefix
 * before it leads instead of filling chosen slots with no-ops; a restart from the durable snapshot resumes above it.
 */
class MultiPaxosCompactionTest {

    static final PaxosConfig CONFIG = PaxosConfig.defaults().withElection(2, 10);

    /** Commands as strings; snapshots are the joined list. */
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
            return String.join(",", log).getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public void restore(byte[] snapshot) {
            log.clear();
            String s = new String(snapshot, StandardCharsets.UTF_8);
            if (!s.isEmpty()) {
                log.addAll(List.of(s.split(",")));
            }
        }
    }

    static final class Group {
        record InFlight(int from, int to, MultiPaxosMessage message) {
        }

        final List<MultiPaxosReplica> replicas = new ArrayList<>();
        final List<ListMachine> machines = new ArrayList<>();
        final List<MultiPaxosReady.Snapshot> durableSnapshots = new ArrayList<>();
        final Deque<InFlight> queue = new ArrayDeque<>();
        final Set<Integer> down = new HashSet<>();

        Group() {
            for (int i = 0; i < 3; i++) {
                ListMachine m = new ListMachine();
                machines.add(m);
                durableSnapshots.add(null);
                replicas.add(new MultiPaxosReplica(i, 3, Ballot.NONE, List.of(), new SessionStateMachine(m, 16, 1000),
                        CONFIG, new Random(i)));
            }
        }

        void drain(int i) {
            MultiPaxosReady r = replicas.get(i).ready();
            if (r.snapshot() != null) {
                durableSnapshots.set(i, r.snapshot());
            }
            r.messages().forEach(s -> queue.add(new InFlight(i, s.to(), s.message())));
            r.messagesAfterPersist().forEach(s -> queue.add(new InFlight(i, s.to(), s.message())));
        }

        void deliverAll() {
            while (!queue.isEmpty()) {
                InFlight f = queue.poll();
                if (!down.contains(f.to) && !down.contains(f.from)) {
                    replicas.get(f.to).step(f.from, f.message);
                    drain(f.to);
                }
            }
        }

        void tick(int i, int times) {
            for (int t = 0; t < times; t++) {
                replicas.get(i).tick();
                drain(i);
                deliverAll();
            }
        }

        void elect(int i) {
            for (int t = 0; t < 200 && !replicas.get(i).isLeader(); t++) {
                tick(i, 1);
            }
            assertTrue(replicas.get(i).isLeader(), "replica " + i + " did not become leader");
        }

        void propose(int i, String cmd) {
            assertTrue(replicas.get(i).propose(LogValue.command(0, 0, cmd.getBytes(StandardCharsets.UTF_8))) > 0);
            drain(i);
            deliverAll();
        }

        void compact(int i) {
            assertTrue(replicas.get(i).compact());
            drain(i);
        }
    }

    static List<String> commands(int n) {
        List<String> out = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            out.add("c" + i);
        }
        return out;
    }

    /** Leader 0 and follower 1 apply ten commands while replica 2 is down, then both compact at slot 10 + no-op. */
    static Group tenCommandsCompactedWithoutReplica2() {
        Group g = new Group();
        g.down.add(2);
        g.elect(0);
        for (String c : commands(10)) {
            g.propose(0, c);
        }
        g.tick(0, 4); // heartbeats carry the chosen prefix to 1
        assertEquals(commands(10), g.machines.get(1).log);
        g.compact(0);
        g.compact(1);
        for (int i = 0; i < 2; i++) {
            MultiPaxosReplica r = g.replicas.get(i);
            assertEquals(r.chosenPrefix(), r.snapshotSlot());
            assertNull(r.chosen(r.snapshotSlot()), "compacted slots are dropped");
            assertEquals(0, r.acceptedCount(), "accepted entries up to the snapshot are dropped");
            assertNotNull(g.durableSnapshots.get(i), "the snapshot is handed to the shell to persist");
        }
        assertFalse(g.replicas.get(0).compact(), "nothing new to compact");
        return g;
    }

    @Test
    void aLearnerBehindTheTruncationPointCatchesUpBySnapshotTransfer() {
        Group g = tenCommandsCompactedWithoutReplica2();
        g.down.clear();
        g.tick(0, 6); // heartbeats -> CatchUp(1) -> Snapshot + Learn
        MultiPaxosReplica r2 = g.replicas.get(2);
        assertEquals(1, r2.snapshotsReceived());
        assertEquals(g.replicas.get(0).chosenPrefix(), r2.chosenPrefix());
        assertEquals(commands(10), g.machines.get(2).log);
        assertEquals(g.replicas.get(0).snapshotSlot(), g.durableSnapshots.get(2).slot(), "adopted and persisted");
        g.propose(0, "c11");
        g.tick(0, 4);
        assertEquals(commands(11), g.machines.get(2).log);
    }

    /** §3 gap filling must not touch compacted, chosen slots that a lagging candidate does not know. */
    @Test
    void aCandidateLearnsThePromisersCompactedPrefixBeforeLeading() {
        Group g = tenCommandsCompactedWithoutReplica2();
        g.down.clear();
        g.down.add(0);
        g.elect(2); // promises from 2 and 1; 1 reports compactedUpTo = its snapshot slot
        MultiPaxosReplica r2 = g.replicas.get(2);
        assertEquals(1, r2.snapshotsReceived(), "learned the compacted prefix by snapshot before leading");
        assertEquals(commands(10), g.machines.get(2).log, "no chosen slot was overwritten by a no-op");
        g.propose(2, "c11");
        g.tick(2, 4);
        assertEquals(commands(11), g.machines.get(2).log);
        assertEquals(commands(11), g.machines.get(1).log);
    }

    @Test
    void aReplicaRestartedFromItsSnapshotResumesAboveIt() {
        Group g = tenCommandsCompactedWithoutReplica2();
        MultiPaxosReady.Snapshot snap = g.durableSnapshots.get(1);
        ListMachine m = new ListMachine();
        MultiPaxosReplica restarted = new MultiPaxosReplica(1, 3, g.replicas.get(1).promised(), snap, List.of(),
                new SessionStateMachine(m, 16, 1000), CONFIG, new Random(7));
        assertEquals(commands(10), m.log, "state machine restored from the snapshot");
        assertEquals(snap.slot(), restarted.chosenPrefix());
        assertEquals(snap.slot(), restarted.snapshotSlot());
    }
}
