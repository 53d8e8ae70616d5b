package io.consensusactors.bank;

import io.consensusactors.bank.account.Account;
import io.consensusactors.bank.account.AccountReply;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The account as a Paxos Commit resource manager, as pure functions ({@link Account#prepare}, {@link Account#commit},
 * {@link Account#abort}, {@link Account#evolve}): a hold makes its amount unspendable, phase 2 is idempotent, and a
 * Prepare that arrives after the transaction was aborted is refused (else its hold would never be released).
 */
class AccountHoldsTest {

    static Account.State run(Account.State s, Account.Decision d) {
        return d.event() == null ? s : Account.evolve(s, d.event());
    }

    static Account.State open(long balance) {
        return run(Account.EMPTY, Account.decide("a", Account.EMPTY, Account.Change.OPEN, balance, "open"));
    }

    @Test
    void heldDebitsAreNotSpendableByWithdrawalsOrOtherTransfers() {
        Account.State s = open(100);
        s = run(s, Account.prepare("a", s, "t1", 80, Account.Role.DEBIT));
        assertEquals(100, s.balance(), "a hold does not change the booked balance");
        assertEquals(20, s.available());
        Account.Decision w = Account.decide("a", s, Account.Change.WITHDRAW, 30, "w1");
        assertEquals(AccountReply.Reason.INSUFFICIENT_FUNDS, assertInstanceOf(AccountReply.Rejected.class, w.reply()).reason());
        Account.Decision t2 = Account.prepare("a", s, "t2", 21, Account.Role.DEBIT);
        assertEquals(AccountReply.Reason.INSUFFICIENT_FUNDS, assertInstanceOf(AccountReply.Rejected.class, t2.reply()).reason());
        s = run(s, Account.decide("a", s, Account.Change.WITHDRAW, 20, "w2"));
        assertEquals(80, s.balance());
        assertEquals(0, s.available());
        s = run(s, Account.commit("a", s, "t1"));
        assertEquals(0, s.balance(), "commit applies the held debit once");
        assertEquals(0, s.holds().size());
    }

    @Test
    void creditHoldsAreNotSpendableUntilCommitted() {
        Account.State s = open(0);
        s = run(s, Account.prepare("a", s, "t1", 50, Account.Role.CREDIT));
        assertEquals(0, s.available());
        assertEquals(50, s.heldCredits());
        assertInstanceOf(AccountReply.Rejected.class, Account.decide("a", s, Account.Change.WITHDRAW, 1, "w").reply());
        s = run(s, Account.commit("a", s, "t1"));
        assertEquals(50, s.balance());
        assertEquals(50, s.available());
    }

    @Test
    void prepareCommitAndAbortAreIdempotent() {
        Account.State s = open(100);
        s = run(s, Account.prepare("a", s, "t1", 40, Account.Role.DEBIT));
        Account.Decision again = Account.prepare("a", s, "t1", 40, Account.Role.DEBIT);
        assertNull(again.event(), "a second Prepare holds nothing more");
        assertInstanceOf(AccountReply.Prepared.class, again.reply());
        s = run(s, Account.commit("a", s, "t1"));
        Account.Decision commitAgain = Account.commit("a", s, "t1");
        assertNull(commitAgain.event());
        assertEquals(60, assertInstanceOf(AccountReply.Balance.class, commitAgain.reply()).balance());
        assertInstanceOf(AccountReply.Rejected.class, Account.abort("a", s, "t1").reply(),
                "a committed transaction cannot be aborted");
        s = run(s, Account.prepare("a", s, "t2", 10, Account.Role.DEBIT));
        s = run(s, Account.abort("a", s, "t2"));
        assertEquals(60, s.balance());
        assertEquals(60, s.available());
        assertNull(Account.abort("a", s, "t2").event(), "a second Abort changes nothing");
        assertInstanceOf(AccountReply.Rejected.class, Account.commit("a", s, "t2").reply(),
                "an aborted transaction cannot be committed");
    }

    @Test
    void aPrepareArrivingAfterItsAbortIsRefused() {
        Account.State s = open(100);
        s = run(s, Account.abort("a", s, "late"));  // the recovery aborted it before the Prepare got through
        Account.Decision late = Account.prepare("a", s, "late", 10, Account.Role.DEBIT);
        assertNull(late.event());
        assertEquals(AccountReply.Reason.TRANSACTION_FINISHED,
                assertInstanceOf(AccountReply.Rejected.class, late.reply()).reason());
        assertEquals(100, s.available());
    }

    @Test
    void aCommitWithoutAHoldIsRefused() {
        Account.State s = open(100);
        assertEquals(AccountReply.Reason.NO_HOLD,
                assertInstanceOf(AccountReply.Rejected.class, Account.commit("a", s, "never").reply()).reason());
    }
}
