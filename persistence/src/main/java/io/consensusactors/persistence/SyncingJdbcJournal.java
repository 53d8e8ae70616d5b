package io.consensusactors.persistence;

import com.typesafe.config.Config;
import org.apache.pekko.persistence.AtomicWrite;
import org.apache.pekko.persistence.jdbc.journal.JdbcAsyncWriteJournal;
import scala.collection.immutable.Seq;
import scala.concurrent.Future;
import scala.jdk.javaapi.FutureConverters;
import scala.runtime.BoxedUnit;
import scala.util.Try;

import java.util.concurrent.Executor;

/**
 * Pekko Persistence JDBC's journal on an H2 file database, made durable: a write is acknowledged (and the
 * persistent actor's callback runs) only after the database file was forced to stable storage ({@link H2FileSync},
 * one fsync for all writes that complete together). Deleting events first forces what was written before, so a
 * snapshot the deletion relies on is never lost while the events it replaces are gone.
 *
 * <p>{@link PersistenceSettings} selects it for {@code database = "h2"} with {@code h2.fsync = on} (the default);
 * PostgreSQL needs no such step (a commit returns after the server flushed its WAL, {@code synchronous_commit = on}).
 */
public class SyncingJdbcJournal extends JdbcAsyncWriteJournal {

    private static final Executor DIRECT = Runnable::run;

    private final H2FileSync sync;

    public SyncingJdbcJournal(Config config) {
        super(config);
        Config root = context().system().settings().config();
        String db = PersistenceSettings.SHARED_DB + ".db.";
        this.sync = H2FileSync.acquire(root.getString(db + "url"), root.getString(db + "user"),
                root.getString(db + "password"));
    }

    @Override
    public Future<Seq<Try<BoxedUnit>>> asyncWriteMessages(Seq<AtomicWrite> messages) {
        // thenComposeAsync on the completing thread, not thenCompose: the CompletableFuture that asJava returns turns
        // thenCompose into thenComposeAsync on the common pool, which on a machine of two cores or fewer (pool of one
        // thread) is a new thread per call — one thread started per journal write
        return FutureConverters.asScala(FutureConverters.asJava(super.asyncWriteMessages(messages))
                .thenComposeAsync(results -> sync.request().thenApply(done -> results), DIRECT));
    }

    @Override
    public Future<BoxedUnit> asyncDeleteMessagesTo(String persistenceId, long toSequenceNr) {
        return FutureConverters.asScala(sync.request().thenCompose(done ->
                FutureConverters.asJava(super.asyncDeleteMessagesTo(persistenceId, toSequenceNr))));
    }

    @Override
    public void postStop() {
        try {
            super.postStop();
        } finally {
            sync.release();
        }
    }
}
