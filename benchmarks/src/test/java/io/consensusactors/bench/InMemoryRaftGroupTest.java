package io.consensusactors.bench;

import io.consensusactors.raft.core.ProposeResult;
import io.consensusactors.raft.core.ReadConsistency;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The benchmark driver must do the work it claims to measure: a proposal counts only once it is committed and
 * applied on every member and persisted before its acknowledgement (Raft §5.3, the Ready contract), and a
 * linearizable read only once the leader confirmed its leadership (dissertation §6.4).
 */
class InMemoryRaftGroupTest {

    @Test
    void everyProposalIsPersistedOnAllThreeMembersInOneDrainAndAppliedByAllAtTheNextHeartbeat() {
        InMemoryRaftGroup group = InMemoryRaftGroup.threeNodes();
        InMemoryRaftGroup.Member leader = group.electLeader();
        long before = leader.node.commitIndex();
        for (int i = 0; i < 256; i++) {
            assertInstanceOf(ProposeResult.Accepted.class, leader.node.propose(0, 0, new byte[64]));
        }
        group.drain();
        long expected = before + 256;
        assertEquals(expected, leader.node.commitIndex(), "leader commit after one drain");
        assertEquals(expected, leader.applied, "leader applied after one drain");
        for (String id : new String[] {"a", "b", "c"}) {
            InMemoryRaftGroup.Member m = group.member(id);
            assertEquals(expected, m.stored.get(m.stored.size() - 1).index(), id + " persisted");
        }
        // a commit advance sends nothing by itself: followers learn it from the next message, here a heartbeat
        for (int t = 0; t < 10 && !allApplied(group, expected); t++) {
            leader.node.tick();
            group.drain();
        }
        for (String id : new String[] {"a", "b", "c"}) {
            assertEquals(expected, group.member(id).applied, id + " applied");
        }
    }

    private static boolean allApplied(InMemoryRaftGroup group, long index) {
        for (String id : new String[] {"a", "b", "c"}) {
            if (group.member(id).applied < index) {
                return false;
            }
        }
        return true;
    }

    @Test
    void theLogIsCompactedSoLongBenchmarksRunInBoundedMemory() {
        InMemoryRaftGroup group = InMemoryRaftGroup.threeNodes();
        InMemoryRaftGroup.Member leader = group.electLeader();
        for (int round = 0; round < 100; round++) {
            for (int i = 0; i < 256; i++) {
                leader.node.propose(0, 0, new byte[64]);
            }
            group.drain();
        }
        assertTrue(leader.node.firstIndex() > 10_000, "log compacted, first index " + leader.node.firstIndex());
        assertTrue(leader.stored.size() <= 10_000 + 256, "stored entries " + leader.stored.size());
    }

    @Test
    void linearizableReadsAreAnsweredOnlyAfterAQuorumRound() {
        InMemoryRaftGroup group = InMemoryRaftGroup.threeNodes();
        InMemoryRaftGroup.Member leader = group.electLeader();
        for (int i = 1; i <= 16; i++) {
            leader.node.read(i, ReadConsistency.LINEARIZABLE);
        }
        // before any message is delivered the leader has not heard from a quorum: nothing may be answered yet
        assertTrue(leader.node.hasReady());
        group.drain();
        assertEquals(16, group.takeReadStates());
    }
}
