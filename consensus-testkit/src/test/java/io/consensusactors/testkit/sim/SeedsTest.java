package io.consensusactors.testkit.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SeedsTest {
    private static final String PROP = "seedstest.seed";
    private String savedSeeds;

    @AfterEach
    void restore() {
        System.clearProperty(PROP);
        System.clearProperty(PROP + ".start");
        if (savedSeeds == null) {
            System.clearProperty("sim.seeds");
        } else {
            System.setProperty("sim.seeds", savedSeeds);
        }
    }

    private void withSimSeeds(String v) {
        savedSeeds = System.getProperty("sim.seeds");
        if (v == null) {
            System.clearProperty("sim.seeds");
        } else {
            System.setProperty("sim.seeds", v);
        }
    }

    @Test
    void runsSeedsOneToCountFromSimSeeds() {
        withSimSeeds("7");
        List<Long> seen = new ArrayList<>();
        Seeds.forEach(PROP, 1000, seen::add);
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L), seen);
        assertEquals(7, Seeds.count(1000));
    }

    @Test
    void defaultCountWhenSimSeedsUnset() {
        withSimSeeds(null);
        assertEquals(42, Seeds.count(42));
        List<Long> seen = new ArrayList<>();
        Seeds.forEach(PROP, 3, seen::add);
        assertEquals(List.of(1L, 2L, 3L), seen);
    }

    @Test
    void startPropertyShiftsTheRange() {
        withSimSeeds("3");
        System.setProperty(PROP + ".start", "100");
        List<Long> seen = new ArrayList<>();
        Seeds.forEach(PROP, 1000, seen::add);
        assertEquals(List.of(100L, 101L, 102L), seen);
    }

    @Test
    void replayPropertyRunsOnlyThatSeed() {
        withSimSeeds("1000");
        System.setProperty(PROP, "4242");
        List<Long> seen = new ArrayList<>();
        Seeds.forEach(PROP, 1000, seen::add);
        assertEquals(List.of(4242L), seen);
    }

    @Test
    void failureNamesTheSeedAndHowToReplayItAndKeepsTheCause() {
        withSimSeeds("50");
        IllegalStateException boom = new IllegalStateException("invariant broken");
        List<Long> seen = new ArrayList<>();
        AssertionError e = assertThrows(AssertionError.class, () -> Seeds.forEach(PROP, 1000, seed -> {
            seen.add(seed);
            if (seed == 13) {
                throw boom;
            }
        }));
        assertTrue(e.getMessage().startsWith("seed=13 (replay with -D" + PROP + "=13)"), e.getMessage());
        assertTrue(e.getMessage().contains("invariant broken"), e.getMessage());
        assertSame(boom, e.getCause());
        assertEquals(13, seen.size(), "stops at the first failing seed");
    }
}
