package io.consensusactors.multijvm;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One network namespace per node JVM, for partition tests. The test JVM already runs in a private namespace (the
 * "outer" one, see src/test/netns/bin/java); node {@code i} gets a namespace of its own joined to the outer one by a
 * veth pair: the node is {@code 10.x.i.1}, the outer end {@code 10.x.i.254}, and the outer namespace routes
 * between nodes. Every packet between two nodes therefore crosses the outer FORWARD chain with the sender's own
 * address as its source, so {@link Iptables} can cut exactly the links it means to. (On one shared loopback every
 * outbound connection leaves from 127.0.0.1 whatever address the process listens on, so address-based rules cut the
 * wrong links.) Traffic between a node and the test JVM is delivered locally in the outer namespace and never
 * forwarded: a client in the test JVM can reach a node that is cut off from its peers.
 */
final class NodeNamespaces {

    private static final AtomicInteger INSTANCES = new AtomicInteger();

    /**
     * Each cluster gets fresh names and subnets (10.{100+k}.i.0/24): the namespaces of a closed cluster can linger
     * until the kernel has reaped their last process, and must not capture the next cluster's traffic.
     */
    private final int instance = INSTANCES.incrementAndGet() % 150;
    private final String prefix = "ca" + ProcessHandle.current().pid() + "c" + instance + "n";
    private final List<Integer> created = new ArrayList<>();

    String nodeAddress(int index) {
        return subnet(index) + ".1";
    }

    /** The test JVM's address for cluster members it starts itself (reachable from every node). */
    String clientAddress() {
        return subnet(1) + ".254";
    }

    private String subnet(int index) {
        return "10." + (100 + instance) + "." + index;
    }

    String name(int index) {
        return prefix + index;
    }

    /** Creates node {@code index}'s namespace and link once; later calls do nothing. */
    synchronized void ensure(int index) throws IOException, InterruptedException {
        if (created.contains(index)) {
            return;
        }
        String ns = name(index);
        String outer = "cv" + instance + "o" + index; // interface names have at most 15 characters
        String inner = "cv" + instance + "i" + index;
        // route between the nodes' links (per namespace; written directly: a fresh machine may lack the sysctl tool)
        java.nio.file.Files.writeString(java.nio.file.Path.of("/proc/sys/net/ipv4/ip_forward"), "1\n");
        run("ip", "netns", "add", ns);
        run("ip", "link", "add", outer, "type", "veth", "peer", "name", inner);
        run("ip", "link", "set", inner, "netns", ns);
        run("ip", "addr", "add", subnet(index) + ".254/24", "dev", outer);
        run("ip", "link", "set", outer, "up");
        run("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up");
        run("ip", "netns", "exec", ns, "ip", "addr", "add", nodeAddress(index) + "/24", "dev", inner);
        run("ip", "netns", "exec", ns, "ip", "link", "set", inner, "up");
        run("ip", "netns", "exec", ns, "ip", "route", "add", "default", "via", subnet(index) + ".254");
        created.add(index);
    }

    /** The command that runs {@code cmd} inside node {@code index}'s namespace. */
    List<String> wrap(int index, List<String> cmd) {
        List<String> all = new ArrayList<>(List.of("ip", "netns", "exec", name(index)));
        all.addAll(cmd);
        return all;
    }

    /** Deletes every namespace (and with it the veth pair). */
    synchronized void close() {
        for (int index : created) {
            try {
                run("ip", "netns", "del", name(index));
            } catch (Exception ignored) {
                // best effort: the outer namespace dies with the test JVM anyway
            }
        }
        created.clear();
    }

    static void run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
        }
    }
}
