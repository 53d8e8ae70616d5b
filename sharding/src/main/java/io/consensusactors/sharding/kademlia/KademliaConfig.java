package io.consensusactors.sharding.kademlia;

/**
 * Parameters of a Kademlia node, time in ticks (the shell decides how long a tick is).
 *
 * @param k                   bucket size and replication factor (20 in the paper)
 * @param alpha               lookup parallelism: RPCs in flight per lookup (3 in the paper)
 * @param rpcTimeoutTicks     an RPC not answered within this many ticks has failed
 * @param staleAfterFailures  consecutive failed RPCs after which a contact is stale: no longer handed out, and
 *                            replaced as soon as the bucket's replacement cache has a candidate (§4.1)
 * @param replacementCacheSize contacts kept per bucket in the replacement cache (§4.1)
 * @param refreshTicks        a bucket not touched by a lookup for this long is refreshed (§2.3; an hour in the paper)
 * @param republishTicks      a node republishes a value it holds when it has not received a STORE for it for this long
 *                            (§2.5; an hour in the paper)
 * @param expireTicks         time to live of a value from its original publication (§2.5; 24 h in the paper)
 * @param publisherRepublishTicks the original publisher re-stores its values this often (24 h in the paper; must be
 *                            less than {@code expireTicks} to keep them alive)
 * @param refreshOnJoin       after the self lookup of a join, refresh every bucket further than the closest neighbour
 */
public record KademliaConfig(int k, int alpha, int rpcTimeoutTicks, int staleAfterFailures, int replacementCacheSize,
                             long refreshTicks, long republishTicks, long expireTicks, long publisherRepublishTicks,
                             boolean refreshOnJoin) {

    public KademliaConfig {
        require(k > 0, "k must be positive, was " + k);
        require(alpha > 0, "alpha must be positive, was " + alpha);
        require(rpcTimeoutTicks > 0, "rpc timeout must be positive, was " + rpcTimeoutTicks);
        require(staleAfterFailures > 0, "stale-after-failures must be positive, was " + staleAfterFailures);
        require(replacementCacheSize >= 0, "replacement cache size must not be negative");
        require(refreshTicks > 0 && republishTicks > 0 && expireTicks > 0 && publisherRepublishTicks > 0,
                "refresh, republish, expiry and publisher republish intervals must be positive");
        require(republishTicks < expireTicks, "republish interval (" + republishTicks
                + ") must be shorter than the expiry (" + expireTicks + ")");
    }

    /**
     * The paper's parameters with one tick = one second: k = 20, alpha = 3, refresh and republish hourly, 24 h expiry.
     * The publisher re-stores every 12 h (the paper says 24 h, equal to the expiry, which races with it).
     */
    public static KademliaConfig paper() {
        return new KademliaConfig(20, 3, 5, 2, 20, 3600, 3600, 86_400, 43_200, true);
    }

    public KademliaConfig withK(int newK) {
        return new KademliaConfig(newK, alpha, rpcTimeoutTicks, staleAfterFailures, replacementCacheSize, refreshTicks,
                republishTicks, expireTicks, publisherRepublishTicks, refreshOnJoin);
    }

    public KademliaConfig withTimes(int newRpcTimeout, long newRefresh, long newRepublish, long newExpire,
                                    long newPublisherRepublish) {
        return new KademliaConfig(k, alpha, newRpcTimeout, staleAfterFailures, replacementCacheSize, newRefresh,
                newRepublish, newExpire, newPublisherRepublish, refreshOnJoin);
    }

    public KademliaConfig withRefreshOnJoin(boolean on) {
        return new KademliaConfig(k, alpha, rpcTimeoutTicks, staleAfterFailures, replacementCacheSize, refreshTicks,
                republishTicks, expireTicks, publisherRepublishTicks, on);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
