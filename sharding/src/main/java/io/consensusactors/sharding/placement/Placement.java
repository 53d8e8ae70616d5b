package io.consensusactors.sharding.placement;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Where a key lives: an ordered list of distinct owners (the first is the primary, the rest are replicas in
 * preference order). Implemented by the consistent-hash ring and by Kademlia; the consensus entity layer places
 * its Raft groups through this interface. Implementations are immutable snapshots: the same membership gives the
 * same answer on every JVM.
 */
public interface Placement {

    /** Up to {@code replicas} distinct members responsible for {@code key}, in preference order. */
    List<String> owners(byte[] key, int replicas);

    /** The primary owner of {@code key}. */
    default String owner(byte[] key) {
        List<String> owners = owners(key, 1);
        if (owners.isEmpty()) {
            throw new IllegalStateException("placement has no members: add a member before looking up keys");
        }
        return owners.get(0);
    }

    default List<String> owners(String key, int replicas) {
        return owners(key.getBytes(StandardCharsets.UTF_8), replicas);
    }

    default String owner(String key) {
        return owner(key.getBytes(StandardCharsets.UTF_8));
    }

    /** The members this placement was built from, sorted. */
    List<String> members();
}
