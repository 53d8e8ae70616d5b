package io.consensusactors.bank.transfer;

import io.consensusactors.persistence.CborSerializable;

/**
 * Where a transfer stands. Final states: COMPLETED, FAILED (nothing moved), REFUNDED (money returned, saga only).
 * The consensus backend (Paxos Commit) goes PREPARING → COMMITTING → COMPLETED or PREPARING → ABORTING → FAILED; the
 * Cluster Sharding saga goes WITHDRAWING → DEPOSITING → COMPLETED, or to FAILED / REFUNDING → REFUNDED.
 */
public record TransferStatus(String transferId, Phase phase, String from, String to, long amount, String reason)
        implements CborSerializable {

    public enum Phase {
        UNKNOWN, WITHDRAWING, DEPOSITING, REFUNDING, COMPLETED, FAILED, REFUNDED, PREPARING, COMMITTING, ABORTING;

        public boolean isFinal() {
            return this == COMPLETED || this == FAILED || this == REFUNDED;
        }
    }
}
