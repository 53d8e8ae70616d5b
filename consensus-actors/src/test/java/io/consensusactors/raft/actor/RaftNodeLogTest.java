package io.consensusactors.raft.actor;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.consensusactors.raft.core.Entry;
import io.consensusactors.raft.core.RaftCodec;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The node log: every member of a node writes through it. Properties: writes of several groups that wait together
 * (while another write is in flight) leave in ONE journal event (node-level group commit) and each writer is
 * answered only after it; each group
 * recovers exactly its own hard state and entries from the interleaved journal, also through a journal snapshot
 * (Raft §5.2/§5.3: a restarted member never starts from less than it made durable); a member's {@code Recover}
 * is answered only after every write received before it is durable (a restarted member must not miss a vote of its
 * previous incarnation, or it could vote twice in a term).
 */
class RaftNodeLogTest {

    private ActorTestKit kit;
    private PersistenceTestKit journal;
    private int logs;

    @BeforeEach
    void start() {
        Config config = PersistenceTestKitPlugin.config()
                .withFallback(PersistenceTestKitSnapshotPlugin.config())
                .withFallback(ConfigFactory.parseString("pekko.loglevel = WARNING\npekko.actor.provider = local"))
                .withFallback(ConfigFactory.load());
        kit = ActorTestKit.create("node-log", config);
        journal = PersistenceTestKit.create(kit.system());
    }

    @AfterEach
    void stop() {
        kit.shutdownTestKit();
    }

    private ActorRef<RaftNodeLog.Command> spawnLog(int snapshotEvery) {
        return kit.spawn(RaftNodeLog.create("n1", snapshotEvery), "log-" + (++logs));
    }

    private static RaftNodeLog.GroupWrite write(String group, long term, String votedFor, long firstIndex, int n) {
        List<Entry> entries = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long index = firstIndex + i;
            entries.add(new Entry(index, term, Entry.Type.COMMAND, 1, index,
                    (group + ":" + index).getBytes(StandardCharsets.UTF_8)));
        }
        return new RaftNodeLog.GroupWrite(group, new RaftEvent.ReadyPersisted(term, votedFor, 0,
                n == 0 ? new byte[0] : RaftCodec.encodeEntries(entries), null, null), null);
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
    void eachGroupRecoversItsOwnStateFromTheInterleavedJournalAndFromASnapshot() {
        int snapshotEvery = 4;
        ActorRef<RaftNodeLog.Command> log = spawnLog(snapshotEvery);
        TestProbe<RaftMember.Command> p = kit.createTestProbe();
        long token = 1;
        long[] next = {1, 1, 1};
        for (int round = 0; round < 7; round++) { // 21 writes, one at a time: 21 events, snapshots at 4, 8, ...
            for (int g = 0; g < 3; g++) {
                log.tell(new RaftNodeLog.Append(write("g" + g, 2 + round, "n" + g, next[g], g + 1), token, p.getRef()));
                assertEquals(new RaftMember.Persisted(token++), p.receiveMessage());
                next[g] += g + 1;
            }
        }
        kit.stop(log);
        ActorRef<RaftNodeLog.Command> restarted = spawnLog(snapshotEvery);
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
        assertTrue(journal.persistedInStorage(RaftNodeLog.persistenceId("n1").id()).size() < 21,
                "events before the latest journal snapshots were deleted");
        assertEquals(0, recover(restarted, p, "unknown").entries().size(), "a group never written starts empty");
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
