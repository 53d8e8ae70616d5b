package io.consensusactors.bank;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.consensusactors.bank.account.AccountReply;
import io.consensusactors.bank.node.BankNode;
import io.consensusactors.bank.node.ConsensusAccountService;
import io.consensusactors.bank.transfer.TransferCoordinator;
import io.consensusactors.bank.transfer.TransferCoordinator.Step;
import io.consensusactors.bank.transfer.TransferIndex;
import io.consensusactors.bank.transfer.TransferStatus;
import io.consensusactors.paxos.actor.ConsensusRegister;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Paxos Commit in the bank (docs/bank-transactions.md) on a real bank node (one-member cluster, Raft entities and a
 * Paxos register with one acceptor, in-memory H2). The coordinator is made to die before each of its steps by a fault
 * hook; the transfer is then finished by a retry (same id) or by the recovery sweep (which forces undecided votes to
 * ABORTED). Money conservation is defined with the holds (see {@link #assertConserved}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BankTransactionsTest {

    /** Kills the coordinator of a transaction at a step: that step and every later one fail. */
    static final class KillSwitch implements TransferCoordinator.Faults {
        final Map<String, Step> dieAt = new ConcurrentHashMap<>();

        @Override
        public void before(Step step, String txId) {
            Step at = dieAt.get(txId);
            if (at != null && step.ordinal() >= at.ordinal()) {
                throw new TransferCoordinator.CoordinatorStopped(step, txId);
            }
        }
    }

    final KillSwitch kill = new KillSwitch();
    BankNode node;
    ConsensusAccountService service;
    TransferCoordinator coordinator;
    ConsensusRegister register;

    @BeforeAll
    void start() throws Exception {
        Config config = ConfigFactory.parseString("""
                pekko.remote.artery.canonical.port = 0
                pekko.coordinated-shutdown.exit-jvm = off
                pekko.loglevel = WARNING
                consensus-actors.persistence { database = h2-mem, node-name = bank-tx-test, h2.shared = off }
                bank.http.port = 0
                consensus-actors.raft.tick-interval = 20ms
                consensus-actors.paxos.tick-interval = 10ms
                bank.transactions { recovery-interval = 1s, recovery-after = 8s, retries = 0 }
                """).withFallback(ConfigFactory.load());
        node = BankNode.start(config, "tx-node", kill);
        Cluster cluster = Cluster.get(node.system);
        cluster.manager().tell(Join.create(cluster.selfMember().address()));
        service = (ConsensusAccountService) node.service;
        coordinator = service.coordinator();
        register = service.register();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try {
                service.open("warm-up", 0, "warm-up").toCompletableFuture().get(10, TimeUnit.SECONDS);
                register.decide("warm-up", "x").toCompletableFuture().get(10, TimeUnit.SECONDS);
                break;
            } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(200);
            }
        }
    }

    @AfterAll
    void stop() {
        node.system.terminate();
        node.system.getWhenTerminated().toCompletableFuture().join();
    }

    // --- properties ------------------------------------------------------------------------------------------

    /**
     * For every step, a coordinator that dies right before it leaves the bank conserved (with holds counted), and a
     * retry with the same transfer id completes the transfer exactly once.
     */
    @Test
    void noMoneyIsCreatedOrLostWhenTheCoordinatorDiesBeforeAnyStepAndARetryFinishesIt() {
        for (Step step : Step.values()) {
            String tx = "retry-" + step;
            String a = tx + "-a";
            String b = tx + "-b";
            open(a, 1000);
            open(b, 0);
            dieAt(tx, step, a, b, 300);
            assertConserved(List.of(a, b), 1000);
            kill.dieAt.remove(tx);  // a new, live coordinator (e.g. the client retrying on another node)
            TransferStatus s = await(coordinator.start(tx, a, b, 300));
            assertEquals(TransferStatus.Phase.COMPLETED, s.phase(), "retry after a death before " + step + ": " + s);
            assertFinished(tx, a, b, 300, true);
            assertConserved(List.of(a, b), 1000);
            assertEquals(700, balance(a));
            assertEquals(300, balance(b));
        }
    }

    /**
     * For every step, a coordinator that dies right before it leaves the bank conserved, and the recovery sweep
     * finishes the transfer: aborted if some vote was still undecided (forced to ABORTED), committed if both votes
     * were PREPARED — never both, never stuck.
     */
    @Test
    void noMoneyIsCreatedOrLostWhenTheCoordinatorDiesBeforeAnyStepAndTheRecoverySweepFinishesIt() {
        for (Step step : Step.values()) {
            String tx = "sweep-" + step;
            String a = tx + "-a";
            String b = tx + "-b";
            open(a, 1000);
            open(b, 0);
            dieAt(tx, step, a, b, 300);
            assertConserved(List.of(a, b), 1000);
            kill.dieAt.remove(tx);  // the sweep is another, live coordinator
            await(coordinator.sweep(Duration.ZERO));
            if (step == Step.INDEX) {
                // Died before anything was written: there is nothing to recover and nothing moved.
                assertEquals(TransferStatus.Phase.UNKNOWN, await(coordinator.status(tx)).phase());
                assertEquals(1000, balance(a));
                continue;
            }
            boolean bothVoted = step.ordinal() > Step.VOTE_TO.ordinal();
            TransferStatus s = await(coordinator.status(tx));
            assertEquals(bothVoted ? TransferStatus.Phase.COMPLETED : TransferStatus.Phase.FAILED, s.phase(),
                    "sweep after a death before " + step + ": " + s);
            assertFinished(tx, a, b, 300, bothVoted);
            assertConserved(List.of(a, b), 1000);
        }
    }

    /** A refused leg (insufficient funds) aborts the transfer whatever step the coordinator died at. */
    @Test
    void aRefusedPrepareAbortsTheTransferAndMovesNothingWhateverStepTheCoordinatorDiedAt() {
        for (Step step : List.of(Step.PREPARE_TO, Step.VOTE_TO, Step.OUTCOME, Step.RECORD_OUTCOME, Step.APPLY_TO)) {
            String tx = "refused-" + step;
            String a = tx + "-a";
            String b = tx + "-b";
            open(a, 10);
            open(b, 0);
            dieAt(tx, step, a, b, 50);
            assertConserved(List.of(a, b), 10);
            kill.dieAt.remove(tx);
            TransferStatus s = await(coordinator.start(tx, a, b, 50));
            assertEquals(TransferStatus.Phase.FAILED, s.phase(), s.toString());
            assertTrue(s.reason() != null && s.reason().contains("insufficient funds"), s.toString());
            assertFinished(tx, a, b, 50, false);
            assertEquals(10, balance(a));
            assertEquals(0, balance(b));
        }
    }

    /**
     * The retry of the client and two recovery sweeps race on transfers whose coordinator died at each step: they all
     * end with the same outcome, which matches the votes, the record and the accounts.
     */
    @Test
    void noTransferIsBothCommittedAndAbortedWhenARetryAndRecoveriesRace() {
        List<String[]> txs = new ArrayList<>();
        for (Step step : Step.values()) {
            if (step == Step.INDEX) {
                continue;
            }
            String tx = "race-" + step;
            open(tx + "-a", 1000);
            open(tx + "-b", 0);
            dieAt(tx, step, tx + "-a", tx + "-b", 100);
            kill.dieAt.remove(tx);
            txs.add(new String[] {tx, tx + "-a", tx + "-b"});
        }
        List<CompletableFuture<TransferStatus>> all = new ArrayList<>();
        for (String[] t : txs) {
            TransferIndex.Entry e = new TransferIndex.Entry(t[0], t[1], t[2], 100);
            all.add(coordinator.start(t[0], t[1], t[2], 100).toCompletableFuture());
            all.add(coordinator.recover(e).toCompletableFuture());
            all.add(coordinator.recover(e).toCompletableFuture());
        }
        for (int i = 0; i < txs.size(); i++) {
            String[] t = txs.get(i);
            TransferStatus.Phase p0 = await(all.get(3 * i)).phase();
            assertTrue(p0.isFinal(), t[0] + " " + p0);
            for (int k = 1; k < 3; k++) {
                TransferStatus.Phase pk = await(all.get(3 * i + k)).phase();
                assertEquals(p0, pk, t[0] + ": the retry and a recovery disagree");
            }
            assertFinished(t[0], t[1], t[2], 100, p0 == TransferStatus.Phase.COMPLETED);
            assertConserved(List.of(t[1], t[2]), 1000);
        }
    }

    /** Concurrent transfers and withdrawals from one account never take it below zero, and conserve money. */
    @Test
    void anAccountCannotGoNegativeThroughConcurrentTransfers() throws Exception {
        String src = "neg-src";
        open(src, 100);
        List<String> all = new ArrayList<>(List.of(src));
        List<CompletableFuture<TransferStatus>> transfers = new ArrayList<>();
        List<CompletableFuture<AccountReply>> withdrawals = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            open("neg-dst-" + i, 0);
            all.add("neg-dst-" + i);
        }
        for (int i = 0; i < 10; i++) {
            transfers.add(coordinator.start("neg-tx-" + i, src, "neg-dst-" + i, 30).toCompletableFuture());
            if (i % 3 == 0) {
                withdrawals.add(service.withdraw(src, 30, "neg-w-" + i).toCompletableFuture());
            }
        }
        long minAvailable = Long.MAX_VALUE;
        while (!transfers.stream().allMatch(CompletableFuture::isDone)) {
            AccountReply.Details d = details(src);
            minAvailable = Math.min(minAvailable, d.available());
            assertTrue(d.balance() >= 0 && d.available() >= 0, "while transfers run: " + d);
        }
        long committed = transfers.stream().filter(f -> await(f).phase() == TransferStatus.Phase.COMPLETED).count();
        long withdrawn = withdrawals.stream().filter(f -> await(f) instanceof AccountReply.Balance).count();
        assertTrue(committed + withdrawn <= 3, committed + " transfers and " + withdrawn + " withdrawals of 30 from 100");
        assertTrue(committed + withdrawn >= 1, "some succeed");
        assertEquals(100 - 30 * (committed + withdrawn), balance(src));
        assertTrue(balance(src) >= 0);
        assertConserved(all, 100 - 30 * withdrawn);
        assertTrue(minAvailable >= 0, "available seen " + minAvailable);
    }

    /** Held funds are not spendable: a debit hold makes a withdrawal fail until the transfer is decided. */
    @Test
    void heldFundsAreNotSpendableAndCountedOnce() {
        open("hold-a", 100);
        open("hold-b", 0);
        dieAt("hold-tx", Step.OUTCOME, "hold-a", "hold-b", 80);  // both legs held and voted PREPARED
        AccountReply.Details d = details("hold-a");
        assertEquals(100, d.balance());
        assertEquals(20, d.available());
        assertEquals(1, d.holds().size());
        assertInstanceOf(AccountReply.Rejected.class, await(service.withdraw("hold-a", 30, "hold-w1")));
        assertInstanceOf(AccountReply.Balance.class, await(service.withdraw("hold-a", 20, "hold-w2")));
        assertConserved(List.of("hold-a", "hold-b"), 80);
        kill.dieAt.remove("hold-tx");
        assertEquals(TransferStatus.Phase.COMPLETED, await(coordinator.start("hold-tx", "hold-a", "hold-b", 80)).phase());
        assertEquals(0, balance("hold-a"));
        assertEquals(80, balance("hold-b"));
    }

    /** The periodic recovery sweep of the node finishes a transfer whose coordinator died, with no call from anyone. */
    @Test
    void thePeriodicSweepFinishesATransferWhoseCoordinatorDied() throws Exception {
        open("periodic-a", 500);
        open("periodic-b", 0);
        dieAt("periodic-tx", Step.APPLY_TO, "periodic-a", "periodic-b", 200);
        kill.dieAt.remove("periodic-tx");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        TransferStatus s;
        do {
            Thread.sleep(250);
            s = await(coordinator.status("periodic-tx"));
        } while (!s.phase().isFinal() && System.nanoTime() < deadline);
        assertEquals(TransferStatus.Phase.COMPLETED, s.phase());
        assertEquals(300, balance("periodic-a"));
        assertEquals(200, balance("periodic-b"));
    }

    // --- helpers ---------------------------------------------------------------------------------------------

    private void dieAt(String tx, Step step, String from, String to, long amount) {
        kill.dieAt.put(tx, step);
        try {
            coordinator.start(tx, from, to, amount).toCompletableFuture().get(30, TimeUnit.SECONDS);
            fail("the coordinator of " + tx + " should have died before " + step);
        } catch (ExecutionException e) {
            assertInstanceOf(TransferCoordinator.CoordinatorStopped.class, e.getCause(), e.toString());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /**
     * The bank invariant with holds: for every account, its balance plus its credit holds of committed transactions
     * minus its debit holds of committed transactions (money the bank owes it once phase 2 reaches it), summed over
     * the accounts, equals the money put in. Holds of undecided or aborted transactions count nothing (their
     * balances are untouched). Also: no balance and no available amount is negative.
     */
    private void assertConserved(List<String> accounts, long expectedTotal) {
        long total = 0;
        for (String id : accounts) {
            AccountReply.Details d = details(id);
            assertTrue(d.balance() >= 0 && d.available() >= 0, "negative: " + d);
            total += d.balance();
            for (AccountReply.HoldView h : d.holds()) {
                Optional<String> outcome = await(register.read(TransferCoordinator.outcomeKey(h.txId())));
                if (outcome.equals(Optional.of(ConsensusRegister.COMMIT))) {
                    total += "CREDIT".equals(h.role()) ? h.amount() : -h.amount();
                }
            }
        }
        assertEquals(expectedTotal, total, "bank total with committed holds over " + accounts);
    }

    /** Votes, outcome, record, holds and balances agree on one outcome. */
    private void assertFinished(String tx, String from, String to, long amount, boolean committed) {
        String vFrom = await(register.read(TransferCoordinator.voteKey(tx, from))).orElse("none");
        String vTo = await(register.read(TransferCoordinator.voteKey(tx, to))).orElse("none");
        String outcome = await(register.read(TransferCoordinator.outcomeKey(tx))).orElse("none");
        assertEquals(committed ? ConsensusRegister.COMMIT : ConsensusRegister.ABORT, outcome, tx + " outcome");
        assertEquals(committed, TransferCoordinator.PREPARED.equals(vFrom) && TransferCoordinator.PREPARED.equals(vTo),
                tx + ": votes " + vFrom + "/" + vTo + " vs outcome " + outcome);
        assertEquals(committed ? TransferStatus.Phase.COMPLETED : TransferStatus.Phase.FAILED,
                await(coordinator.status(tx)).phase(), tx + " record");
        assertTrue(details(from).holds().stream().noneMatch(h -> h.txId().equals(tx)), tx + " hold left on " + from);
        assertTrue(details(to).holds().stream().noneMatch(h -> h.txId().equals(tx)), tx + " hold left on " + to);
        assertTrue(await(coordinator.pending()).stream().noneMatch(e -> e.transferId().equals(tx)), tx + " still indexed");
    }

    private void open(String id, long balance) {
        assertInstanceOf(AccountReply.Balance.class, await(service.open(id, balance, "open-" + id)));
    }

    private AccountReply.Details details(String id) {
        return assertInstanceOf(AccountReply.Details.class, await(service.balance(id)));
    }

    private long balance(String id) {
        return details(id).balance();
    }

    static <T> T await(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
