package io.consensusactors.persistence;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
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

    @Test
    void taggedEventsAreFoundByThePluginsTagQueryAndOrderingFollowsTheWriteOrder() throws Exception {
        Config config = config("tags");
        ActorTestKit kit = ActorTestKit.create("tags", config);
        try {
            ActorRef<AbstractJournalRecoveryTest.Command> entity = kit.spawn(taggedList("tagged-1"));
            TestProbe<AbstractJournalRecoveryTest.Done> probe = kit.createTestProbe();
            for (int i = 0; i < 12; i++) {
                entity.tell(new AbstractJournalRecoveryTest.Add("item-" + i, probe.getRef()));
            }
            for (int i = 0; i < 12; i++) {
                probe.expectMessage(Duration.ofSeconds(10), AbstractJournalRecoveryTest.Done.INSTANCE);
            }
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
