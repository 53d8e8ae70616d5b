package io.consensusactors.bench;

import io.consensusactors.sharding.ring.HashRing;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Ring hot paths: owner lookup of a key (hash + binary search, or a shift for the partitioned ring) and a full
 * rebuild on membership change, for both token schemes.
 * Run: see docs/placement.md.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RingBenchmark {

    @Param({"10", "100"})
    int members;

    /** random: 128 random tokens per member; partitioned: 65,536 equal partitions owned by rendezvous hashing. */
    @Param({"random", "partitioned"})
    String scheme;

    HashRing ring;
    List<String> ids;
    byte[][] keys;
    int next;

    @Setup
    public void setUp() {
        ids = new ArrayList<>();
        for (int i = 0; i < members; i++) {
            ids.add("pekko://bank@10.0.0." + i + ":25520");
        }
        ring = build();
        keys = new byte[4096][];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = ("account-" + i).getBytes(StandardCharsets.UTF_8);
        }
    }

    @Benchmark
    public String lookupOwner() {
        next = (next + 1) & (keys.length - 1);
        return ring.owner(keys[next]);
    }

    @Benchmark
    public List<String> lookupPreferenceList3() {
        next = (next + 1) & (keys.length - 1);
        return ring.owners(keys[next], 3);
    }

    private HashRing build() {
        return scheme.equals("partitioned") ? HashRing.partitionedIds(1 << 16, ids) : HashRing.ofIds(128, ids);
    }

    @Benchmark
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public HashRing rebuild() {
        return build();
    }
}
