package io.consensusactors.sharding.pekko;

import io.consensusactors.sharding.ring.HashRing;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.Address;
import org.apache.pekko.cluster.Cluster;
import org.apache.pekko.cluster.sharding.ShardCoordinator;
import org.apache.pekko.dispatch.Futures;
import scala.collection.immutable.IndexedSeq;
import scala.concurrent.Future;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * A Cluster Sharding allocation strategy that puts every shard on its consistent-hash ring owner among the current
 * shard regions, so placement is a pure function of (shard id, membership) and a membership change moves only the
 * shards whose owner changed (about 1/N of them when one of N members joins).
 *
 * <p>Rebalance moves shards that sit on a region that is not their ring owner, at most {@code maxPerRound} per round,
 * none while a previous rebalance is in progress, and none until the set of regions has been the same for
 * {@code stableRounds} consecutive rebalance rounds (the coordinator calls {@code rebalance} every
 * {@code pekko.cluster.sharding.rebalance-interval}, 10 s by default): during a rolling update or a bulk join the
 * ring changes every few seconds and moving shards towards a transient owner would move them twice.
 */
public final class RingAllocationStrategy extends ShardCoordinator.AbstractShardAllocationStrategy
        implements ShardCoordinator.ActorSystemDependentAllocationStrategy {

    private final int vnodes;
    private final int partitions;
    private final int maxPerRound;
    private final int stableRounds;
    private Function<ActorRef, String> memberId;

    private HashRing ring;
    private Set<String> ringMembers = Set.of();
    private Set<String> lastRebalanceMembers = Set.of();
    private int unchangedRounds;

    /** From {@code consensus-actors.sharding.ring-allocation} (see this module's reference.conf). */
    public static RingAllocationStrategy fromConfig(com.typesafe.config.Config config) {
        com.typesafe.config.Config c = config.getConfig("consensus-actors.sharding.ring-allocation");
        int partitions = c.hasPath("partitions") ? c.getInt("partitions") : 0;
        return new RingAllocationStrategy(c.getInt("virtual-nodes"), partitions, c.getInt("max-moves-per-round"),
                c.getInt("stable-rounds"), null);
    }

    /** For Pekko: regions are identified by their node address ({@link #start} learns the local one). */
    public RingAllocationStrategy(int vnodes, int maxPerRound, int stableRounds) {
        this(vnodes, maxPerRound, stableRounds, null);
    }

    /** With an explicit region → member id function (tests, or placement by a node attribute). */
    public RingAllocationStrategy(int vnodes, int maxPerRound, int stableRounds, Function<ActorRef, String> memberId) {
        this(vnodes, 0, maxPerRound, stableRounds, memberId);
    }

    /**
     * With {@code partitions > 0} the ring is partitioned ({@link HashRing#partitioned}: that many equal partitions,
     * a power of two) instead of {@code vnodes} random tokens per member.
     */
    public RingAllocationStrategy(int vnodes, int partitions, int maxPerRound, int stableRounds,
                                  Function<ActorRef, String> memberId) {
        if (vnodes <= 0 || partitions < 0 || maxPerRound <= 0 || stableRounds < 0) {
            throw new IllegalArgumentException(
                    "need vnodes > 0, partitions >= 0, maxPerRound > 0 and stableRounds >= 0");
        }
        this.vnodes = vnodes;
        this.partitions = partitions;
        this.maxPerRound = maxPerRound;
        this.stableRounds = stableRounds;
        this.memberId = memberId;
    }

    @Override
    public void start(ActorSystem system) {
        if (memberId == null) {
            Address self = Cluster.get(system).selfAddress();
            memberId = ref -> {
                Address a = ref.path().address();
                return (a.hasLocalScope() ? self : a).toString();
            };
        }
    }

    private Function<ActorRef, String> ids() {
        if (memberId == null) {
            throw new IllegalStateException("RingAllocationStrategy used before start(system)");
        }
        return memberId;
    }

    private HashRing ringOf(Set<String> members) {
        if (!members.equals(ringMembers)) {
            ring = partitions > 0 ? HashRing.partitionedIds(partitions, members) : HashRing.ofIds(vnodes, members);
            ringMembers = Set.copyOf(members);
        }
        return ring;
    }

    private Map<String, ActorRef> regionsById(Set<ActorRef> regions) {
        Map<String, ActorRef> byId = new HashMap<>();
        for (ActorRef r : regions) {
            byId.put(ids().apply(r), r);
        }
        return byId;
    }

    @Override
    public Future<ActorRef> allocateShard(ActorRef requester, String shardId,
                                          Map<ActorRef, IndexedSeq<String>> currentShardAllocations) {
        Map<String, ActorRef> byId = regionsById(currentShardAllocations.keySet());
        if (byId.isEmpty()) {
            return Futures.successful(requester);
        }
        String owner = ringOf(new TreeSet<>(byId.keySet())).owner(shardId);
        return Futures.successful(byId.get(owner));
    }

    @Override
    public Future<Set<String>> rebalance(Map<ActorRef, IndexedSeq<String>> currentShardAllocations,
                                         Set<String> rebalanceInProgress) {
        Map<String, ActorRef> byId = regionsById(currentShardAllocations.keySet());
        Set<String> members = new TreeSet<>(byId.keySet());
        unchangedRounds = members.equals(lastRebalanceMembers) ? unchangedRounds + 1 : 0;
        lastRebalanceMembers = members;
        if (members.isEmpty() || !rebalanceInProgress.isEmpty() || unchangedRounds < stableRounds) {
            return Futures.successful(Set.of());
        }
        HashRing r = ringOf(members);
        List<String> misplaced = new ArrayList<>();
        for (Map.Entry<ActorRef, IndexedSeq<String>> e : currentShardAllocations.entrySet()) {
            String here = ids().apply(e.getKey());
            scala.collection.Iterator<String> it = e.getValue().iterator();
            while (it.hasNext()) {
                String shard = it.next();
                if (!r.owner(shard).equals(here)) {
                    misplaced.add(shard);
                }
            }
        }
        misplaced.sort(Comparator.naturalOrder());
        return Futures.successful(new HashSet<>(misplaced.subList(0, Math.min(maxPerRound, misplaced.size()))));
    }
}
