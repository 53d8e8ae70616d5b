package io.consensusactors.testkit.linearizability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.consensusactors.testkit.linearizability.CheckResult.Verdict;
import io.consensusactors.testkit.linearizability.KvModel.Op;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class KvModelTest {
    private static final KvModel MODEL = new KvModel();

    private static Operation<Op, String> op(int client, Op input, long call, String output, long ret) {
        return new Operation<>(client, input, call, output, ret);
    }

    @Test
    void stepFollowsPutGetCasSemantics() {
        assertEquals("a", MODEL.step("", Op.put("k", "a"), ""), "put returns the previous value");
        assertNull(MODEL.step("x", Op.put("k", "a"), ""), "put reporting a wrong previous value");
        assertEquals("a", MODEL.step("x", Op.put("k", "a"), null), "put with unobserved output");
        assertEquals("x", MODEL.step("x", Op.get("k"), "x"));
        assertNull(MODEL.step("x", Op.get("k"), "y"));
        assertEquals("b", MODEL.step("a", Op.cas("k", "a", "b"), "true"));
        assertNull(MODEL.step("a", Op.cas("k", "a", "b"), "false"));
        assertEquals("c", MODEL.step("c", Op.cas("k", "a", "b"), "false"));
        assertNull(MODEL.step("c", Op.cas("k", "a", "b"), "true"));
        assertEquals("b", MODEL.step("a", Op.cas("k", "a", "b"), null), "unknown cas may swap");
        assertEquals("", MODEL.init(), "absent reads as empty");
    }

    @Test
    void partitionsByKeyInFirstSeenOrder() {
        List<Operation<Op, String>> h = List.of(op(0, Op.put("b", "1"), 0, "", 1), op(0, Op.get("a"), 2, "", 3),
                op(1, Op.get("b"), 2, "1", 3));
        List<List<Operation<Op, String>>> parts = MODEL.partition(h);
        assertEquals(2, parts.size());
        assertEquals(List.of(h.get(0), h.get(2)), parts.get(0));
        assertEquals("key=a", MODEL.describePartition(parts.get(1)));
    }

    @Test
    void keysAreIndependent() {
        // a stale read on k1 would be illegal if k0 and k1 were one register; per key it is fine
        assertEquals(Verdict.OK, LinearizabilityChecker.check(MODEL, List.of(
                op(0, Op.put("k0", "x"), 0, "", 10),
                op(1, Op.get("k1"), 20, "", 30))).verdict());
    }

    @Test
    void illegalExplanationNamesTheKeyTheStuckReadAndThePrefix() {
        List<Operation<Op, String>> h = new ArrayList<>();
        long t = 0;
        for (int k = 0; k < 20; k++) {
            h.add(op(k % 3, Op.put("k" + k, "v" + k), t++, "", t++));
        }
        h.add(op(1, Op.put("k7", "w"), t++, "v7", t++));
        h.add(op(2, Op.get("k7"), t++, "v7", t++)); // stale: w was written and acknowledged before
        CheckResult r = LinearizabilityChecker.check(MODEL, h);
        System.out.println("example explanation:\n" + r.explanation());
        assertEquals(Verdict.ILLEGAL, r.verdict());
        assertTrue(r.explanation().contains("partition #7 of 20 (key=k7)"), r.explanation());
        assertTrue(r.explanation().contains("Longest linearizable prefix: 2 of 3"), r.explanation());
        assertTrue(r.explanation().contains("State after it: \"w\""), r.explanation());
        assertTrue(r.explanation().contains("client 2 get(k7) -> \"v7\""), r.explanation());
        assertTrue(r.explanation().contains("not possible in this state"), r.explanation());
    }

    @Test
    void unknownGetsAreLeftOutAndUnknownPutsMayApply() {
        List<Operation<Op, String>> h = List.of(
                Operation.unknown(0, Op.get("k"), 0),
                Operation.unknown(1, Op.put("k", "a"), 1),
                op(2, Op.get("k"), 5, "a", 6),
                op(2, Op.put("k", "b"), 7, "a", 8));
        CheckResult r = LinearizabilityChecker.check(MODEL, h);
        assertEquals(Verdict.OK, r.verdict(), r.explanation());
    }

    @Test
    void lostUpdateIsIllegal() {
        // two clients read-modify-write with put returning the previous value: both cannot see the same previous
        assertEquals(Verdict.ILLEGAL, LinearizabilityChecker.check(MODEL, List.of(
                op(0, Op.put("k", "a"), 0, "", 10),
                op(1, Op.put("k", "b"), 0, "", 10))).verdict());
    }
}
