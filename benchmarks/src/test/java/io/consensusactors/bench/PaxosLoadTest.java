package io.consensusactors.bench;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Paxos/Raft load generator's wiring: each engine completes operations without errors in a short in-memory run
 * (figures are not asserted). Tagged soak: it starts three ActorSystems and needs ~30 s on a busy machine.
 */
@Tag("soak")
class PaxosLoadTest {

    @Test
    void everyEngineCompletesOperationsWithoutErrors() throws Exception {
        List<PaxosLoad.Result> results = PaxosLoad.runAll(4, Duration.ofSeconds(2), Duration.ofSeconds(2), false);
        assertEquals(3, results.size());
        for (PaxosLoad.Result r : results) {
            System.out.println(r);
            assertTrue(r.ops() > 0, "operations completed by " + r.engine());
            assertEquals(0, r.errors(), "errors in " + r.engine());
        }
    }
}
