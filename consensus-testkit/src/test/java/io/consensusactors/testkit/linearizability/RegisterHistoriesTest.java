package io.consensusactors.testkit.linearizability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consensusactors.testkit.linearizability.CheckResult.Verdict;
import io.consensusactors.testkit.linearizability.RegisterModel.Op;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * Classic register histories (Herlihy &amp; Wing 1990, section 2; the register cases of Porcupine's tests and the
 * MIT 6.824 quiz example they come from), each with the verdict a correct checker must give.
 */
class RegisterHistoriesTest {
    private static final RegisterModel MODEL = new RegisterModel();

    private static Operation<Op, Object> op(int client, Op input, long call, Object output, long ret) {
        return new Operation<>(client, input, call, output, ret);
    }

    private static Operation<Op, Object> unknown(int client, Op input, long call) {
        return Operation.unknown(client, input, call);
    }

    private static Verdict verdict(List<Operation<Op, Object>> history) {
        return LinearizabilityChecker.check(MODEL, history).verdict();
    }

    @Test
    void sequentialWriteThenReadIsLinearizable() {
        assertEquals(Verdict.OK, verdict(List.of(op(0, Op.write(1), 0, null, 10), op(1, Op.read(), 20, 1, 30))));
        assertEquals(Verdict.OK, verdict(List.of()), "the empty history is linearizable");
    }

    @Test
    void staleReadAfterCompletedWriteIsIllegal() {
        CheckResult r = LinearizabilityChecker.check(MODEL, List.of(
                op(0, Op.write(1), 0, null, 10),
                op(1, Op.read(), 20, 0, 30)));
        assertEquals(Verdict.ILLEGAL, r.verdict());
        assertTrue(r.explanation().contains("partition #0 of 1"), r.explanation());
        assertTrue(r.explanation().contains("client 1 read() -> 0 [20, 30]"), r.explanation());
        assertTrue(r.explanation().contains("Longest linearizable prefix: 1 of 2"), r.explanation());
        assertTrue(r.explanation().contains("State after it: 1"), r.explanation());
    }

    @Test
    void concurrentWriteAndReadMaySeeEitherValue() {
        for (int seen : new int[] {0, 1}) {
            assertEquals(Verdict.OK, verdict(List.of(op(0, Op.write(1), 0, null, 10), op(1, Op.read(), 5, seen, 15))),
                    "read overlapping the write may return " + seen);
        }
        assertEquals(Verdict.ILLEGAL, verdict(List.of(op(0, Op.write(1), 0, null, 10),
                op(1, Op.read(), 5, 2, 15))), "but never a value nobody wrote");
    }

    @Test
    void equalTimestampsCountAsOverlapping() {
        assertEquals(Verdict.OK, verdict(List.of(op(0, Op.write(1), 0, null, 10), op(1, Op.read(), 10, 0, 20))));
    }

    /** Porcupine's register test, from the MIT 6.824 2017 quiz 2 (section VII): a linearizable history. */
    @Test
    void porcupineQuizHistoryIsLinearizable() {
        assertEquals(Verdict.OK, verdict(List.of(
                op(0, Op.write(100), 0, null, 100),
                op(1, Op.read(), 25, 100, 75),
                op(2, Op.read(), 30, 0, 60))));
    }

    /** Porcupine's register test: a read sees the new value and a later read the old one (new-old inversion). */
    @Test
    void newOldInversionIsIllegal() {
        assertEquals(Verdict.ILLEGAL, verdict(List.of(
                op(0, Op.write(200), 0, null, 100),
                op(1, Op.read(), 10, 200, 30),
                op(2, Op.read(), 40, 0, 90))));
    }

    @Test
    void pendingWriteObservedByALaterReadIsLinearizable() {
        assertEquals(Verdict.OK, verdict(List.of(
                unknown(0, Op.write(1), 0),
                op(1, Op.read(), 50, 1, 60),
                op(1, Op.read(), 70, 1, 80))));
    }

    @Test
    void pendingWriteNeverObservedIsLinearizable() {
        assertEquals(Verdict.OK, verdict(List.of(
                unknown(0, Op.write(1), 0),
                op(1, Op.read(), 50, 0, 60),
                op(2, Op.read(), 70, 0, 80))));
    }

