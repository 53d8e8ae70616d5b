package io.consensusactors.raft.actor;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.consensusactors.persistence.PersistenceSettings;
import io.consensusactors.persistence.SchemaInitializer;
import io.consensusactors.statemachine.KeyValueStateMachine;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Measurement (soak profile, prints figures): three Raft hosts in one JVM carrying many idle groups. Reports the time
 * until every member quiesced (no member waits for a tick on any host), the CPU once idle (whole JVM and per thread
 * pool; per node = a third), heap after GC, the H2 journal size, and the time of a full restart (recovery of every
 * member from the journal until all quiesced again).
 * Run: {@code mvn -pl consensus-actors -am test -Psoak -Dtest=IdleGroupsMeasurement -Dsurefire.failIfNoSpecifiedTests=false
 * -Dsurefire.extraArgLine="-Didle.groups=10000 -Didle.journal=h2"}; {@code -Didle.groups=0} measures three empty hosts.
 */
@Tag("soak")
class IdleGroupsMeasurement {

    static final List<String> NODES = List.of("a", "b", "c");

    @Test
    void idleGroupsCostAlmostNoCpuOnceQuiesced() throws Exception {
        int groups = Integer.getInteger("idle.groups", 2000);
        boolean h2 = "h2".equals(System.getProperty("idle.journal", "h2"));
        Path dir = Files.createTempDirectory("idle-groups");
        int spread = Integer.getInteger("idle.spread-ticks", groups / 50);
        Config base = ConfigFactory.parseString("""
                pekko.loglevel = WARNING
                pekko.logger-startup-timeout = 60s
                pekko.actor.provider = local
                consensus-actors.raft.quiesce-after-ticks = 4
                consensus-actors.raft.first-election-spread-ticks = %d
                """.formatted(spread));
        Config cfg;
        if (h2) {
            Config app = PersistenceSettings.h2(dir, "idle").withFallback(base);
            cfg = PersistenceSettings.forNode(app).withFallback(app).withFallback(ConfigFactory.load());
            SchemaInitializer.createIfNotExists(cfg);
        } else {
            cfg = ConfigFactory.parseString("""
                    pekko.persistence.journal.plugin = "pekko.persistence.journal.inmem"
                    pekko.persistence.snapshot-store.plugin = "pekko.persistence.snapshot-store.local"
                    pekko.persistence.snapshot-store.local.dir = "target/idle-snapshots"
                    """).withFallback(base).withFallback(ConfigFactory.load());
        }
        System.out.printf("idle groups: %d groups x 3 members, first elections spread over %d ticks, journal %s, "
                + "load average %s%n", groups, spread,
                h2 ? "H2 file " + dir : "in-memory", loadAverage());
        boolean settled = run(cfg, groups, "first start", true);
        if (h2) {
            long bytes;
            try (Stream<Path> files = Files.walk(dir)) {
                bytes = files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
            }
            System.out.printf("  H2 journal: %.1f MB (%d bytes per group)%n", bytes / 1e6, groups == 0 ? 0 : bytes / groups);
            settled &= run(cfg, groups, "full restart (recovery from H2)", false);
        }
        assertTrue(settled, "every member quiesced");
    }

