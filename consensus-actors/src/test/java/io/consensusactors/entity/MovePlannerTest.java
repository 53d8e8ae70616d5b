package io.consensusactors.entity;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The leader's plan for moving a group (pure). Properties: one replica exchanged at a time, through a learner that
 * must exist before it is promoted (Raft dissertation §4.2.1, catching up new servers; §4.3 joint consensus); the
 * voter count never drops below the replica count; a leader to be removed hands leadership over first; the plan
 * converges to the target from any configuration, whoever leads.
 */
class MovePlannerTest {

    static SortedSet<String> set(String... s) {
        return new TreeSet<>(List.of(s));
    }

    @Test
    void joiningOwnerIsAddedAsLearnerThenSwappedForOneOldReplica() {
        MovePlanner.Step s1 = MovePlanner.plan("a", set("a", "b", "c"), set(), false, List.of("a", "d", "b"), 3, true);
        assertEquals(new MovePlanner.Change(set("a", "b", "c"), set("d"), "add learner d"), s1);
        MovePlanner.Step s2 = MovePlanner.plan("a", set("a", "b", "c"), set("d"), false, List.of("a", "d", "b"), 3, true);
        assertEquals(set("a", "b", "d"), ((MovePlanner.Change) s2).voters());
        assertEquals(set(), ((MovePlanner.Change) s2).learners());
    }

    @Test
    void nothingWhileJointOrInPlace() {
        assertInstanceOf(MovePlanner.Wait.class,
                MovePlanner.plan("a", set("a", "b", "d"), set(), true, List.of("a", "b", "d"), 3, true));
        assertInstanceOf(MovePlanner.InPlace.class,
                MovePlanner.plan("a", set("a", "b", "c"), set(), false, List.of("c", "b", "a"), 3, true));
    }

    @Test
    void budgetStopsOnlyNewMoves() {
        assertInstanceOf(MovePlanner.Wait.class,
                MovePlanner.plan("a", set("a", "b", "c"), set(), false, List.of("a", "d", "b"), 3, false));
        // a move already under way (learner present) continues whatever the budget
        assertInstanceOf(MovePlanner.Change.class,
                MovePlanner.plan("a", set("a", "b", "c"), set("d"), false, List.of("a", "d", "b"), 3, false));
    }

    @Test
    void neverShrinksBelowReplicasWhenNoReplacementExists() {
        // c is gone and only a, b host replicas: the group keeps c as a voter rather than dropping to two
        assertInstanceOf(MovePlanner.InPlace.class,
                MovePlanner.plan("a", set("a", "b", "c"), set(), false, List.of("a", "b"), 3, true));
        // a surplus replica (four voters for three replicas) is removed
        MovePlanner.Step s = MovePlanner.plan("a", set("a", "b", "c", "d"), set(), false, List.of("a", "b", "d"), 3, true);
        assertEquals(set("a", "b", "d"), ((MovePlanner.Change) s).voters());
    }

    @Test
    void leaderToBeRemovedTransfersLeadershipFirst() {
        MovePlanner.Step s = MovePlanner.plan("c", set("a", "b", "c"), set("d"), false, List.of("d", "b", "a"), 3, true);
        assertEquals(new MovePlanner.Transfer("b"), s);
        // with nobody to hand over to (a single replica) the leader removes itself
        MovePlanner.Step alone = MovePlanner.plan("c", set("c"), set("d"), false, List.of("d"), 1, true);
        assertEquals(set("d"), ((MovePlanner.Change) alone).voters());
    }

    @Test
    void staleLearnersAreDropped() {
        MovePlanner.Step s = MovePlanner.plan("a", set("a", "b", "c"), set("e"), false, List.of("a", "b", "c"), 3, true);
        assertEquals(new MovePlanner.Change(set("a", "b", "c"), set(), "drop learners that are not owners any more [e]"), s);
    }

    /**
     * From random configurations to random targets, with the leader changing at random: every Change adds at most one
     * voter (a learner of the previous configuration) and removes at most one, voters stay >= replicas (or the
     * starting size if smaller), and the group reaches exactly the target voters.
     */
    @Test
    void convergesFromAnyConfigurationWhateverTheLeader() {
        Random rnd = new Random(Long.getLong("sim.seeds", 20261124L));
        List<String> nodes = List.of("n1", "n2", "n3", "n4", "n5", "n6");
        for (int run = 0; run < 2000; run++) {
            int replicas = 1 + rnd.nextInt(3);
            List<String> shuffled = new ArrayList<>(nodes);
            Collections.shuffle(shuffled, rnd);
            SortedSet<String> voters = new TreeSet<>(shuffled.subList(0, replicas));
            Collections.shuffle(shuffled, rnd);
            List<String> target = List.copyOf(shuffled.subList(0, replicas));
            SortedSet<String> learners = new TreeSet<>();
            String leader = voters.first();
            int steps = 0;
            while (true) {
                assertTrue(++steps < 50, "run " + run + " did not converge: " + voters + " -> " + target);
                if (rnd.nextInt(5) == 0) {
                    leader = new ArrayList<>(voters).get(rnd.nextInt(voters.size())); // leader change mid-move
                }
                MovePlanner.Step step = MovePlanner.plan(leader, voters, learners, false, target, replicas, true);
                if (step instanceof MovePlanner.InPlace) {
                    break;
                }
                if (step instanceof MovePlanner.Transfer t) {
                    assertTrue(voters.contains(t.to()) && !t.to().equals(leader));
                    leader = t.to();
                    continue;
                }
                MovePlanner.Change c = (MovePlanner.Change) assertInstanceOf(MovePlanner.Change.class, step);
                SortedSet<String> added = new TreeSet<>(c.voters());
                added.removeAll(voters);
                SortedSet<String> removed = new TreeSet<>(voters);
                removed.removeAll(c.voters());
                assertTrue(added.size() <= 1 && removed.size() <= 1, "one exchange at a time: " + voters + " -> " + c);
                assertTrue(learners.containsAll(added), "new voters were learners first");
                assertTrue(c.voters().size() >= Math.min(replicas, voters.size()), "never below the replica count");
                voters = c.voters();
                learners = c.learners();
                if (!voters.contains(leader)) {
                    leader = voters.first(); // the removed leader stepped down after C(new) committed
                }
            }
            assertEquals(Set.copyOf(target), voters, "run " + run);
            assertTrue(learners.isEmpty());
        }
    }
}
