package io.consensusactors.bank.account;

import io.consensusactors.entity.Effect;
import io.consensusactors.entity.ReplicatedEntity;
import io.consensusactors.entity.ReplicatedEntityType;
import io.consensusactors.persistence.CborSerializable;

/**
 * A bank account as a consensus-backed entity: the same events, state and business rules as {@link Account}
 * ({@link Account#decide}, {@link Account#evolve}), replicated by the Raft group of its shard instead of written by
 * one Cluster Sharding entity. Rejections (unknown account, bad amount, insufficient funds) are replies, so they are
 * deduplicated and answered like any other outcome. It is also the resource manager of the bank's Paxos Commit
 * ({@link Prepare}, {@link Commit}, {@link Abort}; docs/bank-transactions.md).
 */
public final class ReplicatedAccount extends ReplicatedEntity<ReplicatedAccount.Command, Account.Event, Account.State> {

    public sealed interface Command extends CborSerializable {}

    public record Open(long initialBalance, String requestId) implements Command {}

    public record Deposit(long amount, String requestId) implements Command {}

    public record Withdraw(long amount, String requestId) implements Command {}

    public record GetBalance() implements Command {}

    /** Read-only: balance, available amount and holds ({@link AccountReply.Details}). */
    public record GetDetails() implements Command {}

    /** Paxos Commit phase 1 for one leg of transaction {@code txId}: validate and hold (see {@link Account#prepare}). */
    public record Prepare(String txId, long amount, Account.Role role) implements Command {}

    /** Phase 2 after a commit decision: apply the hold (idempotent). */
    public record Commit(String txId) implements Command {}

    /** Phase 2 after an abort decision: release the hold, refuse a later Prepare (idempotent). */
    public record Abort(String txId) implements Command {}

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
        } else if (command instanceof Prepare p) {
            d = Account.prepare(id, state, p.txId(), p.amount(), p.role());
            if (d.event() != null) {
                return Effect.<Account.Event, Account.State>persist(d.event())
                        .thenReply(s -> new AccountReply.Prepared(id, p.txId()));
            }
        } else if (command instanceof Commit c) {
            d = Account.commit(id, state, c.txId());
        } else if (command instanceof Abort a) {
            d = Account.abort(id, state, a.txId());
        } else if (command instanceof GetDetails) {
            return Effect.reply(state.open() ? details(id, state) : Account.unknown(id));
        } else {
            return Effect.reply(state.open() ? new AccountReply.Balance(id, state.balance()) : Account.unknown(id));
        }
        if (d.event() == null) {
            return Effect.reply(d.reply());
        }
        return Effect.<Account.Event, Account.State>persist(d.event())
                .thenReply(s -> new AccountReply.Balance(id, s.balance()));
    }

    static AccountReply.Details details(String id, Account.State state) {
        java.util.List<AccountReply.HoldView> holds = new java.util.ArrayList<>();
        state.holds().forEach((tx, h) -> holds.add(new AccountReply.HoldView(tx, h.amount(), h.role().name())));
        return new AccountReply.Details(id, state.balance(), state.available(), holds);
    }

    @Override
    public Account.State onEvent(Account.State state, Account.Event event) {
        return Account.evolve(state, event);
    }
}
