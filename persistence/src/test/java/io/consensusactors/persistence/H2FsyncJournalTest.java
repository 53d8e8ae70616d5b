package io.consensusactors.persistence;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Durability on H2: H2 never forces its file on commit, so the journal of an H2 file database must fsync before it
 * acknowledges a write. Every acknowledged persist is preceded by a completed file sync, concurrent writers share
 * syncs, and h2.fsync = off (or an in-memory database) uses Pekko's plain journal.
 */
class H2FsyncJournalTest {

    @TempDir
    Path dataDir;

    private static Config systemConfig(Config database) {
        Config app = database.withFallback(ConfigFactory.parseString(
                "pekko.loglevel = WARNING\npekko.actor.provider = local"));
        return PersistenceSettings.forNode(app).withFallback(app).withFallback(ConfigFactory.load());
    }

    /** Adds {@code item} to the entity's list and waits until the journal acknowledged it. */
    private static void persist(ActorRef<AbstractJournalRecoveryTest.Command> entity,
                                TestProbe<AbstractJournalRecoveryTest.Done> probe, String item) {
        entity.tell(new AbstractJournalRecoveryTest.Add(item, probe.getRef()));
        probe.expectMessage(Duration.ofSeconds(10), AbstractJournalRecoveryTest.Done.INSTANCE);
    }

    @Test
    void everyAcknowledgedWriteWasFollowedByAFileSync() {
        Config config = systemConfig(PersistenceSettings.h2(dataDir, "fsync-node"));
        assertEquals(SyncingJdbcJournal.class.getName(), config.getString("jdbc-journal.class"));
        String url = config.getString(PersistenceSettings.SHARED_DB + ".db.url");
        SchemaInitializer.createIfNotExists(config);
        ActorTestKit kit = ActorTestKit.create("fsync", config);
        try {
            TestProbe<AbstractJournalRecoveryTest.Done> probe = kit.createTestProbe();
            ActorRef<AbstractJournalRecoveryTest.Command> entity =
                    kit.spawn(AbstractJournalRecoveryTest.listEntity("fsync-1", 0));
            for (int i = 0; i < 20; i++) {
                H2FileSync sync = H2FileSync.opened(url);
                long before = sync == null ? 0 : sync.group().syncs();
                persist(entity, probe, "item-" + i);
                sync = H2FileSync.opened(url);
                assertNotNull(sync, "the journal opened a file sync for " + url);
                assertTrue(sync.group().syncs() > before, "write " + i + " was acknowledged without a file sync");
            }

            // 50 writers at once: each acknowledged after a sync, far fewer syncs than writes
            H2FileSync sync = H2FileSync.opened(url);
            long syncsBefore = sync.group().syncs();
            long requestsBefore = sync.group().requests();
            List<ActorRef<AbstractJournalRecoveryTest.Command>> writers = new ArrayList<>();
            for (int w = 0; w < 50; w++) {
                writers.add(kit.spawn(AbstractJournalRecoveryTest.listEntity("fsync-w" + w, 0)));
            }
            for (int round = 0; round < 4; round++) {
                for (ActorRef<AbstractJournalRecoveryTest.Command> w : writers) {
                    w.tell(new AbstractJournalRecoveryTest.Add("r" + round, probe.getRef()));
                }
            }
            for (int i = 0; i < 200; i++) {
                probe.expectMessage(Duration.ofSeconds(20), AbstractJournalRecoveryTest.Done.INSTANCE);
            }
            long syncs = sync.group().syncs() - syncsBefore;
            long requests = sync.group().requests() - requestsBefore;
            assertTrue(syncs >= 1 && syncs <= requests, "syncs " + syncs + ", sync requests " + requests);
        } finally {
            kit.shutdownTestKit();
        }
        assertNull(H2FileSync.opened(url), "the sync connection closes with the last journal");
    }

    /**
     * The wait for the sync costs no thread: a write is completed on the thread that finished it. (The
     * CompletableFuture Scala's converters return makes every non-async continuation async on the common pool, a new
     * thread per task where that pool has one thread: on machines of two cores or fewer, which is where this test
     * can see the difference.)
     */
    @Test
    void aWriteStartsNoThread() {
        Config config = systemConfig(PersistenceSettings.h2(dataDir, "threads-node"));
        SchemaInitializer.createIfNotExists(config);
        ActorTestKit kit = ActorTestKit.create("fsync-threads", config);
        try {
            TestProbe<AbstractJournalRecoveryTest.Done> probe = kit.createTestProbe();
            ActorRef<AbstractJournalRecoveryTest.Command> entity =
                    kit.spawn(AbstractJournalRecoveryTest.listEntity("threads-1", 0));
            for (int i = 0; i < 20; i++) { // pools started, sync thread running
                persist(entity, probe, "warm-" + i);
            }
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            long started = threads.getTotalStartedThreadCount();
            int writes = 200;
            for (int i = 0; i < writes; i++) {
                persist(entity, probe, "item-" + i);
            }
            long more = threads.getTotalStartedThreadCount() - started;
            assertTrue(more < writes / 10, more + " threads started during " + writes + " writes");
        } finally {
            kit.shutdownTestKit();
        }
    }

    @Test
    void fsyncOffAndInMemoryDatabasesUseThePlainJournal() {
        Config off = systemConfig(ConfigFactory.parseString("consensus-actors.persistence.h2.fsync = off")
                .withFallback(PersistenceSettings.h2(dataDir, "no-fsync")));
        assertEquals("org.apache.pekko.persistence.jdbc.journal.JdbcAsyncWriteJournal", off.getString("jdbc-journal.class"));
        Config mem = systemConfig(PersistenceSettings.h2InMemory("fsync-mem"));
        assertEquals("org.apache.pekko.persistence.jdbc.journal.JdbcAsyncWriteJournal", mem.getString("jdbc-journal.class"));
    }
}
