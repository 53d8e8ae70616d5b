package io.consensusactors.persistence;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.persistence.DeleteMessagesSuccess;
import org.apache.pekko.persistence.JournalProtocol;
import org.apache.pekko.persistence.Persistence;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The H2 journal's own write path ({@link H2JournalWriter}) writes the rows Pekko Persistence JDBC reads: tagged
 * events are found by the plugin's tag query, the ordering column follows the write order, and a transaction that
 * fails loses only its own writes — the next ones are written.
 */
class H2JournalWriterTest {

    @TempDir
    Path dataDir;

    private Config config(String node) {
        Config app = PersistenceSettings.h2(dataDir, node).withFallback(ConfigFactory.parseString(
                "pekko.loglevel = OFF\npekko.actor.provider = local"));
        Config config = PersistenceSettings.forNode(app).withFallback(app).withFallback(ConfigFactory.load());
        SchemaInitializer.createIfNotExists(config);
        return config;
    }

    private static Connection connect(Config config) throws Exception {
        String db = PersistenceSettings.SHARED_DB + ".db.";
        return DriverManager.getConnection(config.getString(db + "url"), config.getString(db + "user"),
                config.getString(db + "password"));
    }

    /** The list entity of the recovery tests, its events tagged "even"/"odd" by position, every third untagged. */
    private static Behavior<AbstractJournalRecoveryTest.Command> taggedList(String id) {
        return AbstractJournalRecoveryTest.listEntity(id, 0, event -> {
            int n = Integer.parseInt(event.item().substring(event.item().indexOf('-') + 1));
            return n % 3 == 2 ? Set.of() : Set.of(n % 2 == 0 ? "even" : "odd", "all");
        });
    }

    /**
     * Spawns {@link #taggedList} {@code id} and persists "item-0" … "item-(n-1)", all sent at once (one or more
     * journal writes, as they arrive); returns once every one is acknowledged.
     */
    private static ActorRef<AbstractJournalRecoveryTest.Command> spawnWithItems(ActorTestKit kit, String id, int n) {
        ActorRef<AbstractJournalRecoveryTest.Command> entity = kit.spawn(taggedList(id));
        TestProbe<AbstractJournalRecoveryTest.Done> probe = kit.createTestProbe();
        for (int i = 0; i < n; i++) {
            entity.tell(new AbstractJournalRecoveryTest.Add("item-" + i, probe.getRef()));
        }
        for (int i = 0; i < n; i++) {
            probe.expectMessage(Duration.ofSeconds(10), AbstractJournalRecoveryTest.Done.INSTANCE);
        }
        return entity;
    }

