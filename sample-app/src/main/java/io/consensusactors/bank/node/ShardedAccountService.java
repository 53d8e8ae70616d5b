package io.consensusactors.bank.node;

import io.consensusactors.bank.account.Account;
import io.consensusactors.bank.account.AccountReply;
import io.consensusactors.bank.transfer.Transfer;
import io.consensusactors.bank.transfer.TransferStatus;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

import java.time.Duration;
import java.util.concurrent.CompletionStage;

/** {@link AccountService} over Cluster Sharding: one event-sourced entity per account and per transfer. */
public final class ShardedAccountService implements AccountService {

    private final ClusterSharding sharding;
    private final Duration timeout;

    public ShardedAccountService(ActorSystem<?> system, Duration timeout) {
        Account.initSharding(system);
        Transfer.initSharding(system);
        this.sharding = ClusterSharding.get(system);
        this.timeout = timeout;
    }

    private CompletionStage<AccountReply> account(String id,
            org.apache.pekko.japi.function.Function<org.apache.pekko.actor.typed.ActorRef<AccountReply>,
                    Account.Command> request) {
        return sharding.entityRefFor(Account.ENTITY_TYPE_KEY, id).ask(request, timeout);
    }

    @Override
    public CompletionStage<AccountReply> open(String accountId, long initialBalance, String requestId) {
        return account(accountId, r -> new Account.Open(initialBalance, requestId, r));
    }

    @Override
    public CompletionStage<AccountReply> deposit(String accountId, long amount, String requestId) {
        return account(accountId, r -> new Account.Deposit(amount, requestId, r));
    }

    @Override
    public CompletionStage<AccountReply> withdraw(String accountId, long amount, String requestId) {
        return account(accountId, r -> new Account.Withdraw(amount, requestId, r));
    }

    @Override
    public CompletionStage<AccountReply> balance(String accountId) {
        return account(accountId, Account.GetBalance::new);
    }

    @Override
    public CompletionStage<TransferStatus> transfer(String transferId, String from, String to, long amount) {
        return sharding.entityRefFor(Transfer.ENTITY_TYPE_KEY, transferId)
                .ask(r -> new Transfer.Start(from, to, amount, r), timeout);
    }

    @Override
    public CompletionStage<TransferStatus> transferStatus(String transferId) {
        return sharding.entityRefFor(Transfer.ENTITY_TYPE_KEY, transferId).ask(Transfer.Get::new, timeout);
    }
}
