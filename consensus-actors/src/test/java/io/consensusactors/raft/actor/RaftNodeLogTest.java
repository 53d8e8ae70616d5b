package io.consensusactors.raft.actor;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.consensusactors.raft.core.Configuration;
import io.consensusactors.raft.core.Entry;
import io.consensusactors.raft.core.RaftCodec;
import io.consensusactors.raft.core.SnapshotMeta;
import io.consensusactors.testkit.sim.Seeds;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.testkit.JournalOperation;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;
import org.apache.pekko.persistence.testkit.PersistenceTestKitSnapshotPlugin;
import org.apache.pekko.persistence.testkit.ProcessingPolicy;
import org.apache.pekko.persistence.testkit.ProcessingResult;
import org.apache.pekko.persistence.testkit.ProcessingSuccess;
import org.apache.pekko.persistence.testkit.WriteEvents;
import org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit;
import org.apache.pekko.persistence.testkit.javadsl.SnapshotTestKit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The node log: every member of a node writes through it. Properties: writes of several groups that wait together
 * (while another write is in flight) leave in ONE journal event (node-level group commit) and each writer is
 * answered only after it; each group recovers exactly what it made durable from the interleaved journal — after
 * checkpoints and the deletion of the events they replace, after compactions, across restarts (Raft §5.2/§5.3: a
 * restarted member never starts from less than it made durable); the journal stays bounded without a snapshot of the
 * whole node (which would hold every write while it is saved); a member's {@code Recover} is answered only after
 * every write received before it is durable (a restarted member must not miss a vote of its previous incarnation, or
 * it could vote twice in a term).
 */
class RaftNodeLogTest {

    private ActorTestKit kit;
    private PersistenceTestKit journal;
    private SnapshotTestKit snapshots;
    private int logs;

    @BeforeEach
    void start() {
        Config config = PersistenceTestKitPlugin.config()
                .withFallback(PersistenceTestKitSnapshotPlugin.config())
                .withFallback(ConfigFactory.parseString("pekko.loglevel = WARNING\npekko.actor.provider = local"))
                .withFallback(ConfigFactory.load());
        kit = ActorTestKit.create("node-log", config);
        journal = PersistenceTestKit.create(kit.system());
        snapshots = SnapshotTestKit.create(kit.system());
    }

    @AfterEach
    void stop() {
        kit.shutdownTestKit();
    }

    private ActorRef<RaftNodeLog.Command> spawnLog(int checkpointEvery) {
        return spawnLog(checkpointEvery, RaftNodeLog.DELETE_CHUNK);
    }

    private ActorRef<RaftNodeLog.Command> spawnLog(int checkpointEvery, int deleteChunk) {
        return kit.spawn(RaftNodeLog.create("n1", checkpointEvery, deleteChunk), "log-" + (++logs));
    }

    private List<Object> stored() {
        return journal.persistedInStorage(RaftNodeLog.persistenceId("n1").id());
    }

