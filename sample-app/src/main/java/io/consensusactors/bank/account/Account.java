package io.consensusactors.bank.account;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.consensusactors.persistence.CborSerializable;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A bank account: a Cluster Sharding entity whose state is event-sourced (Opened, Deposited, Withdrawn).
 *
 * <p><b>Exactly-once.</b> Every mutating command carries a client-chosen {@code requestId}. The account remembers
 * the last {@link #DEDUPE_CAPACITY} applied requests in a table keyed by a 64-bit hash of the id (FNV-1a), with
 * the balance that request produced. A retry of an applied request is answered from the table and not applied
 * again. The table is part of the replicated state (rebuilt from events, kept in snapshots) and evicts the oldest
 * entry first, deterministically, so a retry older than the last {@value #DEDUPE_CAPACITY} requests of this account
 * would be applied again: clients retry within seconds, not thousands of requests later. A 64-bit hash collision
 * between two live request ids of one account (probability about n²/2⁶⁵) would make the second one look like a retry.
 *
 * <p><b>Holds (Paxos Commit resource manager).</b> The state also carries the account's part in cross-account
 * transactions (docs/bank-transactions.md): {@link #prepare} validates a transfer leg and records a durable
 * {@link Hold} (event {@link Held}); a debit hold makes its amount unavailable ({@code available = balance - debit
 * holds}), a credit hold changes nothing until it is committed. {@link #commit} applies a hold to the balance
 * ({@link HoldCommitted}), {@link #abort} releases it ({@link HoldReleased}); both are idempotent, and the outcome of
 * the last {@value #DEDUPE_CAPACITY} finished transactions is remembered so that a late Prepare of a finished
 * transaction is refused. Holds are only used by the consensus backend ({@code bank.backend = consensus}); the Cluster
 * Sharding backend keeps its saga ({@code Transfer}) and never has holds, so for it {@code available == balance}.
 */
public final class Account
        extends EventSourcedBehaviorWithEnforcedReplies<Account.Command, Account.Event, Account.State> {

    public static final EntityTypeKey<Command> ENTITY_TYPE_KEY = EntityTypeKey.create(Command.class, "Account");
    public static final int DEDUPE_CAPACITY = 1000;
    static final int SNAPSHOT_EVERY = 100;

    // --- protocol --------------------------------------------------------------------------------------------
    public sealed interface Command extends CborSerializable {}

    public record Open(long initialBalance, String requestId, ActorRef<AccountReply> replyTo) implements Command {}

    public record Deposit(long amount, String requestId, ActorRef<AccountReply> replyTo) implements Command {}

    public record Withdraw(long amount, String requestId, ActorRef<AccountReply> replyTo) implements Command {}

    public record GetBalance(ActorRef<AccountReply> replyTo) implements Command {}

    public sealed interface Event extends CborSerializable {
        long requestHash();
    }

    public record Opened(long initialBalance, long requestHash) implements Event {}

    public record Deposited(long amount, long requestHash) implements Event {}

    public record Withdrawn(long amount, long requestHash) implements Event {}

    /** Which leg of a transfer a hold is: money leaving this account or arriving in it. */
    public enum Role { DEBIT, CREDIT }

    /** A prepared, not yet finished transaction leg. */
    public record Hold(long amount, Role role) implements CborSerializable {}

    /** Phase 1: the leg of transaction {@code txId} was validated and is held. */
    public record Held(String txId, long amount, Role role) implements Event {
        @Override
        public long requestHash() {
            return 0;
        }
    }

    /** Phase 2, commit: the hold of {@code txId} was applied to the balance. */
    public record HoldCommitted(String txId) implements Event {
        @Override
        public long requestHash() {
            return 0;
        }
    }

    /** Phase 2, abort: the hold of {@code txId} (if any) was released; {@code txId} is finished as aborted. */
    public record HoldReleased(String txId) implements Event {
        @Override
        public long requestHash() {
            return 0;
        }
    }

    /**
     * Account state; {@code applied} maps request hashes to the balance each produced, oldest first; {@code holds}
     * are the prepared, unfinished transaction legs by transaction id; {@code finished} maps the last finished
     * transaction ids to their outcome (true: committed), oldest first.
     */
    public static final class State implements CborSerializable {
        final boolean open;
        final long balance;
        final LinkedHashMap<Long, Long> applied;
        final LinkedHashMap<String, Hold> holds;
        final LinkedHashMap<String, Boolean> finished;

        State(boolean open, long balance, LinkedHashMap<Long, Long> applied) {
            this(open, balance, applied, null, null);
        }

        @JsonCreator
        State(@JsonProperty("open") boolean open, @JsonProperty("balance") long balance,
              @JsonProperty("applied") LinkedHashMap<Long, Long> applied,
              @JsonProperty("holds") LinkedHashMap<String, Hold> holds,
              @JsonProperty("finished") LinkedHashMap<String, Boolean> finished) {
            this.open = open;
            this.balance = balance;
            this.applied = applied == null ? new LinkedHashMap<>() : applied;
            this.holds = holds == null ? new LinkedHashMap<>() : holds;
            this.finished = finished == null ? new LinkedHashMap<>() : finished;
        }

        @JsonProperty("holds")
        public Map<String, Hold> holds() {
            return holds;
        }

        @JsonProperty("finished")
        public Map<String, Boolean> finished() {
            return finished;
        }

        /** Sum of the debit holds: money promised to prepared transfers, not spendable. */
        public long heldDebits() {
            long sum = 0;
            for (Hold h : holds.values()) {
                if (h.role() == Role.DEBIT) {
                    sum += h.amount();
                }
            }
            return sum;
        }

        /** Sum of the credit holds: money that arrives if its transfers commit. */
        public long heldCredits() {
            long sum = 0;
            for (Hold h : holds.values()) {
                if (h.role() == Role.CREDIT) {
                    sum += h.amount();
                }
            }
            return sum;
        }

        /** What a withdrawal or a new debit hold may use: the balance less the debit holds. */
        public long available() {
            return balance - heldDebits();
        }

        @JsonProperty("open")
        public boolean open() {
            return open;
        }

        @JsonProperty("balance")
        public long balance() {
            return balance;
        }

        @JsonProperty("applied")
        public Map<Long, Long> applied() {
            return applied;
        }

        State apply(long newBalance, long requestHash) {
            LinkedHashMap<Long, Long> next = new LinkedHashMap<>(applied);
            next.put(requestHash, newBalance);
            while (next.size() > DEDUPE_CAPACITY) {
                next.remove(next.keySet().iterator().next());
            }
            return new State(true, newBalance, next, holds, finished);
        }

        State hold(String txId, Hold hold) {
            LinkedHashMap<String, Hold> next = new LinkedHashMap<>(holds);
            next.put(txId, hold);
            return new State(open, balance, applied, next, finished);
        }

        State finish(String txId, boolean committed) {
            Hold h = holds.get(txId);
            long newBalance = balance;
            if (committed && h != null) {
                newBalance = h.role() == Role.DEBIT ? balance - h.amount() : balance + h.amount();
            }
            LinkedHashMap<String, Hold> nextHolds = new LinkedHashMap<>(holds);
            nextHolds.remove(txId);
            LinkedHashMap<String, Boolean> nextFinished = new LinkedHashMap<>(finished);
            nextFinished.put(txId, committed);
            while (nextFinished.size() > DEDUPE_CAPACITY) {
                nextFinished.remove(nextFinished.keySet().iterator().next());
            }
            return new State(open, newBalance, applied, nextHolds, nextFinished);
        }
    }

    // --- wiring ----------------------------------------------------------------------------------------------
    public static void initSharding(ActorSystem<?> system) {
        ClusterSharding.get(system).init(Entity.of(ENTITY_TYPE_KEY, ctx -> create(ctx.getEntityId()))
                .withAllocationStrategy(io.consensusactors.bank.node.Placement.allocationStrategy(system)));
    }

    public static Behavior<Command> create(String accountId) {
        return new Account(accountId);
    }

    private final String accountId;

    private Account(String accountId) {
        super(PersistenceId.of(ENTITY_TYPE_KEY.name(), accountId));
        this.accountId = accountId;
    }

    /** 64-bit FNV-1a of the request id: the dedupe table keeps 8 bytes per request instead of the id. */
    public static long requestHash(String requestId) {
        long h = 0xcbf29ce484222325L;
        for (byte b : requestId.getBytes(StandardCharsets.UTF_8)) {
            h ^= (b & 0xff);
            h *= 0x100000001b3L;
        }
        return h;
    }

    @Override
    public State emptyState() {
        return EMPTY;
    }

    public static final State EMPTY = new State(false, 0, new LinkedHashMap<>());

    @Override
    public RetentionCriteria retentionCriteria() {
        return RetentionCriteria.snapshotEvery(SNAPSHOT_EVERY, 2);
    }

    @Override
    public CommandHandlerWithReply<Command, Event, State> commandHandler() {
        return newCommandHandlerWithReplyBuilder().forAnyState()
                .onCommand(Open.class, this::onOpen)
                .onCommand(Deposit.class, this::onDeposit)
                .onCommand(Withdraw.class, this::onWithdraw)
                .onCommand(GetBalance.class, this::onGetBalance)
                .build();
    }

    /** What a command does to an account: an event to persist (then the reply is the new balance), or a reply. */
    public record Decision(Event event, AccountReply reply) {
    }

    /** The kinds of mutating command. */
    public enum Change { OPEN, DEPOSIT, WITHDRAW }

    /**
     * The account's business rules as a pure function of the state, shared by the Cluster Sharding entity and the
     * consensus-backed one: exactly-once by request hash, validation, overdraft and overflow checks.
     */
    public static Decision decide(String accountId, State state, Change change, long amount, String requestId) {
        long hash = requestHash(requestId);
        if (change == Change.OPEN) {
            if (state.open) {
                Long previous = state.applied.get(hash);
                return previous != null ? new Decision(null, new AccountReply.Balance(accountId, previous))
                        : new Decision(null, new AccountReply.Rejected(AccountReply.Reason.ALREADY_OPEN,
                        "account '" + accountId + "' is already open"));
            }
            if (amount < 0) {
                return new Decision(null, new AccountReply.Rejected(AccountReply.Reason.INVALID_AMOUNT,
                        "initial balance must be zero or positive, was " + amount));
            }
            return new Decision(new Opened(amount, hash), null);
        }
        if (!state.open) {
            return new Decision(null, unknown(accountId));
        }
        Long previous = state.applied.get(hash);
        if (previous != null) {
            return new Decision(null, new AccountReply.Balance(accountId, previous));
        }
        if (amount <= 0) {
            return new Decision(null, new AccountReply.Rejected(AccountReply.Reason.INVALID_AMOUNT,
                    "amount must be positive, was " + amount));
        }
        boolean withdraw = change == Change.WITHDRAW;
        if (withdraw && amount > state.available()) {
            return new Decision(null, new AccountReply.Rejected(AccountReply.Reason.INSUFFICIENT_FUNDS,
                    "insufficient funds in '" + accountId + "': balance " + state.balance + availability(state)
                            + ", requested " + amount));
        }
        if (!withdraw && state.balance > Long.MAX_VALUE - amount - state.heldCredits()) {
            return new Decision(null, new AccountReply.Rejected(AccountReply.Reason.INVALID_AMOUNT,
                    "deposit of " + amount + " would overflow the balance of '" + accountId + "'"));
        }
        return new Decision(withdraw ? new Withdrawn(amount, hash) : new Deposited(amount, hash), null);
    }

    private static String availability(State state) {
        long held = state.heldDebits();
        return held == 0 ? "" : " of which " + held + " held by pending transfers";
    }

    /**
     * Phase 1 of Paxos Commit at this resource manager: validates the leg of transaction {@code txId} and holds it.
     * Idempotent: a leg already held answers {@link AccountReply.Prepared} again; a finished transaction is refused
     * (its Abort may have overtaken this Prepare: holding now would never be released).
     */
    public static Decision prepare(String accountId, State state, String txId, long amount, Role role) {
        if (state.holds.containsKey(txId)) {
            return new Decision(null, new AccountReply.Prepared(accountId, txId));
        }
        Boolean outcome = state.finished.get(txId);
        if (outcome != null) {
            return new Decision(null, new AccountReply.Rejected(AccountReply.Reason.TRANSACTION_FINISHED,
                    "transaction '" + txId + "' already finished on '" + accountId + "' as "
                            + (outcome ? "committed" : "aborted")));
        }
        if (!state.open) {
            return new Decision(null, unknown(accountId));
        }
        if (amount <= 0) {
            return new Decision(null, new AccountReply.Rejected(AccountReply.Reason.INVALID_AMOUNT,
                    "amount must be positive, was " + amount));
        }
        if (role == Role.DEBIT && amount > state.available()) {
            return new Decision(null, new AccountReply.Rejected(AccountReply.Reason.INSUFFICIENT_FUNDS,
                    "insufficient funds in '" + accountId + "': balance " + state.balance + availability(state)
                            + ", requested " + amount));
        }
        if (role == Role.CREDIT && state.balance > Long.MAX_VALUE - amount - state.heldCredits()) {
            return new Decision(null, new AccountReply.Rejected(AccountReply.Reason.INVALID_AMOUNT,
                    "a credit of " + amount + " would overflow the balance of '" + accountId + "'"));
        }
        return new Decision(new Held(txId, amount, role), null);
    }

    /**
     * Phase 2, commit: applies the hold of {@code txId}. Idempotent (a committed transaction answers the balance).
     * Only sent once Paxos chose commit, which needs this account's PREPARED vote, which is proposed only after the
     * hold is durable: a commit without a hold is a protocol violation and is refused loudly.
     */
    public static Decision commit(String accountId, State state, String txId) {
        if (state.holds.containsKey(txId)) {
            return new Decision(new HoldCommitted(txId), null);
        }
        Boolean outcome = state.finished.get(txId);
        if (Boolean.TRUE.equals(outcome)) {
            return new Decision(null, new AccountReply.Balance(accountId, state.balance));
        }
        return new Decision(null, new AccountReply.Rejected(AccountReply.Reason.NO_HOLD,
                "cannot commit transaction '" + txId + "' on '" + accountId + "': "
                        + (outcome == null ? "no hold (never prepared here, or forgotten)" : "it was aborted here")));
    }

    /**
     * Phase 2, abort: releases the hold of {@code txId} if any and remembers the transaction as aborted, so a Prepare
     * that arrives later is refused. Idempotent. Refused only if the transaction was committed here.
     */
    public static Decision abort(String accountId, State state, String txId) {
        Boolean outcome = state.finished.get(txId);
        if (Boolean.TRUE.equals(outcome)) {
            return new Decision(null, new AccountReply.Rejected(AccountReply.Reason.TRANSACTION_FINISHED,
                    "cannot abort transaction '" + txId + "' on '" + accountId + "': it was committed here"));
        }
        if (Boolean.FALSE.equals(outcome)) {
            return new Decision(null, new AccountReply.Balance(accountId, state.balance));
        }
        return new Decision(new HoldReleased(txId), null);
    }

    /** The state after an event (the event handler of both backends). */
    public static State evolve(State s, Event e) {
        if (e instanceof Held h) {
            return s.hold(h.txId(), new Hold(h.amount(), h.role()));
        }
        if (e instanceof HoldCommitted c) {
            return s.finish(c.txId(), true);
        }
        if (e instanceof HoldReleased r) {
            return s.finish(r.txId(), false);
        }
        if (e instanceof Opened o) {
            return s.apply(o.initialBalance(), o.requestHash());
        }
        if (e instanceof Deposited d) {
            return s.apply(s.balance + d.amount(), d.requestHash());
        }
        Withdrawn w = (Withdrawn) e;
        return s.apply(s.balance - w.amount(), w.requestHash());
    }

    private ReplyEffect<Event, State> onOpen(State state, Open cmd) {
        return effect(decide(accountId, state, Change.OPEN, cmd.initialBalance(), cmd.requestId()), cmd.replyTo());
    }

    private ReplyEffect<Event, State> onDeposit(State state, Deposit cmd) {
        return effect(decide(accountId, state, Change.DEPOSIT, cmd.amount(), cmd.requestId()), cmd.replyTo());
    }

    private ReplyEffect<Event, State> onWithdraw(State state, Withdraw cmd) {
        return effect(decide(accountId, state, Change.WITHDRAW, cmd.amount(), cmd.requestId()), cmd.replyTo());
    }

    private ReplyEffect<Event, State> effect(Decision d, ActorRef<AccountReply> replyTo) {
        return d.event() == null ? Effect().reply(replyTo, d.reply())
                : Effect().persist(d.event()).thenReply(replyTo, s -> balance(s.balance));
    }

    private ReplyEffect<Event, State> onGetBalance(State state, GetBalance cmd) {
        return Effect().reply(cmd.replyTo(), state.open ? balance(state.balance) : unknown(accountId));
    }

    private AccountReply.Balance balance(long b) {
        return new AccountReply.Balance(accountId, b);
    }

    public static AccountReply.Rejected unknown(String accountId) {
        return new AccountReply.Rejected(AccountReply.Reason.UNKNOWN_ACCOUNT,
                "unknown account '" + accountId + "': open it first with POST /accounts/" + accountId);
    }

    @Override
    public EventHandler<State, Event> eventHandler() {
        return newEventHandlerBuilder().forAnyState().onAnyEvent(Account::evolve);
    }
}
