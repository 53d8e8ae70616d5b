package io.consensusactors.entity;

import java.util.List;
import java.util.function.Function;

/**
 * What a {@link ReplicatedEntity} command handler decides, as in Pekko's EventSourcedBehavior: persist events and
 * then reply from the new state, reply without changing anything, or reject with a reason the caller sees.
 *
 * @param <E> event type
 * @param <S> state type
 */
public sealed interface Effect<E, S> {

    /** Persist events (replicated to a quorum and applied by every replica), then reply from the new state. */
    record Persist<E, S>(List<E> events, Function<S, Object> reply) implements Effect<E, S> {
        public Persist {
            events = List.copyOf(events);
        }

        /** The reply, computed from the state after the events. */
        public Persist<E, S> thenReply(Function<S, Object> replyFromState) {
            return new Persist<>(events, replyFromState);
        }
    }

    /** Reply without persisting anything. */
    record Reply<E, S>(Object reply) implements Effect<E, S> {
    }

    /** Refuse the command: the caller's future fails with {@link EntityRejectedException} carrying the reason. */
    record Reject<E, S>(String reason) implements Effect<E, S> {
    }

    @SafeVarargs
    static <E, S> Persist<E, S> persist(E... events) {
        return new Persist<>(List.of(events), s -> org.apache.pekko.Done.getInstance());
    }

    static <E, S> Persist<E, S> persistAll(List<E> events) {
        return new Persist<>(events, s -> org.apache.pekko.Done.getInstance());
    }

    static <E, S> Effect<E, S> reply(Object reply) {
        return new Reply<>(reply);
    }

    static <E, S> Effect<E, S> reject(String reason) {
        return new Reject<>(reason);
    }
}
