package io.consensusactors.bank.node;

import io.consensusactors.sharding.pekko.RingAllocationStrategy;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * Where the bank's shards live: on their consistent-hash ring owner among the nodes, configured by
 * {@code consensus-actors.sharding.ring-allocation} (see docs/placement.md).
 */
public final class Placement {

    private Placement() {
    }

    /** A new strategy per entity type (it keeps per-coordinator state). */
    public static RingAllocationStrategy allocationStrategy(ActorSystem<?> system) {
        return RingAllocationStrategy.fromConfig(system.settings().config());
    }
}
