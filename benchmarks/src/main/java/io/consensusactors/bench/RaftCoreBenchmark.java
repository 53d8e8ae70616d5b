package io.consensusactors.bench;

import io.consensusactors.raft.core.Entry;
import io.consensusactors.raft.core.ProposeResult;
import io.consensusactors.raft.core.RaftCodec;
import io.consensusactors.raft.core.RaftMessage;
import io.consensusactors.raft.core.ReadConsistency;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Raft core hot paths with no I/O: entries per second committed and applied on all three members of a
 * synchronous in-memory group ({@link InMemoryRaftGroup}) when the leader gets 1, 16 or 256 proposals of 64 bytes
 * between two rounds of Ready handling (the batching the actor shell gets from its mailbox; the leader applies a batch
 * in its round, followers in the next one, whose AppendEntries carries the commit), linearizable reads
 * (ReadIndex) per second in batches of 16, and the wire codec of an AppendEntries carrying 64 entries.
 * Scores are operations (entries, reads, messages) per second. Run: see docs/raft-benchmarks.md.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 3)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g"})
public class RaftCoreBenchmark {

    static final int VALUE_BYTES = 64;

    /** A three-member group with an elected leader. */
    @State(Scope.Thread)
    public static class Group {
        InMemoryRaftGroup group;
        InMemoryRaftGroup.Member leader;
        InMemoryRaftGroup.Member follower1;
        InMemoryRaftGroup.Member follower2;
        byte[] command;
        long seq;
        long readContext;

        @Setup
        public void setUp() {
            group = InMemoryRaftGroup.threeNodes();
            leader = group.electLeader();
            List<InMemoryRaftGroup.Member> others = new ArrayList<>();
            for (String id : List.of("a", "b", "c")) {
                if (group.member(id) != leader) {
                    others.add(group.member(id));
                }
            }
            follower1 = others.get(0);
            follower2 = others.get(1);
            command = new byte[VALUE_BYTES];
            new Random(1).nextBytes(command);
        }

        int proposeAndCommit(int batch) {
            for (int i = 0; i < batch; i++) {
                ProposeResult r = leader.node.propose(0, 0, command);
                if (!(r instanceof ProposeResult.Accepted)) {
                    throw new IllegalStateException("leader lost leadership: " + r);
                }
            }
            group.drain();
            long last = leader.node.lastIndex();
            if (leader.applied != last || follower1.applied != last || follower2.applied != last) {
                throw new IllegalStateException("round did not commit and apply everywhere: last " + last + ", applied "
                        + leader.applied + "/" + follower1.applied + "/" + follower2.applied);
            }
            return (int) leader.applied;
        }

        int readBatch(int batch) {
            for (int i = 0; i < batch; i++) {
                leader.node.read(++readContext, ReadConsistency.LINEARIZABLE);
            }
            group.drain();
            int served = group.takeReadStates();
            if (served != batch) {
                throw new IllegalStateException("expected " + batch + " read states, got " + served);
            }
            return served;
        }
    }

    @Benchmark
    @OperationsPerInvocation(1)
    public int commitBatchOf1(Group g) {
        return g.proposeAndCommit(1);
    }

    @Benchmark
    @OperationsPerInvocation(16)
    public int commitBatchOf16(Group g) {
        return g.proposeAndCommit(16);
    }

    @Benchmark
    @OperationsPerInvocation(256)
    public int commitBatchOf256(Group g) {
        return g.proposeAndCommit(256);
    }

    @Benchmark
    @OperationsPerInvocation(16)
    public int linearizableReadBatchOf16(Group g) {
        return g.readBatch(16);
    }

    /** An AppendEntries with 64 entries of 64 bytes, and its encoding as the hosts send it. */
    @State(Scope.Thread)
    public static class Codec {
        RaftMessage.AppendEntries message;
        List<String> groups;
        List<RaftMessage> messages;
        byte[] encoded;

        @Setup
        public void setUp() {
            Random random = new Random(7);
            List<Entry> entries = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                byte[] data = new byte[VALUE_BYTES];
                random.nextBytes(data);
                entries.add(new Entry(1001 + i, 3, Entry.Type.COMMAND, 77, 1 + i, data));
            }
            message = new RaftMessage.AppendEntries(3, "a", "b", 1000, 3, entries, 1000);
            groups = List.of("kv");
            messages = List.of(message);
            encoded = RaftCodec.encodeBatch(groups, messages);
        }
    }

    @Benchmark
    public byte[] encodeAppendEntries64(Codec c) {
        return RaftCodec.encodeBatch(c.groups, c.messages);
    }

    @Benchmark
    public void decodeAppendEntries64(Codec c, Blackhole bh) {
        RaftCodec.decodeBatch(c.encoded, (group, msg) -> bh.consume(msg));
    }
}
