package io.consensusactors.entity;

/**
 * An entity whose state is replicated by Raft: the counterpart of Pekko's {@code EventSourcedBehavior}. Define the
 * empty state, a command handler that returns an {@link Effect}, and an event handler that folds events into the
 * state. The framework decides where the entity runs (a shard's Raft group placed on the consistent-hash ring),
 * interprets each command once on the shard's leader, replicates the resulting events to a quorum and replies once
 * they are committed.
 *
 * <p>Both handlers must be deterministic (no clock, randomness or I/O) and must not mutate the state passed in:
 * the leader evaluates commands against a speculative state that includes its not-yet-committed events, and every
 * replica folds the same events into the same state. Commands, events, replies and states are serialized with
 * Pekko serialization: make them records implementing {@code io.consensusactors.persistence.CborSerializable}.
 *
 * @param <C> command type
 * @param <E> event type
 * @param <S> state type
 */
public abstract class ReplicatedEntity<C, E, S> {

    public abstract S emptyState();

    /** Decides what a command does, given the entity's current state. */
    public abstract Effect<E, S> onCommand(String entityId, S state, C command);

    /** Applies one event to the state and returns the new state. */
    public abstract S onEvent(S state, E event);
}
