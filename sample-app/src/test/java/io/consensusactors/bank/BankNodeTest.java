package io.consensusactors.bank;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.consensusactors.bank.cli.BankCli;
import io.consensusactors.bank.demo.BankClient;
import io.consensusactors.bank.node.BankNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A whole bank node (single-member cluster, in-memory H2) through its JSON API: transfers complete or fail with
 * nothing moved (bank total conserved), and bad input gets a clear error and changes nothing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BankNodeTest {

    BankNode node;
    BankClient client;

    @BeforeAll
    void start() throws Exception {
        Config config = ConfigFactory.parseString("""
                pekko.remote.artery.canonical.port = 0
                pekko.coordinated-shutdown.exit-jvm = off
                pekko.loglevel = WARNING
                consensus-actors.persistence { database = h2-mem, node-name = bank-node-test, h2.shared = off }
                bank.http.port = 0
                consensus-actors.raft.tick-interval = 20ms
                """).withFallback(ConfigFactory.load());
        node = BankNode.start(config, "test-node");
        org.apache.pekko.cluster.typed.Cluster cluster = org.apache.pekko.cluster.typed.Cluster.get(node.system);
        cluster.manager().tell(org.apache.pekko.cluster.typed.Join.create(cluster.selfMember().address()));
        client = new BankClient("127.0.0.1:" + node.binding.localAddress().getPort(), Duration.ofSeconds(10));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!client.health().ok() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertTrue(client.health().ok(), "node Up");
    }

    @AfterAll
    void stop() {
        node.system.terminate();
        node.system.getWhenTerminated().toCompletableFuture().join();
    }

    @Test
    void transferMovesMoneyAndConservesTheTotal() {
        assertEquals(201, client.open("t-a", 1000, "open-t-a").status());
        assertEquals(201, client.open("t-b", 0, "open-t-b").status());
        BankClient.Response t = client.transfer("tr-1", "t-a", "t-b", 300);
        assertEquals("COMPLETED", t.body().path("status").asText(), t.body().toString());
        assertEquals(700, client.balance("t-a").balance());
        assertEquals(300, client.balance("t-b").balance());
        // The same transfer id again: answered, not applied twice.
        assertEquals("COMPLETED", client.transfer("tr-1", "t-a", "t-b", 300).body().path("status").asText());
        assertEquals(700, client.balance("t-a").balance());
    }

    @Test
    void transferToAnUnknownAccountFailsWithoutMovingMoney() {
        assertEquals(201, client.open("r-a", 500, "open-r-a").status());
        BankClient.Response t = client.transfer("tr-2", "r-a", "nobody", 200);
        assertEquals("FAILED", t.body().path("status").asText(), t.body().toString());
        assertTrue(t.body().path("reason").asText().contains("unknown account 'nobody'"), t.body().toString());
        BankClient.Response a = client.balance("r-a");
        assertEquals(500, a.balance(), "nothing moved");
        assertEquals(500, a.body().path("available").asLong(), "the hold was released: " + a.body());
        assertEquals(0, a.body().path("holds").size(), a.body().toString());
    }

    @Test
    void overdraftingTransferFailsWithoutMovingMoney() {
        assertEquals(201, client.open("o-a", 50, "open-o-a").status());
        assertEquals(201, client.open("o-b", 0, "open-o-b").status());
        BankClient.Response t = client.transfer("tr-3", "o-a", "o-b", 51);
        assertEquals("FAILED", t.body().path("status").asText());
        assertEquals(50, client.balance("o-a").balance());
        assertEquals(0, client.balance("o-b").balance());
    }

    @Test
    void badInputGetsAClearErrorAndChangesNothing() {
        assertEquals(201, client.open("bad-a", 100, "open-bad-a").status());
        BankClient.Response malformed = client.call("POST", "/accounts/bad-a/deposit",
                new ObjectMapper().createObjectNode().put("amount", "ten"));
        assertEquals(400, malformed.status());
        assertTrue(malformed.error().contains("'amount'"), malformed.error());
        BankClient.Response negative = client.deposit("bad-a", -5, "neg");
        assertEquals(400, negative.status());
        assertTrue(negative.error().contains("positive"), negative.error());
        BankClient.Response unknown = client.deposit("ghost", 5, "ghost-1");
        assertEquals(404, unknown.status());
        assertTrue(unknown.error().contains("open it first"), unknown.error());
        BankClient.Response zeroTransfer = client.transfer("tr-zero", "bad-a", "t-b", 0);
        assertEquals(400, zeroTransfer.status());
        assertTrue(zeroTransfer.error().contains("positive"), zeroTransfer.error());
        assertEquals(400, client.transfer("tr-self", "bad-a", "bad-a", 5).status());
        assertEquals(404, client.transferStatus("never-started").status());
        BankClient.Response overdraft = client.withdraw("bad-a", 101, "over");
        assertEquals(409, overdraft.status());
        assertEquals(100, client.balance("bad-a").balance(), "nothing changed");
    }

    @Test
    void malformedJsonIsRejectedWithAHint() throws Exception {
        var http = java.net.http.HttpClient.newHttpClient();
        var req = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://" + client.hostPort()
                + "/accounts/x/deposit")).POST(java.net.http.HttpRequest.BodyPublishers.ofString("{amount: ")).build();
        var resp = http.send(req, java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(400, resp.statusCode());
        assertTrue(resp.body().contains("malformed JSON"), resp.body());
    }

    @Test
    void cliRejectsBadOptionsAndADownDatabaseWithClearMessagesAndNoStackTrace() {
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured));
        try {
            assertEquals(2, BankCli.execute("node", "--port", "not-a-number"));
            assertEquals(2, BankCli.execute("transfer-all-the-money"));
            assertEquals(1, BankCli.execute("demo", "--duration", "soon"));
            assertEquals(1, BankCli.execute("node", "--db", "postgres", "--pg-url", "jdbc:postgresql://127.0.0.1:1/bank",
                    "--port", "0", "--http-port", "0"));
            assertEquals(1, BankCli.execute("node", "--db", "oracle", "--port", "0", "--http-port", "0"));
        } finally {
            System.setErr(err);
        }
        String text = captured.toString();
        assertTrue(text.contains("--port"), text);
        assertTrue(text.contains("bad --duration 'soon'"), text);
        assertTrue(text.contains("cannot use database jdbc:postgresql://127.0.0.1:1/bank")
                && text.contains("Is PostgreSQL running"), "a database that is down is named, with what to check: " + text);
        assertTrue(text.contains("unknown consensus-actors.persistence.database 'oracle'"), text);
        assertFalse(text.contains("\tat "), "no stack trace for user errors: " + text);
    }
}
