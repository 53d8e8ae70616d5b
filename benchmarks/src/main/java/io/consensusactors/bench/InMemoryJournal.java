package io.consensusactors.bench;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.apache.pekko.dispatch.Futures;
import org.apache.pekko.persistence.AtomicWrite;
import org.apache.pekko.persistence.PersistentRepr;
import org.apache.pekko.persistence.journal.japi.AsyncWriteJournal;
import org.apache.pekko.persistence.testkit.PersistenceTestKitSnapshotPlugin;
import scala.concurrent.Future;
import scala.jdk.javaapi.CollectionConverters;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.Consumer;

/**
 * A journal plugin that keeps events in memory, as objects (no serialization), with O(log n) writes: the "no I/O"
 * baseline of {@link RaftLoad}. Pekko's persistence testkit journal is not usable for throughput: on every write it
 * rebuilds the whole stored event list of the persistence id (InMemStorage.updateOrSetNew), so its cost grows with
 * the log. Plugin id {@value #PLUGIN_ID}; see {@link #config()}.
 */
public final class InMemoryJournal extends AsyncWriteJournal {

    public static final String PLUGIN_ID = "consensus-bench.in-memory-journal";

    /** Configuration selecting this journal (and the testkit's snapshot store, without serialization). */
    public static Config config() {
        return ConfigFactory.parseString("""
                consensus-bench.in-memory-journal.class = "io.consensusactors.bench.InMemoryJournal"
                pekko.persistence.journal.plugin = "consensus-bench.in-memory-journal"
                pekko.persistence.testkit.snapshots.serialize = off
                """).withFallback(PersistenceTestKitSnapshotPlugin.config());
    }

    private static final Map<String, ConcurrentSkipListMap<Long, PersistentRepr>> STORE = new ConcurrentHashMap<>();

    private static ConcurrentSkipListMap<Long, PersistentRepr> events(String persistenceId) {
        return STORE.computeIfAbsent(persistenceId, k -> new ConcurrentSkipListMap<>());
    }

    /** Forgets everything (between runs in one JVM). */
    public static void clear() {
        STORE.clear();
    }

    @Override
    public Future<Iterable<Optional<Exception>>> doAsyncWriteMessages(Iterable<AtomicWrite> messages) {
        List<Optional<Exception>> results = new ArrayList<>();
        for (AtomicWrite w : messages) {
            ConcurrentSkipListMap<Long, PersistentRepr> log = events(w.persistenceId());
            for (PersistentRepr r : CollectionConverters.asJava(w.payload())) {
                log.put(r.sequenceNr(), r);
            }
            results.add(Optional.empty());
        }
        return Futures.successful(results);
    }

    @Override
    public Future<Void> doAsyncDeleteMessagesTo(String persistenceId, long toSequenceNr) {
        // keep the highest sequence number readable (the journal contract), drop the events themselves
        ConcurrentSkipListMap<Long, PersistentRepr> log = events(persistenceId);
        Map.Entry<Long, PersistentRepr> last = log.lastEntry();
        log.headMap(toSequenceNr, true).clear();
        if (last != null && last.getKey() <= toSequenceNr) {
            log.put(last.getKey(), last.getValue().update(last.getKey(), last.getValue().persistenceId(), true,
                    last.getValue().sender(), last.getValue().writerUuid()));
        }
        return Futures.successful(null);
    }

    @Override
    public Future<Void> doAsyncReplayMessages(String persistenceId, long fromSequenceNr, long toSequenceNr, long max,
                                              Consumer<PersistentRepr> replayCallback) {
        ConcurrentNavigableMap<Long, PersistentRepr> range = events(persistenceId).subMap(fromSequenceNr, true,
                toSequenceNr, true);
        long n = 0;
        for (PersistentRepr r : range.values()) {
            if (n++ >= max) {
                break;
            }
            if (!r.deleted()) {
                replayCallback.accept(r);
            }
        }
        return Futures.successful(null);
    }

    @Override
    public Future<Long> doAsyncReadHighestSequenceNr(String persistenceId, long fromSequenceNr) {
        ConcurrentSkipListMap<Long, PersistentRepr> log = events(persistenceId);
        return Futures.successful(log.isEmpty() ? 0L : log.lastKey());
    }
}
