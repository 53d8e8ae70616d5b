package io.consensusactors.sharding.kademlia;

/** An outgoing message and the address it goes to: the shell delivers it (or loses it). */
public record Envelope(String to, Message message) {}
