package io.consensusactors.persistence;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * Group fsync: writers that need their committed data on stable storage ask for a sync ({@link #request()}); one
 * sync runs at a time, and everyone who asked while it ran is released together by the next one. A request is only
 * ever completed by a sync that <em>started after</em> it was made — a sync already under way may have begun before
 * the requester's write reached the file, so it proves nothing for that write.
 *
 * <p>Pure coordination: the sync itself ({@link Action}) and the thread it runs on are given.
 */
public final class GroupSync {

    /** Forces everything written so far to stable storage; throws if that failed. */
    @FunctionalInterface
    public interface Action {
        void sync() throws Exception;
    }

    private final Action action;
    private final Executor executor;
    /** The requests waiting for the next sync to start (null: none). */
    private CompletableFuture<Void> next;
    private boolean running;
    private long requests;
    private long syncs;

    public GroupSync(Action action, Executor executor) {
        this.action = action;
        this.executor = executor;
    }

    /** Completes once a sync that started after this call has succeeded; fails if that sync failed. */
    public synchronized CompletableFuture<Void> request() {
        requests++;
        if (next == null) {
            next = new CompletableFuture<>();
        }
        CompletableFuture<Void> f = next;
        if (!running) {
            startNext();
        }
        return f;
    }

    private void startNext() {
        CompletableFuture<Void> batch = next;
        next = null;
        running = true;
        try {
            executor.execute(() -> run(batch));
        } catch (RejectedExecutionException e) {
            running = false;
            batch.completeExceptionally(new IllegalStateException("the sync thread is shut down", e));
        }
    }

    private void run(CompletableFuture<Void> batch) {
        Throwable failure = null;
        try {
            action.sync();
        } catch (Throwable t) {
            failure = t;
        }
        synchronized (this) {
            syncs++;
            running = false;
            if (next != null) {
                startNext();
            }
        }
        if (failure == null) {
            batch.complete(null);
        } else {
            batch.completeExceptionally(failure);
        }
    }

    /** Requests made so far. */
    public synchronized long requests() {
        return requests;
    }

    /** Syncs run so far (each serves every request made while the previous one ran). */
    public synchronized long syncs() {
        return syncs;
    }
}
