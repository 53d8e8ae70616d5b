package io.consensusactors.bank.account;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.consensusactors.persistence.CborSerializable;

/** The answer of an account: its balance after the command, or why the command was rejected. */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME)
@JsonSubTypes({
        @JsonSubTypes.Type(value = AccountReply.Balance.class, name = "balance"),
        @JsonSubTypes.Type(value = AccountReply.Rejected.class, name = "rejected"),
        @JsonSubTypes.Type(value = AccountReply.Prepared.class, name = "prepared"),
        @JsonSubTypes.Type(value = AccountReply.Details.class, name = "details")})
public sealed interface AccountReply extends CborSerializable {

    /** The command succeeded (or was a duplicate of one that did); {@code balance} is the balance after it. */
    record Balance(String accountId, long balance) implements AccountReply {}

    /** The command was refused and changed nothing. */
    record Rejected(Reason reason, String message) implements AccountReply {}

    /** Paxos Commit phase 1: the leg of {@code txId} is validated and durably held by this account. */
    record Prepared(String accountId, String txId) implements AccountReply {}

    /**
     * The account with its holds: {@code balance} is the booked balance, {@code available} what withdrawals and new
     * debit holds may use (balance less debit holds).
     */
    record Details(String accountId, long balance, long available, java.util.List<HoldView> holds)
            implements AccountReply {}

    /** One prepared, unfinished transaction leg. */
    record HoldView(String txId, long amount, String role) implements CborSerializable {}

    /**
     * Why a command was refused. TRANSACTION_FINISHED: a Prepare or Abort of a transaction this account already
     * finished otherwise; NO_HOLD: a Commit of a transaction this account never prepared (a protocol violation).
     */
    enum Reason { UNKNOWN_ACCOUNT, ALREADY_OPEN, INVALID_AMOUNT, INSUFFICIENT_FUNDS, TRANSACTION_FINISHED, NO_HOLD }
}
