package io.consensusactors.paxos.core;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;

/**
 * A single-decree proposer ("Paxos Made Simple" §2.2), deterministic: inputs are {@link #propose}, {@link #read},
 * {@link #step} (an acceptor's reply) and {@link #tick}; outputs are collected by {@link #ready()}.
 *
 * <ul>
 *   <li>Phase 1 sends {@code Prepare(b)} to every acceptor with a ballot above every round it has seen. With promises
 *   from a majority it proposes the value of the highest-numbered accepted proposal among them, or its own value if
 *   none (P2c); then phase 2 sends {@code Accept(b, v)}. A majority of {@code Accepted(b)} means v is chosen.</li>
 *   <li>A {@link PaxosMessage.Nack} carries the acceptor's promise: the proposer abandons the ballot, waits a random
 *   number of ticks (exponential backoff, randomness from the injected {@link Random}) and retries above that
 *   promise. This is how duelling proposers (§2.4: "two proposers each keep issuing a sequence of proposals with
 *   increasing numbers, none of which are ever chosen") end up with one of them winning.</li>
 *   <li>Lost messages are resent every {@code retransmitTicks}; a ballot without a quorum after {@code attemptTicks}
 *   is abandoned like a rejected one.</li>
 * </ul>
 *
 * <p><b>Hard state.</b> A proposer must never reuse a ballot with another value, also after a restart (§2.5: it "must
 * remember ... the highest-numbered proposal it has tried to issue"). {@link Ready#persistRound()} is the new highest
 * round: the shell stores it durably before sending that ready's messages, and passes it back to the constructor on
 * restart. (A shell may also make {@code id} unique per incarnation instead.)
 */
public final class Proposer<V> {

    /** Where the proposer is. */
    public enum Phase { IDLE, BACKOFF, PREPARING, ACCEPTING, CHOSEN, NOTHING_ACCEPTED }

    /**
     * What to do after an input: persist {@code persistRound} (if > 0) first, then send {@code toAcceptors} to every
     * acceptor and {@code toLearners} to every learner.
     */
    public record Ready<V>(long persistRound, List<PaxosMessage<V>> toAcceptors, List<PaxosMessage<V>> toLearners) {
        public boolean isEmpty() {
            return persistRound == 0 && toAcceptors.isEmpty() && toLearners.isEmpty();
        }
    }

    private final long id;
    private final int quorum;
    private final PaxosConfig config;
    private final Random random;

    private long round;
    private long highestSeenRound;
    private long roundToPersist;
    private Ballot ballot = Ballot.NONE;
    private Phase phase = Phase.IDLE;
    private boolean readOnly;
    private V ownValue;
    private V value;
    private V chosen;
    private final Map<Integer, PaxosMessage.Promise<V>> promises = new HashMap<>();
    private final Set<Integer> accepts = new HashSet<>();
    private int elapsed;
    private int backoffLeft;
    private int attempts;
    private long ballotsTried;
    private final List<PaxosMessage<V>> toAcceptors = new ArrayList<>();
    private final List<PaxosMessage<V>> toLearners = new ArrayList<>();

    /**
     * @param id           this proposer's id, distinct from every other proposer's
     * @param acceptors    number of acceptors (a quorum is a majority of them)
     * @param durableRound the highest round this proposer persisted before (0 the first time)
     */
    public Proposer(long id, int acceptors, long durableRound, PaxosConfig config, Random random) {
        if (acceptors < 1) {
            throw new IllegalArgumentException("need at least one acceptor, was " + acceptors);
        }
        this.id = id;
        this.quorum = acceptors / 2 + 1;
        this.round = durableRound;
        this.config = config;
        this.random = random;
    }

    /** Starts (or joins) a round proposing {@code proposal}; the chosen value may be another proposer's. */
    public void propose(V proposal) {
        if (proposal == null) {
            throw new IllegalArgumentException("proposal must not be null (use read() to only learn)");
        }
        if (ownValue == null) {
            ownValue = proposal;
        }
        readOnly = false;
        if (phase == Phase.IDLE || phase == Phase.NOTHING_ACCEPTED) {
            startBallot();
        }
    }

    /**
     * Finds out whether a value was chosen without proposing one: phase 1 at a majority; if none of them accepted
     * anything nothing can have been chosen and the proposer stops in {@link Phase#NOTHING_ACCEPTED}, otherwise it
     * completes phase 2 with the highest accepted value (which makes it chosen, if it was not already).
     */
    public void read() {
        if (phase == Phase.IDLE || phase == Phase.NOTHING_ACCEPTED) {
            readOnly = ownValue == null;
            startBallot();
        }
    }

