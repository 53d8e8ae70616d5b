package io.consensusactors.entity;

import io.consensusactors.raft.actor.RaftClient;
import io.consensusactors.raft.core.ReadConsistency;

import java.util.concurrent.CompletionStage;

/**
 * A handle on one consensus-backed entity, usable from any node. {@link #ask(Object)} runs a command on the shard's
 * leader and completes once its events are committed by a quorum (exactly once, also across retries);
 * {@link #ask(Object, ReadConsistency)} runs a read-only command at the chosen consistency: LINEARIZABLE (ReadIndex,
 * the default for reads), LEASE (leader lease, bounded clock drift assumed) or STALE (any replica, may lag).
 * A refused command fails the future with {@link EntityRejectedException}.
 */
public final class EntityRef<C> {
    private final String groupId;
    private final String entityId;
    private final RaftClient client;
    private final ObjectCodec codec;

    EntityRef(String groupId, String entityId, RaftClient client, ObjectCodec codec) {
        this.groupId = groupId;
        this.entityId = entityId;
        this.client = client;
        this.codec = codec;
    }

    public String entityId() {
        return entityId;
    }

    public String groupId() {
        return groupId;
    }

    @SuppressWarnings("unchecked")
    public <R> CompletionStage<R> ask(C command) {
        return client.propose(groupId, EntityShardMachine.encodeCommand(codec, entityId, command))
                .thenApply(bytes -> (R) EntityShardMachine.decodeReply(codec, bytes));
    }

    @SuppressWarnings("unchecked")
    public <R> CompletionStage<R> ask(C readOnlyCommand, ReadConsistency consistency) {
        return client.read(groupId, EntityShardMachine.encodeCommand(codec, entityId, readOnlyCommand), consistency)
                .thenApply(bytes -> (R) EntityShardMachine.decodeReply(codec, bytes));
    }
}
