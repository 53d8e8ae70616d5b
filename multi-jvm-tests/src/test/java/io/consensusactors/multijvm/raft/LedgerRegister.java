package io.consensusactors.multijvm.raft;

import io.consensusactors.entity.Effect;
import io.consensusactors.entity.ReplicatedEntity;
import io.consensusactors.entity.ReplicatedEntityType;
import io.consensusactors.persistence.CborSerializable;

/**
 * One string register per entity, for the multi-JVM rebalancing test's linearizability check ({@code KvModel}: a
 * put answers the previous value, "" when never written).
 */
public final class LedgerRegister extends ReplicatedEntity<LedgerRegister.Command, LedgerRegister.Event, LedgerRegister.State> {

    public sealed interface Command extends CborSerializable {
    }

    public record Put(String value) implements Command {
    }

    public record Get() implements Command {
    }

    public record Value(String value) implements CborSerializable {
    }

    public sealed interface Event extends CborSerializable {
    }

    public record Written(String value) implements Event {
    }

    public record State(String value) implements CborSerializable {
    }

    public static final ReplicatedEntityType<Command, Event, State> TYPE =
            ReplicatedEntityType.of("register", LedgerRegister::new).withShards(8).withReplicas(3);

    @Override
    public State emptyState() {
        return new State("");
    }

    @Override
    public Effect<Event, State> onCommand(String id, State state, Command command) {
        if (command instanceof Put p) {
            String previous = state.value();
            return Effect.<Event, State>persist(new Written(p.value())).thenReply(s -> new Value(previous));
        }
        return Effect.reply(new Value(state.value()));
    }

    @Override
    public State onEvent(State state, Event event) {
        return new State(((Written) event).value());
    }
}
