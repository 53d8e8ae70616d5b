package io.consensusactors.entity;

import java.util.function.Supplier;

/**
 * An entity type: its name (a prefix of its shards' Raft group ids), how to create its behavior, how many shards
 * it has and how many replicas each shard's Raft group has. Entity id → shard is a stable hash (XXH64), so the
 * number of shards must not change once data exists.
 */
public record ReplicatedEntityType<C, E, S>(String name, Supplier<ReplicatedEntity<C, E, S>> behavior, int shards,
                                            int replicas) {

    public ReplicatedEntityType {
        if (name == null || !name.matches("[A-Za-z0-9_.]+")) {
            throw new IllegalArgumentException("entity type name must be letters, digits, '_' or '.', was '" + name + "'");
        }
        if (shards < 1 || replicas < 1) {
            throw new IllegalArgumentException("an entity type needs at least one shard and one replica");
        }
    }

    public static <C, E, S> ReplicatedEntityType<C, E, S> of(String name, Supplier<ReplicatedEntity<C, E, S>> behavior) {
        return new ReplicatedEntityType<>(name, behavior, 16, 3);
    }

    public ReplicatedEntityType<C, E, S> withShards(int n) {
        return new ReplicatedEntityType<>(name, behavior, n, replicas);
    }

    public ReplicatedEntityType<C, E, S> withReplicas(int n) {
        return new ReplicatedEntityType<>(name, behavior, shards, n);
    }

    public String groupId(int shard) {
        return name + "-" + shard;
    }

    public int shardOf(String entityId) {
        long h = io.consensusactors.sharding.ring.XxHash64.hash(
                entityId.getBytes(java.nio.charset.StandardCharsets.UTF_8), 0);
        return (int) Math.floorMod(h, (long) shards);
    }
}
