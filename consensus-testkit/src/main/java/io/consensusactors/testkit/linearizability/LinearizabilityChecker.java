package io.consensusactors.testkit.linearizability;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Decides whether a concurrent history is linearizable with respect to a {@link Model}: Wing &amp; Gong's search
 * with Lowe's memoization, the algorithm of Porcupine's {@code checkSingle}.
 *
 * <p>Calls and returns form one time-ordered doubly linked list. The search walks it from the head: at a call whose
 * operation is legal in the current state (and leads to a (set of linearized operations, state) pair not seen
 * before) it linearizes the operation — pushes it with the previous state, "lifts" its call and return out of the
 * list and restarts from the head. At a return whose call is still in the list the operation should have taken
 * effect already, so the search backtracks: it pops the last linearized operation, "unlifts" it back into the list
 * and tries the next call after it. The history is linearizable when the list empties, and not when a return is
 * reached with nothing left to pop. The cache of visited (bitset, state) pairs makes the search stop re-exploring
 * orders that reach the same state with the same operations done.
 *
 * <p>Each partition of the history (e.g. each key, see {@link Model#partition}) is checked independently, which
 * is what makes long histories tractable. Operations of unknown outcome return at +∞: the search may linearize
 * them anywhere after their call, including at the very end (where they have no observable effect, i.e. "never
 * happened"). Unknown read-only operations are left out ({@link Model#readOnly}).
 *
 * <p>Single-threaded and deterministic; the timeout only turns a long search into {@link CheckResult.Verdict#UNKNOWN}.
 */
public final class LinearizabilityChecker {

    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(5);

    private static final int SHOWN_PREFIX = 8;
    private static final int SHOWN_CANDIDATES = 12;

    private LinearizabilityChecker() {
    }

    public static <S, I, O> CheckResult check(Model<S, I, O> model, List<Operation<I, O>> history) {
        return check(model, history, DEFAULT_TIMEOUT);
    }

    /**
     * Checks {@code history}; returns ILLEGAL as soon as one partition is not linearizable, UNKNOWN if some
     * partition could not be decided within {@code timeout} (and none was found illegal), OK otherwise.
     */
    public static <S, I, O> CheckResult check(Model<S, I, O> model, List<Operation<I, O>> history, Duration timeout) {
        long start = System.nanoTime();
        long deadline = start + Math.max(0, timeout.toNanos());
        List<List<Operation<I, O>>> parts = model.partition(history);
        List<String> undecided = new ArrayList<>();
        long steps = 0;
        int largest = 0;
        for (int p = 0; p < parts.size(); p++) {
            Search<S, I, O> search = new Search<>(model, parts.get(p), p, parts.size(), deadline);
            CheckResult r = search.run();
            steps += search.steps;
            largest = Math.max(largest, parts.get(p).size());
            if (r.verdict() == CheckResult.Verdict.ILLEGAL) {
                return r;
            }
            if (r.verdict() == CheckResult.Verdict.UNKNOWN) {
                undecided.add(r.explanation());
            }
        }
        long ms = (System.nanoTime() - start) / 1_000_000;
        if (!undecided.isEmpty()) {
            return new CheckResult(CheckResult.Verdict.UNKNOWN, "timed out after " + timeout + " (" + ms + " ms): "
                    + undecided.size() + " of " + parts.size() + " partition(s) undecided, none found illegal:\n  "
                    + String.join("\n  ", undecided.subList(0, Math.min(10, undecided.size()))));
        }
        return new CheckResult(CheckResult.Verdict.OK, history.size() + " operations in " + parts.size()
                + " partition(s) are linearizable (largest partition " + largest + " operations, " + steps
                + " search steps, " + ms + " ms)");
    }

    /** Checks and throws an {@link AssertionError} carrying the explanation if the history is ILLEGAL. */
    public static <S, I, O> CheckResult assertLinearizable(Model<S, I, O> model, List<Operation<I, O>> history,
                                                           Duration timeout) {
        CheckResult r = check(model, history, timeout);
        if (r.illegal()) {
            throw new AssertionError(r.explanation());
        }
        return r;
    }

    /** One call or return in the time-ordered list. */
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

    /**
     * A memoized (set of linearized operations, state) pair. {@code bitsHash} is the XOR of one random 64-bit value
     * per linearized operation (Zobrist hashing), kept up to date incrementally so probing the cache clones nothing.
     */
    private static final class CacheKey {
        final long[] words;
        final long bitsHash;
        final Object state;
        final int hash;

        CacheKey(long[] words, long bitsHash, Object state) {
            this.words = words;
            this.bitsHash = bitsHash;
            this.state = state;
            this.hash = 31 * Long.hashCode(bitsHash) + state.hashCode();
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof CacheKey k && k.hash == hash && k.bitsHash == bitsHash && Arrays.equals(k.words, words)
                    && k.state.equals(state);
        }
    }

    /** The search over one partition. */
    private static final class Search<S, I, O> {
        final Model<S, I, O> model;
        final List<Operation<I, O>> ops;
        final int partition;
        final int partitions;
        final long deadline;
        final int total;
        final String partitionName;
        long steps;

        // the longest linearizable prefix seen, for the explanation
        int[] bestPrefix = new int[0];
        Object bestState;
        Node bestStuck;
        List<Node> bestCandidates = List.of();

        Search(Model<S, I, O> model, List<Operation<I, O>> partitionOps, int partition, int partitions, long deadline) {
            this.model = model;
            this.partition = partition;
            this.partitions = partitions;
            this.deadline = deadline;
            this.total = partitionOps.size();
            this.partitionName = partitionOps.isEmpty() ? null : model.describePartition(partitionOps);
            List<Operation<I, O>> kept = new ArrayList<>(partitionOps.size());
            for (Operation<I, O> op : partitionOps) {
                if (!(op.pending() && model.readOnly(op.input()))) {
                    kept.add(op);
                }
            }
            this.ops = kept;
        }

        @SuppressWarnings("unchecked")
        CheckResult run() {
            int n = ops.size();
            if (n == 0) {
                return new CheckResult(CheckResult.Verdict.OK, "empty");
            }
            Node head = buildList(n);
            long[] zobrist = new long[n];
            long z = 0x9E3779B97F4A7C15L ^ n;
            for (int i = 0; i < n; i++) {
                z += 0x9E3779B97F4A7C15L;
                zobrist[i] = mix(z);
            }
            long[] linearized = new long[(n + 63) >>> 6];
            long bitsHash = 0;
            Set<CacheKey> cache = new HashSet<>();
            Node[] callStack = new Node[n];
            Object[] stateStack = new Object[n];
            int depth = 0;
            Object state = model.init();
            Node entry = head.next;
            while (head.next != null) {
                if ((++steps & 0x3FF) == 0 && System.nanoTime() - deadline > 0) {
                    return new CheckResult(CheckResult.Verdict.UNKNOWN, where() + " (" + n + " operations): "
                            + steps + " search steps, longest linearizable prefix so far " + bestPrefix.length);
                }
                if (entry.call) {
                    Operation<I, O> op = ops.get(entry.id);
                    Object next = model.step((S) state, op.input(), op.output());
                    if (next != null) {
                        int id = entry.id;
                        linearized[id >>> 6] |= 1L << id;
                        long h = bitsHash ^ zobrist[id];
                        if (!cache.contains(new CacheKey(linearized, h, next))) {
                            cache.add(new CacheKey(linearized.clone(), h, next));
                            bitsHash = h;
                            callStack[depth] = entry;
                            stateStack[depth] = state;
                            depth++;
                            state = next;
                            lift(entry);
                            entry = head.next;
                            continue;
                        }
                        linearized[id >>> 6] &= ~(1L << id);
                    }
                    entry = entry.next;
                } else {
                    // a return whose operation is not linearized yet: the current prefix cannot be extended
                    if (depth > bestPrefix.length || bestStuck == null) {
                        remember(head, entry, callStack, depth, state);
                    }
                    if (depth == 0) {
                        return illegal();
                    }
                    depth--;
                    Node call = callStack[depth];
                    state = stateStack[depth];
                    callStack[depth] = null;
                    stateStack[depth] = null;
                    linearized[call.id >>> 6] &= ~(1L << call.id);
                    bitsHash ^= zobrist[call.id];
                    unlift(call);
                    entry = call.next;
                }
            }
            return new CheckResult(CheckResult.Verdict.OK, where() + ": linearizable");
        }

        private Node buildList(int n) {
            List<Node> nodes = new ArrayList<>(2 * n);
            for (int i = 0; i < n; i++) {
                Operation<I, O> op = ops.get(i);
                Node call = new Node(i, true, op.callTime());
                Node ret = new Node(i, false, op.returnTime());
                call.match = ret;
                ret.match = call;
                nodes.add(call);
                nodes.add(ret);
            }
            // time order; at equal times calls come first (equal times overlap); ties broken by position
            nodes.sort(Comparator.<Node>comparingLong(x -> x.time).thenComparingInt(x -> x.call ? 0 : 1)
                    .thenComparingInt(x -> x.id));
            Node head = new Node(-1, false, Long.MIN_VALUE);
            Node prev = head;
            for (Node x : nodes) {
                prev.next = x;
                x.prev = prev;
                prev = x;
            }
            return head;
        }

        private void remember(Node head, Node stuck, Node[] callStack, int depth, Object state) {
            bestPrefix = new int[depth];
            for (int i = 0; i < depth; i++) {
                bestPrefix[i] = callStack[i].id;
            }
            bestState = state;
            bestStuck = stuck;
            List<Node> candidates = new ArrayList<>();
            for (Node x = head.next; x != stuck && candidates.size() < SHOWN_CANDIDATES; x = x.next) {
                if (x.call) {
                    candidates.add(x);
                }
            }
            bestCandidates = candidates;
        }

        private String where() {
            return "partition #" + partition + " of " + partitions + (partitionName == null ? "" : " (" + partitionName + ")");
        }

        private String describe(Operation<I, O> op) {
            return "client " + op.clientId() + " " + model.describe(op.input(), op.output()) + " [" + op.callTime()
                    + ", " + (op.pending() ? "∞" : op.returnTime()) + "]";
        }

        @SuppressWarnings("unchecked")
        private CheckResult illegal() {
            StringBuilder sb = new StringBuilder("not linearizable: ").append(where()).append(", ").append(total)
                    .append(" operations");
            if (total != ops.size()) {
                sb.append(" (").append(total - ops.size()).append(" unknown reads left out)");
            }
            sb.append(".\nLongest linearizable prefix: ").append(bestPrefix.length).append(" of ").append(ops.size())
                    .append(" operations");
            if (bestPrefix.length == 0) {
                sb.append(" (none: the first operations to return cannot be explained from the initial state)");
            } else {
                int from = Math.max(0, bestPrefix.length - SHOWN_PREFIX);
                sb.append(from > 0 ? ", ending with:" : ":");
                for (int i = from; i < bestPrefix.length; i++) {
                    sb.append("\n  ").append(i + 1).append(". ").append(describe(ops.get(bestPrefix[i])));
                }
            }
            sb.append("\nState after it: ").append(model.describeState((S) bestState));
            Operation<I, O> stuck = ops.get(bestStuck.id);
            sb.append("\nThen ").append(describe(stuck))
                    .append(" must take effect before it returns, but no operation called by then can come next:");
            for (Node c : bestCandidates) {
                Operation<I, O> op = ops.get(c.id);
                boolean legal = model.step((S) bestState, op.input(), op.output()) != null;
                sb.append("\n  ").append(describe(op)).append(legal
                        ? ": legal here, but no order after it explains the rest"
                        : ": not possible in this state");
            }
            return new CheckResult(CheckResult.Verdict.ILLEGAL, sb.toString());
        }
    }

    private static void lift(Node call) {
        call.prev.next = call.next;
        call.next.prev = call.prev; // a call is always followed, at least by its own return
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
        call.next.prev = call;
    }

    /** SplitMix64 finalizer. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
