package io.consensusactors.paxos.core;

/**
 * A proposal number ("Paxos Made Simple" §2.2: "different proposals have different numbers"): totally ordered by
 * {@code round}, then by {@code proposer} id, so two proposers never issue the same ballot. A proposer must never
 * reuse a ballot after a restart either (its shell persists the highest round it has tried, §2.4).
 *
 * <p>{@link #NONE} ({@code round == 0}) is lower than every real ballot and means "nothing promised / accepted".
 */
public record Ballot(long round, long proposer) implements Comparable<Ballot> {

    public static final Ballot NONE = new Ballot(0, 0);

    /**
     * The accepted ballot an acceptor reports for a forgotten (tombstoned) instance: above every real ballot, so a
     * proposer's P2c picks the tombstone's value, which is the chosen one. Never issued by a proposer.
     */
    public static final Ballot FORGOTTEN = new Ballot(Long.MAX_VALUE, Long.MAX_VALUE);

    public Ballot {
        if (round < 0) {
            throw new IllegalArgumentException("round must not be negative, was " + round);
        }
    }

    /** The first ballot of {@code proposer} above both {@code this} and {@code round}. */
    public Ballot next(long proposerId, long atLeastRound) {
        return new Ballot(Math.max(round, atLeastRound) + 1, proposerId);
    }

    public boolean isNone() {
        return round == 0;
    }

    @Override
    public int compareTo(Ballot o) {
        int c = Long.compare(round, o.round);
        return c != 0 ? c : Long.compare(proposer, o.proposer);
    }

    public boolean greaterThan(Ballot o) {
        return compareTo(o) > 0;
    }

    public boolean atLeast(Ballot o) {
        return compareTo(o) >= 0;
    }

    public static Ballot max(Ballot a, Ballot b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    @Override
    public String toString() {
        return isNone() ? "b(none)" : "b(" + round + "." + proposer + ")";
    }
}
