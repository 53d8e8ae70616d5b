package io.consensusactors.bank.transfer;

import io.consensusactors.bank.account.Account;
import io.consensusactors.bank.account.AccountReply;
import io.consensusactors.bank.account.ReplicatedAccount;
import io.consensusactors.entity.ConsensusEntities;
import io.consensusactors.entity.EntityRef;
import io.consensusactors.entity.ReplicatedEntityType;
import io.consensusactors.paxos.actor.ConsensusRegister;
import io.consensusactors.raft.core.ReadConsistency;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs a transfer between two accounts as a Paxos Commit transaction (Gray &amp; Lamport, "Consensus on Transaction
 * Commit", 2006; docs/bank-transactions.md). The two account entities are the resource managers (RMs); the
 * transaction id is the transfer id.
 *
 * <ol>
 *   <li>The transfer is listed in the {@link TransferIndex} and its record ({@link ReplicatedTransfer}) begins in
 *       PREPARING.</li>
 *   <li>Phase 1, for each RM in parallel: {@code Prepare(txId, amount, DEBIT|CREDIT)} — the account validates and
 *       durably holds the leg, or refuses; then the RM's vote is <b>its own Paxos instance</b>:
 *       {@code decide("tx/<txId>/<account>", PREPARED|ABORTED)} in the {@link ConsensusRegister}. PREPARED is proposed
 *       only after the hold is committed by the account's Raft group.</li>
 *   <li>The transaction commits iff every RM instance chose PREPARED. The outcome is recorded under
 *       {@code tx/<txId>} (COMMIT/ABORT) for a fast lookup; it is a function of the chosen votes, so whoever records
 *       it records the same value.</li>
 *   <li>Phase 2: the record moves to COMMITTING or ABORTING, both accounts get {@code Commit(txId)} (apply the hold)
 *       or {@code Abort(txId)} (release it), both idempotent; the record becomes COMPLETED or FAILED and the transfer
 *       leaves the index.</li>
 * </ol>
 *
 * A coordinator may die between any two steps. A retry of the transfer (same id, any node) runs the same steps
 * again; every step is idempotent and every vote is write-once. The recovery sweep ({@link #sweep}) instead forces
 * each RM instance with ABORTED: Paxos answers PREPARED if that was chosen already, so the outcome never depends on
 * the dead coordinator and is never ambiguous.
 */
public final class TransferCoordinator {

    private static final Logger log = LoggerFactory.getLogger(TransferCoordinator.class);

    public static final String PREPARED = "PREPARED";
    public static final String ABORTED = "ABORTED";

    /** The steps of a transfer, in the order one coordinator runs them (the legs of phase 1 and 2 in parallel). */
    public enum Step {
        INDEX, BEGIN_RECORD, PREPARE_FROM, VOTE_FROM, PREPARE_TO, VOTE_TO, OUTCOME, RECORD_OUTCOME, APPLY_FROM,
        APPLY_TO, RECORD_FINAL, UNINDEX
    }

    /** A hook called before every step; tests throw {@link CoordinatorStopped} to make the coordinator die there. */
    public interface Faults {
        Faults NONE = (step, txId) -> { };

        void before(Step step, String txId);
    }

    /** The coordinator stopped (injected by a test): it takes no further step of this transfer. */
    public static final class CoordinatorStopped extends RuntimeException {
        public CoordinatorStopped(Step step, String txId) {
            super("coordinator of " + txId + " stopped before step " + step);
        }
    }

    private final ConsensusEntities entities;
    private final ReplicatedEntityType<ReplicatedAccount.Command, Account.Event, Account.State> accounts;
    private final ReplicatedEntityType<ReplicatedTransfer.Command, ReplicatedTransfer.Event, TransferStatus> transfers;
    private final ReplicatedEntityType<TransferIndex.Command, TransferIndex.Event, TransferIndex.State> index;
    private final ConsensusRegister register;
    private final Faults faults;
    private final Map<String, Long> firstSeenPending = new ConcurrentHashMap<>();
    private final Set<String> recovering = ConcurrentHashMap.newKeySet();

    public TransferCoordinator(ConsensusEntities entities,
                               ReplicatedEntityType<ReplicatedAccount.Command, Account.Event, Account.State> accounts,
                               ReplicatedEntityType<ReplicatedTransfer.Command, ReplicatedTransfer.Event, TransferStatus> transfers,
                               ReplicatedEntityType<TransferIndex.Command, TransferIndex.Event, TransferIndex.State> index,
                               ConsensusRegister register, Faults faults) {
        this.entities = entities;
        this.accounts = accounts;
        this.transfers = transfers;
        this.index = index;
        this.register = register;
        this.faults = faults;
    }

    /** The Paxos instance of one RM's vote. */
    public static String voteKey(String txId, String accountId) {
        return "tx/" + txId + "/" + accountId;
    }

    /** The instance recording the outcome, COMMIT or ABORT. */
    public static String outcomeKey(String txId) {
        return "tx/" + txId;
    }

    /** Starts or resumes transfer {@code txId}; completes with its status once final (or the step that failed). */
    public CompletionStage<TransferStatus> start(String txId, String from, String to, long amount) {
        TransferIndex.Entry entry = new TransferIndex.Entry(txId, from, to, amount);
        return step(Step.INDEX, txId, () -> indexRef(txId).<Object>ask(new TransferIndex.Add(entry)))
                .thenCompose(x -> step(Step.BEGIN_RECORD, txId,
                        () -> record(txId).<TransferStatus>ask(new ReplicatedTransfer.Begin(from, to, amount))))
                .thenCompose(s -> drive(withId(txId, s), false));
    }

    /** Resumes a transfer of the index whose coordinator is presumed dead, forcing undecided votes to ABORTED. */
    public CompletionStage<TransferStatus> recover(TransferIndex.Entry e) {
        String txId = e.transferId();
        return step(Step.BEGIN_RECORD, txId,
                () -> record(txId).<TransferStatus>ask(new ReplicatedTransfer.Begin(e.from(), e.to(), e.amount())))
                .thenCompose(s -> drive(withId(txId, s), true));
    }

    /** The recorded status of a transfer (linearizable read). */
    public CompletionStage<TransferStatus> status(String txId) {
        return record(txId).<TransferStatus>ask(new ReplicatedTransfer.Get(), ReadConsistency.LINEARIZABLE)
                .thenApply(s -> withId(txId, s));
    }

    /**
     * One recovery pass: reads every index bucket and {@link #recover}s each transfer this node has seen pending for
     * at least {@code olderThan} (so a live coordinator normally finishes first; if not, forcing is still safe).
     * Completes with the number of transfers recovered.
     */
    public CompletionStage<Integer> sweep(Duration olderThan) {
        return pending().thenCompose(entries -> {
            long now = System.nanoTime();
            Set<String> pendingNow = ConcurrentHashMap.newKeySet();
            List<CompletableFuture<TransferStatus>> work = new ArrayList<>();
            for (TransferIndex.Entry e : entries) {
                pendingNow.add(e.transferId());
                long first = firstSeenPending.computeIfAbsent(e.transferId(), k -> now);
                if (now - first >= olderThan.toNanos() && recovering.add(e.transferId())) {
                    log.info("transfer {} pending for {} ms: recovering it (undecided votes forced to {})",
                            e.transferId(), (now - first) / 1_000_000, ABORTED);
                    work.add(recover(e).toCompletableFuture().whenComplete((s, err) -> {
                        recovering.remove(e.transferId());
                        if (err != null) {
                            log.warn("recovery of transfer {} failed, next sweep retries: {}", e.transferId(),
                                    err.toString());
                        }
                    }));
                }
            }
            firstSeenPending.keySet().retainAll(pendingNow);
            return CompletableFuture.allOf(work.toArray(new CompletableFuture[0]))
                    .handle((x, err) -> (int) work.stream().filter(w -> !w.isCompletedExceptionally()).count());
        });
    }

    /** Every transfer of the index (not finished, or finished but not yet removed), read linearizably. */
    public CompletionStage<List<TransferIndex.Entry>> pending() {
        List<CompletableFuture<List<TransferIndex.Entry>>> reads = new ArrayList<>();
        for (int b = 0; b < TransferIndex.BUCKETS; b++) {
            reads.add(entities.entityRefFor(index, "pending-" + b)
                    .<TransferIndex.State>ask(new TransferIndex.GetPending(), ReadConsistency.LINEARIZABLE)
                    .thenApply(TransferIndex.State::pending).toCompletableFuture());
        }
        return CompletableFuture.allOf(reads.toArray(new CompletableFuture[0])).thenApply(v -> {
            List<TransferIndex.Entry> all = new ArrayList<>();
            reads.forEach(r -> all.addAll(r.join()));
            return all;
        });
    }

    // --- the protocol ---------------------------------------------------------------------------------------
    private CompletionStage<TransferStatus> drive(TransferStatus s, boolean force) {
        String txId = s.transferId();
        switch (s.phase()) {
            case PREPARING:
                return phase1(s, force);
            case COMMITTING:
            case ABORTING:
                return phase2(s);
            case UNKNOWN:
                return CompletableFuture.completedFuture(s);
            default:
                if (s.phase().isFinal()) {
                    return step(Step.UNINDEX, txId, () -> indexRef(txId).<Object>ask(new TransferIndex.Remove(txId)))
                            .thenApply(x -> s);
                }
                throw new IllegalStateException("transfer " + txId + " in saga phase " + s.phase()
                        + ": not a Paxos Commit transfer");
        }
    }

    private record Vote(String chosen, String reason) {}

    private CompletionStage<TransferStatus> phase1(TransferStatus s, boolean force) {
        String txId = s.transferId();
        CompletableFuture<Vote> from = leg(s, s.from(), Account.Role.DEBIT, Step.PREPARE_FROM, Step.VOTE_FROM, force)
                .toCompletableFuture();
        CompletableFuture<Vote> to = leg(s, s.to(), Account.Role.CREDIT, Step.PREPARE_TO, Step.VOTE_TO, force)
                .toCompletableFuture();
        return from.thenCombine(to, (a, b) -> new Vote[] {a, b}).thenCompose(votes -> {
            boolean commit = PREPARED.equals(votes[0].chosen()) && PREPARED.equals(votes[1].chosen());
            String outcome = commit ? ConsensusRegister.COMMIT : ConsensusRegister.ABORT;
            String reason = commit ? null : votes[0].reason() != null ? votes[0].reason()
                    : votes[1].reason() != null ? votes[1].reason()
                    : "aborted: a participant's vote was forced to ABORTED (coordinator presumed dead)";
            return step(Step.OUTCOME, txId, () -> register.decide(outcomeKey(txId), outcome)).thenCompose(chosen -> {
                if (!chosen.equals(outcome)) {
                    // Cannot happen: the outcome is a function of write-once votes. Stop rather than move money.
                    throw new IllegalStateException("Paxos Commit violated for " + txId + ": votes say " + outcome
                            + " but " + outcomeKey(txId) + " chose " + chosen);
                }
                TransferStatus.Phase next = commit ? TransferStatus.Phase.COMMITTING : TransferStatus.Phase.ABORTING;
                return step(Step.RECORD_OUTCOME, txId,
                        () -> record(txId).<TransferStatus>ask(new ReplicatedTransfer.Advance(next, reason)));
            });
        }).thenCompose(ns -> drive(withId(txId, ns), force));
    }

    /** One RM: prepare, then propose its vote (or, when forcing, propose ABORTED without preparing). */
    private CompletionStage<Vote> leg(TransferStatus s, String accountId, Account.Role role, Step prepare, Step vote,
                                      boolean force) {
        String txId = s.transferId();
        CompletionStage<Vote> proposal = force ? CompletableFuture.completedFuture(new Vote(ABORTED, null))
                : step(prepare, txId, () -> account(accountId)
                        .<AccountReply>ask(new ReplicatedAccount.Prepare(txId, s.amount(), role)))
                .thenApply(r -> r instanceof AccountReply.Prepared ? new Vote(PREPARED, null)
                        : new Vote(ABORTED, r instanceof AccountReply.Rejected rej ? rej.message()
                        : "unexpected answer " + r));
        return proposal.thenCompose(p -> step(vote, txId, () -> register.decide(voteKey(txId, accountId), p.chosen()))
                .thenApply(chosen -> new Vote(chosen, chosen.equals(p.chosen()) ? p.reason() : null)));
    }

    private CompletionStage<TransferStatus> phase2(TransferStatus s) {
        String txId = s.transferId();
        boolean commit = s.phase() == TransferStatus.Phase.COMMITTING;
        CompletableFuture<AccountReply> from = apply(txId, s.from(), commit, Step.APPLY_FROM).toCompletableFuture();
        CompletableFuture<AccountReply> to = apply(txId, s.to(), commit, Step.APPLY_TO).toCompletableFuture();
        TransferStatus.Phase fin = commit ? TransferStatus.Phase.COMPLETED : TransferStatus.Phase.FAILED;
        return from.thenCombine(to, (a, b) -> b)
                .thenCompose(x -> step(Step.RECORD_FINAL, txId,
                        () -> record(txId).<TransferStatus>ask(new ReplicatedTransfer.Advance(fin, null))))
                .thenCompose(ns -> step(Step.UNINDEX, txId,
                        () -> indexRef(txId).<Object>ask(new TransferIndex.Remove(txId))).thenApply(x -> withId(txId, ns)));
    }

    private CompletionStage<AccountReply> apply(String txId, String accountId, boolean commit, Step step) {
        return step(step, txId, () -> account(accountId).<AccountReply>ask(
                commit ? new ReplicatedAccount.Commit(txId) : new ReplicatedAccount.Abort(txId)))
                .thenApply(r -> {
                    if (r instanceof AccountReply.Rejected rej && rej.reason() != AccountReply.Reason.UNKNOWN_ACCOUNT) {
                        log.error("transfer {}: {} refused by {}: {}", txId, commit ? "commit" : "abort", accountId,
                                rej.message());
                        throw new IllegalStateException("transfer " + txId + ": " + rej.message());
                    }
                    return r;
                });
    }

    private <T> CompletionStage<T> step(Step step, String txId, java.util.function.Supplier<CompletionStage<T>> action) {
        try {
            faults.before(step, txId);
            return action.get();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private EntityRef<ReplicatedAccount.Command> account(String id) {
        return entities.entityRefFor(accounts, id);
    }

    private EntityRef<ReplicatedTransfer.Command> record(String id) {
        return entities.entityRefFor(transfers, id);
    }

    private EntityRef<TransferIndex.Command> indexRef(String txId) {
        return entities.entityRefFor(index, TransferIndex.bucketOf(txId));
    }

    private static TransferStatus withId(String id, TransferStatus s) {
        return new TransferStatus(id, s.phase(), s.from(), s.to(), s.amount(), s.reason());
    }
}
