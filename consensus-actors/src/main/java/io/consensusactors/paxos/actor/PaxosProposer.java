package io.consensusactors.paxos.actor;

import io.consensusactors.paxos.core.Ballot;
import io.consensusactors.paxos.core.PaxosMessage;
import io.consensusactors.paxos.core.Proposer;
import io.consensusactors.persistence.CborSerializable;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.pattern.StatusReply;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * A node's proposer: runs one single-decree {@link Proposer} core per key that has callers waiting, against the
 * acceptors found under {@link PaxosAcceptorHost#SERVICE_KEY}. Quorums are majorities of the configured acceptor
 * count, never of the acceptors currently listed.
 *
 * <ul>
 *   <li>A {@link Decide} first asks the node's {@link PaxosLearner}: a key already known chosen is answered at once.
 *   Otherwise it starts (or joins) the key's round; every caller of the key gets the chosen value, which may be
 *   another proposer's (write-once).</li>
 *   <li>A {@link Read} runs phase 1 only unless it finds an accepted value, which it then completes (so the answer is
 *   chosen); {@code value == null} in the answer means nothing was chosen, and nothing was proposed.</li>
 *   <li>Ballots are {@code (round, incarnation * 4096 + nodeId)}: a durable {@link ProposerIncarnation} is taken at
 *   every (re)start, and one round counter in memory serves all keys, so no ballot is ever issued twice.</li>
 *   <li>A caller not answered within {@code decide-timeout} gets a failure saying how many acceptors answered; the
 *   proposal may still be chosen later (outcome unknown), never is a wrong value returned.</li>
 * </ul>
 */
public final class PaxosProposer extends AbstractBehavior<PaxosProposer.Command> {

    public interface Command {
    }

    /**
     * Proposes {@code value} for {@code key}; answered with the chosen value (write-once: maybe an earlier one), or an
     * error after {@code timeoutMillis} (0: the node's decide-timeout).
     */
    public record Decide(String key, String value, long timeoutMillis, ActorRef<StatusReply<String>> replyTo)
            implements Command, CborSerializable {
    }

    /** Finds out the chosen value of {@code key} without proposing one (same timeout rule as {@link Decide}). */
    public record Read(String key, long timeoutMillis, ActorRef<StatusReply<ReadResult>> replyTo)
            implements Command, CborSerializable {
    }

    /** The chosen value of {@code key}, or null if none was chosen. */
    public record ReadResult(String key, String value) implements CborSerializable {
    }

    private record WrappedReply(PaxosAcceptor.Reply reply) implements Command {
    }

    private record ListingChanged(Receptionist.Listing listing) implements Command {
    }

    private record LookedUp(Command request, String chosen) implements Command {
    }

    private record Incarnated(long number) implements Command {
    }

    private record IncarnationFailed(Throwable cause) implements Command {
    }

    private enum Tick implements Command { INSTANCE }

    /** A caller waiting for a key: exactly one of decide/read is set. */
    private record Waiter(ActorRef<StatusReply<String>> decide, ActorRef<StatusReply<ReadResult>> read,
                          String value, long deadlineNanos, long timeoutMillis) {
    }

    private static final class Round {
        final String key;
        final Proposer<String> core;
        final List<Waiter> waiters = new ArrayList<>();
        final Set<Integer> heard = new HashSet<>();

        Round(String key, Proposer<String> core) {
            this.key = key;
            this.core = core;
        }
    }

    private final PaxosSettings settings;
    private final ActorRef<PaxosLearner.Command> localLearner;
    private final long proposerId;
    private final Random random;
    private final ActorRef<PaxosAcceptor.Reply> replyAdapter;
    private final Map<String, Round> rounds = new HashMap<>();
    private Set<ActorRef<PaxosAcceptor.Command>> acceptors = Set.of();
    private Set<ActorRef<PaxosLearner.Command>> learners = Set.of();
    private long roundCounter;

    public static Behavior<Command> create(PaxosSettings settings, ActorRef<PaxosLearner.Command> learner,
                                           ActorRef<ProposerIncarnation.Command> incarnations) {
        return Behaviors.setup(context -> Behaviors.withTimers(timers -> Behaviors.withStash(10_000, stash -> {
            askIncarnation(context, incarnations);
            return starting(context, timers, stash, settings, learner, incarnations);
        })));
    }

    private static void askIncarnation(ActorContext<Command> context,
                                       ActorRef<ProposerIncarnation.Command> incarnations) {
        context.ask(ProposerIncarnation.Incarnation.class, incarnations, Duration.ofSeconds(10),
                ProposerIncarnation.Begin::new,
                (r, err) -> r != null ? new Incarnated(r.number()) : new IncarnationFailed(err));
    }

    /** Until a fresh incarnation is durable, requests wait in the stash (a slow journal only delays them). */
    private static Behavior<Command> starting(ActorContext<Command> context, TimerScheduler<Command> timers,
                                              StashBuffer<Command> stash, PaxosSettings settings,
                                              ActorRef<PaxosLearner.Command> learner,
                                              ActorRef<ProposerIncarnation.Command> incarnations) {
        return Behaviors.receive(Command.class)
                .onMessage(Incarnated.class, m -> {
                    timers.startTimerWithFixedDelay(Tick.INSTANCE, settings.tickInterval());
                    return stash.unstashAll(new PaxosProposer(context, settings, learner, m.number()));
                })
                .onMessage(IncarnationFailed.class, m -> {
                    context.getLog().warn("Paxos proposer of node {} could not take an incarnation number from the "
                            + "journal yet ({}); retrying", settings.nodeId(), m.cause().toString());
                    askIncarnation(context, incarnations);
                    return Behaviors.same();
                })
                .onAnyMessage(m -> {
                    if (m instanceof Decide || m instanceof Read) {
                        stash.stash(m);
                    }
                    return Behaviors.same();
                })
                .build();
    }

    private PaxosProposer(ActorContext<Command> context, PaxosSettings settings,
                          ActorRef<PaxosLearner.Command> learner, long incarnation) {
        super(context);
        this.settings = settings;
        this.localLearner = learner;
        this.proposerId = incarnation * 4096 + settings.nodeId();
        this.random = new Random(proposerId * 31 + System.nanoTime());
        this.replyAdapter = context.messageAdapter(PaxosAcceptor.Reply.class, WrappedReply::new);
        // One adapter per message class (a second one would replace the first): both listings come through it.
        ActorRef<Receptionist.Listing> listings = context.messageAdapter(Receptionist.Listing.class,
                ListingChanged::new);
        context.getSystem().receptionist().tell(Receptionist.subscribe(PaxosAcceptorHost.SERVICE_KEY, listings));
        context.getSystem().receptionist().tell(Receptionist.subscribe(PaxosLearner.SERVICE_KEY, listings));
        context.getLog().debug("Paxos proposer of node {} started as proposer id {}", settings.nodeId(), proposerId);
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Decide.class, this::onRequest)
                .onMessage(Read.class, this::onRequest)
                .onMessage(LookedUp.class, this::onLookedUp)
                .onMessage(WrappedReply.class, this::onReply)
                .onMessage(ListingChanged.class, this::onListingChanged)
                .onMessage(Tick.class, t -> onTick())
                .build();
    }

    private Behavior<Command> onRequest(Command request) {
        String key = request instanceof Decide d ? d.key() : ((Read) request).key();
        getContext().ask(PaxosLearner.Known.class, localLearner, Duration.ofSeconds(1),
                replyTo -> new PaxosLearner.Lookup(key, replyTo),
                (known, err) -> new LookedUp(request, known == null ? null : known.value()));
        return this;
    }

    private Behavior<Command> onLookedUp(LookedUp m) {
        long timeoutMillis = m.request() instanceof Decide d0 ? d0.timeoutMillis() : ((Read) m.request()).timeoutMillis();
        if (timeoutMillis <= 0) {
            timeoutMillis = settings.decideTimeout().toMillis();
        }
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        if (m.request() instanceof Decide d) {
            if (m.chosen() != null) {
                d.replyTo().tell(StatusReply.success(m.chosen()));
                return this;
            }
            Round round = round(d.key());
            round.waiters.add(new Waiter(d.replyTo(), null, d.value(), deadline, timeoutMillis));
            round.core.propose(d.value());
            afterInput(round);
        } else {
            Read r = (Read) m.request();
            if (m.chosen() != null) {
                r.replyTo().tell(StatusReply.success(new ReadResult(r.key(), m.chosen())));
                return this;
            }
            Round round = round(r.key());
            round.waiters.add(new Waiter(null, r.replyTo(), null, deadline, timeoutMillis));
            round.core.read();
            afterInput(round);
        }
        return this;
    }

    private Round round(String key) {
        return rounds.computeIfAbsent(key, k -> new Round(k,
                new Proposer<>(proposerId, settings.acceptors(), roundCounter, settings.core(), random)));
    }

    private Behavior<Command> onReply(WrappedReply w) {
        PaxosAcceptor.Reply reply = w.reply();
        if (reply.acceptor() < 0 || reply.acceptor() >= settings.acceptors()) {
            getContext().getLog().warn("Ignoring a Paxos reply from acceptor id {}: this node is configured for "
                    + "acceptors 0..{} (check consensus-actors.paxos.acceptor-id and .acceptors on every node)",
                    reply.acceptor(), settings.acceptors() - 1);
            return this;
        }
        Round round = rounds.get(reply.key());
        if (round == null) {
            return this;
        }
        round.heard.add(reply.acceptor());
        round.core.step(reply.acceptor(), toCore(reply));
        afterInput(round);
        return this;
    }

    private Behavior<Command> onTick() {
        Iterator<Round> it = new ArrayList<>(rounds.values()).iterator();
        while (it.hasNext()) {
            Round round = it.next();
            round.core.tick();
            afterInput(round);
            if (rounds.get(round.key) == round) {
                expireWaiters(round);
            }
        }
        return this;
    }

    private void expireWaiters(Round round) {
        long now = System.nanoTime();
        Iterator<Waiter> it = round.waiters.iterator();
        while (it.hasNext()) {
            Waiter w = it.next();
            if (now - w.deadlineNanos() >= 0) {
                it.remove();
                String message = "Paxos: no decision for key '" + round.key + "' within " + w.timeoutMillis() + " ms: " + round.heard.size() + " of " + settings.acceptors()
                        + " acceptors answered, a majority of " + settings.quorum() + " is needed. The outcome is "
                        + "unknown (a proposal may still be chosen): ask again once a majority of acceptors is reachable. "
                        + "[" + round.core.ballotsTried() + " ballots tried, last " + round.core.ballot() + ", "
                        + round.core.phase() + ", " + acceptors.size() + " acceptors listed]";
                if (w.decide() != null) {
                    w.decide().tell(StatusReply.error(message));
                } else {
                    w.read().tell(StatusReply.error(message));
                }
            }
        }
        if (round.waiters.isEmpty()) {
            rounds.remove(round.key); // nobody waits: stop proposing
        }
    }

    /** Sends what the core asks for and answers the callers once the core is done. */
    private void afterInput(Round round) {
        Proposer.Ready<String> ready = round.core.ready();
        roundCounter = Math.max(roundCounter, ready.persistRound()); // unique by incarnation: memory suffices
        for (PaxosMessage<String> m : ready.toAcceptors()) {
            PaxosAcceptor.Command c = toAcceptor(round.key, m);
            for (ActorRef<PaxosAcceptor.Command> a : acceptors) {
                a.tell(c);
            }
        }
        for (PaxosMessage<String> m : ready.toLearners()) {
            PaxosLearner.Learned learned = new PaxosLearner.Learned(round.key, ((PaxosMessage.Chosen<String>) m).value());
            localLearner.tell(learned);
            for (ActorRef<PaxosLearner.Command> l : learners) {
                if (!l.equals(localLearner)) {
                    l.tell(learned);
                }
            }
        }
        switch (round.core.phase()) {
            case CHOSEN -> {
                String v = round.core.chosen().orElseThrow();
                for (Waiter w : round.waiters) {
                    if (w.decide() != null) {
                        w.decide().tell(StatusReply.success(v));
                    } else {
                        w.read().tell(StatusReply.success(new ReadResult(round.key, v)));
                    }
                }
                rounds.remove(round.key);
            }
            case NOTHING_ACCEPTED -> {
                Waiter proposer = null;
                for (Waiter w : round.waiters) {
                    if (w.read() != null) {
                        w.read().tell(StatusReply.success(new ReadResult(round.key, null)));
                    } else if (proposer == null) {
                        proposer = w;
                    }
                }
                round.waiters.removeIf(w -> w.read() != null);
                if (proposer == null) {
                    rounds.remove(round.key);
                } else {
                    round.core.propose(proposer.value());
                    afterInput(round);
                }
            }
            default -> {
            }
        }
    }

    private PaxosAcceptor.Command toAcceptor(String key, PaxosMessage<String> m) {
        if (m instanceof PaxosMessage.Prepare<String> p) {
            return new PaxosAcceptor.Prepare(key, p.ballot(), replyAdapter);
        }
        PaxosMessage.Accept<String> a = (PaxosMessage.Accept<String>) m;
        return new PaxosAcceptor.Accept(key, a.ballot(), a.value(), replyAdapter);
    }

    private static PaxosMessage<String> toCore(PaxosAcceptor.Reply r) {
        if (r instanceof PaxosAcceptor.Promise p) {
            Ballot accepted = p.acceptedBallot() == null ? Ballot.NONE : p.acceptedBallot();
            return new PaxosMessage.Promise<>(p.ballot(), accepted, p.acceptedValue());
        }
        if (r instanceof PaxosAcceptor.Acceptance a) {
            return new PaxosMessage.Accepted<>(a.ballot(), a.value());
        }
        PaxosAcceptor.Nack n = (PaxosAcceptor.Nack) r;
        return new PaxosMessage.Nack<>(n.ballot(), n.promised());
    }

    private Behavior<Command> onListingChanged(ListingChanged m) {
        // All instances, also those on nodes the failure detector currently suspects: Paxos needs no membership
        // agreement, and a message to a dead node is merely lost, while dropping a slow node could block a quorum.
        if (m.listing().isForKey(PaxosAcceptorHost.SERVICE_KEY)) {
            acceptors = m.listing().getAllServiceInstances(PaxosAcceptorHost.SERVICE_KEY);
        } else if (m.listing().isForKey(PaxosLearner.SERVICE_KEY)) {
            learners = m.listing().getAllServiceInstances(PaxosLearner.SERVICE_KEY);
        }
        return this;
    }
}
