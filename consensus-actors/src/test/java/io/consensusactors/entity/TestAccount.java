package io.consensusactors.entity;

import io.consensusactors.persistence.CborSerializable;

/** A minimal bank account as a replicated entity, for tests (also the multi-JVM tests, through the test jar). */
public final class TestAccount extends ReplicatedEntity<TestAccount.Command, TestAccount.Event, TestAccount.State> {

    public sealed interface Command extends CborSerializable {
    }

    public record Deposit(long amount) implements Command {
    }

    public record Withdraw(long amount) implements Command {
    }

    public record GetBalance() implements Command {
    }

    public sealed interface Event extends CborSerializable {
    }

    public record Deposited(long amount) implements Event {
    }

    public record Withdrawn(long amount) implements Event {
    }

    public record State(long balance) implements CborSerializable {
    }

    public record Balance(long balance) implements CborSerializable {
    }

    public static final ReplicatedEntityType<Command, Event, State> TYPE = type("account", 4);

    /** The account under another type name and shard count (3 replicas); every node must register the same. */
    public static ReplicatedEntityType<Command, Event, State> type(String name, int shards) {
        return ReplicatedEntityType.of(name, TestAccount::new).withShards(shards).withReplicas(3);
    }

    @Override
    public State emptyState() {
        return new State(0);
    }

    @Override
    public Effect<Event, State> onCommand(String id, State state, Command command) {
        if (command instanceof Deposit d) {
            if (d.amount() <= 0) {
                return Effect.reject("amount must be positive, was " + d.amount());
            }
            return Effect.<Event, State>persist(new Deposited(d.amount())).thenReply(s -> new Balance(s.balance()));
        }
        if (command instanceof Withdraw w) {
            if (w.amount() <= 0) {
                return Effect.reject("amount must be positive, was " + w.amount());
            }
            if (w.amount() > state.balance()) {
                return Effect.reject("insufficient funds: balance " + state.balance() + ", asked " + w.amount());
            }
            return Effect.<Event, State>persist(new Withdrawn(w.amount())).thenReply(s -> new Balance(s.balance()));
        }
        return Effect.reply(new Balance(state.balance()));
    }

    @Override
    public State onEvent(State state, Event event) {
        if (event instanceof Deposited d) {
            return new State(state.balance() + d.amount());
        }
        return new State(state.balance() - ((Withdrawn) event).amount());
    }
}
