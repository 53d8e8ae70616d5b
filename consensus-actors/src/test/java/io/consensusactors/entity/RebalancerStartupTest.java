package io.consensusactors.entity;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.consensusactors.persistence.PersistenceSettings;
import io.consensusactors.persistence.SchemaInitializer;
import io.consensusactors.raft.actor.RaftHost;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LoggingTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A node whose own membership is not Up yet (a slow join) sees no member hosting replicas: its rebalancer must
 * neither fail nor move anything, and must start working once the node is Up. (Found by the multi-JVM test: a
 * rebalancer that planned over an empty ring crashed and stopped rebalancing on that node for good.)
 */
class RebalancerStartupTest {

    ActorTestKit kit;

    @AfterEach
    void stop() {
        kit.shutdownTestKit();
    }

    @Test
    void noMemberUpMeansNoMovesAndNoFailure() {
        Config app = PersistenceSettings.h2InMemory("rebalancer-startup-" + System.nanoTime()).withFallback(ConfigFactory.parseString("""
                pekko.loglevel = WARNING
                pekko.actor.provider = cluster
                pekko.remote.artery.canonical.hostname = 127.0.0.1
                pekko.remote.artery.canonical.port = 0
                pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
                pekko.coordinated-shutdown.exit-jvm = off
                pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off
                consensus-actors.raft.tick-interval = 20ms
                consensus-actors.entities.rebalance.interval = 50ms
                consensus-actors.entities.rebalance.stable-after = 0s
                """));
        Config cfg = PersistenceSettings.forNode(app).withFallback(app).withFallback(ConfigFactory.load());
        SchemaInitializer.createIfNotExists(cfg);
        kit = ActorTestKit.create("RebalancerStartupTest", cfg);
        ReplicatedEntityType<TestRegister.Command, TestRegister.Event, TestRegister.State> type =
                ReplicatedEntityType.of("solo", TestRegister::new).withShards(2).withReplicas(1);
        // not joined to any cluster yet: the node is not Up, so no member hosts replicas
        LoggingTestKit.error(Exception.class).withOccurrences(0).expect(kit.system(), () -> {
            ConsensusEntities e = ConsensusEntities.start(kit.system(), "a", List.of("a"), List.of(type));
            TestProbe<Rebalancer.Stats> stats = kit.createTestProbe();
            TestProbe<Set<String>> groups = kit.createTestProbe();
            e.host().tell(new RaftHost.GetGroups(groups.getRef()));
            assertEquals(Set.of("solo-0", "solo-1"), groups.receiveMessage());
            try {
                Thread.sleep(1000); // ~20 rounds with nobody Up
            } catch (InterruptedException ie) {
                throw new AssertionError(ie);
            }
            e.rebalancer().tell(new Rebalancer.GetStats(stats.getRef()));
            Rebalancer.Stats s = stats.receiveMessage();
            assertTrue(s.hosting().isEmpty(), "nobody Up: " + s);
            assertFalse(s.stable(), "no movement without members: " + s);
            assertEquals(0, s.changesApplied());

            Cluster.get(kit.system()).manager().tell(Join.create(Cluster.get(kit.system()).selfMember().address()));
            stats.awaitAssert(Duration.ofSeconds(20), () -> {
                e.rebalancer().tell(new Rebalancer.GetStats(stats.getRef()));
                Rebalancer.Stats up = stats.receiveMessage();
                assertEquals(Set.of("a"), up.hosting());
                assertTrue(up.stable());
                return null;
            });
            e.host().tell(new RaftHost.GetGroups(groups.getRef()));
            assertEquals(Set.of("solo-0", "solo-1"), groups.receiveMessage(), "groups in place stay");
            assertEquals(0, s.membersStopped());
            return null;
        });
    }
}
