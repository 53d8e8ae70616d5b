package io.consensusactors.testkit.linearizability;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Records a concurrent history from real clients (threads, futures) for the {@link LinearizabilityChecker}. Times
 * come from one logical clock incremented at every call and return, which preserves real-time order between
 * operations recorded in one process. Invoke <em>before</em> sending a request and complete <em>after</em> its
 * answer arrives; a request whose answer never arrived (timeout, crash) is {@link Pending#unknown()}, and one still
 * open when {@link #history()} is taken counts as unknown too.
 */
public final class HistoryRecorder<I, O> {

    /** An operation that was called and has not returned yet. */
    public interface Pending<I, O> {
        void ok(O output);

        void unknown();
    }

    private final AtomicLong clock = new AtomicLong();
    private final List<Operation<I, O>> done = new ArrayList<>();
    private final List<Open> open = new ArrayList<>();

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
                long ret = clock.incrementAndGet();
                synchronized (HistoryRecorder.this) {
                    open.remove(this);
                    done.add(new Operation<>(client, input, call, output, ret));
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
    }

    public Pending<I, O> invoke(int clientId, I input) {
        Open o = new Open(clientId, input, clock.incrementAndGet());
        synchronized (this) {
            open.add(o);
        }
        return o;
    }

    /** Completed operations plus every still-open one as of unknown outcome. */
    public synchronized List<Operation<I, O>> history() {
        List<Operation<I, O>> all = new ArrayList<>(done);
        for (Open o : open) {
            all.add(Operation.unknown(o.client, o.input, o.call));
        }
        return all;
    }

    public synchronized int size() {
        return done.size() + open.size();
    }
}
