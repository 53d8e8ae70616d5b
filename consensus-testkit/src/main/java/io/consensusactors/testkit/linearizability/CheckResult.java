package io.consensusactors.testkit.linearizability;

/**
 * Outcome of a linearizability check. {@link Verdict#UNKNOWN} means the search ran out of time: nothing is proven.
 * For {@link Verdict#ILLEGAL} the explanation names the partition, the longest linearizable prefix found and the
 * operations that could not be linearized after it.
 */
public record CheckResult(Verdict verdict, String explanation) {
    public enum Verdict { OK, ILLEGAL, UNKNOWN }

    public boolean ok() {
        return verdict == Verdict.OK;
    }

    public boolean illegal() {
        return verdict == Verdict.ILLEGAL;
    }

    @Override
    public String toString() {
        return verdict + ": " + explanation;
    }
}
