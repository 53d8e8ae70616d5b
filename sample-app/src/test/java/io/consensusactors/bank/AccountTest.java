package io.consensusactors.bank;

import com.typesafe.config.ConfigFactory;
import io.consensusactors.bank.account.Account;
import io.consensusactors.bank.account.AccountReply;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The account entity: validation, exactly-once by hashed request id, and recovery. The test kit also checks that
 * every command, event and state round-trips through the CBOR serializer.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AccountTest {

    private final ActorTestKit kit = ActorTestKit.create(EventSourcedBehaviorTestKit.config()
            .withFallback(ConfigFactory.parseString(
                    "pekko.actor.provider = local\npekko.coordinated-shutdown.exit-jvm = off"))
            .withFallback(ConfigFactory.load()));
    private EventSourcedBehaviorTestKit<Account.Command, Account.Event, Account.State> account;

    @AfterAll
    void shutdown() {
        kit.shutdownTestKit();
    }

    @BeforeEach
    void fresh() {
        account = EventSourcedBehaviorTestKit.create(kit.system(), Account.create("alice"));
        account.clear();
    }

    private AccountReply run(java.util.function.Function<org.apache.pekko.actor.typed.ActorRef<AccountReply>,
            Account.Command> cmd) {
        return account.<AccountReply>runCommand(cmd).reply();
    }

    private static long balance(AccountReply r) {
        return assertInstanceOf(AccountReply.Balance.class, r).balance();
    }

    private static AccountReply.Reason rejected(AccountReply r) {
        return assertInstanceOf(AccountReply.Rejected.class, r).reason();
    }

    @Test
    void depositsAndWithdrawalsChangeTheBalance() {
        assertEquals(100, balance(run(r -> new Account.Open(100, "o1", r))));
        assertEquals(150, balance(run(r -> new Account.Deposit(50, "d1", r))));
        assertEquals(120, balance(run(r -> new Account.Withdraw(30, "w1", r))));
        assertEquals(120, balance(run(Account.GetBalance::new)));
    }

    @Test
    void aRetriedRequestIdIsAnsweredButAppliedOnce() {
        run(r -> new Account.Open(100, "o1", r));
        assertEquals(150, balance(run(r -> new Account.Deposit(50, "same", r))));
        var retry = account.<AccountReply>runCommand(r -> new Account.Deposit(50, "same", r));
        assertEquals(150, balance(retry.reply()), "the retry gets the original answer");
        assertTrue(retry.events().isEmpty(), "the retry persists nothing");
        assertEquals(150, retry.state().balance());
    }

    @Test
    void overdraftIsRefusedAndChangesNothing() {
        run(r -> new Account.Open(10, "o1", r));
        var result = account.<AccountReply>runCommand(r -> new Account.Withdraw(11, "w1", r));
        assertEquals(AccountReply.Reason.INSUFFICIENT_FUNDS, rejected(result.reply()));
        assertTrue(result.events().isEmpty());
        assertEquals(10, result.state().balance());
    }

    @Test
    void nonPositiveAmountsAreRefused() {
        assertEquals(AccountReply.Reason.INVALID_AMOUNT, rejected(run(r -> new Account.Open(-1, "o-1", r))));
        run(r -> new Account.Open(10, "o1", r));
        assertEquals(AccountReply.Reason.INVALID_AMOUNT, rejected(run(r -> new Account.Deposit(0, "d0", r))));
        assertEquals(AccountReply.Reason.INVALID_AMOUNT, rejected(run(r -> new Account.Withdraw(-5, "w-5", r))));
    }

    @Test
    void anUnopenedAccountIsUnknownAndTheMessageSaysHowToOpenIt() {
        AccountReply r = run(x -> new Account.Deposit(5, "d", x));
        assertEquals(AccountReply.Reason.UNKNOWN_ACCOUNT, rejected(r));
        assertTrue(((AccountReply.Rejected) r).message().contains("POST /accounts/alice"));
        assertEquals(AccountReply.Reason.UNKNOWN_ACCOUNT, rejected(run(Account.GetBalance::new)));
    }

    @Test
    void openingTwiceIsAConflictButRetryingTheOpenIsNot() {
        run(r -> new Account.Open(100, "o1", r));
        assertEquals(100, balance(run(r -> new Account.Open(100, "o1", r))));
        assertEquals(AccountReply.Reason.ALREADY_OPEN, rejected(run(r -> new Account.Open(5, "o2", r))));
    }

    @Test
    void stateAndDedupeTableSurviveARestart() {
        run(r -> new Account.Open(100, "o1", r));
        run(r -> new Account.Deposit(7, "d1", r));
        account.restart();
        assertEquals(107, balance(run(Account.GetBalance::new)));
        var retry = account.<AccountReply>runCommand(r -> new Account.Deposit(7, "d1", r));
        assertTrue(retry.events().isEmpty(), "dedupe table recovered from events");
        assertEquals(107, balance(retry.reply()));
    }

    @Test
    void dedupeTableIsBoundedOldestFirst() {
        run(r -> new Account.Open(0, "o", r));
        for (int i = 0; i < Account.DEDUPE_CAPACITY + 5; i++) {
            String id = "d" + i;
            run(r -> new Account.Deposit(1, id, r));
        }
        Account.State s = account.getState();
        assertEquals(Account.DEDUPE_CAPACITY, s.applied().size());
        assertTrue(!s.applied().containsKey(Account.requestHash("d0")), "oldest evicted");
        assertTrue(s.applied().containsKey(Account.requestHash("d" + (Account.DEDUPE_CAPACITY + 4))));
    }
}
