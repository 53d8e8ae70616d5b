package io.consensusactors.testkit.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;

class SimNetworkTest {

    /** Sends {@code count} numbered messages between random pairs, one send per tick, and drains the network. */
    private static List<Envelope<Integer>> run(long seed, NetworkFaults faults, int count) {
        Random rng = new Random(seed);
        SimNetwork<Integer> net = new SimNetwork<>(5, rng);
        net.setFaults(faults);
        List<Envelope<Integer>> out = new ArrayList<>();
        long now = 0;
        for (int i = 0; i < count; i++, now++) {
            net.send(now, rng.nextInt(5), rng.nextInt(5), i);
            out.addAll(net.deliverDue(now));
        }
        while (net.inFlight() > 0) {
            now = net.nextDeliveryTime();
            out.addAll(net.deliverDue(now));
        }
        return out;
    }

    @Test
    void sameSeedGivesIdenticalDeliverySequence() {
        NetworkFaults faults = new NetworkFaults(0.2, 0.15, 1, 8);
        for (long seed = 1; seed <= 20; seed++) {
            assertEquals(run(seed, faults, 500), run(seed, faults, 500), "seed " + seed);
        }
        assertNotEquals(run(1, faults, 500), run(2, faults, 500), "different seeds should give different schedules");
    }

    @Test
    void withoutFaultsEveryMessageArrivesOnceInSendOrder() {
        List<Envelope<Integer>> out = run(7, NetworkFaults.NONE, 300);
        assertEquals(300, out.size());
        for (int i = 0; i < out.size(); i++) {
            assertEquals(i, out.get(i).message());
            assertEquals(out.get(i).deliverAt(), i + 1, "NONE delays exactly one tick");
        }
    }

    @Test
    void deliveryIsOrderedByDeliverAtThenSeqAndNeverEarly() {
        Random rng = new Random(3);
        SimNetwork<Integer> net = new SimNetwork<>(3, rng);
        net.setFaults(new NetworkFaults(0, 0.3, 2, 9));
        for (int i = 0; i < 200; i++) {
            net.send(i / 10, 0, 1 + (i % 2), i);
        }
        List<Envelope<Integer>> all = new ArrayList<>();
        Map<Integer, Long> sentAt = new HashMap<>();
        for (int i = 0; i < 200; i++) {
            sentAt.put(i, (long) (i / 10));
        }
        long now = 0;
        while (net.inFlight() > 0) {
            now = net.nextDeliveryTime();
            for (Envelope<Integer> e : net.deliverDue(now)) {
                assertTrue(e.deliverAt() <= now);
                long delay = e.deliverAt() - sentAt.get(e.message());
                assertTrue(delay >= 2 && delay <= 9, "delay " + delay + " outside [2, 9]");
                all.add(e);
            }
        }
        for (int i = 1; i < all.size(); i++) {
            Envelope<Integer> a = all.get(i - 1);
            Envelope<Integer> b = all.get(i);
            assertTrue(a.deliverAt() < b.deliverAt() || (a.deliverAt() == b.deliverAt() && a.seq() < b.seq()),
                    "out of (deliverAt, seq) order: " + a + " then " + b);
        }
        boolean reordered = false;
        for (int i = 1; i < all.size(); i++) {
            reordered |= all.get(i).message() < all.get(i - 1).message();
        }
        assertTrue(reordered, "a delay range wider than one tick must reorder some messages");
        assertEquals(200 + net.duplicated(), all.size(), "no drops: every send and every duplicate arrives");
        assertTrue(net.duplicated() > 30 && net.duplicated() < 100, "about 30% duplicated: " + net.duplicated());
    }

    @Test
    void dropAndDuplicateRatesAreRoughlyHonoured() {
        Random rng = new Random(11);
        SimNetwork<Integer> net = new SimNetwork<>(2, rng);
        net.setFaults(new NetworkFaults(0.25, 0.1, 1, 1));
        for (int i = 0; i < 10_000; i++) {
            net.send(0, 0, 1, i);
        }
        List<Envelope<Integer>> out = net.deliverDue(1);
        assertEquals(10_000, net.sent());
        assertEquals(out.size(), net.delivered());
        assertEquals(10_000 - net.dropped() + net.duplicated(), out.size());
        assertTrue(Math.abs(net.dropped() - 2_500) < 250, "dropped " + net.dropped());
        assertTrue(Math.abs(net.duplicated() - 750) < 150, "duplicated " + net.duplicated());
        Set<Integer> seen = new HashSet<>();
        int dups = 0;
        for (Envelope<Integer> e : out) {
            if (!seen.add(e.message())) {
                dups++;
            }
        }
        assertEquals(net.duplicated(), dups, "a duplicate is the same message delivered twice");
    }

