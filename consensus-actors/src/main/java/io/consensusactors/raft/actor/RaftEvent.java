package io.consensusactors.raft.actor;

import io.consensusactors.persistence.CborSerializable;

/**
 * What a Raft member writes to its journal. Entries and snapshot metadata are encoded with
 * {@link io.consensusactors.raft.core.RaftCodec} (compact, no reflection); the envelope is Jackson CBOR.
 */
public sealed interface RaftEvent extends CborSerializable {

    /**
     * One {@link io.consensusactors.raft.core.Ready} made durable as a single journal write (group commit): the hard
     * state, the entries to append (replacing any stored entries from the first one's index) and, when the leader
     * sent one, an installed snapshot.
     */
    record ReadyPersisted(long term, String votedFor, long commit, byte[] entries, byte[] snapshotMeta,
                          byte[] snapshotData) implements RaftEvent {
    }

    /** The member took a state-machine snapshot and dropped its log up to the snapshot's index (§7). */
    record Compacted(byte[] snapshotMeta, byte[] snapshotData) implements RaftEvent {
    }
}
