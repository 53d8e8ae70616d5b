package io.consensusactors.raft.core;

/**
 * Tunables of one Raft member. Time is in ticks: the shell decides how long a tick is (e.g. 50 ms).
 *
 * @param electionTicks        base election timeout; the randomized timeout is uniform in [e, 2e)
 * @param heartbeatTicks       heartbeat interval, well below electionTicks
 * @param preVote              PreVote (dissertation §9.6): a partitioned node does not inflate its term
 * @param checkQuorum          a leader steps down when it has not heard from a quorum for electionTicks, and
 *                             followers ignore vote requests while they hear from a leader (§4.2.3, §6.2)
 * @param maxInflightMessages  pipelining bound: AppendEntries in flight per follower
 * @param maxInflightBytes     pipelining bound in bytes per follower
 * @param maxEntriesPerMessage batching bound per AppendEntries
 * @param maxBytesPerMessage   batching bound per AppendEntries
 * @param snapshotChunkBytes   InstallSnapshot chunk size
 * @param leaseSafetyTicks     how much earlier than electionTicks a lease ends (clock drift margin, see
 *                             {@link ReadConsistency#LEASE})
 * @param maxPromotionLag      a learner may be promoted to voter only if it is at most this many entries behind
 * @param quiesceAfterTicks    an idle leader whose followers are all caught up stops heartbeating after this many
 *                             ticks (0 = never quiesce)
 */
public record RaftConfig(int electionTicks, int heartbeatTicks, boolean preVote, boolean checkQuorum,
                         int maxInflightMessages, long maxInflightBytes, int maxEntriesPerMessage,
                         long maxBytesPerMessage, int snapshotChunkBytes, int leaseSafetyTicks, long maxPromotionLag,
                         int quiesceAfterTicks) {

    public RaftConfig {
        if (heartbeatTicks < 1 || electionTicks <= heartbeatTicks) {
            throw new IllegalArgumentException("need 1 <= heartbeatTicks < electionTicks, got heartbeat="
                    + heartbeatTicks + " election=" + electionTicks);
        }
        if (maxInflightMessages < 1 || maxEntriesPerMessage < 1 || snapshotChunkBytes < 1) {
            throw new IllegalArgumentException("inflight, batch and chunk limits must be at least 1");
        }
        if (leaseSafetyTicks < 0 || leaseSafetyTicks >= electionTicks) {
            throw new IllegalArgumentException("leaseSafetyTicks must be in [0, electionTicks)");
        }
    }

    public static RaftConfig defaults() {
        return new RaftConfig(10, 1, true, true, 256, 8L << 20, 512, 1L << 20, 64 * 1024, 2, 1000, 0);
    }

    public RaftConfig withElection(int election, int heartbeat) {
        return new RaftConfig(election, heartbeat, preVote, checkQuorum, maxInflightMessages, maxInflightBytes,
                maxEntriesPerMessage, maxBytesPerMessage, snapshotChunkBytes, Math.min(leaseSafetyTicks, election - 1),
                maxPromotionLag, quiesceAfterTicks);
    }

    public RaftConfig withPreVote(boolean on) {
        return new RaftConfig(electionTicks, heartbeatTicks, on, checkQuorum, maxInflightMessages, maxInflightBytes,
                maxEntriesPerMessage, maxBytesPerMessage, snapshotChunkBytes, leaseSafetyTicks, maxPromotionLag,
                quiesceAfterTicks);
    }

    public RaftConfig withCheckQuorum(boolean on) {
        return new RaftConfig(electionTicks, heartbeatTicks, preVote, on, maxInflightMessages, maxInflightBytes,
                maxEntriesPerMessage, maxBytesPerMessage, snapshotChunkBytes, leaseSafetyTicks, maxPromotionLag,
                quiesceAfterTicks);
    }

    public RaftConfig withBatching(int inflightMessages, int entriesPerMessage) {
        return new RaftConfig(electionTicks, heartbeatTicks, preVote, checkQuorum, inflightMessages, maxInflightBytes,
                entriesPerMessage, maxBytesPerMessage, snapshotChunkBytes, leaseSafetyTicks, maxPromotionLag,
                quiesceAfterTicks);
    }

    public RaftConfig withSnapshotChunkBytes(int bytes) {
        return new RaftConfig(electionTicks, heartbeatTicks, preVote, checkQuorum, maxInflightMessages,
                maxInflightBytes, maxEntriesPerMessage, maxBytesPerMessage, bytes, leaseSafetyTicks, maxPromotionLag,
                quiesceAfterTicks);
    }

    public RaftConfig withQuiesceAfter(int ticks) {
        return new RaftConfig(electionTicks, heartbeatTicks, preVote, checkQuorum, maxInflightMessages,
                maxInflightBytes, maxEntriesPerMessage, maxBytesPerMessage, snapshotChunkBytes, leaseSafetyTicks,
                maxPromotionLag, ticks);
    }
}
