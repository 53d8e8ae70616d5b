package io.consensusactors.bank.transfer;

import io.consensusactors.bank.account.Account;
import io.consensusactors.bank.account.AccountReply;
import io.consensusactors.persistence.CborSerializable;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A money transfer between two accounts that may live on different nodes: an event-sourced saga.
 *
 * <pre>
 *   Started ──withdraw ok──▶ Withdrew ──deposit ok──▶ COMPLETED
 *      │                        │
 *      └─withdraw refused─▶ FAILED (nothing moved)
 *                               └─deposit refused─▶ DepositRefused ──refund ok──▶ REFUNDED
 * </pre>
 *
 * Each step is sent with a request id derived from the transfer id ({@code <id>:withdraw}, {@code <id>:deposit},
 * {@code <id>:refund}), so the accounts' exactly-once table makes every retry safe. A step that times out is
 * retried; after a crash the saga is recovered from its events and re-drives the step it was in. Money is therefore
 * conserved: once every transfer has reached a final phase, the sum of balances is unchanged.
 */
public final class Transfer {

    public static final EntityTypeKey<Command> ENTITY_TYPE_KEY = EntityTypeKey.create(Command.class, "Transfer");
    static final Duration STEP_TIMEOUT = Duration.ofSeconds(3);

    public sealed interface Command extends CborSerializable {}

    /** Starts the transfer (idempotent: a second Start with the same id answers with the first one's outcome). */
    public record Start(String from, String to, long amount, ActorRef<TransferStatus> replyTo) implements Command {}

    public record Get(ActorRef<TransferStatus> replyTo) implements Command {}

    private record StepAnswered(TransferStatus.Phase phase, AccountReply reply) implements Command {}

    private record StepTimedOut(TransferStatus.Phase phase, String error) implements Command {}

    public sealed interface Event extends CborSerializable {}

    public record Started(String from, String to, long amount) implements Event {}

    public record Withdrew() implements Event {}

    public record Deposited() implements Event {}

    public record WithdrawRefused(String reason) implements Event {}

    public record DepositRefused(String reason) implements Event {}

    public record Refunded() implements Event {}

    public record State(TransferStatus.Phase phase, String from, String to, long amount, String reason)
            implements CborSerializable {
        static final State EMPTY = new State(TransferStatus.Phase.UNKNOWN, "", "", 0, null);

        State phase(TransferStatus.Phase p, String why) {
            return new State(p, from, to, amount, why == null ? reason : why);
        }
    }

    public static void initSharding(ActorSystem<?> system) {
        ClusterSharding.get(system).init(Entity.of(ENTITY_TYPE_KEY, ctx -> create(ctx.getEntityId()))
                .withAllocationStrategy(io.consensusactors.bank.node.Placement.allocationStrategy(system)));
    }

    public static Behavior<Command> create(String transferId) {
        return Behaviors.setup(ctx -> new Saga(transferId, ctx));
    }

    private static final class Saga extends EventSourcedBehavior<Command, Event, State> {
        private final String transferId;
        private final ActorContext<Command> ctx;
        private final ClusterSharding sharding;
        private final List<ActorRef<TransferStatus>> waiting = new ArrayList<>();

        Saga(String transferId, ActorContext<Command> ctx) {
            super(PersistenceId.of(ENTITY_TYPE_KEY.name(), transferId));
            this.transferId = transferId;
            this.ctx = ctx;
            this.sharding = ClusterSharding.get(ctx.getSystem());
        }

        @Override
        public State emptyState() {
            return State.EMPTY;
        }

        @Override
        public CommandHandler<Command, Event, State> commandHandler() {
            return newCommandHandlerBuilder().forAnyState()
                    .onCommand(Start.class, this::onStart)
                    .onCommand(Get.class, (s, c) -> Effect().none().thenRun(ns -> c.replyTo().tell(status(ns))))
                    .onCommand(StepAnswered.class, this::onStepAnswered)
                    .onCommand(StepTimedOut.class, this::onStepTimedOut)
                    .build();
        }

        private Effect<Event, State> onStart(State state, Start cmd) {
            if (state.phase() == TransferStatus.Phase.UNKNOWN) {
                if (cmd.amount() <= 0 || cmd.from().equals(cmd.to())) {
                    String why = cmd.amount() <= 0 ? "amount must be positive, was " + cmd.amount()
                            : "from and to must be different accounts";
                    cmd.replyTo().tell(new TransferStatus(transferId, TransferStatus.Phase.FAILED, cmd.from(),
                            cmd.to(), cmd.amount(), why));
                    return Effect().none();
                }
                waiting.add(cmd.replyTo());
                return Effect().persist(new Started(cmd.from(), cmd.to(), cmd.amount())).thenRun(this::drive);
            }
            if (state.phase().isFinal()) {
                cmd.replyTo().tell(status(state));
            } else {
                waiting.add(cmd.replyTo());
            }
            return Effect().none();
        }

