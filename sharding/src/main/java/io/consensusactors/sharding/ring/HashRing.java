package io.consensusactors.sharding.ring;

import io.consensusactors.sharding.placement.Placement;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * An immutable consistent-hash ring with virtual nodes (Karger et al.; Dynamo §4.2), in one of two token schemes.
 *
 * <p><b>Random tokens</b> ({@link #of}, {@link #ofIds}): each member owns {@code vnodesPerWeight × weight} tokens,
 * token {@code i} of member {@code m} being {@code XXH64("m#i")}. A key is hashed with XXH64 and owned by the
 * member of the first token clockwise (binary search over a sorted {@code long[]}). Tokens depend only on member
 * ids, so the same membership gives the same placement on every JVM, whatever the order members were added in;
 * equal tokens are ordered by member id.
 * Membership changes build a new ring ({@link #with}, {@link #without}): lookups never lock.
 *
 * <p><b>Partitioned</b> ({@link #partitioned}, {@link #partitionedIds}; Dynamo §6.2 strategy 3): the ring is cut
 * into {@code Q} equal partitions (Q a power of two, fixed for the ring's lifetime) and each partition is owned by
 * its rendezvous-hashing (highest random weight) winner among the members. A member's share is then its number of
 * partitions, binomial with relative spread {@code sqrt(N/Q)}, instead of a sum of random arc lengths; since a
 * partition costs one array slot and no sort, Q can be large (65,536) at little cost, and lookup is a shift. It keeps
 * the ring's properties: ownership depends only on the member set; a joining member takes partitions only for
 * itself (about Q/(N+1)); a leaving one gives up only its own. Preference lists and bounded loads work unchanged
 * (partitions are tokens).
 */
public final class HashRing implements Placement {

    /** A physical member: id (e.g. a cluster address), relative weight (capacity), and zone (rack / DC / role). */
    public record Member(String id, int weight, String zone) {
        public Member {
            if (id == null || id.isEmpty()) {
                throw new IllegalArgumentException("member id must not be empty");
            }
            if (weight <= 0) {
                throw new IllegalArgumentException("weight of member '" + id + "' must be positive, was " + weight);
            }
            zone = zone == null ? "" : zone;
        }

        public static Member of(String id) {
            return new Member(id, 1, "");
        }
    }

    private final int vnodesPerWeight; // 0 for a partitioned ring
    private final int partitions; // 0 for a ring of random tokens
    private final int partitionShift;
    private final Map<String, Member> byId;
    private final String[] ids;
    private final String[] zones;
    private final long[] tokens;
    private final int[] owners;

    private HashRing(int vnodesPerWeight, int partitions, Map<String, Member> byId) {
        if (partitions == 0 && vnodesPerWeight <= 0) {
            throw new IllegalArgumentException("virtual nodes per member must be positive, was " + vnodesPerWeight);
        }
        if (partitions != 0 && (partitions < 2 || partitions > (1 << 24) || Integer.bitCount(partitions) != 1)) {
            throw new IllegalArgumentException("partitions must be a power of two in [2, 2^24], was " + partitions);
        }
        this.vnodesPerWeight = vnodesPerWeight;
        this.partitions = partitions;
        this.partitionShift = partitions == 0 ? -1 : 64 - Integer.numberOfTrailingZeros(partitions);
        this.byId = byId;
        this.ids = byId.keySet().toArray(new String[0]); // sorted: TreeMap
        this.zones = new String[ids.length];
        for (int m = 0; m < ids.length; m++) {
            zones[m] = byId.get(ids[m]).zone();
        }
        if (partitions == 0) {
            long[][] built = randomTokens();
            this.tokens = built[0];
            this.owners = new int[tokens.length];
            for (int i = 0; i < tokens.length; i++) {
                owners[i] = (int) built[1][i];
            }
        } else if (ids.length == 0) {
            this.tokens = new long[0];
            this.owners = new int[0];
        } else {
            this.tokens = new long[partitions];
            for (int p = 0; p < partitions; p++) {
                tokens[p] = (long) p << partitionShift;
            }
            this.owners = rendezvousOwners();
        }
    }

    /** Token {@code i} of member {@code m} = XXH64("m#i"), sorted (unsigned, ties by member). */
    private long[][] randomTokens() {
        int total = 0;
        for (String id : ids) {
            total = Math.addExact(total, Math.multiplyExact(vnodesPerWeight, byId.get(id).weight()));
        }
        long[] packedTokens = new long[total];
        int[] packedOwners = new int[total];
        Integer[] order = new Integer[total];
        int t = 0;
        for (int m = 0; m < ids.length; m++) {
            int count = vnodesPerWeight * byId.get(ids[m]).weight();
            for (int v = 0; v < count; v++) {
                packedTokens[t] = XxHash64.hash((ids[m] + "#" + v).getBytes(StandardCharsets.UTF_8), 0);
                packedOwners[t] = m;
                order[t] = t;
                t++;
            }
        }
        Arrays.sort(order, (a, b) -> {
            int c = Long.compareUnsigned(packedTokens[a], packedTokens[b]);
            return c != 0 ? c : Integer.compare(packedOwners[a], packedOwners[b]);
        });
        long[][] out = {new long[total], new long[total]};
        for (int i = 0; i < total; i++) {
            out[0][i] = packedTokens[order[i]];
            out[1][i] = packedOwners[order[i]];
        }
        return out;
    }

    /**
     * Partition {@code p} goes to the member with the highest rendezvous score (Thaler &amp; Ravishankar):
     * {@code mix(XXH64(id) + (p + 1)·γ)}, or, when weights differ, the weighted score {@code -w / ln(u)} with u that
     * mix in (0, 1) (Schindelhauer &amp; Schomaker), computed with StrictMath so that it is identical on every JVM.
     * Ties go to the smaller member id.
     */
    private int[] rendezvousOwners() {
        long[] seeds = new long[ids.length];
        double[] weights = new double[ids.length];
        boolean weighted = false;
        for (int m = 0; m < ids.length; m++) {
            seeds[m] = XxHash64.hash(ids[m].getBytes(StandardCharsets.UTF_8), 0);
            weights[m] = byId.get(ids[m]).weight();
            weighted |= weights[m] != weights[0];
        }
        int[] out = new int[partitions];
        for (int p = 0; p < partitions; p++) {
            long step = (p + 1L) * 0x9E3779B97F4A7C15L;
            int best = 0;
            if (!weighted) {
                long bestScore = mix(seeds[0] + step);
                for (int m = 1; m < ids.length; m++) {
                    long score = mix(seeds[m] + step);
                    if (Long.compareUnsigned(score, bestScore) > 0) {
                        best = m;
                        bestScore = score;
                    }
                }
            } else {
                double bestScore = weightedScore(seeds[0] + step, weights[0]);
                for (int m = 1; m < ids.length; m++) {
                    double score = weightedScore(seeds[m] + step, weights[m]);
                    if (score > bestScore) {
                        best = m;
                        bestScore = score;
                    }
                }
            }
            out[p] = best;
        }
        return out;
    }

    /** The SplitMix64 finalizer (Steele, Lea, Flood 2014): a bijective 64-bit mixer. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static double weightedScore(long z, double weight) {
        double u = ((mix(z) >>> 11) + 0.5) * 0x1.0p-53; // in (0, 1)
        return -weight / StrictMath.log(u);
    }

    /** An empty ring with {@code vnodesPerWeight} virtual nodes per unit of weight (128 is a good default). */
    public static HashRing empty(int vnodesPerWeight) {
        return new HashRing(vnodesPerWeight, 0, new TreeMap<>());
    }

    /**
     * An empty partitioned ring (Dynamo's strategy 3): {@code partitions} equal arcs (a power of two), each owned by
     * its rendezvous-hashing winner among the members. Balance depends on partitions per member, not on arc sizes;
     * 65,536 is a good default (max/mean about 1.03 for 10 members, 1.10 for 100; see docs/placement.md).
     */
    public static HashRing emptyPartitioned(int partitions) {
        return new HashRing(0, partitions, new TreeMap<>());
    }

    public static HashRing partitioned(int partitions, Collection<Member> members) {
        return new HashRing(0, partitions, membersById(members));
    }

    public static HashRing partitionedIds(int partitions, Collection<String> ids) {
        return partitioned(partitions, ids.stream().map(Member::of).toList());
    }

    /** A ring of random tokens: {@code vnodesPerWeight × weight} tokens per member. */
    public static HashRing of(int vnodesPerWeight, Collection<Member> members) {
        return new HashRing(vnodesPerWeight, 0, membersById(members));
    }

    private static TreeMap<String, Member> membersById(Collection<Member> members) {
        TreeMap<String, Member> map = new TreeMap<>();
        for (Member m : members) {
            if (map.put(m.id(), m) != null) {
                throw new IllegalArgumentException("member '" + m.id() + "' appears twice");
            }
        }
        return map;
    }

    public static HashRing ofIds(int vnodesPerWeight, Collection<String> ids) {
        return of(vnodesPerWeight, ids.stream().map(Member::of).toList());
    }

    public HashRing with(Member member) {
        TreeMap<String, Member> next = new TreeMap<>(byId);
        next.put(member.id(), member);
        return new HashRing(vnodesPerWeight, partitions, next);
    }

    public HashRing without(String id) {
        TreeMap<String, Member> next = new TreeMap<>(byId);
        next.remove(id);
        return new HashRing(vnodesPerWeight, partitions, next);
    }

    public int size() {
        return ids.length;
    }

    /** Virtual nodes per unit of weight of a ring of random tokens; 0 for a partitioned ring. */
    public int vnodesPerWeight() {
        return vnodesPerWeight;
    }

    /** Number of equal partitions of a partitioned ring; 0 for a ring of random tokens. */
    public int partitions() {
        return partitions;
    }

    @Override
    public List<String> members() {
        return List.of(ids);
    }

    /** The 64-bit position of a key on the ring. */
    public static long hash(byte[] key) {
        return XxHash64.hash(key, 0);
    }

    /** Index of the first token at or after {@code position} (clockwise, wrapping). */
    private int tokenIndex(long position) {
        if (partitionShift > 0) {
            // Partition boundaries are p << shift: the first at or after position, without searching.
            long p = position >>> partitionShift;
            if ((position & ((1L << partitionShift) - 1)) != 0) {
                p++;
            }
            return p == partitions ? 0 : (int) p;
        }
        int lo = 0;
        int hi = tokens.length - 1;
        if (Long.compareUnsigned(position, tokens[hi]) > 0) {
            return 0;
        }
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(tokens[mid], position) < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    private void requireMembers() {
        if (ids.length == 0) {
            throw new IllegalStateException("the ring has no members: add a member before looking up keys");
        }
    }

    /** The primary owner of a key position (allocation-free hot path). */
    public String ownerOf(long position) {
        requireMembers();
        return ids[owners[tokenIndex(position)]];
    }

    @Override
    public String owner(byte[] key) {
        return ownerOf(hash(key));
    }

    @Override
    public List<String> owners(byte[] key, int replicas) {
        return preferenceList(hash(key), replicas, false);
    }

    /**
     * The first {@code replicas} distinct physical members clockwise from {@code position} (Dynamo's preference
     * list). With {@code distinctZones}, members in a zone already chosen are skipped while other zones remain, then
     * the list is filled up in ring order.
     */
    public List<String> preferenceList(long position, int replicas, boolean distinctZones) {
        requireMembers();
        if (replicas <= 0) {
            throw new IllegalArgumentException("replicas must be positive, was " + replicas);
        }
        int want = Math.min(replicas, ids.length);
        List<String> out = new ArrayList<>(want);
        boolean[] taken = new boolean[ids.length];
        int start = tokenIndex(position);
        if (distinctZones) {
            Set<String> zonesTaken = new HashSet<>();
            for (int i = 0; i < tokens.length && out.size() < want; i++) {
                int m = owners[(start + i) % tokens.length];
                if (!taken[m] && zonesTaken.add(zones[m])) {
                    taken[m] = true;
                    out.add(ids[m]);
                }
            }
        }
        for (int i = 0; i < tokens.length && out.size() < want; i++) {
            int m = owners[(start + i) % tokens.length];
            if (!taken[m]) {
                taken[m] = true;
                out.add(ids[m]);
            }
        }
        return List.copyOf(out);
    }

    /**
     * Consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam): assigns {@code keys} so that no
     * member gets more than {@code ceil((1 + epsilon) * keys * weight / totalWeight)}; a key whose owner is full goes
     * to the next member clockwise with room. Keys are placed in ascending order of their hash, so the result is the
     * same on every JVM for the same keys and membership. Returns the owner of each key, by index.
     */
    public String[] assignBounded(List<byte[]> keys, double epsilon) {
        requireMembers();
        if (!(epsilon > 0)) {
            throw new IllegalArgumentException("epsilon must be positive, was " + epsilon);
        }
        int totalWeight = byId.values().stream().mapToInt(Member::weight).sum();
        int[] capacity = new int[ids.length];
        for (int m = 0; m < ids.length; m++) {
            capacity[m] = (int) Math.ceil((1 + epsilon) * keys.size() * byId.get(ids[m]).weight() / totalWeight);
        }
        long[] hashes = new long[keys.size()];
        Integer[] order = new Integer[keys.size()];
        for (int i = 0; i < hashes.length; i++) {
            hashes[i] = hash(keys.get(i));
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> {
            int c = Long.compareUnsigned(hashes[a], hashes[b]);
            return c != 0 ? c : Arrays.compare(keys.get(a), keys.get(b));
        });
        int[] load = new int[ids.length];
        String[] result = new String[keys.size()];
        for (int k : order) {
            int t = tokenIndex(hashes[k]);
            while (load[owners[t]] >= capacity[owners[t]]) {
                t = (t + 1) % tokens.length;
            }
            load[owners[t]]++;
            result[k] = ids[owners[t]];
        }
        return result;
    }

    @Override
    public String toString() {
        return "HashRing(" + ids.length + " members, " + tokens.length + " tokens)";
    }
}
