package io.consensusactors.entity;

import io.consensusactors.persistence.CborSerializable;

/** One string register per entity (also used by the multi-JVM tests, through the test jar), for linearizability checks ({@code KvModel}: a put answers the previous value). */
public final class TestRegister extends ReplicatedEntity<TestRegister.Command, TestRegister.Event, TestRegister.State> {

    public sealed interface Command extends CborSerializable {
    }

    public record Put(String value) implements Command {
    }

    public record Get() implements Command {
    }

    /** Reply: the register's value (before the put for {@link Put}, current for {@link Get}); "" when never written. */
    public record Value(String value) implements CborSerializable {
    }

    public sealed interface Event extends CborSerializable {
    }

    public record Set(String value) implements Event {
    }

    public record State(String value) implements CborSerializable {
    }

    public static final ReplicatedEntityType<Command, Event, State> TYPE =
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
