package io.consensusactors.testcluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.consensusactors.persistence.PersistenceSettings;
import io.consensusactors.persistence.SchemaInitializer;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * Several clustered ActorSystems in one JVM (Artery on 127.0.0.1, port 0), one {@link ActorTestKit} per node id, for
 * the tests that run the real stack in one process. Each node's configuration is the test's overlay for that node
 * (persistence: an H2 file or in-memory database; downing; tick intervals; ...) in front of {@link #BASE}, then the
 * persistence overlay ({@link PersistenceSettings#forNode}) and the default configuration; the node's journal schema
 * is created before its system starts. A node joins the first live node (the first node started joins itself).
 *
 * <pre>{@code
 * try (TestCluster cluster = new TestCluster("MyTest", node -> PersistenceSettings.h2(dir, node))) {
 *     cluster.startAll(List.of("a", "b", "c")); // returns once every system sees three Up members
 *     ActorTestKit a = cluster.kit("a");
 * }
 * }</pre>
 */
public final class TestCluster implements AutoCloseable {

    /** What every in-JVM clustered system of the tests needs; a node's overlay may override any of it. */
    public static final Config BASE = ConfigFactory.parseString("""
            pekko.loglevel = WARNING
            pekko.actor.provider = cluster
            pekko.remote.artery.canonical.hostname = 127.0.0.1
            pekko.remote.artery.canonical.port = 0
            pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
            pekko.cluster.seed-node-timeout = 1s
            pekko.coordinated-shutdown.exit-jvm = off
            """);

    /** How long {@link #startAll} waits for every system to see every node Up. */
    public static final Duration FORMATION_TIMEOUT = Duration.ofSeconds(30);

    private final String systemName;
    private final Function<String, Config> overlay;
    private final Map<String, ActorTestKit> kits = Collections.synchronizedMap(new LinkedHashMap<>());

    /**
     * @param systemName the ActorSystem name shared by every node (a cluster only admits systems of one name)
     * @param overlay    a node id's own settings, in front of {@link #BASE}
     */
    public TestCluster(String systemName, Function<String, Config> overlay) {
        this.systemName = systemName;
        this.overlay = overlay;
    }

    /** The full configuration of node {@code node} (its journal schema created): overlay, BASE, persistence, defaults. */
    public Config config(String node) {
        Config app = overlay.apply(node).withFallback(BASE);
        Config config = PersistenceSettings.forNode(app).withFallback(app).withFallback(ConfigFactory.load());
        SchemaInitializer.createIfNotExists(config);
        return config;
    }

    /** Starts every node, each joining the first live one, and waits until every live system sees them all Up. */
    public TestCluster startAll(List<String> nodes) throws InterruptedException {
        for (String n : nodes) {
            start(n);
        }
        awaitUp(kits.size(), FORMATION_TIMEOUT);
        return this;
    }

    /** Starts node {@code node} and asks it to join the first live node (itself if none); does not wait for Up. */
    public ActorTestKit start(String node) {
        if (kits.containsKey(node)) {
            throw new IllegalStateException("node " + node + " is already running: stop it first");
        }
        ActorTestKit kit = ActorTestKit.create(systemName, config(node));
        Address seed = kits.isEmpty() ? address(kit) : address(kits.values().iterator().next());
        Cluster.get(kit.system()).manager().tell(Join.create(seed));
        kits.put(node, kit);
        return kit;
    }

    /** Waits until every live system sees exactly {@code count} Up members. */
    public void awaitUp(int count, Duration within) throws InterruptedException {
        eventually("every live system of " + kits.keySet() + " sees " + count + " Up members", within,
                () -> liveKits().stream().allMatch(k -> upMembers(k.system()) == count));
    }

    /** Terminates node {@code node}'s ActorSystem (its coordinated shutdown runs as configured) and forgets it. */
    public void stop(String node) {
        ActorTestKit kit = kits.remove(node);
        if (kit == null) {
            throw new IllegalArgumentException("no live node " + node + ", live: " + kits.keySet());
        }
        kit.shutdownTestKit();
    }

    public ActorTestKit kit(String node) {
        ActorTestKit kit = kits.get(node);
        if (kit == null) {
            throw new IllegalArgumentException("no live node " + node + ", live: " + kits.keySet());
        }
        return kit;
    }

    public Address address(String node) {
        return address(kit(node));
    }

    /** The live nodes in start order. */
    public List<String> nodes() {
        synchronized (kits) {
            return List.copyOf(kits.keySet());
        }
    }

    private List<ActorTestKit> liveKits() {
        synchronized (kits) {
            return new ArrayList<>(kits.values());
        }
    }

    /** Terminates every live node. */
    @Override
    public void close() {
        for (String n : nodes()) {
            stop(n);
        }
    }

    public static Address address(ActorTestKit kit) {
        return Cluster.get(kit.system()).selfMember().address();
    }

    /** Members that {@code system} currently sees Up. */
    public static long upMembers(ActorSystem<?> system) {
        long n = 0;
        for (Member m : Cluster.get(system).state().getMembers()) {
            if (m.status() == MemberStatus.up()) {
                n++;
            }
        }
        return n;
    }

    /** Polls {@code condition} every 50 ms until it holds; an AssertionError naming {@code what} after {@code within}. */
    public static void eventually(String what, Duration within, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + within + " waiting until " + what);
            }
            Thread.sleep(50);
        }
    }
}