    @Test
    void pendingWriteObservedThenUnobservedIsIllegal() {
        CheckResult r = LinearizabilityChecker.check(MODEL, List.of(
                unknown(0, Op.write(1), 0),
                op(1, Op.read(), 50, 1, 60),
                op(2, Op.read(), 70, 0, 80)));
        assertEquals(Verdict.ILLEGAL, r.verdict(), r.explanation());
        assertTrue(r.explanation().contains("client 2 read() -> 0 [70, 80]"), r.explanation());
    }

    @Test
    void pendingWriteCannotTakeEffectBeforeItsCall() {
        assertEquals(Verdict.ILLEGAL, verdict(List.of(
                op(1, Op.read(), 0, 1, 10),
                unknown(0, Op.write(1), 20))));
    }

    @Test
    void twoPendingWritesMayTakeEffectInEitherOrder() {
        assertEquals(Verdict.OK, verdict(List.of(
                unknown(0, Op.write(1), 0),
                unknown(1, Op.write(2), 0),
                op(2, Op.read(), 10, 2, 20),
                op(2, Op.read(), 30, 1, 40))));
        assertEquals(Verdict.ILLEGAL, verdict(List.of(
                unknown(0, Op.write(1), 0),
                unknown(1, Op.write(2), 0),
                op(2, Op.read(), 10, 2, 20),
                op(2, Op.read(), 30, 1, 40),
                op(2, Op.read(), 50, 2, 60))), "each write takes effect at most once");
    }

    @Test
    void unknownReadsConstrainNothing() {
        assertEquals(Verdict.OK, verdict(List.of(unknown(0, Op.read(), 0), op(1, Op.write(3), 5, null, 6))));
    }

    @Test
    void twoConcurrentCasFromTheSameValueCannotBothSucceed() {
        assertEquals(Verdict.ILLEGAL, verdict(List.of(
                op(0, Op.cas(0, 1), 0, true, 10),
                op(1, Op.cas(0, 2), 5, true, 15))));
        assertEquals(Verdict.OK, verdict(List.of(
                op(0, Op.cas(0, 1), 0, true, 10),
                op(1, Op.cas(0, 2), 5, false, 15),
                op(2, Op.read(), 20, 1, 30))));
        assertEquals(Verdict.OK, verdict(List.of(
                op(0, Op.cas(0, 1), 0, true, 10),
                op(1, Op.cas(1, 2), 5, true, 15),
                op(2, Op.read(), 20, 2, 30))), "chained cas: 0->1 then 1->2");
    }

    @Test
    void pendingCasMayOrMayNotHaveSwapped() {
        assertEquals(Verdict.OK, verdict(List.of(unknown(0, Op.cas(0, 7), 0), op(1, Op.read(), 10, 7, 20))));
        assertEquals(Verdict.OK, verdict(List.of(unknown(0, Op.cas(0, 7), 0), op(1, Op.read(), 10, 0, 20))));
        assertEquals(Verdict.ILLEGAL, verdict(List.of(unknown(0, Op.cas(5, 7), 0), op(1, Op.read(), 10, 7, 20))),
                "a cas whose expectation never held cannot have swapped");
    }

    /** Backtracking is needed: the search has to try a later-started write before an earlier one. */
    @Test
    void linearizableOnlyInAnOrderDifferentFromCallOrder() {
        assertEquals(Verdict.OK, verdict(List.of(
                op(0, Op.write(1), 0, null, 100),
                op(1, Op.write(2), 10, null, 100),
                op(2, Op.write(3), 20, null, 100),
                op(3, Op.read(), 30, 2, 40),
                op(3, Op.read(), 50, 1, 60),
                op(4, Op.read(), 110, 3, 120))));
    }

    @Test
    void largeConcurrentHistoryTimesOutAsUnknown() {
        List<Operation<Op, Object>> h = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            h.add(op(i, Op.write(i), 0, null, 1_000_000));
        }
        CheckResult r = LinearizabilityChecker.check(MODEL, h, Duration.ZERO);
        assertEquals(Verdict.UNKNOWN, r.verdict(), r.explanation());
        assertTrue(r.explanation().contains("timed out"), r.explanation());
    }

    @Test
    void assertLinearizableThrowsWithTheExplanation() {
        AssertionError e = assertThrows(AssertionError.class, () -> LinearizabilityChecker.assertLinearizable(MODEL,
                List.of(op(0, Op.write(1), 0, null, 10), op(1, Op.read(), 20, 0, 30)), Duration.ofSeconds(5)));
        assertTrue(e.getMessage().startsWith("not linearizable"), e.getMessage());
    }
}
