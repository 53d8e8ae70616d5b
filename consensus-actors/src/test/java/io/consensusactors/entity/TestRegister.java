package io.consensusactors.entity;

import io.consensusactors.persistence.CborSerializable;

/** One string register per entity, for linearizability checks ({@code KvModel}: a put answers the previous value). */
final class TestRegister extends ReplicatedEntity<TestRegister.Command, TestRegister.Event, TestRegister.State> {

    sealed interface Command extends CborSerializable {
    }

    record Put(String value) implements Command {
    }

    record Get() implements Command {
    }

    /** Reply: the register's value (before the put for {@link Put}, current for {@link Get}); "" when never written. */
    record Value(String value) implements CborSerializable {
    }

    sealed interface Event extends CborSerializable {
    }

    record Set(String value) implements Event {
    }

    record State(String value) implements CborSerializable {
    }

    static final ReplicatedEntityType<Command, Event, State> TYPE =
            ReplicatedEntityType.of("register", TestRegister::new).withShards(8).withReplicas(3);

    @Override
    public State emptyState() {
        return new State("");
    }

    @Override
    public Effect<Event, State> onCommand(String id, State state, Command command) {
        if (command instanceof Put p) {
            String previous = state.value();
            return Effect.<Event, State>persist(new Set(p.value())).thenReply(s -> new Value(previous));
        }
        return Effect.reply(new Value(state.value()));
    }

    @Override
    public State onEvent(State state, Event event) {
        return new State(((Set) event).value());
    }
}
