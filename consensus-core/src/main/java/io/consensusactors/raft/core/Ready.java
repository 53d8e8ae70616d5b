package io.consensusactors.raft.core;

import java.util.List;

/**
 * Everything a member asks its shell to do after a batch of inputs (etcd's {@code Ready}). The shell must, in this
 * order:
 * <ol>
 *   <li>send {@link #messages()} — they do not depend on this batch being durable (a leader replicates its new
 *   entries while writing them itself);</li>
 *   <li>durably write {@link #snapshot()} (if any, replacing the log up to its index), then truncate the stored log
 *   from the index of the first of {@link #entries()} and append them, and write {@link #hardState()} (if not
 *   null);</li>
 *   <li>only then send {@link #messagesAfterPersist()} (votes, acknowledgements);</li>
 *   <li>restore the state machine from the snapshot if one was given, apply {@link #committed()} in order and
 *   serve {@link #readStates()} once the applied index reaches theirs;</li>
 *   <li>call {@link RaftNode#advance(Ready)} before giving the member any further input.</li>
 * </ol>
 */
public record Ready(HardState hardState, List<Entry> entries, Snapshot snapshot, List<RaftMessage> messages,
                    List<RaftMessage> messagesAfterPersist, List<Entry> committed, List<ReadState> readStates,
                    Role role, String leader, long term) {

    public boolean needsPersistence() {
        return hardState != null || !entries.isEmpty() || snapshot != null;
    }

    /**
     * Whether the member may take more input while this ready is being written ({@link RaftNode#advanceBeforePersisted}):
     * no new term or vote, no snapshot to install.
     */
    public boolean canPipeline() {
        return hardState == null && snapshot == null;
    }

    public boolean isEmpty() {
        return !needsPersistence() && messages.isEmpty() && messagesAfterPersist.isEmpty() && committed.isEmpty()
                && readStates.isEmpty();
    }

    public long lastEntryIndex() {
        return entries.isEmpty() ? 0 : entries.get(entries.size() - 1).index();
    }
}
