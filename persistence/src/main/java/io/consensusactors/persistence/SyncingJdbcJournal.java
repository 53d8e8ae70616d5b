package io.consensusactors.persistence;

import com.typesafe.config.Config;
import org.apache.pekko.persistence.AtomicWrite;
import org.apache.pekko.persistence.PersistentRepr;
import org.apache.pekko.persistence.jdbc.PekkoSerialization;
import org.apache.pekko.persistence.jdbc.config.EventJournalTableColumnNames;
import org.apache.pekko.persistence.jdbc.config.EventJournalTableConfiguration;
import org.apache.pekko.persistence.jdbc.config.EventTagTableConfiguration;
import org.apache.pekko.persistence.jdbc.journal.JdbcAsyncWriteJournal;
import org.apache.pekko.persistence.journal.Tagged;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import scala.collection.immutable.Seq;
import scala.concurrent.Future;
import scala.jdk.javaapi.CollectionConverters;
import scala.jdk.javaapi.FutureConverters;
import scala.runtime.BoxedUnit;
import scala.util.Failure;
import scala.util.Success;
import scala.util.Try;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * Pekko Persistence JDBC's journal on an H2 file database, made durable: a write is acknowledged (and the
 * persistent actor's callback runs) only after the database file was forced to stable storage ({@link H2FileSync},
 * one fsync for all writes that complete together). Deleting events first forces what was written before, so a
 * snapshot the deletion relies on is never lost while the events it replaces are gone.
 *
 * <p>Writes and deletions take a shorter path than the plugin's ({@link H2JournalWriter}: one thread and connection,
 * group commit overlapping the fsync, prepared statements); they write and delete the plugin's rows as it does (same
 * columns and Pekko serialization, tags in its tag table), which the plugin reads back, replays and queries as usual.
 * (The plugin's deletion compiles its Slick query on every call: 1.9% of a Raft node's CPU under load.)
 *
 * <p>{@link PersistenceSettings} selects it for {@code database = "h2"} with {@code h2.fsync = on} (the default);
 * PostgreSQL needs no such step (a commit returns after the server flushed its WAL, {@code synchronous_commit = on}).
 */
public class SyncingJdbcJournal extends JdbcAsyncWriteJournal {

    private static final Executor DIRECT = Runnable::run;
    private static final Try<BoxedUnit> WRITTEN = new Success<>(BoxedUnit.UNIT);

    private final H2FileSync sync;
    private final H2JournalWriter writer;
    private final Serialization serialization;
    /** The latest write of each persistence id still under way (a highest-sequence-number read waits for it). */
    private final Map<String, CompletableFuture<?>> writing = new ConcurrentHashMap<>();

    public SyncingJdbcJournal(Config config) {
        super(config);
        Config root = context().system().settings().config();
        String db = PersistenceSettings.SHARED_DB + ".db.";
        String url = root.getString(db + "url");
        String user = root.getString(db + "user");
        String password = root.getString(db + "password");
        this.sync = H2FileSync.acquire(url, user, password);
        this.serialization = SerializationExtension.get(context().system());
        EventJournalTableConfiguration events = journalConfig().eventJournalTableConfiguration();
        EventJournalTableColumnNames c = events.columnNames();
        EventTagTableConfiguration tags = journalConfig().eventTagTableConfiguration();
        this.writer = new H2JournalWriter(url, user, password,
                H2JournalWriter.table(events.schemaName(), events.tableName()),
                List.of(c.deleted(), c.persistenceId(), c.sequenceNumber(), c.writer(), c.writeTimestamp(),
                        c.adapterManifest(), c.eventPayload(), c.eventSerId(), c.eventSerManifest(), c.metaPayload(),
                        c.metaSerId(), c.metaSerManifest()),
                c.ordering(), H2JournalWriter.table(tags.schemaName(), tags.tableName()),
                List.of(tags.columnNames().eventId(), tags.columnNames().tag()), sync);
    }

    /**
     * As the plugin does: an atomic write whose events cannot be serialized is rejected (its own result fails, the
     * others are written); a failed transaction fails the whole call.
     */
    @Override
    public Future<Seq<Try<BoxedUnit>>> asyncWriteMessages(Seq<AtomicWrite> messages) {
        long now = System.currentTimeMillis();
        List<H2JournalWriter.Row> rows = new ArrayList<>();
        List<Try<BoxedUnit>> results = new ArrayList<>();
        boolean allSerialized = true;
        for (AtomicWrite write : CollectionConverters.asJava(messages)) {
            try {
                List<H2JournalWriter.Row> these = new ArrayList<>();
                for (PersistentRepr repr : CollectionConverters.asJava(write.payload())) {
                    these.add(row(repr, now));
                }
                rows.addAll(these);
                results.add(WRITTEN);
            } catch (RuntimeException e) {
                results.add(new Failure<>(e));
                allSerialized = false;
            }
        }
        Seq<Try<BoxedUnit>> outcome = allSerialized
                ? CollectionConverters.asScala(List.<Try<BoxedUnit>>of()).toList()
                : CollectionConverters.asScala(results).toList();
        String persistenceId = messages.head().persistenceId();
        CompletableFuture<Seq<Try<BoxedUnit>>> written = writer.write(rows).thenApply(done -> outcome);
        writing.put(persistenceId, written);
        written.whenComplete((r, e) -> writing.remove(persistenceId, written));
        return FutureConverters.asScala(written);
    }

    private H2JournalWriter.Row row(PersistentRepr repr, long now) {
        Object payload = repr.payload();
        List<String> tags = List.of();
        if (payload instanceof Tagged tagged) {
            payload = tagged.payload();
            tags = new ArrayList<>(CollectionConverters.asJava(tagged.tags()));
        }
        // the plugin's own serialization of events and metadata, so that it reads these rows as its own; metadata that
        // cannot be serialized is left out and the event written, as the plugin does
        PekkoSerialization.PekkoSerialized event = PekkoSerialization.serialize(serialization, payload).get();
        PekkoSerialization.PekkoSerialized meta = repr.metadata().isDefined()
                ? PekkoSerialization.serialize(serialization, repr.metadata().get()).toOption().getOrElse(() -> null)
                : null;
        return new H2JournalWriter.Row(repr.persistenceId(), repr.sequenceNr(), repr.writerUuid(), now,
                repr.manifest(), event, meta, tags);
    }

    /** After the persistence id's write under way, if any (as the plugin's own write path does). */
    @Override
    public Future<Object> asyncReadHighestSequenceNr(String persistenceId, long fromSequenceNr) {
        CompletableFuture<?> pending = writing.get(persistenceId);
        if (pending == null) {
            return journalDao().highestSequenceNr(persistenceId, fromSequenceNr);
        }
        return FutureConverters.asScala(pending.handle((r, e) -> null).thenComposeAsync(
                x -> FutureConverters.asJava(journalDao().highestSequenceNr(persistenceId, fromSequenceNr)), DIRECT));
    }

    @Override
    public Future<BoxedUnit> asyncDeleteMessagesTo(String persistenceId, long toSequenceNr) {
        return FutureConverters.asScala(sync.request()
                .thenCompose(done -> writer.delete(persistenceId, toSequenceNr))
                .thenApply(done -> BoxedUnit.UNIT));
    }

    @Override
    public void postStop() {
        try {
            writer.close();
            super.postStop();
        } finally {
            sync.release();
        }
    }
}
