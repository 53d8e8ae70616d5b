package io.consensusactors.sharding.pekko;

import io.consensusactors.sharding.ring.HashRing;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Routing agrees with the ring: a key always reaches the routee that owns it, messages sent before any routee exists
 * are delivered when one registers, and when a routee goes away only its keys move.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RingRouterTest {

    private final ActorTestKit kit = ActorTestKit.create();

    @AfterAll
    void shutdown() {
        kit.shutdownTestKit();
    }

    record Delivered(String routee, String key) {}

    /** A routee that reports what it received, registered under {@code key}. */
    static Behavior<String> routee(String name, ServiceKey<String> key, ActorRef<Delivered> report) {
        return Behaviors.setup(ctx -> {
            ctx.getSystem().receptionist().tell(Receptionist.register(key, ctx.getSelf()));
            return Behaviors.receiveMessage(k -> {
                report.tell(new Delivered(name, k));
                return Behaviors.same();
            });
        });
    }

    private Map<String, String> routeAll(ActorRef<RingRouter.Command<String>> router, TestProbe<Delivered> probe,
                                         int keys) {
        Map<String, String> where = new HashMap<>();
        for (int i = 0; i < keys; i++) {
            router.tell(new RingRouter.Route<>("key-" + i, "key-" + i));
        }
        for (int i = 0; i < keys; i++) {
            Delivered d = probe.expectMessageClass(Delivered.class, Duration.ofSeconds(5));
            where.put(d.key(), d.routee());
        }
        return where;
    }

    @Test
    void keysReachTheirRingOwnerAndOnlyTheKeysOfARemovedRouteeMove() throws InterruptedException {
        ServiceKey<String> key = ServiceKey.create(String.class, "ring-router-test");
        TestProbe<Delivered> probe = kit.createTestProbe();
        ActorRef<RingRouter.Command<String>> router = kit.spawn(RingRouter.create(key, 64, 100));
        // Sent before any routee exists: buffered, then delivered.
        router.tell(new RingRouter.Route<>("early", "early"));
        Map<String, ActorRef<String>> refs = new HashMap<>();
        Map<String, String> nameOfId = new HashMap<>();
        ActorRefResolver resolver = ActorRefResolver.get(kit.system());
        for (String name : List.of("r1", "r2", "r3", "r4")) {
            ActorRef<String> ref = kit.spawn(routee(name, key, probe.getRef()), name);
            refs.put(name, ref);
            nameOfId.put(resolver.toSerializationFormat(ref), name);
        }
        assertEquals("early", probe.expectMessageClass(Delivered.class, Duration.ofSeconds(5)).key());
        // Wait until the router sees all four (the listing arrives asynchronously).
        HashRing ring = HashRing.ofIds(64, new ArrayList<>(nameOfId.keySet()));
        eventually(() -> {
            Map<String, String> where = routeAll(router, probe, 50);
            where.forEach((k, routee) -> assertEquals(nameOfId.get(ring.owner(k)), routee, k));
        });
        Map<String, String> before = routeAll(router, probe, 200);

        kit.stop(refs.get("r2"));
        eventually(() -> {
            Map<String, String> after = routeAll(router, probe, 200);
            before.forEach((k, routee) -> {
                if (!routee.equals("r2")) {
                    assertEquals(routee, after.get(k), "keys of surviving routees stay put: " + k);
                } else {
                    assertEquals(false, after.get(k).equals("r2"), "r2's keys moved");
                }
            });
        });
    }

    /** Retries an assertion while the Receptionist listing propagates (at most 10 s). */
    private static void eventually(Runnable assertion) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            try {
                assertion.run();
                return;
            } catch (AssertionError e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }
}
