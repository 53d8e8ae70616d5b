package io.consensusactors.bench;

import io.consensusactors.entity.Effect;
import io.consensusactors.entity.ReplicatedEntity;
import io.consensusactors.entity.ReplicatedEntityType;
import io.consensusactors.persistence.CborSerializable;

/**
 * The replicated entity {@link RaftLoad} drives in its {@code --api entity} mode: a register per entity id.
 * {@link Put} persists one event carrying the value (the 64-byte command of the benchmark) and answers with the
 * entity's new version; {@link Get} is read-only and answers the current value.
 */
public final class BenchRegister extends ReplicatedEntity<BenchRegister.Command, BenchRegister.Event, BenchRegister.State> {

    public sealed interface Command extends CborSerializable {
    }

    public record Put(String value) implements Command {
    }

    public record Get() implements Command {
    }

    public sealed interface Event extends CborSerializable {
    }

    public record Written(String value) implements Event {
    }

    public record State(String value, long version) implements CborSerializable {
    }

    /** Reply to {@link Put}. */
    public record Version(long version) implements CborSerializable {
    }

    /** Reply to {@link Get}. */
    public record Value(String value, long version) implements CborSerializable {
    }

    public static final String NAME = "reg";

    public static ReplicatedEntityType<Command, Event, State> type(int shards) {
        return ReplicatedEntityType.of(NAME, BenchRegister::new).withShards(shards).withReplicas(3);
    }

    @Override
    public State emptyState() {
        return new State("", 0);
    }

    @Override
    public Effect<Event, State> onCommand(String entityId, State state, Command command) {
        if (command instanceof Put p) {
            return Effect.<Event, State>persist(new Written(p.value())).thenReply(s -> new Version(s.version()));
        }
        return Effect.reply(new Value(state.value(), state.version()));
    }

    @Override
    public State onEvent(State state, Event event) {
        return new State(((Written) event).value(), state.version() + 1);
    }
}
