package io.consensusactors.multijvm;

import io.consensusactors.bank.demo.BankClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Three real node JVMs: cluster formation, a SIGKILLed node removed by the split-brain resolver while the survivors
 * serve every account with its balance intact (durability of acknowledged writes in H2, sharding hand-over), the
 * node restarted on its data rejoining, and a SIGSTOP pause that loses no money. The steps share one cluster.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(PrintLogsOnFailure.class)
class NodeCrashTest implements PrintLogsOnFailure.HasCluster {

    static final int ACCOUNTS = 30;
    NodeCluster cluster;
    final Map<String, Long> expected = new LinkedHashMap<>();

    @Override
    public NodeCluster cluster() {
        return cluster;
    }

    @BeforeAll
    void start() throws Exception {
        cluster = new NodeCluster("node-crash", 3, false);
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    @Order(1)
    void threeNodesFormACluster() throws Exception {
        Duration formation = cluster.startAll(Duration.ofSeconds(90));
        cluster.recordTiming("cluster formation (3 JVMs, all Up)", formation);
        for (NodeCluster.Node n : cluster.nodes()) {
            assertEquals(3, n.client.upMembers(), n.name + " should see 3 members Up");
        }
        // Accounts spread over the shards of all three nodes, with known balances.
        BankClient c = cluster.node(1).client;
        for (int i = 0; i < ACCOUNTS; i++) {
            String id = "crash-" + i;
            long balance = 1000 + i;
            BankClient.Response r = retry(() -> c.open(id, balance, "open-" + id));
            assertEquals(201, r.status(), "open " + id + ": " + r.body());
            BankClient.Response d = retry(() -> c.deposit(id, 5, "dep-" + id));
            assertTrue(d.ok(), "deposit " + id + ": " + d.body());
            expected.put(id, balance + 5);
        }
    }

    @Test
    @Order(2)
    void killedNodeIsRemovedAndSurvivorsServeAllAccountsWithBalancesIntact() throws Exception {
        NodeCluster.Node victim = cluster.node(3);
        cluster.sigkill(victim);
        List<NodeCluster.Node> survivors = List.of(cluster.node(1), cluster.node(2));
        Duration removal = NodeCluster.timeUntil("the killed node is removed from the membership",
                Duration.ofSeconds(90), () -> survivors.stream().allMatch(n -> membersSeen(n) == 2));
        cluster.recordTiming("removal of a SIGKILLed node (failure detection + split-brain resolver)", removal);
        cluster.awaitUp(survivors, 2, Duration.ofSeconds(30));
        assertBalances(survivors.get(1).client);
        assertBalances(survivors.get(0).client);
    }

    @Test
    @Order(3)
    void restartedNodeRejoinsOnItsDataAndBalancesAreStillIntact() throws Exception {
        NodeCluster.Node node3 = cluster.node(3);
        cluster.start(node3);
        Duration rejoin = NodeCluster.timeUntil("the restarted node rejoins", Duration.ofSeconds(90),
                () -> cluster.nodes().stream().allMatch(n -> n.client.health().ok() && n.client.upMembers() == 3));
        cluster.recordTiming("restart + rejoin of the killed node", rejoin);
        assertBalances(node3.client);
    }

    @Test
    @Order(4)
    void aPausedNodeLosesNoMoney() throws Exception {
        NodeCluster.Node paused = cluster.node(2);
        BankClient c = cluster.node(1).client;
        long before = expected.values().stream().mapToLong(Long::longValue).sum();
        // Transfers run while node2 is frozen for 2 s (shorter than the failure detector's acceptable pause, so it
        // must not be downed): requests for its shards stall or time out and are retried with the same id.
        List<String[]> done = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        Thread load = new Thread(() -> {
            for (int i = 0; i < 10; i++) {
                String id = "pause-" + UUID.randomUUID();
                String from = "crash-" + i;
                String to = "crash-" + (i + 10);
                BankClient.Response r = retry(() -> c.transfer(id, from, to, 7));
                awaitFinal(c, id, r);
                done.add(new String[] {from, to});
            }
        });
        load.start();
        cluster.pause(paused);
        try {
            Thread.sleep(2000);
        } finally {
            cluster.resume(paused);
        }
        load.join(120_000);
        assertEquals(10, done.size(), "all transfers completed");
        for (String[] t : done) {
            expected.merge(t[0], -7L, Long::sum);
            expected.merge(t[1], 7L, Long::sum);
        }
        cluster.awaitUp(cluster.nodes(), 3, Duration.ofSeconds(60));
        assertBalances(paused.client);
        assertEquals(before, expected.values().stream().mapToLong(Long::longValue).sum(), "bank total conserved");
    }

    private void awaitFinal(BankClient c, String transferId, BankClient.Response first) {
        String[] status = {first.body().path("status").asText()};
        NodeCluster.await("transfer " + transferId + " completes", Duration.ofSeconds(60), () -> {
            if ("COMPLETED".equals(status[0])) {
                return true;
            }
            BankClient.Response r = c.transferStatus(transferId);
            status[0] = r.body().path("status").asText();
            return "COMPLETED".equals(status[0]);
        });
    }

    private void assertBalances(BankClient via) {
        for (Map.Entry<String, Long> e : expected.entrySet()) {
            BankClient.Response r = retry(() -> via.balance(e.getKey()));
            assertEquals(200, r.status(), "read " + e.getKey() + " via " + via.hostPort() + ": " + r.body());
            assertEquals(e.getValue().longValue(), r.balance(), "balance of " + e.getKey() + " via " + via.hostPort());
        }
    }

    private static int membersSeen(NodeCluster.Node n) {
        BankClient.Response r = n.client.members();
        return r.ok() ? r.body().path("members").size() : -1;
    }

    /** Retries an operation whose outcome is unknown (503/unreachable) with the same request id. */
    static BankClient.Response retry(java.util.function.Supplier<BankClient.Response> op) {
        BankClient.Response r = op.get();
        for (int i = 0; i < 40 && r.retryable(); i++) {
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            r = op.get();
        }
        return r;
    }
}
