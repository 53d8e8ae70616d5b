package io.consensusactors.persistence;

/**
 * Marker for every message, event and snapshot that crosses the wire or reaches the database. It is bound to
 * Pekko's {@code jackson-cbor} serializer in this module's {@code reference.conf}; Java serialization is switched
 * off, so a type that does not implement this marker fails loudly instead of being written with Java serialization.
 *
 * <p>Records work as they are (the compiler keeps parameter names, {@code -parameters}). A sealed interface whose
 * records are serialized through the interface type needs {@code @JsonTypeInfo}/{@code @JsonSubTypes} on the
 * interface when the concrete type is not otherwise known, e.g. for fields typed as the interface.
 */
public interface CborSerializable {
}
