package io.consensusactors.paxos.core;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The single-decree learner ("Paxos Made Simple" §2.3): a value is chosen once a majority of the acceptors have
 * accepted it at the same ballot; a learner also believes a {@link PaxosMessage.Chosen} from a proposer or learner
 * that found out. Counting is per ballot: acceptances at different ballots never add up.
 */
public final class Learner<V> {

    private final int quorum;
    private final Map<Ballot, Set<Integer>> acceptedBy = new HashMap<>();
    private final Map<Ballot, V> valueAt = new HashMap<>();
    private V chosen;

    public Learner(int acceptors) {
        if (acceptors < 1) {
            throw new IllegalArgumentException("need at least one acceptor, was " + acceptors);
        }
        this.quorum = acceptors / 2 + 1;
    }

    /**
     * Feeds an {@link PaxosMessage.Accepted} from acceptor {@code from} or a {@link PaxosMessage.Chosen}; other
     * messages are ignored. Returns the chosen value once known.
     *
     * @throws IllegalStateException if two different values are reported at one ballot (proposers reused a ballot)
     */
    public Optional<V> step(int from, PaxosMessage<V> message) {
        if (chosen != null) {
            return Optional.of(chosen);
        }
        if (message instanceof PaxosMessage.Chosen<V> c) {
            chosen = c.value();
        } else if (message instanceof PaxosMessage.Accepted<V> a) {
            V previous = valueAt.putIfAbsent(a.ballot(), a.value());
            if (previous != null && !Objects.equals(previous, a.value())) {
                throw new IllegalStateException("two values accepted at " + a.ballot() + ": " + previous + " and "
                        + a.value() + " (a ballot was reused)");
            }
            Set<Integer> by = acceptedBy.computeIfAbsent(a.ballot(), b -> new HashSet<>());
            by.add(from);
            if (by.size() >= quorum) {
                chosen = a.value();
                acceptedBy.clear();
                valueAt.clear();
            }
        }
        return Optional.ofNullable(chosen);
    }

    public Optional<V> chosen() {
        return Optional.ofNullable(chosen);
    }
}
