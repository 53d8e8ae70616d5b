package io.consensusactors.raft.actor;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.consensusactors.statemachine.KeyValueStateMachine;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Measurement (soak profile, prints figures): CPU of Raft hosts carrying many idle groups once they have elected
 * leaders and quiesced. Three hosts share this JVM, so the per-node figure is a third of what is printed.
 * Run: {@code mvn -pl consensus-actors test -Psoak -Dtest=IdleGroupsMeasurement -Didle.groups=10000}.
 */
@Tag("soak")
class IdleGroupsMeasurement {

    @Test
    void idleGroupsCostAlmostNoCpuOnceQuiesced() throws Exception {
        int groups = Integer.getInteger("idle.groups", 2000);
        Config cfg = ConfigFactory.parseString("""
                pekko.loglevel = WARNING
                pekko.actor.provider = local
                pekko.persistence.journal.plugin = "pekko.persistence.journal.inmem"
                pekko.persistence.snapshot-store.plugin = "pekko.persistence.snapshot-store.local"
                pekko.persistence.snapshot-store.local.dir = "target/idle-snapshots"
                consensus-actors.raft.quiesce-after-ticks = 20
                """).withFallback(ConfigFactory.load());
        ActorTestKit kit = ActorTestKit.create("idle", cfg);
        try {
            RaftSettings settings = RaftSettings.from(kit.system().settings().config());
            List<ActorRef<RaftHost.Command>> hosts = new ArrayList<>();
            for (String n : List.of("a", "b", "c")) {
                hosts.add(kit.spawn(RaftHost.create(n, settings, g -> new KeyValueStateMachine()), RaftHost.actorName(n)));
            }
            long t0 = System.nanoTime();
            for (int g = 0; g < groups; g++) {
                for (ActorRef<RaftHost.Command> h : hosts) {
                    h.tell(new RaftHost.StartGroup("idle-" + g, Set.of("a", "b", "c")));
                }
            }
            // wait until every member reports quiesced
            long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
            int quiesced = 0;
            int sample = Math.min(300, groups);
            while (System.nanoTime() < deadline) {
                TestProbe<RaftMember.Status> p = kit.createTestProbe();
                for (int i = 0; i < sample; i++) {
                    int g = (int) ((long) i * groups / sample);
                    for (ActorRef<RaftHost.Command> h : hosts) {
                        h.tell(new RaftHost.GetMemberStatus("idle-" + g, p.getRef()));
                    }
                }
                quiesced = 0;
                long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                for (int i = 0; i < 3 * sample && System.nanoTime() < until; i++) {
                    try {
                        if (p.receiveMessage(Duration.ofNanos(Math.max(1, until - System.nanoTime()))).quiesced()) {
                            quiesced++;
                        }
                    } catch (AssertionError stillRecovering) {
                        break;
                    }
                }
                System.out.printf("  %.0f s: %d of %d sampled members quiesced%n", (System.nanoTime() - t0) / 1e9, quiesced, 3 * sample);
                if (quiesced == 3 * sample) {
                    break;
                }
                Thread.sleep(2000);
            }
            double settle = (System.nanoTime() - t0) / 1e9;
            var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            Thread.sleep(5000);
            long cpu0 = os.getProcessCpuTime();
            long w0 = System.nanoTime();
            Thread.sleep(30_000);
            double cpu = (os.getProcessCpuTime() - cpu0) / (double) (System.nanoTime() - w0);
            System.out.printf("idle groups: %d groups x 3 members in one JVM, elected and quiesced in %.1f s (%d sampled members quiesced); "
                    + "CPU while idle: %.1f%% of one core for 3 nodes = %.2f%% per node%n", groups, settle, quiesced,
                    cpu * 100, cpu * 100 / 3);
            assertTrue(quiesced > 0, "groups quiesce");
        } finally {
            kit.shutdownTestKit();
        }
    }
}
