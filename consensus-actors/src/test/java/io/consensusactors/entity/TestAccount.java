package io.consensusactors.entity;

import io.consensusactors.persistence.CborSerializable;

/** A minimal bank account as a replicated entity, for tests. */
final class TestAccount extends ReplicatedEntity<TestAccount.Command, TestAccount.Event, TestAccount.State> {

    sealed interface Command extends CborSerializable {
    }

    record Deposit(long amount) implements Command {
    }

    record Withdraw(long amount) implements Command {
    }

    record GetBalance() implements Command {
    }

    sealed interface Event extends CborSerializable {
    }

    record Deposited(long amount) implements Event {
    }

    record Withdrawn(long amount) implements Event {
    }

    record State(long balance) implements CborSerializable {
    }

    record Balance(long balance) implements CborSerializable {
    }

    static final ReplicatedEntityType<Command, Event, State> TYPE =
            ReplicatedEntityType.of("account", TestAccount::new).withShards(4).withReplicas(3);

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
