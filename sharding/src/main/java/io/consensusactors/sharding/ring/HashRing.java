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
 * An immutable consistent-hash ring with virtual nodes (Karger et al.; Dynamo §4.2).
 *
 * <p>Each member owns {@code vnodesPerWeight × weight} tokens, token {@code i} of member {@code m} being
 * {@code XXH64("m#i")}. A key is hashed with XXH64 and owned by the member of the first token clockwise (binary
 * search over a sorted {@code long[]}). Tokens depend only on member ids, so the same membership gives the same
 * placement on every JVM, whatever the order members were added in; equal tokens are ordered by member id.
 * Membership changes build a new ring ({@link #with}, {@link #without}): lookups never lock.
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

    private final int vnodesPerWeight;
    private final Map<String, Member> byId;
    private final String[] ids;
    private final String[] zones;
    private final long[] tokens;
    private final int[] owners;

    private HashRing(int vnodesPerWeight, Map<String, Member> byId) {
        if (vnodesPerWeight <= 0) {
            throw new IllegalArgumentException("virtual nodes per member must be positive, was " + vnodesPerWeight);
        }
        this.vnodesPerWeight = vnodesPerWeight;
        this.byId = byId;
        this.ids = byId.keySet().toArray(new String[0]); // sorted: TreeMap
        this.zones = new String[ids.length];
        int total = 0;
        for (int m = 0; m < ids.length; m++) {
            Member member = byId.get(ids[m]);
            zones[m] = member.zone();
            total = Math.addExact(total, Math.multiplyExact(vnodesPerWeight, member.weight()));
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
        this.tokens = new long[total];
        this.owners = new int[total];
        for (int i = 0; i < total; i++) {
            tokens[i] = packedTokens[order[i]];
            owners[i] = packedOwners[order[i]];
        }
    }

    /** An empty ring with {@code vnodesPerWeight} virtual nodes per unit of weight (128 is a good default). */
    public static HashRing empty(int vnodesPerWeight) {
        return new HashRing(vnodesPerWeight, new TreeMap<>());
    }

    public static HashRing of(int vnodesPerWeight, Collection<Member> members) {
        TreeMap<String, Member> map = new TreeMap<>();
        for (Member m : members) {
            if (map.put(m.id(), m) != null) {
                throw new IllegalArgumentException("member '" + m.id() + "' appears twice");
            }
        }
        return new HashRing(vnodesPerWeight, map);
    }

    public static HashRing ofIds(int vnodesPerWeight, Collection<String> ids) {
        return of(vnodesPerWeight, ids.stream().map(Member::of).toList());
    }

    public HashRing with(Member member) {
        TreeMap<String, Member> next = new TreeMap<>(byId);
        next.put(member.id(), member);
        return new HashRing(vnodesPerWeight, next);
    }

    public HashRing without(String id) {
        TreeMap<String, Member> next = new TreeMap<>(byId);
        next.remove(id);
        return new HashRing(vnodesPerWeight, next);
    }

    public int size() {
        return ids.length;
    }

    public int vnodesPerWeight() {
        return vnodesPerWeight;
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
