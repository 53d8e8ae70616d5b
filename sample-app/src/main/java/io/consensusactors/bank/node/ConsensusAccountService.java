package io.consensusactors.bank.node;

import io.consensusactors.bank.account.Account;
import io.consensusactors.bank.account.AccountReply;
import io.consensusactors.bank.account.ReplicatedAccount;
import io.consensusactors.bank.transfer.ReplicatedTransfer;
import io.consensusactors.bank.transfer.TransferCoordinator;
import io.consensusactors.bank.transfer.TransferIndex;
import io.consensusactors.bank.transfer.TransferStatus;
import io.consensusactors.entity.ConsensusEntities;
import io.consensusactors.entity.EntityRef;
import io.consensusactors.entity.ReplicatedEntityType;
import io.consensusactors.paxos.actor.ConsensusRegister;
import io.consensusactors.raft.core.ReadConsistency;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@link AccountService} over consensus-backed entities: every account and every transfer record lives in a shard
 * replicated by a Raft group (3 replicas on the ring's preference list), so a node failure loses nothing and needs no
 * hand-over. Balances are read linearizably. A transfer is a Paxos Commit transaction ({@link TransferCoordinator},
 * docs/bank-transactions.md) whose votes and outcome are decided in the {@link ConsensusRegister}: a transfer whose
 * step fails is retried here in the background, and a periodic recovery sweep finishes transfers whose coordinator
 * died.
 */
public final class ConsensusAccountService implements AccountService {

    private static final Logger log = LoggerFactory.getLogger(ConsensusAccountService.class);

    /** How transfers are driven and recovered ({@code bank.transactions}). */
    public record TransactionSettings(Duration recoveryInterval, Duration recoveryAfter, int retries,
                                      Duration retryBackoff) {
        public static TransactionSettings fromConfig(com.typesafe.config.Config config) {
            com.typesafe.config.Config c = config.getConfig("bank.transactions");
            return new TransactionSettings(c.getDuration("recovery-interval"), c.getDuration("recovery-after"),
                    c.getInt("retries"), c.getDuration("retry-backoff"));
        }
    }

    private final ActorSystem<?> system;
    private final ConsensusEntities entities;
    private final ReplicatedEntityType<ReplicatedAccount.Command, Account.Event, Account.State> accounts;
    private final TransferCoordinator coordinator;
    private final TransactionSettings tx;
    private final AtomicBoolean sweeping = new AtomicBoolean();
    private final ConsensusRegister register;

    public ConsensusAccountService(ActorSystem<?> system, String nodeName, List<String> initialNodes, int shards,
                                   ConsensusRegister register, TransactionSettings tx,
                                   TransferCoordinator.Faults faults) {
        int replicas = Math.min(3, initialNodes.size());
        this.system = system;
        this.tx = tx;
        this.register = register;
        this.accounts = ReplicatedAccount.type(shards, replicas);
        ReplicatedEntityType<ReplicatedTransfer.Command, ReplicatedTransfer.Event, TransferStatus> transfers =
                ReplicatedTransfer.type(shards, replicas);
        ReplicatedEntityType<TransferIndex.Command, TransferIndex.Event, TransferIndex.State> index =
                TransferIndex.type(Math.min(shards, TransferIndex.BUCKETS), replicas);
        this.entities = ConsensusEntities.start(system, nodeName, initialNodes, List.of(accounts, transfers, index));
        this.coordinator = new TransferCoordinator(entities, accounts, transfers, index, register, faults);
        if (!tx.recoveryInterval().isZero()) {
            system.scheduler().scheduleWithFixedDelay(tx.recoveryInterval(), tx.recoveryInterval(), this::sweepOnce,
                    system.executionContext());
        }
    }

    public TransferCoordinator coordinator() {
        return coordinator;
    }

    /** The Paxos register holding the transfers' votes and outcomes. */
    public ConsensusRegister register() {
        return register;
    }

    private void sweepOnce() {
        if (!sweeping.compareAndSet(false, true)) {
            return;
        }
        coordinator.sweep(tx.recoveryAfter()).whenComplete((n, err) -> {
            sweeping.set(false);
            if (err != null) {
                log.debug("transfer recovery sweep failed (retried at the next interval): {}", err.toString());
            } else if (n > 0) {
                log.info("transfer recovery sweep finished {} transfers", n);
            }
        });
    }

    private EntityRef<ReplicatedAccount.Command> account(String id) {
        return entities.entityRefFor(accounts, id);
    }

    @Override
    public CompletionStage<AccountReply> open(String accountId, long initialBalance, String requestId) {
        return account(accountId).ask(new ReplicatedAccount.Open(initialBalance, requestId));
    }

    @Override
    public CompletionStage<AccountReply> deposit(String accountId, long amount, String requestId) {
        return account(accountId).ask(new ReplicatedAccount.Deposit(amount, requestId));
    }

    @Override
    public CompletionStage<AccountReply> withdraw(String accountId, long amount, String requestId) {
        return account(accountId).ask(new ReplicatedAccount.Withdraw(amount, requestId));
    }

    /** Balance, available amount and holds ({@link AccountReply.Details}), read linearizably. */
    @Override
    public CompletionStage<AccountReply> balance(String accountId) {
        return account(accountId).ask(new ReplicatedAccount.GetDetails(), ReadConsistency.LINEARIZABLE);
    }

    /**
     * Runs the transfer; if a step fails (a timeout while a shard or the acceptors are unreachable) the answer is the
     * recorded status (PENDING) and the transfer is retried in the background with the same id.
     */
    @Override
    public CompletionStage<TransferStatus> transfer(String transferId, String from, String to, long amount) {
        return coordinator.start(transferId, from, to, amount).exceptionallyCompose(err -> {
            log.debug("transfer {} did not finish ({}): retrying in the background", transferId, err.toString());
            retryLater(transferId, from, to, amount, 1);
            return coordinator.status(transferId).exceptionally(e2 ->
                    new TransferStatus(transferId, TransferStatus.Phase.PREPARING, from, to, amount, null));
        });
    }

    private void retryLater(String transferId, String from, String to, long amount, int attempt) {
        if (attempt > tx.retries()) {
            log.warn("transfer {} still unfinished after {} retries: the recovery sweep will finish it", transferId,
                    tx.retries());
            return;
        }
        system.scheduler().scheduleOnce(tx.retryBackoff().multipliedBy(attempt), () ->
                coordinator.start(transferId, from, to, amount).whenComplete((s, err) -> {
                    if (err != null) {
                        retryLater(transferId, from, to, amount, attempt + 1);
                    }
                }), system.executionContext());
    }

    @Override
    public CompletionStage<TransferStatus> transferStatus(String transferId) {
        return coordinator.status(transferId);
    }
}
