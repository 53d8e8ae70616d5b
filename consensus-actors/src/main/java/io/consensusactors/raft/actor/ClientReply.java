package io.consensusactors.raft.actor;

import io.consensusactors.persistence.CborSerializable;

/**
 * Answer of a Raft member to a client request. Every variant echoes the {@code requestId} the request carried, so a
 * client correlates answers through one message adapter instead of an ask (a temporary actor and a future) per
 * attempt.
 */
public sealed interface ClientReply extends CborSerializable {

    /** The id of the request (attempt) this answers, as the client chose it. */
    long requestId();

    /** Committed and applied (writes) or served (reads): the state machine's result. */
    record Ok(long requestId, byte[] result) implements ClientReply {
    }

    /** This member cannot serve it: retry at {@code leaderHint} (a node id) or, if null, elsewhere. */
    record NotLeader(long requestId, String groupId, String leaderHint) implements ClientReply {
    }

    /** The request cannot succeed as sent (e.g. its session expired); retrying will not help. */
    record Rejected(long requestId, String reason) implements ClientReply {
    }

    /**
     * Several answers to one recipient on another node, sent as one message: only answers to requests that came in
     * a {@link RaftHost.ClientBatch} (whose sender unpacks them). Its own {@code requestId} is 0.
     */
    record Batch(java.util.List<ClientReply> replies) implements ClientReply {
        @Override
        public long requestId() {
            return 0;
        }
    }
}
