package io.consensusactors.bank.node;

import io.consensusactors.bank.account.AccountReply;
import io.consensusactors.bank.transfer.TransferStatus;

import java.util.concurrent.CompletionStage;

/**
 * What the HTTP layer needs from the bank. Today it is served by Cluster Sharding entities
 * ({@link ShardedAccountService}); consensus-backed entities will implement the same interface.
 */
public interface AccountService {

    CompletionStage<AccountReply> open(String accountId, long initialBalance, String requestId);

    CompletionStage<AccountReply> deposit(String accountId, long amount, String requestId);

    CompletionStage<AccountReply> withdraw(String accountId, long amount, String requestId);

    CompletionStage<AccountReply> balance(String accountId);

    CompletionStage<TransferStatus> transfer(String transferId, String from, String to, long amount);

    CompletionStage<TransferStatus> transferStatus(String transferId);
}
