package io.consensusactors.multijvm.raft;

import io.consensusactors.entity.Effect;
import io.consensusactors.entity.ReplicatedEntity;
import io.consensusactors.entity.ReplicatedEntityType;
import io.consensusactors.persistence.CborSerializable;

/** A bank account as a consensus-backed entity, used by the multi-JVM entity tests. */
public final class LedgerAccount extends ReplicatedEntity<LedgerAccount.Command, LedgerAccount.Event, LedgerAccount.State> {

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

    public static final ReplicatedEntityType<Command, Event, State> TYPE =
            ReplicatedEntityType.of("ledger", LedgerAccount::new).withShards(6).withReplicas(3);

    @Override
    public State emptyState() {
        return new State(0);
    }

    @Override
    public Effect<Event, State> onCommand(String id, State state, Command command) {
        if (command instanceof Deposit d) {
            return d.amount() <= 0 ? Effect.reject("amount must be positive")
                    : Effect.<Event, State>persist(new Deposited(d.amount())).thenReply(s -> new Balance(s.balance()));
        }
        if (command instanceof Withdraw w) {
            if (w.amount() <= 0) {
                return Effect.reject("amount must be positive");
            }
            return w.amount() > state.balance() ? Effect.reject("insufficient funds")
                    : Effect.<Event, State>persist(new Withdrawn(w.amount())).thenReply(s -> new Balance(s.balance()));
        }
        return Effect.reply(new Balance(state.balance()));
    }

    @Override
    public State onEvent(State state, Event event) {
        return event instanceof Deposited d ? new State(state.balance() + d.amount())
                : new State(state.balance() - ((Withdrawn) event).amount());
    }
}
