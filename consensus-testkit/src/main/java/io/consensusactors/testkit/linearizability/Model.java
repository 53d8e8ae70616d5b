package io.consensusactors.testkit.linearizability;

import java.util.List;

/**
 * A sequential specification for the {@link LinearizabilityChecker}. States must be immutable and implement
 * {@code equals}/{@code hashCode}: they are memoized together with the set of operations linearized so far
 * (Lowe's optimisation of Wing &amp; Gong's search).
 *
 * @param <S> state
 * @param <I> operation input
 * @param <O> operation output
 */
public interface Model<S, I, O> {
    S init();

    /**
     * If applying {@code input} in {@code state} can produce {@code output}, the next state; otherwise null.
     * {@code output == null} means the outcome is unknown (the client timed out or crashed): accept the operation
     * and return the state it leads to.
     */
    S step(S state, I input, O output);

    /** Independent sub-histories checked separately (e.g. one per key); default: the whole history. */
    default List<List<Operation<I, O>>> partition(List<Operation<I, O>> history) {
        return List.of(history);
    }

    default String describe(I input, O output) {
        return input + " -> " + (output == null ? "?" : output);
    }

    /** A name for one partition in explanations, e.g. {@code key=k7}; default: none. */
    default String describePartition(List<Operation<I, O>> partition) {
        return null;
    }

    default String describeState(S state) {
        return String.valueOf(state);
    }

    /**
     * True if {@code input} never changes the state (a read). The checker leaves out read-only operations whose
     * outcome is unknown: they constrain nothing and would only widen the search.
     */
    default boolean readOnly(I input) {
        return false;
    }
}
