package io.consensusactors.multijvm;

import io.consensusactors.bank.demo.BankClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A node cut off by iptables: the split-brain resolver (keep-majority) lets the majority side keep serving reads and
 * writes, and the minority node downs itself (its JVM exits) instead of serving a second copy of the accounts.
 * Runs inside a private network namespace (tag "netns").
 */
@Tag("netns")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(PrintLogsOnFailure.class)
class PartitionTest implements PrintLogsOnFailure.HasCluster {

    NodeCluster cluster;

    @Override
    public NodeCluster cluster() {
        return cluster;
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (Iptables.available()) {
            Iptables.heal();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void isolatedMinorityDownsItselfWhileTheMajorityKeepsServing() throws Exception {
        assumeTrue(Iptables.available(), Iptables.unavailableReason());
        cluster = new NodeCluster("partition", 3, true);
        cluster.recordTiming("cluster formation (3 JVMs, one network namespace each)", cluster.startAll(Duration.ofSeconds(90)));
        BankClient c = cluster.node(1).client;
        for (int i = 0; i < 20; i++) {
            String id = "part-" + i;
            assertEquals(201, NodeCrashTest.retry(() -> c.open(id, 500, "open-" + id)).status());
        }
        NodeCluster.Node minority = cluster.node(3);
        List<NodeCluster.Node> majority = List.of(cluster.node(1), cluster.node(2));
        Iptables.partition(List.of(minority), majority);

        Duration removal = NodeCluster.timeUntil("the majority removes the isolated node", Duration.ofSeconds(90),
                () -> majority.stream().allMatch(n -> n.client.members().body().path("members").size() == 2));
        cluster.recordTiming("majority removes the isolated node", removal);
        Duration down = NodeCluster.timeUntil("the isolated node downs itself and its JVM exits",
                Duration.ofSeconds(90), () -> !minority.isAlive());
        cluster.recordTiming("isolated minority down and exited (from partition + removal)", removal.plus(down));
        assertTrue(minority.process.waitFor(1, TimeUnit.SECONDS));

        // The majority side serves every account, including those that lived on the isolated node.
        for (int i = 0; i < 20; i++) {
            String id = "part-" + i;
            BankClient via = majority.get(i % 2).client;
            BankClient.Response d = NodeCrashTest.retry(() -> via.deposit(id, 10, "after-partition-" + id));
            assertEquals(200, d.status(), "deposit on the majority side " + id + ": " + d.body());
            assertEquals(510, d.balance(), "balance of " + id);
        }
    }
}