        private Effect<Event, State> onStepAnswered(State state, StepAnswered answer) {
            if (answer.phase() != state.phase()) {
                return Effect().none(); // a late answer to a step already recorded
            }
            boolean ok = answer.reply() instanceof AccountReply.Balance;
            String why = answer.reply() instanceof AccountReply.Rejected r ? r.message() : null;
            Event next = switch (state.phase()) {
                case WITHDRAWING -> ok ? new Withdrew() : new WithdrawRefused(why);
                case DEPOSITING -> ok ? new Deposited() : new DepositRefused(why);
                case REFUNDING -> ok ? new Refunded() : null;
                default -> null;
            };
            if (next == null) {
                // A refund can only be refused if the source account overflowed: retry later, money stays owed.
                ctx.getLog().warn("transfer {}: refund refused ({}), retrying", transferId, why);
                return Effect().none().thenRun(this::driveLater);
            }
            return Effect().persist(next).thenRun(this::drive);
        }

        private Effect<Event, State> onStepTimedOut(State state, StepTimedOut timeout) {
            if (timeout.phase() != state.phase()) {
                return Effect().none();
            }
            ctx.getLog().debug("transfer {}: {} step timed out ({}), retrying with the same request id",
                    transferId, timeout.phase(), timeout.error());
            return Effect().none().thenRun(this::drive);
        }

        private void driveLater(State state) {
            ctx.scheduleOnce(Duration.ofSeconds(1), ctx.getSelf(), new StepTimedOut(state.phase(), "backoff"));
        }

        /** Sends the request of the step the saga is in; on a final phase answers everyone waiting. */
        private void drive(State state) {
            switch (state.phase()) {
                case WITHDRAWING -> step(state, state.from(), "withdraw",
                        r -> new Account.Withdraw(state.amount(), transferId + ":withdraw", r));
                case DEPOSITING -> step(state, state.to(), "deposit",
                        r -> new Account.Deposit(state.amount(), transferId + ":deposit", r));
                case REFUNDING -> step(state, state.from(), "refund",
                        r -> new Account.Deposit(state.amount(), transferId + ":refund", r));
                default -> {
                    if (state.phase().isFinal()) {
                        TransferStatus status = status(state);
                        waiting.forEach(w -> w.tell(status));
                        waiting.clear();
                    }
                }
            }
        }

        private void step(State state, String accountId, String what,
                          org.apache.pekko.japi.function.Function<ActorRef<AccountReply>, Account.Command> request) {
            TransferStatus.Phase phase = state.phase();
            ctx.ask(AccountReply.class, sharding.entityRefFor(Account.ENTITY_TYPE_KEY, accountId), STEP_TIMEOUT,
                    request, (reply, error) -> reply != null ? new StepAnswered(phase, reply)
                            : new StepTimedOut(phase, what + ": " + error));
        }

        private TransferStatus status(State s) {
            return new TransferStatus(transferId, s.phase(), s.from(), s.to(), s.amount(), s.reason());
        }

        @Override
        public SignalHandler<State> signalHandler() {
            return newSignalHandlerBuilder().onSignal(RecoveryCompleted.instance(), s -> {
                if (!s.phase().isFinal() && s.phase() != TransferStatus.Phase.UNKNOWN) {
                    ctx.getLog().info("transfer {} recovered in phase {}: resuming", transferId, s.phase());
                    drive(s);
                }
            }).build();
        }

        @Override
        public EventHandler<State, Event> eventHandler() {
            return newEventHandlerBuilder().forAnyState()
                    .onEvent(Started.class, (s, e) -> new State(TransferStatus.Phase.WITHDRAWING, e.from(), e.to(),
                            e.amount(), null))
                    .onEvent(Withdrew.class, (s, e) -> s.phase(TransferStatus.Phase.DEPOSITING, null))
                    .onEvent(Deposited.class, (s, e) -> s.phase(TransferStatus.Phase.COMPLETED, null))
                    .onEvent(WithdrawRefused.class, (s, e) -> s.phase(TransferStatus.Phase.FAILED, e.reason()))
                    .onEvent(DepositRefused.class, (s, e) -> s.phase(TransferStatus.Phase.REFUNDING, e.reason()))
                    .onEvent(Refunded.class, (s, e) -> s.phase(TransferStatus.Phase.REFUNDED, null))
                    .build();
        }
    }

    private Transfer() {
    }
}
