package io.consensusactors.bank.account;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.consensusactors.persistence.CborSerializable;

/** The answer of an account: its balance after the command, or why the command was rejected. */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME)
@JsonSubTypes({
        @JsonSubTypes.Type(value = AccountReply.Balance.class, name = "balance"),
        @JsonSubTypes.Type(value = AccountReply.Rejected.class, name = "rejected")})
public sealed interface AccountReply extends CborSerializable {

    /** The command succeeded (or was a duplicate of one that did); {@code balance} is the balance after it. */
    record Balance(String accountId, long balance) implements AccountReply {}

    /** The command was refused and changed nothing. */
    record Rejected(Reason reason, String message) implements AccountReply {}

    enum Reason { UNKNOWN_ACCOUNT, ALREADY_OPEN, INVALID_AMOUNT, INSUFFICIENT_FUNDS }
}