    /** Feeds a reply from acceptor {@code from} (Promise, Accepted, Nack), or a Chosen from anyone. */
    public void step(int from, PaxosMessage<V> message) {
        if (phase == Phase.CHOSEN) {
            return;
        }
        if (message instanceof PaxosMessage.Chosen<V> c) {
            choose(c.value());
        } else if (message instanceof PaxosMessage.Nack<V> n) {
            highestSeenRound = Math.max(highestSeenRound, n.promised().round());
            if (n.ballot().equals(ballot) && (phase == Phase.PREPARING || phase == Phase.ACCEPTING)) {
                backOff();
            }
        } else if (message instanceof PaxosMessage.Promise<V> p) {
            if (phase == Phase.PREPARING && p.ballot().equals(ballot)) {
                promises.put(from, p);
                if (promises.size() >= quorum) {
                    onPromiseQuorum();
                }
            }
        } else if (message instanceof PaxosMessage.Accepted<V> a) {
            highestSeenRound = Math.max(highestSeenRound, a.ballot().round());
            if (phase == Phase.ACCEPTING && a.ballot().equals(ballot)) {
                accepts.add(from);
                if (accepts.size() >= quorum) {
                    choose(value);
                }
            }
        }
    }

    public void tick() {
        switch (phase) {
            case BACKOFF -> {
                if (--backoffLeft <= 0) {
                    startBallot();
                }
            }
            case PREPARING, ACCEPTING -> {
                elapsed++;
                if (elapsed >= config.attemptTicks()) {
                    backOff();
                } else if (elapsed % config.retransmitTicks() == 0) {
                    toAcceptors.add(phase == Phase.PREPARING ? new PaxosMessage.Prepare<>(ballot)
                            : new PaxosMessage.Accept<>(ballot, value));
                }
            }
            default -> {
            }
        }
    }

    /** Takes the pending outputs. */
    public Ready<V> ready() {
        Ready<V> r = new Ready<>(roundToPersist, List.copyOf(toAcceptors), List.copyOf(toLearners));
        roundToPersist = 0;
        toAcceptors.clear();
        toLearners.clear();
        return r;
    }

    private void startBallot() {
        round = Math.max(round, highestSeenRound) + 1;
        roundToPersist = round;
        ballot = new Ballot(round, id);
        ballotsTried++;
        phase = Phase.PREPARING;
        promises.clear();
        accepts.clear();
        value = null;
        elapsed = 0;
        toAcceptors.add(new PaxosMessage.Prepare<>(ballot));
    }

    private void onPromiseQuorum() {
        PaxosMessage.Promise<V> highest = null;
        for (PaxosMessage.Promise<V> p : promises.values()) {
            if (p.hasAccepted() && (highest == null || p.acceptedBallot().greaterThan(highest.acceptedBallot()))) {
                highest = p;
            }
        }
        if (highest != null) {
            value = highest.acceptedValue(); // P2c: a value already accepted must be proposed again
        } else if (readOnly) {
            phase = Phase.NOTHING_ACCEPTED;
            return;
        } else {
            value = ownValue;
        }
        phase = Phase.ACCEPTING;
        elapsed = 0;
        toAcceptors.add(new PaxosMessage.Accept<>(ballot, value));
    }

    private void backOff() {
        attempts++;
        phase = Phase.BACKOFF;
        int bound = config.backoffTicks() << Math.min(attempts, config.maxBackoffExponent());
        backoffLeft = 1 + random.nextInt(bound);
    }

    private void choose(V v) {
        chosen = v;
        phase = Phase.CHOSEN;
        toLearners.add(new PaxosMessage.Chosen<>(v)); // however it found out, it tells the learners (§2.3)
    }

    public Phase phase() {
        return phase;
    }

    public Optional<V> chosen() {
        return Optional.ofNullable(chosen);
    }

    public Ballot ballot() {
        return ballot;
    }

    /** The highest round used so far (the hard state). */
    public long round() {
        return round;
    }

    public long id() {
        return id;
    }

    /** Number of ballots started (phase 1 attempts). */
    public long ballotsTried() {
        return ballotsTried;
    }

    /** The value this proposer proposes when free to (null for a pure read). */
    public V ownValue() {
        return ownValue;
    }
}
