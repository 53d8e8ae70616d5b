package io.consensusactors.persistence;

import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Durability of group fsync: a write is released only by a sync that began after the write asked for it, and writes
 * that ask while a sync runs share the next one. The sync thread is a queue the test runs by hand.
 */
class GroupSyncTest {

    private final ArrayDeque<Runnable> thread = new ArrayDeque<>();
    private final List<String> log = new ArrayList<>();
    private int started;
    private boolean failNext;

    private final GroupSync sync = new GroupSync(() -> {
        started++;
        log.add("sync " + started);
        if (failNext) {
            failNext = false;
            throw new java.io.IOException("disk gone");
        }
    }, thread::add);

    private void runSyncThread() {
        while (!thread.isEmpty()) {
            thread.poll().run();
        }
    }

    @Test
    void aRequestIsReleasedOnlyByASyncThatStartedAfterIt() {
        CompletableFuture<Void> a = sync.request();
        assertEquals(1, thread.size(), "the first request starts a sync");
        // b asks after a's sync was started (it may already be forcing the file): it must wait for another one
        CompletableFuture<Void> b = sync.request();
        assertEquals(1, thread.size(), "one sync at a time");
        thread.poll().run();
        assertTrue(a.isDone());
        assertFalse(b.isDone(), "a sync that started before b asked does not make b's write durable");
        assertEquals(1, thread.size(), "the next sync starts as soon as the previous one ends");
        thread.poll().run();
        assertTrue(b.isDone());
        assertEquals(List.of("sync 1", "sync 2"), log);
    }

    @Test
    void requestsWaitingTogetherShareOneSync() {
        CompletableFuture<Void> first = sync.request();
        List<CompletableFuture<Void>> waiting = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            waiting.add(sync.request());
        }
        runSyncThread();
        assertTrue(first.isDone());
        assertTrue(waiting.stream().allMatch(CompletableFuture::isDone));
        assertEquals(2, sync.syncs(), "101 requests, two syncs: the first one's, and one for all who asked meanwhile");
        assertEquals(101, sync.requests());
        sync.request();
        runSyncThread();
        assertEquals(3, sync.syncs(), "an idle group sync starts at once for the next request");
    }

    @Test
    void aFailedSyncFailsEveryoneItServedAndTheNextRequestGetsAFreshSync() {
        failNext = true;
        CompletableFuture<Void> a = sync.request();
        runSyncThread();
        ExecutionException e = assertThrows(ExecutionException.class, a::get);
        assertInstanceOf(java.io.IOException.class, e.getCause(), "the write must not be acknowledged");
        CompletableFuture<Void> b = sync.request();
        runSyncThread();
        assertTrue(b.isDone() && !b.isCompletedExceptionally());
    }

    @Test
    void aShutDownSyncThreadFailsTheRequestInsteadOfLosingIt() {
        GroupSync closed = new GroupSync(() -> { }, r -> {
            throw new java.util.concurrent.RejectedExecutionException("shut down");
        });
        CompletableFuture<Void> f = closed.request();
        assertTrue(f.isCompletedExceptionally());
        assertTrue(closed.request().isCompletedExceptionally(), "and it does not wait forever afterwards");
    }
}
