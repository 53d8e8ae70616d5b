package io.consensusactors.bank.node;

import io.consensusactors.sharding.pekko.RingAllocationStrategy;

/** Where the bank's shards live: on their consistent-hash ring owner among the nodes (see docs/placement.md). */
public final class Placement {

    /** Virtual nodes per member; at most this many shards move per rebalance round; rounds the membership must hold. */
    static final int VNODES = 128;
    static final int MAX_MOVES_PER_ROUND = 10;
    static final int STABLE_ROUNDS = 1;

    private Placement() {
    }

    /** A new strategy per entity type (it keeps per-coordinator state). */
    public static RingAllocationStrategy allocationStrategy() {
        return new RingAllocationStrategy(VNODES, MAX_MOVES_PER_ROUND, STABLE_ROUNDS);
    }
}
