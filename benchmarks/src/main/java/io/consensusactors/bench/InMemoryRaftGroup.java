package io.consensusactors.bench;

import io.consensusactors.raft.core.Entry;
import io.consensusactors.raft.core.HardState;
import io.consensusactors.raft.core.RaftConfig;
import io.consensusactors.raft.core.RaftMessage;
import io.consensusactors.raft.core.RaftNode;
import io.consensusactors.raft.core.ReadState;
import io.consensusactors.raft.core.Ready;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A minimal synchronous driver of a Raft group in one thread, for benchmarks: no I/O, no clock, no loss. Every
 * {@link Ready} is handled as its contract says — messages queued, entries and hard state "persisted" to an
 * in-memory list, messages-after-persist queued, committed entries counted as applied — and queued messages are
 * delivered until the group is quiet. The log is compacted every {@code compactEvery} applied entries so a long
 * benchmark runs in bounded memory.
 */
final class InMemoryRaftGroup {

    /** One member with its "disk". */
    static final class Member {
        final RaftNode node;
        final List<Entry> stored = new ArrayList<>();
        HardState hardState = HardState.INITIAL;
        long applied;
        long appliedBytes;

        Member(RaftNode node) {
            this.node = node;
        }

        void persist(Ready r) {
            if (r.snapshot() != null) {
                stored.clear();
            }
            if (!r.entries().isEmpty()) {
                long first = r.entries().get(0).index();
                // truncate the stored log from the first new index, then append
                while (!stored.isEmpty() && stored.get(stored.size() - 1).index() >= first) {
                    stored.remove(stored.size() - 1);
                }
                stored.addAll(r.entries());
            }
            if (r.hardState() != null) {
                hardState = r.hardState();
            }
        }
    }

    private final Map<String, Member> members = new LinkedHashMap<>();
    private final ArrayDeque<RaftMessage> network = new ArrayDeque<>();
    private final List<ReadState> readStates = new ArrayList<>();
    private final long compactEvery;
    private long nextCompactAt;

    InMemoryRaftGroup(List<String> ids, RaftConfig config, long seed, long compactEvery) {
        Random random = new Random(seed);
        for (String id : ids) {
            members.put(id, new Member(RaftNode.create(id, config, new Random(random.nextLong()), ids)));
        }
        this.compactEvery = compactEvery;
        this.nextCompactAt = compactEvery;
    }

    static InMemoryRaftGroup threeNodes() {
        return new InMemoryRaftGroup(List.of("a", "b", "c"), RaftConfig.defaults(), 42, 10_000);
    }

    Member member(String id) {
        return members.get(id);
    }

    /** Ticks every member (delivering what that produces) until one is leader whose first entry is committed. */
    Member electLeader() {
        for (int i = 0; i < 10_000; i++) {
            for (Member m : members.values()) {
                m.node.tick();
            }
            drain();
            for (Member m : members.values()) {
                if (m.node.isLeader() && m.node.commitIndex() == m.node.lastIndex()) {
                    return m;
                }
            }
        }
        throw new IllegalStateException("no leader after 10,000 ticks");
    }

    /** Handles every member's Ready and delivers queued messages until no member has anything left to do. */
    void drain() {
        boolean progress = true;
        while (progress) {
            progress = false;
            for (Member m : members.values()) {
                while (m.node.hasReady()) {
                    handle(m, m.node.ready());
                    progress = true;
                }
            }
            while (!network.isEmpty()) {
                RaftMessage msg = network.poll();
                members.get(msg.to()).node.step(msg);
                progress = true;
            }
        }
        maybeCompact();
    }

    private void handle(Member m, Ready r) {
        network.addAll(r.messages());
        m.persist(r);
        network.addAll(r.messagesAfterPersist());
        for (Entry e : r.committed()) {
            m.applied = e.index();
            m.appliedBytes += e.data().length;
        }
        if (m.node.isLeader()) {
            readStates.addAll(r.readStates());
        }
        m.node.advance(r);
    }

    /** Read states the leader produced since the last call (then forgotten). */
    int takeReadStates() {
        int n = readStates.size();
        readStates.clear();
        return n;
    }

    private void maybeCompact() {
        long minApplied = Long.MAX_VALUE;
        for (Member m : members.values()) {
            minApplied = Math.min(minApplied, m.applied);
        }
        if (minApplied < nextCompactAt) {
            return;
        }
        long upTo = minApplied;
        for (Member m : members.values()) {
            m.node.compact(upTo, new byte[0]);
            m.stored.removeIf(e -> e.index() <= upTo);
        }
        nextCompactAt = upTo + compactEvery;
    }
}
