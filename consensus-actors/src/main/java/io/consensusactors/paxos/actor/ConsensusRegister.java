package io.consensusactors.paxos.actor;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

import org.apache.pekko.actor.typed.receptionist.Receptionist;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * A write-once register per key, decided by single-decree Paxos over the cluster's acceptors: the first value chosen
 * for a key is the only one, and every later {@link #decide} of that key, from any node, returns it.
 *
 * <p>Made for Paxos Commit (Gray &amp; Lamport, "Consensus on Transaction Commit"): a transaction coordinator records
 * its outcome with {@code decide(txId, COMMIT)} or {@code decide(txId, ABORT)}, and the outcome survives its death. A
 * participant that suspects a dead coordinator forces a decision with {@code decide(txId, ABORT)}: it gets
 * {@link #COMMIT} back if commit was already chosen, {@link #ABORT} otherwise — never two different outcomes. A
 * participant that only wants to know uses {@link #read}, which proposes nothing when nothing was accepted.
 *
 * <p>Failures: if no majority of the acceptors answers within {@code decide-timeout}, the stage fails with a message
 * saying how many answered. That outcome is unknown (the proposal may still be chosen): ask again.
 */
public final class ConsensusRegister {

    public static final String COMMIT = "COMMIT";
    public static final String ABORT = "ABORT";

    private final ActorSystem<?> system;
    private final ActorRef<PaxosProposer.Command> node;
    private final Duration defaultTimeout;
    private final int acceptorCount;

    public ConsensusRegister(ActorSystem<?> system, ActorRef<PaxosProposer.Command> node, PaxosSettings settings) {
        this.system = system;
        this.node = node;
        this.defaultTimeout = settings.decideTimeout();
        this.acceptorCount = settings.acceptors();
    }

    /** Starts this node's Paxos actors ({@link PaxosNode}) as a system actor and returns its register. */
    public static ConsensusRegister start(ActorSystem<?> system, PaxosSettings settings) {
        ActorRef<PaxosProposer.Command> node = system.systemActorOf(PaxosNode.create(settings),
                "paxos-node-" + settings.nodeId(), Props.empty());
        return new ConsensusRegister(system, node, settings);
    }

    /**
     * Proposes {@code proposal} for {@code key} and completes with the value chosen for it: {@code proposal} if it won,
     * or the value chosen earlier (or concurrently) by anyone else.
     */
    public CompletionStage<String> decide(String key, String proposal) {
        return decide(key, proposal, defaultTimeout);
    }

    /** {@link #decide(String, String)} failing after {@code timeout} instead of the node's decide-timeout. */
    public CompletionStage<String> decide(String key, String proposal, Duration timeout) {
        requireKey(key);
        Objects.requireNonNull(proposal, "proposal");
        return AskPattern.askWithStatus(node,
                replyTo -> new PaxosProposer.Decide(key, proposal, timeout.toMillis(), replyTo), askTimeout(timeout),
                system.scheduler());
    }

    /** The value chosen for {@code key}, or empty if none is (nothing is proposed in that case). */
    public CompletionStage<Optional<String>> read(String key) {
        return read(key, defaultTimeout);
    }

    /** {@link #read(String)} failing after {@code timeout} instead of the node's decide-timeout. */
    public CompletionStage<Optional<String>> read(String key, Duration timeout) {
        requireKey(key);
        return AskPattern.<PaxosProposer.Command, PaxosProposer.ReadResult>askWithStatus(node,
                replyTo -> new PaxosProposer.Read(key, timeout.toMillis(), replyTo), askTimeout(timeout),
                system.scheduler())
                .thenApply(r -> Optional.ofNullable(r.value()));
    }

    /**
     * Forgets a finished key: every acceptor replaces its state of {@code key} by a compact tombstone holding the
     * chosen value. <b>Rule:</b> a forgotten key keeps its outcome forever — a later {@code decide(key, other)}
     * still completes with the value chosen before, {@code read(key)} still returns it — so forgetting never lets a
     * second value be chosen; what goes away is the per-key ballot bookkeeping (promise, accepted ballot). Call it once every participant has applied the outcome. The chosen value is first established with
     * {@link #read} (a quorum), then sent to the acceptors. Fails if nothing was chosen for the key ("decide it
     * first") or if not every configured acceptor confirmed within the timeout (forget is idempotent: call it again).
     */
    public CompletionStage<String> forget(String key) {
        return forget(key, defaultTimeout);
    }

    /** {@link #forget(String)} with a timeout for each of its two steps. */
    public CompletionStage<String> forget(String key, Duration timeout) {
        requireKey(key);
        return read(key, timeout).thenCompose(chosen -> {
            if (chosen.isEmpty()) {
                return CompletableFuture.failedFuture(new IllegalStateException("Paxos: nothing is chosen for key '"
                        + key + "', so there is nothing to forget: decide it first (forgetting an undecided key"
                        + " would leave no record of its outcome)"));
            }
            return tombstone(key, chosen.get(), timeout).thenApply(n -> chosen.get());
        });
    }

    private CompletionStage<Integer> tombstone(String key, String chosen, Duration timeout) {
        CompletionStage<Receptionist.Listing> listing = AskPattern.ask(system.receptionist(),
                replyTo -> Receptionist.find(PaxosAcceptorHost.SERVICE_KEY, replyTo), timeout, system.scheduler());
        return listing.thenCompose(l -> {
            Set<ActorRef<PaxosAcceptor.Command>> acceptors = l.getAllServiceInstances(PaxosAcceptorHost.SERVICE_KEY);
            Set<Integer> confirmed = ConcurrentHashMap.newKeySet();
            List<CompletableFuture<Void>> asks = new ArrayList<>();
            for (ActorRef<PaxosAcceptor.Command> a : acceptors) {
                asks.add(AskPattern.<PaxosAcceptor.Command, PaxosAcceptor.Reply>ask(a,
                                replyTo -> new PaxosAcceptor.Forget(key, chosen, replyTo), timeout, system.scheduler())
                        .handle((r, err) -> {
                            if (r instanceof PaxosAcceptor.Forgot f) {
                                confirmed.add(f.acceptor());
                            }
                            return (Void) null;
                        }).toCompletableFuture());
            }
            return CompletableFuture.allOf(asks.toArray(new CompletableFuture[0])).thenCompose(v -> {
                if (confirmed.size() < acceptorCount) {
                    return CompletableFuture.failedFuture(new IllegalStateException("Paxos: key '" + key + "' forgotten"
                            + " by " + confirmed.size() + " of " + acceptorCount + " acceptors " + confirmed + " within "
                            + timeout + "; its outcome '" + chosen + "' is kept either way. Call forget again once"
                            + " every acceptor is reachable."));
                }
                return CompletableFuture.completedFuture(confirmed.size());
            });
        });
    }

    /** The proposer answers (with a failure) at the timeout; the ask only guards against a lost answer. */
    private static Duration askTimeout(Duration timeout) {
        return timeout.plus(Duration.ofSeconds(5)).plus(timeout.dividedBy(2));
    }

    private static void requireKey(String key) {
        if (key == null || key.isEmpty()) {
            throw new IllegalArgumentException("a Paxos register key must be a non-empty string");
        }
    }
}