    @Test
    void cutDropsAtSendAndInFlightAndHealRestores() {
        SimNetwork<String> net = new SimNetwork<>(3, new Random(1));
        net.send(0, 0, 1, "in-flight");
        net.cut(0, 1);
        assertFalse(net.linked(0, 1));
        assertFalse(net.linked(1, 0));
        assertTrue(net.linked(0, 2));
        net.send(0, 1, 0, "at-send");
        net.send(0, 0, 2, "ok");
        List<Envelope<String>> out = net.deliverDue(1);
        assertEquals(List.of("ok"), out.stream().map(Envelope::message).toList());
        assertEquals(2, net.dropped());
        net.heal();
        assertTrue(net.linked(0, 1) && net.linked(1, 0));
        net.send(1, 0, 1, "after-heal");
        assertEquals(List.of("after-heal"), net.deliverDue(2).stream().map(Envelope::message).toList());
    }

    @Test
    void cutOneWayIsDirectional() {
        SimNetwork<String> net = new SimNetwork<>(2, new Random(1));
        net.cutOneWay(0, 1);
        net.send(0, 0, 1, "lost");
        net.send(0, 1, 0, "arrives");
        assertEquals(List.of("arrives"), net.deliverDue(5).stream().map(Envelope::message).toList());
    }

    @Test
    void isolateCutsEveryLinkOfTheNodeButSelfDeliveryWorks() {
        SimNetwork<String> net = new SimNetwork<>(4, new Random(1));
        net.isolate(2);
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 4; j++) {
                boolean touches2 = i != j && (i == 2 || j == 2);
                assertEquals(!touches2, net.linked(i, j), i + "->" + j);
            }
        }
        net.send(0, 2, 2, "self");
        assertEquals(1, net.deliverDue(1).size(), "a node still talks to itself");
    }

    @Test
    void partitionCutsOnlyLinksAcrossTheSides() {
        SimNetwork<String> net = new SimNetwork<>(5, new Random(1));
        Set<Integer> side = Set.of(0, 3);
        net.partition(side);
        for (int i = 0; i < 5; i++) {
            for (int j = 0; j < 5; j++) {
                boolean across = side.contains(i) != side.contains(j);
                assertEquals(!across, net.linked(i, j), i + "->" + j);
            }
        }
        net.heal();
        for (int i = 0; i < 5; i++) {
            for (int j = 0; j < 5; j++) {
                assertTrue(net.linked(i, j));
            }
        }
    }

    @Test
    void dropInFlightRemovesOnlyMessagesOfTheCrashedNode() {
        SimNetwork<String> net = new SimNetwork<>(3, new Random(1));
        net.send(0, 0, 1, "a");
        net.send(0, 1, 2, "b");
        net.send(0, 2, 0, "c");
        net.dropInFlight(1);
        assertEquals(1, net.inFlight());
        assertEquals(List.of("c"), net.deliverDue(1).stream().map(Envelope::message).toList());
        assertEquals(Long.MAX_VALUE, net.nextDeliveryTime());
    }

    @Test
    void perLinkDropAndMessageFilter() {
        SimNetwork<String> net = new SimNetwork<>(3, new Random(1));
        net.drop(0, 1, 1.0);
        net.dropMessages(m -> m.startsWith("vote"));
        net.send(0, 0, 1, "x");
        net.send(0, 1, 0, "y");
        net.send(0, 0, 2, "vote");
        net.send(0, 0, 2, "append");
        assertEquals(List.of("y", "append"), net.deliverDue(1).stream().map(Envelope::message).toList());
        net.clearDropRules();
        net.send(1, 0, 1, "x");
        net.send(1, 0, 2, "vote");
        assertEquals(2, net.deliverDue(2).size());
    }

    @Test
    void randomFaultsStayInTheDocumentedRanges() {
        Random rng = new Random(5);
        for (int i = 0; i < 1000; i++) {
            NetworkFaults f = NetworkFaults.random(rng);
            assertTrue(f.dropRate() >= 0 && f.dropRate() <= 0.3);
            assertTrue(f.duplicateRate() >= 0 && f.duplicateRate() <= 0.2);
            assertEquals(1, f.minDelay());
            assertTrue(f.maxDelay() >= 1 && f.maxDelay() <= 10);
        }
    }
}
