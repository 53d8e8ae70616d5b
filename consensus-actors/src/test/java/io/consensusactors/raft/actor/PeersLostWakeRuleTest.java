package io.consensusactors.raft.actor;

import io.consensusactors.raft.core.Configuration;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Which quiesced members a host wakes when peer nodes leave its listing ({@link RaftMember.PeersLost}). Properties:
 * liveness — every quiesced member whose group needs it to act wakes (a follower whose leader is gone must time out
 * and elect, Raft §5.2; a leader without a reachable quorum must run CheckQuorum and step down, dissertation §6.2);
 * cost — a quiesced member whose leader and quorum are still reachable sleeps on, so losing one node of three wakes
 * about a third of the idle groups instead of all of them. A member that is awake needs no wake.
 */
class PeersLostWakeRuleTest {

    record Case(String name, boolean quiesced, String self, String leader, Configuration config, Set<String> reachable,
                boolean wakes) {
    }

    static final Configuration ABC = Configuration.of(List.of("a", "b", "c"));
    /** Joint C(old = {a, b, c}, new = {a, d, e}). */
    static final Configuration JOINT = new Configuration(new java.util.TreeSet<>(List.of("a", "d", "e")),
            new java.util.TreeSet<>(List.of("a", "b", "c")), new java.util.TreeSet<>());

    @Test
    void aQuiescedMemberWakesExactlyWhenItsGroupNeedsIt() {
        List<Case> cases = List.of(
                new Case("follower, leader lost", true, "a", "c", ABC, Set.of("a", "b"), true),
                new Case("follower, another node lost", true, "a", "b", ABC, Set.of("a", "b"), false),
                new Case("follower, leader unknown", true, "a", null, ABC, Set.of("a", "b", "c"), true),
                new Case("leader, one follower lost: quorum kept", true, "a", "a", ABC, Set.of("a", "b"), false),
                new Case("leader, both followers lost", true, "a", "a", ABC, Set.of("a"), true),
                new Case("leader, joint: old half kept, new half lost", true, "a", "a", JOINT, Set.of("a", "b", "c"),
                        true),
                new Case("leader, joint: a quorum of both halves", true, "a", "a", JOINT, Set.of("a", "b", "d"),
                        false),
                new Case("awake follower, leader lost", false, "a", "c", ABC, Set.of("a", "b"), false),
                new Case("awake leader, both followers lost", false, "a", "a", ABC, Set.of("a"), false));
        for (Case c : cases) {
            assertEquals(c.wakes(), RaftMember.wakesOnPeersLost(c.quiesced(), c.self(), c.leader(), c.config(),
                    c.reachable()), c.name());
        }
    }
}
