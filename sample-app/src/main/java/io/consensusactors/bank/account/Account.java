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
import java.util.LinkedHashMap;
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

    /** Account state; {@code applied} maps request hashes to the balance each produced, oldest first. */
    public static final class State implements CborSerializable {
        final boolean open;
        final long balance;
        final LinkedHashMap<Long, Long> applied;

        @JsonCreator
        State(@JsonProperty("open") boolean open, @JsonProperty("balance") long balance,
              @JsonProperty("applied") LinkedHashMap<Long, Long> applied) {
            this.open = open;
            this.balance = balance;
            this.applied = applied == null ? new LinkedHashMap<>() : applied;
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
            return new State(true, newBalance, next);
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
        if (withdraw && amount > state.balance) {
            return new Decision(null, new AccountReply.Rejected(AccountReply.Reason.INSUFFICIENT_FUNDS,
                    "insufficient funds in '" + accountId + "': balance " + state.balance + ", requested " + amount));
        }
        if (!withdraw && state.balance > Long.MAX_VALUE - amount) {
            return new Decision(null, new AccountReply.Rejected(AccountReply.Reason.INVALID_AMOUNT,
                    "deposit of " + amount + " would overflow the balance of '" + accountId + "'"));
        }
        return new Decision(withdraw ? new Withdrawn(amount, hash) : new Deposited(amount, hash), null);
    }

    /** The state after an event (the event handler of both backends). */
    public static State evolve(State s, Event e) {
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
