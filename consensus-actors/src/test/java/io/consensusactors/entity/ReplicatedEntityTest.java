package io.consensusactors.entity;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.consensusactors.persistence.PersistenceSettings;
import io.consensusactors.persistence.SchemaInitializer;
import io.consensusactors.raft.core.ReadConsistency;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Consensus-backed entities on three nodes (three Raft hosts in one ActorSystem, H2 in memory). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReplicatedEntityTest {

    ActorTestKit kit;
    ConsensusEntities a;

    @BeforeAll
    void start() {
        Config app = PersistenceSettings.h2InMemory("entities-" + System.nanoTime()).withFallback(ConfigFactory.parseString("""
                pekko.loglevel = WARNING
                pekko.actor.provider = local
                consensus-actors.raft.tick-interval = 20ms
                """));
        Config cfg = PersistenceSettings.forNode(app).withFallback(app).withFallback(ConfigFactory.load());
        SchemaInitializer.createIfNotExists(cfg);
        kit = ActorTestKit.create("entities", cfg);
        List<String> nodes = List.of("a", "b", "c");
        a = ConsensusEntities.start(kit.system(), "a", nodes, List.of(TestAccount.TYPE));
        ConsensusEntities.start(kit.system(), "b", nodes, List.of(TestAccount.TYPE));
        ConsensusEntities.start(kit.system(), "c", nodes, List.of(TestAccount.TYPE));
    }

    @AfterAll
    void stop() {
        kit.shutdownTestKit();
    }

    static <T> T get(java.util.concurrent.CompletionStage<T> s) throws Exception {
        return s.toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    @Test
    void shardReplicasAreTheRingPreferenceList() {
        for (int s = 0; s < TestAccount.TYPE.shards(); s++) {
            assertEquals(3, a.replicasOf(TestAccount.TYPE, s).size(), "3 distinct replicas per shard");
        }
    }

    @Test
    void pipelinedWithdrawalsNeverOverdraw() throws Exception { // speculation on the leader sees pending events
        EntityRef<TestAccount.Command> acct = a.entityRefFor(TestAccount.TYPE, "overdraw-1");
        assertEquals(new TestAccount.Balance(100), get(acct.ask(new TestAccount.Deposit(100))));
        List<CompletableFuture<Object>> ws = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            ws.add(acct.<Object>ask(new TestAccount.Withdraw(30)).toCompletableFuture()
                    .handle((r, e) -> e == null ? r : e.getCause() != null ? e.getCause() : e));
        }
        int ok = 0;
        int rejected = 0;
        for (CompletableFuture<Object> f : ws) {
            Object r = f.get(30, TimeUnit.SECONDS);
            if (r instanceof TestAccount.Balance) {
                ok++;
            } else if (r instanceof EntityRejectedException) {
                rejected++;
            } else {
                throw new AssertionError("unexpected outcome " + r);
            }
        }
        assertEquals(3, ok, "exactly three withdrawals of 30 fit in 100");
        assertEquals(7, rejected);
        assertEquals(new TestAccount.Balance(10), get(acct.ask(new TestAccount.GetBalance(), ReadConsistency.LINEARIZABLE)));
    }

    @Test
    void badInputIsRejectedWithTheReasonAndChangesNothing() throws Exception {
        EntityRef<TestAccount.Command> acct = a.entityRefFor(TestAccount.TYPE, "bad-1");
        CompletionException e = assertThrows(CompletionException.class,
                () -> acct.ask(new TestAccount.Deposit(-5)).toCompletableFuture().join());
        assertTrue(e.getCause() instanceof EntityRejectedException && e.getCause().getMessage().contains("positive"));
        assertEquals(new TestAccount.Balance(0), get(acct.ask(new TestAccount.GetBalance(), ReadConsistency.LINEARIZABLE)));
        CompletionException e2 = assertThrows(CompletionException.class,
                () -> acct.ask(new TestAccount.Deposit(5), ReadConsistency.STALE).toCompletableFuture().join());
        assertTrue(e2.getCause().getMessage().contains("must not persist"), e2.getCause().getMessage());
    }

    @Test
    void bankTotalIsConservedUnderConcurrentTransfers() throws Exception {
        int accounts = 12;
        List<EntityRef<TestAccount.Command>> refs = new ArrayList<>();
        for (int i = 0; i < accounts; i++) {
            EntityRef<TestAccount.Command> r = a.entityRefFor(TestAccount.TYPE, "conserve-" + i);
            refs.add(r);
            get(r.ask(new TestAccount.Deposit(100)));
        }
        AtomicInteger moved = new AtomicInteger();
        List<CompletableFuture<Void>> clients = new ArrayList<>();
        for (int c = 0; c < 6; c++) {
            clients.add(CompletableFuture.runAsync(() -> {
                for (int i = 0; i < 15; i++) {
                    int from = ThreadLocalRandom.current().nextInt(accounts);
                    int to = (from + 1 + ThreadLocalRandom.current().nextInt(accounts - 1)) % accounts;
                    long amount = 1 + ThreadLocalRandom.current().nextInt(40);
                    try {
                        refs.get(from).ask(new TestAccount.Withdraw(amount)).toCompletableFuture().join();
                    } catch (CompletionException e) {
                        continue; // insufficient funds: nothing moved
                    }
                    refs.get(to).ask(new TestAccount.Deposit(amount)).toCompletableFuture().join();
                    moved.incrementAndGet();
                }
            }));
        }
        CompletableFuture.allOf(clients.toArray(new CompletableFuture[0])).get(120, TimeUnit.SECONDS);
        long total = 0;
        for (EntityRef<TestAccount.Command> r : refs) {
            total += ((TestAccount.Balance) get(r.ask(new TestAccount.GetBalance(), ReadConsistency.LINEARIZABLE))).balance();
        }
        assertEquals(100L * accounts, total, "bank total conserved after " + moved.get() + " transfers");
        assertTrue(moved.get() > 0);
    }
}