    private static RaftNodeLog.GroupWrite write(String group, long term, String votedFor, long firstIndex, int n) {
        List<Entry> entries = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long index = firstIndex + i;
            entries.add(new Entry(index, term, Entry.Type.COMMAND, 1, index,
                    (group + ":" + index).getBytes(StandardCharsets.UTF_8)));
        }
        return new RaftNodeLog.GroupWrite(group, new RaftEvent.ReadyPersisted(term, votedFor, 0,
                n == 0 ? new byte[0] : RaftCodec.encodeEntries(entries), null, null), null, null);
    }

    private static DurableLog recover(ActorRef<RaftNodeLog.Command> log, TestProbe<RaftMember.Command> probe, String group) {
        log.tell(new RaftNodeLog.Recover(group, probe.getRef()));
        return assertInstanceOf(RaftMember.Recovered.class, probe.receiveMessage()).log();
    }

    @Test
    void writesOfSeveralGroupsWaitingTogetherLeaveInOneJournalEvent() throws Exception {
        // the journal holds its first write until the test releases it, so the next four arrive while it is in flight
        CountDownLatch firstWriteStarted = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean first = new AtomicBoolean(true);
        journal.withPolicy(new ProcessingPolicy<JournalOperation>() {
            @Override
            public ProcessingResult tryProcess(String persistenceId, JournalOperation op) {
                if (op instanceof WriteEvents && first.compareAndSet(true, false)) {
                    firstWriteStarted.countDown();
                    try {
                        release.await(20, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return ProcessingSuccess.getInstance();
            }
        });
        ActorRef<RaftNodeLog.Command> log = spawnLog(1000);
        List<TestProbe<RaftMember.Command>> members = new ArrayList<>();
        for (int g = 0; g < 5; g++) {
            members.add(kit.createTestProbe());
        }
        log.tell(new RaftNodeLog.Append(write("g0", 1, "n1", 1, 3), 7, members.get(0).getRef()));
        assertTrue(firstWriteStarted.await(20, TimeUnit.SECONDS), "the first write reached the journal");
        for (int g = 1; g < 5; g++) {
            log.tell(new RaftNodeLog.Append(write("g" + g, 1, "n1", 1, 3), 7 + g, members.get(g).getRef()));
        }
        release.countDown();
        for (int g = 0; g < 5; g++) {
            assertEquals(new RaftMember.Persisted(7 + g), members.get(g).receiveMessage());
        }
        List<Object> events = journal.persistedInStorage(RaftNodeLog.persistenceId("n1").id());
        assertEquals(2, events.size(), "the first write, then one journal write for the four that waited: " + events);
        assertEquals(4, ((RaftNodeLog.Written) events.get(1)).writes().size());
    }

    @Test
    void eachGroupRecoversItsOwnStateAfterCheckpointsAndDeletedEvents() {
        int checkpointEvery = 4;
        ActorRef<RaftNodeLog.Command> log = spawnLog(checkpointEvery, 3);
        TestProbe<RaftMember.Command> p = kit.createTestProbe();
        long token = 1;
        // a group written once and then idle: only its overdue checkpoints let the events after it be deleted
        log.tell(new RaftNodeLog.Append(write("idle", 3, "n9", 1, 2), token, p.getRef()));
        assertEquals(new RaftMember.Persisted(token++), p.receiveMessage());
        long[] next = {1, 1, 1};
        for (int round = 0; round < 7; round++) { // 21 more writes, one at a time: 21 events
            for (int g = 0; g < 3; g++) {
                log.tell(new RaftNodeLog.Append(write("g" + g, 2 + round, "n" + g, next[g], g + 1), token, p.getRef()));
                assertEquals(new RaftMember.Persisted(token++), p.receiveMessage());
                next[g] += g + 1;
            }
        }
        // every group checkpointed within the last 4 events + 1 (overdue ones go in the next write): the deletions
        // (3 events per request, fewer only after 10 s) catch up with that bound, but for less than one request
        p.awaitAssert(() -> {
            assertTrue(stored().size() <= checkpointEvery + 1 + 3, "events older than every checkpoint are deleted: "
                    + stored().size() + " of 22 left");
            return null;
        });
        assertEquals(0, snapshots.persistedInStorage(RaftNodeLog.persistenceId("n1").id()).size(),
                "no snapshot of the whole node is taken");
        kit.stop(log);
        ActorRef<RaftNodeLog.Command> restarted = spawnLog(checkpointEvery, 3);
        for (int g = 0; g < 3; g++) {
            DurableLog d = recover(restarted, p, "g" + g);
            assertEquals(8, d.term, "hard state of g" + g);
            assertEquals("n" + g, d.votedFor);
            List<Entry> entries = d.entries();
            assertEquals(7 * (g + 1), entries.size(), "every entry of g" + g);
            for (int i = 0; i < entries.size(); i++) {
                assertEquals(i + 1, entries.get(i).index());
                assertEquals("g" + g + ":" + (i + 1), new String(entries.get(i).data(), StandardCharsets.UTF_8));
            }
        }
        DurableLog idle = recover(restarted, p, "idle");
        assertEquals(3, idle.term);
        assertEquals("n9", idle.votedFor);
        assertEquals(List.of("idle:1", "idle:2"), idle.entries().stream()
                .map(e -> new String(e.data(), StandardCharsets.UTF_8)).toList(), "the idle group's entries");
        assertEquals(0, recover(restarted, p, "unknown").entries().size(), "a group never written starts empty");
    }

    @Test
    void aCompactionIsWrittenAsTheGroupsWholeLog() {
        ActorRef<RaftNodeLog.Command> log = spawnLog(1000, 1);
        TestProbe<RaftMember.Command> p = kit.createTestProbe();
        log.tell(new RaftNodeLog.Append(write("g", 2, "n1", 1, 5), 1, p.getRef()));
        p.receiveMessage();
        SnapshotMeta meta = new SnapshotMeta(3, 2, Configuration.of(Set.of("n1", "n2", "n3")));
        log.tell(new RaftNodeLog.Append(new RaftNodeLog.GroupWrite("g", null,
                new RaftEvent.Compacted(DurableLog.encodeMeta(meta), new byte[] {42}), null), 2, p.getRef()));
        p.receiveMessage();
        List<Object> events = stored();
        RaftNodeLog.Written last = (RaftNodeLog.Written) events.get(events.size() - 1);
        assertEquals(1, last.writes().size());
        RaftNodeLog.GroupWrite w = last.writes().get(0);
        assertTrue(w.checkpoint() != null && w.compacted() == null && w.ready() == null,
                "the compaction is replaced by the group's whole log: " + w);
        p.awaitAssert(() -> {
            assertEquals(1, stored().size(), "the event before the checkpoint is deleted");
            return null;
        });
        kit.stop(log);
        DurableLog d = recover(spawnLog(1000), p, "g");
        assertEquals(meta, d.snapshot.meta());
        assertEquals(List.of(4L, 5L), d.entries().stream().map(Entry::index).toList(), "the entries after the snapshot");
        assertEquals(2, d.term);
    }

    /**
     * Old events are deleted in bounded transactions — at most {@code deleteChunk} events per request, and no
     * request for fewer within 10 s of the last (H2 spills the undo log of a large deletion to disk: one deletion of
     * thousands of rows cost more than the writes beside it) — and only below every group's latest checkpoint.
     */
    @Test
    void oldEventsAreDeletedInChunksAndOnlyBelowEveryCheckpoint() {
        List<Long> deletes = java.util.Collections.synchronizedList(new ArrayList<>());
        journal.withPolicy(new ProcessingPolicy<JournalOperation>() {
            @Override
            public ProcessingResult tryProcess(String persistenceId, JournalOperation op) {
                if (op instanceof org.apache.pekko.persistence.testkit.DeleteEvents d) {
                    deletes.add(d.toSeqNumber());
                }
                return ProcessingSuccess.getInstance();
            }
        });
        int checkpointEvery = 3;
        int chunk = 4;
        ActorRef<RaftNodeLog.Command> log = spawnLog(checkpointEvery, chunk);
        TestProbe<RaftMember.Command> p = kit.createTestProbe();
        for (int i = 0; i < 40; i++) { // one group: its checkpoints (overdue every 3 events) let the rest go
            log.tell(new RaftNodeLog.Append(write("g", 1, "n1", i + 1, 1), i, p.getRef()));
            p.receiveMessage();
        }
        p.awaitAssert(() -> {
            assertTrue(deletes.size() >= 8, "deletions requested: " + deletes);
            return null;
        });
        long previous = 0;
        for (long to : deletes) {
            assertEquals(chunk, to - previous, "whole chunks only within 10 s: " + deletes);
            previous = to;
        }
        kit.stop(log);
        List<Entry> entries = recover(spawnLog(checkpointEvery, chunk), p, "g").entries();
        assertEquals(40, entries.size(), "nothing the group still needs was deleted");
    }

    /**
     * Random writes of several groups (appends, conflicting rewrites, votes, compactions, installed snapshots),
     * restarts of the node log in between, small checkpoint interval and deletion chunks: after every restart each
     * group recovers exactly the log a plain {@link DurableLog} fed the same writes holds, and the journal keeps at
     * most a bounded number of events. 100 seeds (~40 ms each; {@code -Dnodelog.seeds=N} for more, a failure names
     * its seed: {@code -Dnodelog.seed=S} replays it).
     */
    @Test
    void randomWritesRecoverExactlyAcrossRestartsWhileOldEventsAreDeleted() {
        Seeds.forEach("nodelog.seed", "nodelog.seeds", 100, this::randomRun);
    }

    private void randomRun(long seed) {
        journal.clearAll();
        Random rnd = new Random(seed);
        int checkpointEvery = 5;
        int groups = 4;
        Map<String, DurableLog> model = new HashMap<>();
        Map<String, List<Entry>> entries = new HashMap<>();
        Map<String, long[]> termAndSnapshot = new HashMap<>();
        ActorRef<RaftNodeLog.Command> log = spawnLog(checkpointEvery, 2);
        TestProbe<RaftMember.Command> p = kit.createTestProbe();
        long token = 0;
        for (int step = 0; step < 160; step++) {
            String g = "g" + rnd.nextInt(groups);
            RaftNodeLog.GroupWrite w = randomWrite(rnd, g, entries.computeIfAbsent(g, k -> new ArrayList<>()),
                    termAndSnapshot.computeIfAbsent(g, k -> new long[] {1, 0}));
            model.computeIfAbsent(g, k -> new DurableLog());
            if (w.ready() != null) {
                model.get(g).apply(w.ready());
            }
            if (w.compacted() != null) {
                model.get(g).apply(w.compacted());
            }
            log.tell(new RaftNodeLog.Append(w, ++token, p.getRef()));
            assertEquals(new RaftMember.Persisted(token), p.receiveMessage(), "seed " + seed);
            if (rnd.nextInt(40) == 0 || step == 159) {
                kit.stop(log);
                log = spawnLog(checkpointEvery, 2);
                for (String group : model.keySet()) {
                    DurableLog d = recover(log, p, group);
                    DurableLog m = model.get(group);
                    String where = "seed " + seed + ", step " + step + ", " + group;
                    assertEquals(m.hardState(), d.hardState(), where);
                    assertEquals(m.snapshot.meta(), d.snapshot.meta(), where);
                    assertArrayEquals(m.snapshot.data(), d.snapshot.data(), where);
                    assertEquals(render(m.entries()), render(d.entries()), where);
                }
            }
        }
        ActorRef<RaftNodeLog.Command> last = log;
        p.awaitAssert(() -> {
            assertTrue(stored().size() <= checkpointEvery + groups + 1, "seed " + seed + ": the journal is bounded, "
                    + stored().size() + " events kept");
            return null;
        });
        kit.stop(last);
    }

    private static final Configuration CONFIG = Configuration.of(Set.of("n1", "n2", "n3"));

    /** One write of group {@code g}; {@code ts} = {current term, snapshot index}, {@code model} its entries. */
    private static RaftNodeLog.GroupWrite randomWrite(Random rnd, String g, List<Entry> model, long[] ts) {
        long last = model.isEmpty() ? ts[1] : model.get(model.size() - 1).index();
        int op = rnd.nextInt(20);
        if (op < 14) { // append at the end, or from inside the retained log (a conflict), sometimes in a new term
            long from = rnd.nextInt(4) == 0 && last > ts[1] ? ts[1] + 1 + rnd.nextInt((int) (last - ts[1])) : last + 1;
            if (rnd.nextInt(3) == 0) {
                ts[0]++;
            }
            List<Entry> batch = new ArrayList<>();
            for (int i = 0, n = 1 + rnd.nextInt(4); i < n; i++) {
                byte[] data = new byte[rnd.nextInt(16)];
                rnd.nextBytes(data);
                batch.add(new Entry(from + i, ts[0], Entry.Type.COMMAND, 1, from + i, data));
            }
            model.removeIf(e -> e.index() >= from);
            model.addAll(batch);
            return new RaftNodeLog.GroupWrite(g, new RaftEvent.ReadyPersisted(ts[0], "n" + rnd.nextInt(3), last,
                    RaftCodec.encodeEntries(batch), null, null), null, null);
        } else if (op < 16) { // a vote in a new term, no entries
            ts[0]++;
            return new RaftNodeLog.GroupWrite(g, new RaftEvent.ReadyPersisted(ts[0], "n" + rnd.nextInt(3), 0,
                    new byte[0], null, null), null, null);
        } else if (op < 19 && last > ts[1]) { // the member compacts up to some index it holds
            long idx = ts[1] + 1 + rnd.nextInt((int) (last - ts[1]));
            long t = model.stream().filter(e -> e.index() == idx).findFirst().orElseThrow().term();
            ts[1] = idx;
            model.removeIf(e -> e.index() <= idx);
            return new RaftNodeLog.GroupWrite(g, null, new RaftEvent.Compacted(
                    DurableLog.encodeMeta(new SnapshotMeta(idx, t, CONFIG)), new byte[] {(byte) idx}), null);
        } else { // the leader installs a snapshot beyond the log: everything is replaced
            long idx = last + 1 + rnd.nextInt(3);
            ts[0]++;
            ts[1] = idx;
            model.clear();
            return new RaftNodeLog.GroupWrite(g, new RaftEvent.ReadyPersisted(ts[0], "n1", idx, new byte[0],
                    DurableLog.encodeMeta(new SnapshotMeta(idx, ts[0], CONFIG)), new byte[] {7, (byte) idx}), null, null);
        }
    }

    private static List<String> render(List<Entry> entries) {
        List<String> out = new ArrayList<>();
        for (Entry e : entries) {
            out.add(e.index() + "/" + e.term() + "/" + Arrays.toString(e.data()));
        }
        return out;
    }

    /**
     * A node log written by an earlier version recovers from that version's snapshot of the whole node: its groups
     * keep their logs, are checkpointed first, and the events before the snapshot are deleted after that.
     */
    @Test
    void recoversFromAnEarlierVersionsNodeSnapshot() {
        String pid = RaftNodeLog.persistenceId("n1").id();
        DurableLog old = new DurableLog();
        old.apply(write("old", 4, "n2", 1, 3).ready());
        List<Object> before = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            before.add(new RaftNodeLog.Written(List.of(write("old", 4, "n2", i, 1))));
        }
        journal.persistForRecovery(pid, before);
        snapshots.persistForRecovery(pid, List.of(org.apache.pekko.japi.Pair.create(
                org.apache.pekko.persistence.testkit.SnapshotMeta.create(3),
                new RaftNodeLog.Stored(List.of("old"), List.of(old.toStored())))));
        ActorRef<RaftNodeLog.Command> log = spawnLog(2, 1);
        TestProbe<RaftMember.Command> p = kit.createTestProbe();
        for (int i = 0; i < 4; i++) {
            log.tell(new RaftNodeLog.Append(write("new", 1, "n1", i + 1, 1), i, p.getRef()));
            p.receiveMessage();
        }
        p.awaitAssert(() -> {
            assertTrue(stored().size() <= 4, "the events before the old snapshot are deleted: " + stored());
            return null;
        });
        kit.stop(log);
        DurableLog d = recover(spawnLog(2, 1), p, "old");
        assertEquals(4, d.term);
        assertEquals("n2", d.votedFor);
        assertEquals(List.of(1L, 2L, 3L), d.entries().stream().map(Entry::index).toList());
    }

    @Test
    void recoverIsAnsweredOnlyAfterTheWritesReceivedBeforeIt() {
        ActorRef<RaftNodeLog.Command> log = spawnLog(1000);
        TestProbe<RaftMember.Command> p = kit.createTestProbe();
        // a member votes (term 5, for n2) and is restarted before that write is durable: its new incarnation asks
        log.tell(new RaftNodeLog.Append(write("g", 5, "n2", 1, 0), 1, p.getRef()));
        log.tell(new RaftNodeLog.Recover("g", p.getRef()));
        assertEquals(new RaftMember.Persisted(1), p.receiveMessage());
        DurableLog d = assertInstanceOf(RaftMember.Recovered.class, p.receiveMessage()).log();
        assertEquals(5, d.term);
        assertEquals("n2", d.votedFor, "the new incarnation knows the vote of the old one");
    }
}
