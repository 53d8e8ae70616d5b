package io.consensusactors.sharding.kademlia;

/**
 * A Kademlia contact: a node id and the opaque address at which the node is reached (the shell decides what an
 * address is: a serialized actor reference in {@code sharding.pekko.KademliaNode}, a name in the simulation). The core never
 * interprets addresses.
 */
public record Contact(NodeId id, String address) {
    public Contact {
        if (id == null) {
            throw new IllegalArgumentException("a contact needs a node id");
        }
        if (address == null || address.isEmpty()) {
            throw new IllegalArgumentException("contact " + id + " needs an address");
        }
    }
}
