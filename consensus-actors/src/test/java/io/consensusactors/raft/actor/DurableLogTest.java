package io.consensusactors.raft.actor;

import io.consensusactors.raft.core.Configuration;
import io.consensusactors.raft.core.Entry;
import io.consensusactors.raft.core.RaftCodec;
import io.consensusactors.raft.core.SnapshotMeta;
import io.consensusactors.testkit.sim.Seeds;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link DurableLog} keeps the journal's encoded entry batches instead of a decoded copy. Property: after any
 * sequence of journal events (appends that truncate a conflicting suffix, possibly in the middle of a stored batch;
 * compactions that cut through a batch; installed snapshots that match or do not match the stored log), the entries
 * it recovers — directly and through a journal snapshot ({@code toStored}/{@code fromStored}, as a restart would) —
 * are exactly those of a plain decoded-list model of the log (Raft §5.3 log matching, §7 compaction).
 */
class DurableLogTest {

    private static final Configuration CONFIG = Configuration.of(Set.of("a", "b", "c"));

    @Test
    void encodedLogRecoversTheSameEntriesAsADecodedModel() {
        Seeds.forEach("durablelog.seed", 200, DurableLogTest::run);
    }

    private static void run(long seed) {
        Random rnd = new Random(seed);
        DurableLog log = new DurableLog();
        List<Entry> model = new ArrayList<>();
        long snapshotIndex = 0;
        long term = 1;
        for (int step = 0; step < 200; step++) {
            long last = model.isEmpty() ? snapshotIndex : model.get(model.size() - 1).index();
            int op = rnd.nextInt(10);
            if (op < 6) { // append, from a random point of the retained log (conflict) or at its end
                long from = rnd.nextInt(4) == 0 && last > snapshotIndex
                        ? snapshotIndex + 1 + rnd.nextInt((int) (last - snapshotIndex)) : last + 1;
                if (rnd.nextInt(3) == 0) {
                    term++;
                }
                List<Entry> batch = new ArrayList<>();
                int n = 1 + rnd.nextInt(5);
                for (int i = 0; i < n; i++) {
                    byte[] data = new byte[rnd.nextInt(8)];
                    rnd.nextBytes(data);
                    batch.add(new Entry(from + i, term, Entry.Type.COMMAND, rnd.nextInt(3), from + i, data));
                }
                final long f = from;
                model.removeIf(e -> e.index() >= f);
                model.addAll(batch);
                log.apply(new RaftEvent.ReadyPersisted(term, "a", 0, RaftCodec.encodeEntries(batch), null, null));
            } else if (op < 8) { // the member compacts up to some applied index
                if (last > snapshotIndex) {
                    long idx = snapshotIndex + 1 + rnd.nextInt((int) (last - snapshotIndex));
                    long t = termAt(model, idx);
                    snapshotIndex = idx;
                    model.removeIf(e -> e.index() <= idx);
                    log.apply(new RaftEvent.Compacted(DurableLog.encodeMeta(new SnapshotMeta(idx, t, CONFIG)),
                            new byte[] {1}));
                }
            } else if (op < 9) { // the leader installs a snapshot that matches a stored entry
                if (last > snapshotIndex) {
                    long idx = snapshotIndex + 1 + rnd.nextInt((int) (last - snapshotIndex));
                    long t = termAt(model, idx);
                    snapshotIndex = idx;
                    model.removeIf(e -> e.index() <= idx);
                    log.apply(new RaftEvent.ReadyPersisted(term, "a", 0, new byte[0],
                            DurableLog.encodeMeta(new SnapshotMeta(idx, t, CONFIG)), new byte[] {2}));
                }
            } else { // ... or one that does not: the whole log is dropped
                long idx = last + rnd.nextInt(3);
                term++;
                snapshotIndex = idx;
                model.clear();
                log.apply(new RaftEvent.ReadyPersisted(term, "a", 0, new byte[0],
                        DurableLog.encodeMeta(new SnapshotMeta(idx, term, CONFIG)), new byte[] {3}));
            }
            assertEquals(render(model), render(log.entries()), "entries after step " + step);
            assertEquals(snapshotIndex, log.snapshot.meta().index());
            DurableLog restored = DurableLog.fromStored(log.toStored());
            assertEquals(render(model), render(restored.entries()), "entries through a journal snapshot, step " + step);
            assertEquals(log.hardState(), restored.hardState());
        }
    }

    private static long termAt(List<Entry> model, long index) {
        return model.stream().filter(e -> e.index() == index).findFirst().orElseThrow().term();
    }

    private static List<String> render(List<Entry> entries) {
        List<String> out = new ArrayList<>();
        for (Entry e : entries) {
            out.add(e.index() + "/" + e.term() + "/" + e.type() + "/" + e.clientId() + "/" + e.seq() + "/"
                    + Arrays.toString(e.data()));
        }
        return out;
    }
}
