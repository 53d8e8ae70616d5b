package io.consensusactors.multijvm;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Network partitions with iptables DROP rules in the FORWARD chain between node addresses. Only used when the test
 * JVM runs inside a private network namespace ({@code netns.available=true}, set by src/test/netns/bin/java), so no
 * rule ever reaches the host; there every node JVM has a namespace and an address of its own ({@link NodeNamespaces}),
 * so a rule cuts exactly the node-to-node links it names and leaves the test JVM's own connections alone.
 */
public final class Iptables {

    private Iptables() {
    }

    public static boolean available() {
        return Boolean.getBoolean("netns.available");
    }

    public static String unavailableReason() {
        return "partition tests need root, unshare and iptables (apt-get install iptables iproute2); they run "
                + "inside a private network namespace started by src/test/netns/bin/java";
    }

    /** Drops all traffic between every node of {@code a} and every node of {@code b}, both directions. */
    public static void partition(List<NodeCluster.Node> a, List<NodeCluster.Node> b) throws IOException,
            InterruptedException {
        for (NodeCluster.Node x : a) {
            for (NodeCluster.Node y : b) {
                run("iptables", "-A", "FORWARD", "-s", x.host, "-d", y.host, "-j", "DROP");
                run("iptables", "-A", "FORWARD", "-s", y.host, "-d", x.host, "-j", "DROP");
            }
        }
    }

    /** Removes every rule. */
    public static void heal() throws IOException, InterruptedException {
        run("iptables", "-F", "FORWARD");
    }

    private static void run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
        }
    }

    static List<NodeCluster.Node> others(NodeCluster cluster, NodeCluster.Node node) {
        List<NodeCluster.Node> rest = new ArrayList<>(cluster.nodes());
        rest.remove(node);
        return rest;
    }
}
