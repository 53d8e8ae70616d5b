package io.consensusactors.testkit.linearizability;

/** Outcome of a linearizability check, with an explanation when it is not OK. */
public record CheckResult(Verdict verdict, String explanation) {
    public enum Verdict { OK, ILLEGAL, UNKNOWN }

    public boolean ok() {
        return verdict == Verdict.OK;
    }
}
