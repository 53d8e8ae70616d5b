package io.consensusactors.testkit.linearizability;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Decides whether a concurrent history is linearizable with respect to a {@link Model}: Wing &amp; Gong's search
 * with Lowe's memoization, as in Porcupine. Calls and returns form a time-ordered linked list; the search
 * linearizes a call whose operation is legal in the current state (removing it and its return from the list),
 * backtracks when it reaches a return whose call was not linearized, and never revisits a (set of linearized
 * operations, state) pair. Each partition of the history (e.g. each key) is checked independently.
 */
public final class LinearizabilityChecker {

    private LinearizabilityChecker() {
    }

    public static <S, I, O> CheckResult check(Model<S, I, O> model, List<Operation<I, O>> history) {
        return check(model, history, Duration.ofMinutes(5));
    }

    public static <S, I, O> CheckResult check(Model<S, I, O> model, List<Operation<I, O>> history, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<List<Operation<I, O>>> parts = model.partition(history);
        for (int p = 0; p < parts.size(); p++) {
            CheckResult r = checkPartition(model, parts.get(p), deadline, p, parts.size());
            if (!r.ok()) {
                return r;
            }
        }
        return new CheckResult(CheckResult.Verdict.OK, history.size() + " operations in " + parts.size()
                + " partition(s) are linearizable");
    }

    private static final class Node {
        final int id;
        final boolean call;
        final long time;
        Node match;
        Node prev;
        Node next;

        Node(int id, boolean call, long time) {
            this.id = id;
            this.call = call;
            this.time = time;
        }
    }

    private record CacheKey(BitSet linearized, Object state) {
    }

    private record Frame(Node call, Object state) {
    }

    @SuppressWarnings("unchecked")
    private static <S, I, O> CheckResult checkPartition(Model<S, I, O> model, List<Operation<I, O>> ops, long deadline,
                                                        int partition, int partitions) {
        int n = ops.size();
        if (n == 0) {
            return new CheckResult(CheckResult.Verdict.OK, "empty");
        }
        List<Node> nodes = new ArrayList<>(2 * n);
        for (int i = 0; i < n; i++) {
            Operation<I, O> op = ops.get(i);
            Node call = new Node(i, true, op.callTime());
            Node ret = new Node(i, false, op.returnTime());
            call.match = ret;
            nodes.add(call);
            nodes.add(ret);
        }
        // time order; at equal times calls first (they overlap); pending returns last in call order
        nodes.sort(Comparator.<Node>comparingLong(x -> x.time).thenComparing(x -> x.call ? 0 : 1)
                .thenComparingLong(x -> ops.get(x.id).callTime()).thenComparingInt(x -> x.id));
        Node head = new Node(-1, false, Long.MIN_VALUE);
        Node prev = head;
        for (Node x : nodes) {
            prev.next = x;
            x.prev = prev;
            prev = x;
        }
        BitSet linearized = new BitSet(n);
        Set<CacheKey> cache = new HashSet<>();
        ArrayDeque<Frame> calls = new ArrayDeque<>();
        Object state = model.init();
        Node entry = head.next;
        int best = 0;
        long steps = 0;
        while (head.next != null) {
            if ((++steps & 0xFFF) == 0 && System.nanoTime() > deadline) {
                return new CheckResult(CheckResult.Verdict.UNKNOWN, "timed out checking partition " + partition
                        + " of " + partitions + " (" + n + " operations)");
            }
            if (entry.call) {
                Operation<I, O> op = ops.get(entry.id);
                Object next = model.step((S) state, op.input(), op.output());
                if (next != null) {
                    BitSet candidate = (BitSet) linearized.clone();
                    candidate.set(entry.id);
                    if (cache.add(new CacheKey(candidate, next))) {
                        calls.push(new Frame(entry, state));
                        state = next;
                        linearized.set(entry.id);
                        best = Math.max(best, calls.size());
                        lift(entry);
                        entry = head.next;
                        continue;
                    }
                }
                entry = entry.next;
            } else {
                if (calls.isEmpty()) {
                    return illegal(model, ops, entry, best, partition, partitions);
                }
                Frame f = calls.pop();
                state = f.state;
                linearized.clear(f.call.id);
                unlift(f.call);
                entry = f.call.next;
            }
        }
        return new CheckResult(CheckResult.Verdict.OK, "linearizable");
    }

    private static void lift(Node call) {
        call.prev.next = call.next;
        if (call.next != null) {
            call.next.prev = call.prev;
        }
        Node ret = call.match;
        ret.prev.next = ret.next;
        if (ret.next != null) {
            ret.next.prev = ret.prev;
        }
    }

    private static void unlift(Node call) {
        Node ret = call.match;
        ret.prev.next = ret;
        if (ret.next != null) {
            ret.next.prev = ret;
        }
        call.prev.next = call;
        if (call.next != null) {
            call.next.prev = call;
        }
    }

    private static <S, I, O> CheckResult illegal(Model<S, I, O> model, List<Operation<I, O>> ops, Node stuck, int best,
                                                 int partition, int partitions) {
        Operation<I, O> op = ops.get(stuck.id);
        StringBuilder sb = new StringBuilder();
        sb.append("not linearizable: partition ").append(partition).append(" of ").append(partitions).append(" (")
                .append(ops.size()).append(" operations); the longest linearizable prefix has ").append(best)
                .append(" operations; no order explains ").append(model.describe(op.input(), op.output()))
                .append(" by client ").append(op.clientId()).append(" [").append(op.callTime()).append(", ")
                .append(op.pending() ? "∞" : op.returnTime()).append("]. Operations overlapping it:");
        int shown = 0;
        for (Operation<I, O> o : ops) {
            if (o != op && o.callTime() <= op.returnTime() && o.returnTime() >= op.callTime() - 1 && shown < 20) {
                sb.append("\n  client ").append(o.clientId()).append(' ').append(model.describe(o.input(), o.output()))
                        .append(" [").append(o.callTime()).append(", ").append(o.pending() ? "∞" : o.returnTime()).append(']');
                shown++;
            }
        }
        return new CheckResult(CheckResult.Verdict.ILLEGAL, sb.toString());
    }

    static boolean same(Object a, Object b) {
        return Objects.equals(a, b);
    }
}