    @Test
    void taggedEventsAreFoundByThePluginsTagQueryAndOrderingFollowsTheWriteOrder() throws Exception {
        Config config = config("tags");
        ActorTestKit kit = ActorTestKit.create("tags", config);
        try {
            spawnWithItems(kit, "tagged-1", 12);
            JdbcReadJournal reads = PersistenceQuery.get(kit.system()).getReadJournalFor(JdbcReadJournal.class,
                    JdbcReadJournal.Identifier());
            List<String> even = items(reads.currentEventsByTag("even", Offset.noOffset())
                    .runWith(Sink.seq(), kit.system()).toCompletableFuture().get(10, TimeUnit.SECONDS));
            List<String> all = items(reads.currentEventsByTag("all", Offset.noOffset())
                    .runWith(Sink.seq(), kit.system()).toCompletableFuture().get(10, TimeUnit.SECONDS));
            assertEquals(List.of("item-0", "item-4", "item-6", "item-10"), even);
            assertEquals(List.of("item-0", "item-1", "item-3", "item-4", "item-6", "item-7", "item-9", "item-10"), all);
            List<String> byId = items(reads.currentEventsByPersistenceId("tagged-1", 0, Long.MAX_VALUE)
                    .runWith(Sink.seq(), kit.system()).toCompletableFuture().get(10, TimeUnit.SECONDS));
            assertEquals(12, byId.size());
        } finally {
            kit.shutdownTestKit();
        }
        try (Connection c = connect(config); PreparedStatement s = c.prepareStatement(
                "SELECT \"sequence_number\" FROM \"event_journal\" WHERE \"persistence_id\" = ? "
                        + "ORDER BY \"ordering\"")) {
            s.setString(1, "tagged-1");
            List<Long> seqs = new ArrayList<>();
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    seqs.add(r.getLong(1));
                }
            }
            List<Long> expected = new ArrayList<>();
            for (long i = 1; i <= 12; i++) {
                expected.add(i);
            }
            assertEquals(expected, seqs, "the ordering column must follow the write order, tagged rows included");
        }
    }

    /**
     * Deletion as the plugin does it (events up to the given sequence number gone with their tags, the highest of them
     * kept and marked deleted so the highest sequence number survives), in order with the writes on the writer's
     * thread: what replays afterwards is exactly the later events.
     */
    @Test
    void deletionRemovesEventsAndTheirTagsKeepsTheHighestMarkedAndRecoveryReplaysTheRest() throws Exception {
        Config config = config("delete");
        ActorTestKit kit = ActorTestKit.create("delete", config);
        try {
            kit.stop(spawnWithItems(kit, "deleting-1", 10));
            org.apache.pekko.actor.ActorRef journal = Persistence.get(Adapter.toClassic(kit.system()))
                    .journalFor("", ConfigFactory.empty());
            TestProbe<Object> replies = kit.createTestProbe();
            journal.tell(new JournalProtocol.DeleteMessagesTo("deleting-1", 6, Adapter.toClassic(replies.getRef())),
                    org.apache.pekko.actor.ActorRef.noSender());
            DeleteMessagesSuccess deleted = replies.expectMessageClass(DeleteMessagesSuccess.class,
                    Duration.ofSeconds(10));
            assertEquals(6, deleted.toSequenceNr());

            try (Connection c = connect(config)) {
                assertEquals(List.of("6 deleted", "7", "8", "9", "10"), rows(c, "deleting-1"));
                // tags of the deleted events are gone with them (sequence number 6 is item-5, kept, untagged)
                try (PreparedStatement s = c.prepareStatement("SELECT COUNT(*) FROM \"event_tag\" t JOIN "
                        + "\"event_journal\" j ON t.\"event_id\" = j.\"ordering\" WHERE j.\"persistence_id\" = ?");
                     PreparedStatement all = c.prepareStatement("SELECT COUNT(*) FROM \"event_tag\"")) {
                    s.setString(1, "deleting-1");
                    assertEquals(count(s), count(all), "no tag row may outlive its event");
                    assertEquals(6, count(all), "item-6, item-7 and item-9 keep two tags each; item-5 and item-8 have none");
                }
            }

            TestProbe<AbstractJournalRecoveryTest.Items> items = kit.createTestProbe();
            ActorRef<AbstractJournalRecoveryTest.Command> again = kit.spawn(taggedList("deleting-1"));
            again.tell(new AbstractJournalRecoveryTest.Get(items.getRef()));
            assertEquals(List.of("item-6", "item-7", "item-8", "item-9"),
                    items.expectMessageClass(AbstractJournalRecoveryTest.Items.class).items());

            // deleting beyond the last event keeps the last one, marked: the next write goes on after it
            journal.tell(new JournalProtocol.DeleteMessagesTo("deleting-1", 1_000, Adapter.toClassic(replies.getRef())),
                    org.apache.pekko.actor.ActorRef.noSender());
            replies.expectMessageClass(DeleteMessagesSuccess.class, Duration.ofSeconds(10));
            TestProbe<AbstractJournalRecoveryTest.Done> probe = kit.createTestProbe();
            again.tell(new AbstractJournalRecoveryTest.Add("item-10", probe.getRef()));
            probe.expectMessage(Duration.ofSeconds(10), AbstractJournalRecoveryTest.Done.INSTANCE);
            try (Connection c = connect(config)) {
                assertEquals(List.of("10 deleted", "11"), rows(c, "deleting-1"));
            }
        } finally {
            kit.shutdownTestKit();
        }
    }

    private static List<String> rows(Connection c, String persistenceId) throws Exception {
        try (PreparedStatement s = c.prepareStatement("SELECT \"sequence_number\", \"deleted\" FROM \"event_journal\" "
                + "WHERE \"persistence_id\" = ? ORDER BY \"sequence_number\"")) {
            s.setString(1, persistenceId);
            List<String> rows = new ArrayList<>();
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    rows.add(r.getLong(1) + (r.getBoolean(2) ? " deleted" : ""));
                }
            }
            return rows;
        }
    }

    private static long count(PreparedStatement s) throws Exception {
        try (ResultSet r = s.executeQuery()) {
            r.next();
            return r.getLong(1);
        }
    }

    private static List<String> items(List<EventEnvelope> envelopes) {
        return envelopes.stream().map(e -> ((AbstractJournalRecoveryTest.Added) e.event()).item()).toList();
    }

    @Test
    void aFailedTransactionLosesOnlyItsOwnWritesAndTheNextWritesSucceed() throws Exception {
        Config config = config("fail");
        ActorTestKit kit = ActorTestKit.create("fail", config);
        try {
            ActorRef<AbstractJournalRecoveryTest.Command> doomed =
                    kit.spawn(AbstractJournalRecoveryTest.listEntity("doomed", 0));
            TestProbe<AbstractJournalRecoveryTest.Items> items = kit.createTestProbe();
            doomed.tell(new AbstractJournalRecoveryTest.Get(items.getRef()));
            assertEquals(List.of(), items.expectMessageClass(AbstractJournalRecoveryTest.Items.class).items());
            // another writer took sequence number 1 of "doomed" behind the entity's back: its write must fail
            try (Connection c = connect(config); PreparedStatement s = c.prepareStatement(
                    "INSERT INTO \"event_journal\" (\"persistence_id\", \"sequence_number\", \"writer\", "
                            + "\"write_timestamp\", \"adapter_manifest\", \"event_payload\", \"event_ser_id\", "
                            + "\"event_ser_manifest\") VALUES ('doomed', 1, 'other', 0, '', X'00', 1, '')")) {
                s.executeUpdate();
            }
            TestProbe<AbstractJournalRecoveryTest.Done> done = kit.createTestProbe();
            doomed.tell(new AbstractJournalRecoveryTest.Add("lost", done.getRef()));
            done.expectTerminated(doomed, Duration.ofSeconds(10)); // Pekko stops an actor whose write failed
            done.expectNoMessage(Duration.ofMillis(200));

            ActorRef<AbstractJournalRecoveryTest.Command> next =
                    kit.spawn(AbstractJournalRecoveryTest.listEntity("next", 0));
            for (int i = 0; i < 3; i++) {
                next.tell(new AbstractJournalRecoveryTest.Add("kept-" + i, done.getRef()));
                done.expectMessage(Duration.ofSeconds(10), AbstractJournalRecoveryTest.Done.INSTANCE);
            }
        } finally {
            kit.shutdownTestKit();
        }
        try (Connection c = connect(config); PreparedStatement s = c.prepareStatement(
                "SELECT \"persistence_id\", \"writer\" FROM \"event_journal\" ORDER BY \"ordering\"")) {
            List<String> rows = new ArrayList<>();
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    rows.add(r.getString(1) + (r.getString(2).equals("other") ? "/other" : ""));
                }
            }
            assertEquals(List.of("doomed/other", "next", "next", "next"), rows);
        }
    }
}
