package io.consensusactors.sharding.kademlia;

import java.util.List;

/**
 * The four Kademlia RPCs (§2.3) and their replies. Every message names its sender (a node learns about contacts
 * from every message it receives) and carries an RPC id that the reply echoes. Records of ids, strings, bytes and
 * lists only, so that a shell can serialize them as they are.
 */
public sealed interface Message {

    Contact from();

    long rpcId();

    /** PING: is the recipient alive? */
    record Ping(Contact from, long rpcId) implements Message {}

    record Pong(Contact from, long rpcId) implements Message {}

    /**
     * STORE a value under {@code key}, to expire {@code ttlTicks} ticks after it is received. The original publisher
     * sends the full time to live; a replica republishing sends what remains of its own copy's, so that republication
     * keeps a value alive without extending its life beyond the publisher's last STORE (§2.5).
     */
    record Store(Contact from, long rpcId, NodeId key, byte[] value, long ttlTicks) implements Message {}

    /** The value was stored: a STORE is an RPC like the others, so the publisher knows which replicas hold it. */
    record StoreAck(Contact from, long rpcId) implements Message {}

    /** FIND_NODE: the k contacts the recipient knows closest to {@code target}. */
    record FindNode(Contact from, long rpcId, NodeId target) implements Message {}

    record FoundNodes(Contact from, long rpcId, List<Contact> closest) implements Message {}

    /** FIND_VALUE: the value stored under {@code key}, or else the k closest contacts. */
    record FindValue(Contact from, long rpcId, NodeId key) implements Message {}

    /** Either {@code value} (non-null) or {@code closest}. */
    record FoundValue(Contact from, long rpcId, byte[] value, List<Contact> closest) implements Message {}
}
