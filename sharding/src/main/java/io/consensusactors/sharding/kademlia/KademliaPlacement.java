package io.consensusactors.sharding.kademlia;

import io.consensusactors.sharding.placement.Placement;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.TreeSet;

/**
 * Kademlia's placement rule over a known membership: member {@code m} has id SHA-1(m), and the owners of a key are
 * the members whose ids are closest to SHA-1(key) by XOR distance, closest first. Immutable; depends only on the set
 * of members, so it gives the same answer on every JVM. A membership change moves a key only if a joining member
 * becomes one of its closest or a leaving one was. This is what a converged {@link Kademlia} network computes with
 * lookups; use this class where the membership is known anyway (a Pekko cluster), the node where it is not.
 */
public final class KademliaPlacement implements Placement {

    private final String[] members;
    private final NodeId[] ids;

    private KademliaPlacement(String[] members) {
        this.members = members;
        this.ids = new NodeId[members.length];
        for (int i = 0; i < members.length; i++) {
            ids[i] = NodeId.sha1(members[i]);
        }
    }

    public static KademliaPlacement of(Collection<String> members) {
        TreeSet<String> sorted = new TreeSet<>();
        for (String m : members) {
            if (m == null || m.isEmpty()) {
                throw new IllegalArgumentException("member id must not be empty");
            }
            if (!sorted.add(m)) {
                throw new IllegalArgumentException("member '" + m + "' appears twice");
            }
        }
        return new KademliaPlacement(sorted.toArray(new String[0]));
    }

    @Override
    public List<String> owners(byte[] key, int replicas) {
        if (replicas <= 0) {
            throw new IllegalArgumentException("replicas must be positive, was " + replicas);
        }
        if (members.length == 0) {
            throw new IllegalStateException("placement has no members: add a member before looking up keys");
        }
        NodeId target = NodeId.sha1(key);
        int want = Math.min(replicas, members.length);
        // Insertion into a small sorted array: O(members × replicas), fine for replica counts of a few.
        int[] best = new int[want];
        int filled = 0;
        for (int m = 0; m < members.length; m++) {
            if (filled == want && NodeId.compareDistance(ids[m], ids[best[want - 1]], target) >= 0) {
                continue;
            }
            int at = filled < want ? filled++ : want - 1;
            while (at > 0 && NodeId.compareDistance(ids[m], ids[best[at - 1]], target) < 0) {
                best[at] = best[at - 1];
                at--;
            }
            best[at] = m;
        }
        List<String> out = new ArrayList<>(want);
        for (int i : best) {
            out.add(members[i]);
        }
        return List.copyOf(out);
    }

    @Override
    public List<String> members() {
        return List.of(Arrays.copyOf(members, members.length));
    }
}
