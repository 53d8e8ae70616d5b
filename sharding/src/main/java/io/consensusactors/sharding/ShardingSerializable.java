package io.consensusactors.sharding;

/**
 * Marker for messages of this module that cross the network; bound to jackson-cbor in this module's
 * reference.conf. (The persistence module's CborSerializable is not on this module's classpath.)
 */
public interface ShardingSerializable {}
