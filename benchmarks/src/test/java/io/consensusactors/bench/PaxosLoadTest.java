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
        // -Dpaxosload.clients=32 -Dpaxosload.seconds=15 -Dpaxosload.h2file=true turn it into the measurement
        int clients = Integer.getInteger("paxosload.clients", 4);
        Duration seconds = Duration.ofSeconds(Integer.getInteger("paxosload.seconds", 2));
        List<PaxosLoad.Result> results = PaxosLoad.runAll(clients, seconds, Duration.ofSeconds(Math.min(5,
                seconds.toSeconds())), Boolean.getBoolean("paxosload.h2file"));
        System.out.println("load average: " + java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                .getSystemLoadAverage());
        assertEquals(3, results.size());
        for (PaxosLoad.Result r : results) {
            System.out.println(r);
            assertTrue(r.ops() > 0, "operations completed by " + r.engine());
            assertEquals(0, r.errors(), "errors in " + r.engine());
        }
    }
}
