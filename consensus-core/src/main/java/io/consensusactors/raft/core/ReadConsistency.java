package io.consensusactors.raft.core;

/**
 * How a read is served: the CAP choice made explicit per request.
 * <ul>
 *   <li>{@link #LINEARIZABLE}: ReadIndex (dissertation §6.4) — the leader confirms it is still leader with a quorum
 *   round (shared by every read in the same batch) and the read waits until the commit index at request time is
 *   applied. Safe under any timing.</li>
 *   <li>{@link #LEASE}: the leader answers at its commit index without a round while it holds a lease: a quorum
 *   acknowledged a heartbeat sent at tick T, and with CheckQuorum no follower votes for another leader until it has
 *   missed a full election timeout, so no other leader can exist before T + electionTicks. The lease ends
 *   {@code leaseSafetyTicks} earlier to absorb clock drift between nodes: correct only if clocks advance at rates
 *   within that margin (bounded drift), not under arbitrary process pauses of the leader longer than the margin.</li>
 *   <li>{@link #STALE}: any replica answers from what it has applied; may lag arbitrarily (BASE).</li>
 * </ul>
 */
public enum ReadConsistency { LINEARIZABLE, LEASE, STALE }
