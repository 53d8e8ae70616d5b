package io.consensusactors.raft.core;

import java.util.List;

/**
 * Messages between members of one Raft group, named as in the paper (Figure 2) and the dissertation. Every message
 * carries the sender's term; members are identified by strings unique within the group.
 */
public sealed interface RaftMessage {
    long term();

    String from();

    String to();

    /** RequestVote (§5.2), or its PreVote probe (dissertation §9.6) which does not change anyone's term. */
    record RequestVote(long term, String from, String to, long lastLogIndex, long lastLogTerm, boolean preVote,
                       boolean transfer) implements RaftMessage {
    }

    record RequestVoteResponse(long term, String from, String to, boolean granted, boolean preVote)
            implements RaftMessage {
    }

    /** AppendEntries (§5.3). */
    record AppendEntries(long term, String from, String to, long prevLogIndex, long prevLogTerm, List<Entry> entries,
                         long leaderCommit) implements RaftMessage {
        public AppendEntries {
            entries = List.copyOf(entries);
        }

        @Override
        public String toString() {
            return "AppendEntries[" + from + "->" + to + " t" + term + " prev=" + prevLogIndex + "@" + prevLogTerm
                    + " n=" + entries.size() + (entries.isEmpty() ? "" : " last=" + entries.get(entries.size() - 1).index())
                    + " commit=" + leaderCommit + "]";
        }
    }

    /**
     * Reply to AppendEntries. On success {@code index} is the last index now matching the leader. On rejection
     * {@code index} is the rejected prevLogIndex and {@code hintIndex}/{@code hintTerm} let the leader skip a whole
     * conflicting term at once (§5.3, "fast back-off").
     */
    record AppendEntriesResponse(long term, String from, String to, boolean success, long index, long hintIndex,
                                 long hintTerm) implements RaftMessage {
    }

    /**
     * Leader heartbeat: keeps followers from campaigning, carries the commit index a follower may use and a read
     * round number acknowledged for ReadIndex and leases. {@code quiesce} tells an up-to-date follower of an idle
     * group to stop its election timer until the next message.
     */
    record Heartbeat(long term, String from, String to, long commit, long readRound, boolean quiesce)
            implements RaftMessage {
    }

    record HeartbeatResponse(long term, String from, String to, long readRound, long lastIndex)
            implements RaftMessage {
    }

    /** One chunk of a snapshot (§7). The follower installs it when the chunk with {@code done} arrives. */
    record InstallSnapshot(long term, String from, String to, SnapshotMeta meta, long offset, byte[] chunk,
                           boolean done) implements RaftMessage {
        @Override
        public String toString() {
            return "InstallSnapshot[" + from + "->" + to + " t" + term + " " + meta.index() + "@" + meta.term()
                    + " off=" + offset + " len=" + chunk.length + (done ? " done" : "") + "]";
        }
    }

    /**
     * Reply to a snapshot chunk: {@code nextOffset} is the offset the follower expects next; when {@code installed},
     * the follower's log now matches the leader up to {@code index}.
     */
    record InstallSnapshotResponse(long term, String from, String to, long snapshotIndex, long nextOffset,
                                   boolean installed, long index) implements RaftMessage {
    }

    /** Leadership transfer (dissertation §3.10): the target starts an election at once. */
    record TimeoutNow(long term, String from, String to) implements RaftMessage {
    }

    /** A follower forwards a linearizable read to the leader (dissertation §6.4). */
    record ReadIndexRequest(long term, String from, String to, long context) implements RaftMessage {
    }

    record ReadIndexResponse(long term, String from, String to, long context, long index, boolean ok)
            implements RaftMessage {
    }
}
