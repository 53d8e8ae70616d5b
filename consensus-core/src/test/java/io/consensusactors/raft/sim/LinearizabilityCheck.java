package io.consensusactors.raft.sim;

import io.consensusactors.testkit.linearizability.CheckResult;
import io.consensusactors.testkit.linearizability.KvModel;
import io.consensusactors.testkit.linearizability.LinearizabilityChecker;
import io.consensusactors.testkit.linearizability.Operation;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/** Feeds a simulated client history to the testkit's linearizability checker with the KV model. */
final class LinearizabilityCheck {
    private LinearizabilityCheck() {
    }

    static List<Operation<KvModel.Op, String>> toOperations(List<SimClient.Record> history) {
        List<Operation<KvModel.Op, String>> ops = new ArrayList<>();
        for (SimClient.Record r : history) {
            KvModel.Op op = switch (r.op().kind()) {
                case "PUT" -> KvModel.Op.put(r.op().key(), r.op().a());
                case "CAS" -> KvModel.Op.cas(r.op().key(), r.op().a(), r.op().b());
                default -> KvModel.Op.get(r.op().key());
            };
            ops.add(new Operation<>(r.client(), op, r.callTime(), r.output(), r.returnTime()));
        }
        return ops;
    }

    static void assertLinearizable(List<SimClient.Record> history, Supplier<String> state) {
        CheckResult r = LinearizabilityChecker.check(new KvModel(), toOperations(history), Duration.ofSeconds(20));
        if (r.verdict() == CheckResult.Verdict.ILLEGAL) {
            throw new AssertionError("linearizability: " + r.explanation() + "\n" + state.get());
        }
    }
}
