package io.consensusactors.raft.actor;

import io.consensusactors.persistence.CborSerializable;

/** Answer of a Raft member to a client request. */
public sealed interface ClientReply extends CborSerializable {

    /** Committed and applied (writes) or served (reads): the state machine's result. */
    record Ok(byte[] result) implements ClientReply {
    }

    /** This member cannot serve it: retry at {@code leaderHint} (a node id) or, if null, elsewhere. */
    record NotLeader(String groupId, String leaderHint) implements ClientReply {
    }

    /** The request cannot succeed as sent (e.g. its session expired); retrying will not help. */
    record Rejected(String reason) implements ClientReply {
    }
}