    private boolean run(Config cfg, int groups, String phase, boolean measureCpu) throws Exception {
        ActorTestKit kit = ActorTestKit.create("idle", cfg);
        try {
            RaftSettings settings = RaftSettings.from(kit.system().settings().config());
            List<ActorRef<RaftHost.Command>> hosts = new ArrayList<>();
            for (String n : NODES) {
                hosts.add(kit.spawn(RaftHost.create(n, settings, g -> new KeyValueStateMachine()), RaftHost.actorName(n)));
            }
            long t0 = System.nanoTime();
            for (int g = 0; g < groups; g++) {
                for (ActorRef<RaftHost.Command> h : hosts) {
                    h.tell(new RaftHost.StartGroup("idle-" + g, Set.copyOf(NODES)));
                }
            }
            long deadline = System.nanoTime() + Duration.ofMinutes(Long.getLong("idle.settle-minutes", 6)).toNanos();
            boolean settled = false;
            double started = -1;
            while (System.nanoTime() < deadline) {
                int members = 0;
                int awaiting = 0;
                TestProbe<RaftHost.TickStats> p = kit.createTestProbe();
                for (ActorRef<RaftHost.Command> h : hosts) {
                    h.tell(new RaftHost.GetTickStats(p.getRef()));
                    RaftHost.TickStats s = p.receiveMessage(Duration.ofSeconds(120));
                    members += s.members();
                    awaiting += s.membersAwaitingTick();
                }
                double t = (System.nanoTime() - t0) / 1e9;
                if (started < 0 && members == 3 * groups) {
                    started = t;
                }
                int quiesced = members == 3 * groups ? sampledQuiesced(kit, hosts, groups) : -1;
                System.out.printf("  %s %.0f s: %d of %d members started, %d wait for a tick, sampled quiesced %d, load %s%n",
                        phase, t, members, 3 * groups, awaiting, quiesced, loadAverage());
                if (awaiting == 0 && quiesced == 3 * Math.min(300, groups)) {
                    settled = true;
                    break;
                }
                Thread.sleep(2000);
            }
            double settle = (System.nanoTime() - t0) / 1e9;
            System.out.printf("  %s: all %d members started after %.1f s, %s after %.1f s%n", phase, 3 * groups, started,
                    settled ? "all quiesced" : "NOT all quiesced", settle);
            if (measureCpu) {
                measureIdleCpu(kit, hosts);
            }
            return settled;
        } finally {
            kit.shutdownTestKit();
        }
    }

    private static int sampledQuiesced(ActorTestKit kit, List<ActorRef<RaftHost.Command>> hosts, int groups) {
        int sample = Math.min(300, groups);
        TestProbe<RaftMember.Status> p = kit.createTestProbe();
        for (int i = 0; i < sample; i++) {
            int g = (int) ((long) i * groups / sample);
            for (ActorRef<RaftHost.Command> h : hosts) {
                h.tell(new RaftHost.GetMemberStatus("idle-" + g, p.getRef()));
            }
        }
        int quiesced = 0;
        for (int i = 0; i < 3 * sample; i++) {
            if (p.receiveMessage(Duration.ofSeconds(120)).quiesced()) {
                quiesced++;
            }
        }
        return quiesced;
    }

    private static void measureIdleCpu(ActorTestKit kit, List<ActorRef<RaftHost.Command>> hosts) throws Exception {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        var threads = ManagementFactory.getThreadMXBean();
        long ticks0 = ticksSent(kit, hosts);
        Thread.sleep(5000);
        Map<Long, Long> before = new HashMap<>();
        for (long id : threads.getAllThreadIds()) {
            before.put(id, threads.getThreadCpuTime(id));
        }
        long cpu0 = os.getProcessCpuTime();
        long w0 = System.nanoTime();
        Thread.sleep(30_000);
        double cpu = (os.getProcessCpuTime() - cpu0) / (double) (System.nanoTime() - w0);
        Map<String, Long> byPool = new TreeMap<>();
        for (long id : threads.getAllThreadIds()) {
            var info = threads.getThreadInfo(id);
            long t = threads.getThreadCpuTime(id) - before.getOrDefault(id, 0L);
            if (info != null && t > 0) {
                byPool.merge(info.getThreadName().replaceAll("-\\d+$", ""), t, Long::sum);
            }
        }
        byPool.forEach((k, v) -> System.out.printf("    thread CPU %-50s %6.0f ms in 30 s%n", k, v / 1e6));
        long ticks = ticksSent(kit, hosts) - ticks0;
        System.gc();
        Thread.sleep(500);
        var mem = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        System.out.printf("  idle: %.1f%% of one core for 3 nodes = %.2f%% per node; %d ticks sent to members in 35 s; "
                        + "heap after GC %.0f MB (max %.0f MB); load average %s%n", cpu * 100, cpu * 100 / 3, ticks,
                mem.getUsed() / 1e6, mem.getMax() / 1e6, loadAverage());
    }

    private static long ticksSent(ActorTestKit kit, List<ActorRef<RaftHost.Command>> hosts) {
        TestProbe<RaftHost.TickStats> p = kit.createTestProbe();
        long total = 0;
        for (ActorRef<RaftHost.Command> h : hosts) {
            h.tell(new RaftHost.GetTickStats(p.getRef()));
            total += p.receiveMessage(Duration.ofSeconds(120)).ticksSent();
        }
        return total;
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (java.io.IOException e) {
            return "?";
        }
    }
}
