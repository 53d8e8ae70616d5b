package io.consensusactors.testkit.linearizability;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Records a concurrent history from real clients (threads, futures, actors) for the {@link LinearizabilityChecker}.
 * Thread-safe. By default times come from one logical clock incremented at every call and return: since the
 * counter is itself linearizable, an operation that returned before another was called gets a smaller return time
 * than that call time, which is all the checker needs. {@link #withClock} takes another clock (e.g.
 * {@code System::nanoTime}) for histories merged from several recorders in one JVM.
 *
 * <p>Call {@link #invoke} <em>before</em> sending a request and complete the returned {@link Pending}
 * <em>after</em> its answer arrives: {@link Pending#ok} with the answer; {@link Pending#unknown} when it timed out
 * or the client crashed (it may or may not have taken effect); {@link Pending#fail} only when the system
 * guarantees it did not take effect (e.g. rejected before being proposed). An operation still open when
 * {@link #history()} is taken counts as unknown.
 */
public final class HistoryRecorder<I, O> {

    /** An operation that was called and has not returned yet. Only the first completion counts. */
    public interface Pending<I, O> {
        void ok(O output);

        void unknown();

        /** The operation definitely did not take effect: it is left out of the history. */
        void fail();
    }

    private final LongSupplier clock;
    private final List<Operation<I, O>> done = new ArrayList<>();
    private final Set<Open> open = new LinkedHashSet<>();

    public HistoryRecorder() {
        AtomicLong logical = new AtomicLong();
        this.clock = logical::incrementAndGet;
    }

    private HistoryRecorder(LongSupplier clock) {
        this.clock = clock;
    }

    /** A recorder reading {@code clock}, which must never go backwards (e.g. {@code System::nanoTime}). */
    public static <I, O> HistoryRecorder<I, O> withClock(LongSupplier clock) {
        return new HistoryRecorder<>(clock);
    }

    private final class Open implements Pending<I, O> {
        final int client;
        final I input;
        final long call;
        final AtomicBoolean finished = new AtomicBoolean();

        Open(int client, I input, long call) {
            this.client = client;
            this.input = input;
            this.call = call;
        }

        @Override
        public void ok(O output) {
            if (finished.compareAndSet(false, true)) {
                long ret = clock.getAsLong();
                synchronized (HistoryRecorder.this) {
                    open.remove(this);
                    done.add(new Operation<>(client, input, call, output, Math.max(ret, call)));
                }
            }
        }

        @Override
        public void unknown() {
            if (finished.compareAndSet(false, true)) {
                synchronized (HistoryRecorder.this) {
                    open.remove(this);
                    done.add(Operation.unknown(client, input, call));
                }
            }
        }

        @Override
        public void fail() {
            if (finished.compareAndSet(false, true)) {
                synchronized (HistoryRecorder.this) {
                    open.remove(this);
                }
            }
        }
    }

    /** Records the call of {@code input} by {@code clientId} now; complete the result when the answer arrives. */
    public Pending<I, O> invoke(int clientId, I input) {
        synchronized (this) {
            // reading the clock under the lock keeps the open set consistent with a concurrent history() call
            Open o = new Open(clientId, input, clock.getAsLong());
            open.add(o);
            return o;
        }
    }

    /** Completed operations plus unknown ones, including every still-open one (as unknown). */
    public synchronized List<Operation<I, O>> history() {
        List<Operation<I, O>> all = new ArrayList<>(done.size() + open.size());
        all.addAll(done);
        for (Open o : open) {
            all.add(Operation.unknown(o.client, o.input, o.call));
        }
        return all;
    }

    public synchronized int size() {
        return done.size() + open.size();
    }
}
