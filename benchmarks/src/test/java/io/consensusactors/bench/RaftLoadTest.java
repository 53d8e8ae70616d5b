package io.consensusactors.bench;

import io.consensusactors.raft.core.ReadConsistency;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The load generator's wiring: options as documented, and a short in-memory run that completes operations. */
class RaftLoadTest {

    @Test
    void optionsParseAsDocumented() {
        RaftLoad.Options o = RaftLoad.Options.parse(new String[] {"--mode", "h2", "--clients", "64,1", "--duration",
                "30s", "--warmup", "20s", "--workload", "write"});
        assertEquals("h2", o.mode());
        assertEquals(List.of(64, 1), o.clients());
        assertEquals(Duration.ofSeconds(30), o.duration());
        assertEquals(Duration.ofSeconds(20), o.warmup());
        assertEquals(Duration.ofSeconds(5), o.rewarmup());
        assertEquals(List.of("write"), o.workloads());
        assertEquals(Duration.ofMillis(1500), RaftLoad.Options.duration("1.5s"));
        assertEquals("raft", o.api());
        RaftLoad.Options e = RaftLoad.Options.parse(new String[] {"--api", "entity", "--shards", "16",
                "--read-consistency", "linearizable,lease,stale"});
        assertEquals("entity", e.api());
        assertEquals(16, e.shards());
        assertEquals(List.of(ReadConsistency.LINEARIZABLE, ReadConsistency.LEASE, ReadConsistency.STALE),
                e.readConsistencies());
    }

    @Test
    void aShortInMemoryEntityRunCompletesWritesAndReadsAtEveryConsistencyWithoutErrors() throws Exception {
        RaftLoad.Options o = RaftLoad.Options.parse(new String[] {"--mode", "mem", "--api", "entity", "--shards", "6",
                "--clients", "6", "--warmup", "1s", "--rewarmup", "1s", "--duration", "1s", "--workload", "write,read",
                "--read-consistency", "linearizable,lease,stale"});
        List<RaftLoad.Result> results = RaftLoad.execute(o);
        assertEquals(4, results.size());
        for (RaftLoad.Result r : results) {
            assertTrue(r.ops() > 0, "operations completed in " + r.workload());
            assertEquals(0, r.errors(), "errors in " + r.workload() + ": " + r.firstError());
        }
    }

    @Test
    void aShortInMemoryRunCompletesWritesAndLinearizableReadsWithoutErrors() throws Exception {
        RaftLoad.Options o = RaftLoad.Options.parse(new String[] {"--mode", "mem", "--clients", "4", "--warmup", "1s",
                "--rewarmup", "1s", "--duration", "1s", "--workload", "write,read"});
        List<RaftLoad.Result> results = RaftLoad.execute(o);
        assertEquals(2, results.size());
        for (RaftLoad.Result r : results) {
            assertTrue(r.ops() > 0, "operations completed in " + r.workload());
            assertEquals(0, r.errors(), "errors in " + r.workload() + ": " + r.firstError());
        }
    }
}
