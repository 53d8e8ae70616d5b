package io.consensusactors.bench;

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
