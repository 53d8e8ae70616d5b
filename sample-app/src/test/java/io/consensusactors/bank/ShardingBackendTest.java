package io.consensusactors.bank;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.consensusactors.bank.demo.BankClient;
import io.consensusactors.bank.node.BankNode;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code bank.backend = sharding} still works next to Paxos Commit: it shares the account rules (Account.decide /
 * evolve, now with holds it never uses) and keeps its transfer saga, which completes, fails without moving money,
 * or refunds.
 */
class ShardingBackendTest {

    @Test
    void theShardingBackendKeepsItsSagaAndConservesMoney() throws Exception {
        Config config = ConfigFactory.parseString("""
                pekko.remote.artery.canonical.port = 0
                pekko.coordinated-shutdown.exit-jvm = off
                pekko.loglevel = WARNING
                consensus-actors.persistence { database = h2-mem, node-name = bank-sharding-test, h2.shared = off }
                bank.http.port = 0
                bank.backend = sharding
                """).withFallback(ConfigFactory.load());
        BankNode node = BankNode.start(config, "sharding-node");
        try {
            Cluster cluster = Cluster.get(node.system);
            cluster.manager().tell(Join.create(cluster.selfMember().address()));
            BankClient client = new BankClient("127.0.0.1:" + node.binding.localAddress().getPort(), Duration.ofSeconds(10));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            BankClient.Response opened = client.open("s-a", 1000, "open-s-a");
            while (opened.retryable() && System.nanoTime() < deadline) {
                Thread.sleep(200);
                opened = client.open("s-a", 1000, "open-s-a");
            }
            assertEquals(201, opened.status(), opened.body().toString());
            assertEquals(201, client.open("s-b", 0, "open-s-b").status());
            assertEquals("COMPLETED", client.transfer("s-t1", "s-a", "s-b", 300).body().path("status").asText());
            assertEquals("FAILED", client.transfer("s-t2", "s-a", "s-b", 5000).body().path("status").asText());
            BankClient.Response refunded = client.transfer("s-t3", "s-a", "nobody", 100);
            assertEquals("REFUNDED", refunded.body().path("status").asText(), refunded.body().toString());
            assertEquals(700, client.balance("s-a").balance());
            assertEquals(300, client.balance("s-b").balance());
            assertTrue(client.balance("s-a").body().path("holds").isMissingNode(), "no holds on this backend");
        } finally {
            node.system.terminate();
            node.system.getWhenTerminated().toCompletableFuture().join();
        }
    }
}
