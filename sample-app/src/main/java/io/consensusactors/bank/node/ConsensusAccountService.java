package io.consensusactors.bank.node;

import io.consensusactors.bank.account.Account;
import io.consensusactors.bank.account.AccountReply;
import io.consensusactors.bank.account.ReplicatedAccount;
import io.consensusactors.bank.transfer.ReplicatedTransfer;
import io.consensusactors.bank.transfer.TransferStatus;
import io.consensusactors.entity.ConsensusEntities;
import io.consensusactors.entity.EntityRef;
import io.consensusactors.entity.ReplicatedEntityType;
import io.consensusactors.raft.core.ReadConsistency;
import org.apache.pekko.actor.typed.ActorSystem;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * {@link AccountService} over consensus-backed entities: every account and every transfer record lives in a shard
 * replicated by a Raft group (3 replicas on the ring's preference list), so a node failure loses nothing and needs no
 * hand-over. Balances are read linearizably. A transfer is a saga driven here step by step; each step has a request
 * id derived from the transfer id and each outcome is recorded in the replicated transfer, so a retried transfer
 * (same id) resumes where it stopped and applies nothing twice.
 */
public final class ConsensusAccountService implements AccountService {

    private final ConsensusEntities entities;
    private final ReplicatedEntityType<ReplicatedAccount.Command, Account.Event, Account.State> accounts;
    private final ReplicatedEntityType<ReplicatedTransfer.Command, ReplicatedTransfer.Event, TransferStatus> transfers;

    public ConsensusAccountService(ActorSystem<?> system, String nodeName, List<String> initialNodes, int shards) {
        int replicas = Math.min(3, initialNodes.size());
        this.accounts = ReplicatedAccount.type(shards, replicas);
        this.transfers = ReplicatedTransfer.type(shards, replicas);
        this.entities = ConsensusEntities.start(system, nodeName, initialNodes, List.of(accounts, transfers));
    }

    private EntityRef<ReplicatedAccount.Command> account(String id) {
        return entities.entityRefFor(accounts, id);
    }

    private EntityRef<ReplicatedTransfer.Command> transferRef(String id) {
        return entities.entityRefFor(transfers, id);
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

    @Override
    public CompletionStage<AccountReply> balance(String accountId) {
        return account(accountId).ask(new ReplicatedAccount.GetBalance(), ReadConsistency.LINEARIZABLE);
    }

    @Override
    public CompletionStage<TransferStatus> transfer(String transferId, String from, String to, long amount) {
        return transferRef(transferId).<TransferStatus>ask(new ReplicatedTransfer.Begin(from, to, amount))
                .thenCompose(s -> drive(transferId, s));
    }

    @Override
    public CompletionStage<TransferStatus> transferStatus(String transferId) {
        return transferRef(transferId).ask(new ReplicatedTransfer.Get(), ReadConsistency.LINEARIZABLE);
    }

    /** Runs the saga from the recorded phase until a final phase; a failed step leaves it resumable. */
    private CompletionStage<TransferStatus> drive(String id, TransferStatus s) {
        switch (s.phase()) {
            case WITHDRAWING:
                return step(id, s, withdraw(s.from(), s.amount(), id + ":withdraw"),
                        TransferStatus.Phase.DEPOSITING, TransferStatus.Phase.FAILED);
            case DEPOSITING:
                return step(id, s, deposit(s.to(), s.amount(), id + ":deposit"),
                        TransferStatus.Phase.COMPLETED, TransferStatus.Phase.REFUNDING);
            case REFUNDING:
                return step(id, s, deposit(s.from(), s.amount(), id + ":refund"),
                        TransferStatus.Phase.REFUNDED, null);
            default:
                return CompletableFuture.completedFuture(s);
        }
    }

    private CompletionStage<TransferStatus> step(String id, TransferStatus s, CompletionStage<AccountReply> action,
                                                 TransferStatus.Phase onSuccess, TransferStatus.Phase onRefusal) {
        return action.thenCompose(reply -> {
            TransferStatus.Phase next = reply instanceof AccountReply.Balance ? onSuccess : onRefusal;
            if (next == null) {
                return CompletableFuture.completedFuture(s); // a refund cannot be refused; leave it for a retry
            }
            String reason = reply instanceof AccountReply.Rejected r ? r.message() : null;
            return transferRef(id).<TransferStatus>ask(new ReplicatedTransfer.Advance(next, reason))
                    .thenCompose(ns -> drive(id, ns));
        }).exceptionally(e -> s); // unknown outcome: the transfer stays pending; a retry with the same id resumes it
    }
}
