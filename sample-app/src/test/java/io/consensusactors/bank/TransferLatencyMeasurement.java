package io.consensusactors.bank;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.consensusactors.bank.node.BankNode;
import io.consensusactors.bank.node.ConsensusAccountService;
import io.consensusactors.bank.transfer.TransferCoordinator;
import io.consensusactors.bank.transfer.TransferStatus;
import org.HdrHistogram.Histogram;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Latency of a Paxos Commit transfer on one bank node (Raft groups of 1, one Paxos acceptor, JDBC on in-memory H2):
 * sequential transfers, then 16 in flight. Prints p50/p99 with the load average; asserts only that every transfer
 * completed. Run: {@code mvn -pl sample-app -am test -Dtest=TransferLatencyMeasurement -Dsurefire.excludedGroups=
 * -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@Tag("soak")
class TransferLatencyMeasurement {

    @Test
    void transferLatency() throws Exception {
        Config config = ConfigFactory.parseString("""
                pekko.remote.artery.canonical.port = 0
                pekko.coordinated-shutdown.exit-jvm = off
                pekko.loglevel = WARNING
                consensus-actors.persistence { database = h2-mem, node-name = bank-latency, h2.shared = off }
                bank.http.port = 0
                """).withFallback(ConfigFactory.load());
        BankNode node = BankNode.start(config, "latency-node");
        try {
            Cluster cluster = Cluster.get(node.system);
            cluster.manager().tell(Join.create(cluster.selfMember().address()));
            ConsensusAccountService service = (ConsensusAccountService) node.service;
            TransferCoordinator coordinator = service.coordinator();
            int accounts = 20;
            for (int i = 0; i < accounts; i++) {
                String id = "lat-" + i;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (true) {
                    try {
                        service.open(id, 1_000_000, "open-" + id).toCompletableFuture().get(10, TimeUnit.SECONDS);
                        break;
                    } catch (Exception e) {
                        if (System.nanoTime() > deadline) {
                            throw e;
                        }
                    }
                }
            }
            run(coordinator, "warm", 100, 1, accounts);
            Histogram seq = run(coordinator, "seq", 300, 1, accounts);
            Histogram par = run(coordinator, "par", 1600, 16, accounts);
            String load = Files.readString(Path.of("/proc/loadavg")).trim();
            System.out.printf("[transfer latency] sequential: n=%d p50=%.1f ms p99=%.1f ms max=%.1f ms%n",
                    seq.getTotalCount(), seq.getValueAtPercentile(50) / 1000.0, seq.getValueAtPercentile(99) / 1000.0,
                    seq.getMaxValue() / 1000.0);
            System.out.printf("[transfer latency] 16 in flight: n=%d p50=%.1f ms p99=%.1f ms max=%.1f ms%n",
                    par.getTotalCount(), par.getValueAtPercentile(50) / 1000.0, par.getValueAtPercentile(99) / 1000.0,
                    par.getMaxValue() / 1000.0);
            System.out.println("[transfer latency] load average: " + load);
        } finally {
            node.system.terminate();
            node.system.getWhenTerminated().toCompletableFuture().join();
        }
    }

    private static Histogram run(TransferCoordinator c, String tag, int n, int inFlight, int accounts) throws Exception {
        Histogram h = new Histogram(60_000_000L, 3);
        List<Thread> threads = new ArrayList<>();
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
        for (int t = 0; t < inFlight; t++) {
            Thread th = new Thread(() -> {
                int i;
                while ((i = next.getAndIncrement()) < n && failure.get() == null) {
                    String from = "lat-" + (i % accounts);
                    String to = "lat-" + ((i * 7 + 3) % accounts == i % accounts ? (i + 1) % accounts : (i * 7 + 3) % accounts);
                    long t0 = System.nanoTime();
                    try {
                        TransferStatus s = c.start(tag + "-" + i, from, to, 1).toCompletableFuture().get(60, TimeUnit.SECONDS);
                        assertEquals(TransferStatus.Phase.COMPLETED, s.phase(), s.toString());
                    } catch (Throwable e) {
                        failure.set(e);
                    }
                    synchronized (h) {
                        h.recordValue(Math.max(1, (System.nanoTime() - t0) / 1000));
                    }
                }
            });
            th.start();
            threads.add(th);
        }
        for (Thread th : threads) {
            th.join();
        }
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
        return h;
    }

}
