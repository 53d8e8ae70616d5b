package io.consensusactors.bank.account;

import io.consensusactors.entity.Effect;
import io.consensusactors.entity.ReplicatedEntity;
import io.consensusactors.entity.ReplicatedEntityType;
import io.consensusactors.persistence.CborSerializable;

/**
 * A bank account as a consensus-backed entity: the same events, state and business rules as {@link Account}
 * ({@link Account#decide}, {@link Account#evolve}), replicated by the Raft group of its shard instead of written by
 * one Cluster Sharding entity. Rejections (unknown account, bad amount, insufficient funds) are replies, so they are
 * deduplicated and answered like any other outcome.
 */
public final class ReplicatedAccount extends ReplicatedEntity<ReplicatedAccount.Command, Account.Event, Account.State> {

    public sealed interface Command extends CborSerializable {}

    public record Open(long initialBalance, String requestId) implements Command {}

    public record Deposit(long amount, String requestId) implements Command {}

    public record Withdraw(long amount, String requestId) implements Command {}

    public record GetBalance() implements Command {}

    public static ReplicatedEntityType<Command, Account.Event, Account.State> type(int shards, int replicas) {
        return ReplicatedEntityType.of("account", ReplicatedAccount::new).withShards(shards).withReplicas(replicas);
    }

    @Override
    public Account.State emptyState() {
        return Account.EMPTY;
    }

    @Override
    public Effect<Account.Event, Account.State> onCommand(String id, Account.State state, Command command) {
        Account.Decision d;
        if (command instanceof Open o) {
            d = Account.decide(id, state, Account.Change.OPEN, o.initialBalance(), o.requestId());
        } else if (command instanceof Deposit dep) {
            d = Account.decide(id, state, Account.Change.DEPOSIT, dep.amount(), dep.requestId());
        } else if (command instanceof Withdraw w) {
            d = Account.decide(id, state, Account.Change.WITHDRAW, w.amount(), w.requestId());
        } else {
            return Effect.reply(state.open() ? new AccountReply.Balance(id, state.balance()) : Account.unknown(id));
        }
        if (d.event() == null) {
            return Effect.reply(d.reply());
        }
        return Effect.<Account.Event, Account.State>persist(d.event())
                .thenReply(s -> new AccountReply.Balance(id, s.balance()));
    }

    @Override
    public Account.State onEvent(Account.State state, Account.Event event) {
        return Account.evolve(state, event);
    }
}
