package io.consensusactors.raft.core;

import java.util.ArrayDeque;

/** The leader's view of one follower (etcd's Progress): match/next indexes, replication state, in-flight window. */
final class Progress {
    enum State { PROBE, REPLICATE, SNAPSHOT }

    long match;
    long next;
    State state = State.PROBE;
    /** PROBE: one AppendEntries sent and unanswered; no more until a reply or a heartbeat response. */
    boolean probeSent;
    boolean recentActive;
    long readRoundAcked;
    long matchAtLastHeartbeat = -1;
    int stalledHeartbeats;
    /** SNAPSHOT state: which snapshot is being sent and the next chunk offset the follower expects. */
    long snapshotIndex;
    long snapshotOffset;
    int snapshotStallTicks;

    private final ArrayDeque<long[]> inflight = new ArrayDeque<>(); // {lastIndex, bytes}
    private long inflightBytes;

    Progress(long match, long next) {
        this.match = match;
        this.next = next;
    }

    boolean paused(RaftConfig config) {
        switch (state) {
            case PROBE:
                return probeSent;
            case REPLICATE:
                return inflight.size() >= config.maxInflightMessages() || inflightBytes >= config.maxInflightBytes();
            default:
                return true;
        }
    }

    void addInflight(long lastIndex, long bytes) {
        inflight.addLast(new long[]{lastIndex, bytes});
        inflightBytes += bytes;
    }

    void freeInflightUpTo(long index) {
        while (!inflight.isEmpty() && inflight.peekFirst()[0] <= index) {
            inflightBytes -= inflight.pollFirst()[1];
        }
    }

    int inflightCount() {
        return inflight.size();
    }

    void becomeProbe() {
        state = State.PROBE;
        probeSent = false;
        inflight.clear();
        inflightBytes = 0;
        next = Math.max(next, match + 1);
    }

    void becomeReplicate() {
        state = State.REPLICATE;
        probeSent = false;
        next = Math.max(next, match + 1);
    }

    void becomeSnapshot(long index) {
        state = State.SNAPSHOT;
        inflight.clear();
        inflightBytes = 0;
        snapshotIndex = index;
        snapshotOffset = 0;
        snapshotStallTicks = 0;
    }

    /** Returns true if the match index moved forward. */
    boolean maybeUpdate(long index) {
        boolean updated = false;
        if (index > match) {
            match = index;
            updated = true;
            probeSent = false;
        }
        next = Math.max(next, index + 1);
        return updated;
    }

    @Override
    public String toString() {
        return state + " match=" + match + " next=" + next + " inflight=" + inflight.size();
    }
}
