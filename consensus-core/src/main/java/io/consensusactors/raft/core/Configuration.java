package io.consensusactors.raft.core;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.ByteArrayInputStream;
import java.io.UncheckedIOException;
import java.util.Collection;
import java.util.Collections;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Cluster membership of one Raft group (dissertation §4.3, joint consensus). {@code voters} is the (new) voting
 * configuration; while {@code outgoing} is non-empty the group is in the joint configuration C(old,new) and every
 * decision (election, commit) needs a majority of <em>both</em>. Learners receive the log but never vote and are
 * not counted.
 */
public record Configuration(SortedSet<String> voters, SortedSet<String> outgoing, SortedSet<String> learners) {

    public Configuration {
        voters = Collections.unmodifiableSortedSet(new TreeSet<>(voters));
        outgoing = Collections.unmodifiableSortedSet(new TreeSet<>(outgoing));
        learners = Collections.unmodifiableSortedSet(new TreeSet<>(learners));
        for (String l : learners) {
            if (voters.contains(l) || outgoing.contains(l)) {
                throw new IllegalArgumentException("member " + l + " cannot be both a voter and a learner");
            }
        }
    }

    public static Configuration of(Collection<String> voters) {
        return new Configuration(new TreeSet<>(voters), new TreeSet<>(), new TreeSet<>());
    }

    public static Configuration of(Collection<String> voters, Collection<String> learners) {
        return new Configuration(new TreeSet<>(voters), new TreeSet<>(), new TreeSet<>(learners));
    }

    public static final Configuration EMPTY = of(Set.of());

    public boolean joint() {
        return !outgoing.isEmpty();
    }

    /** Every member that receives the log: voters of both halves and learners. */
    public SortedSet<String> allMembers() {
        TreeSet<String> all = new TreeSet<>(voters);
        all.addAll(outgoing);
        all.addAll(learners);
        return all;
    }

    /** Members that vote in at least one half. */
    public SortedSet<String> allVoters() {
        TreeSet<String> all = new TreeSet<>(voters);
        all.addAll(outgoing);
        return all;
    }

    public boolean isVoter(String id) {
        return voters.contains(id) || outgoing.contains(id);
    }

    /** True when the members for which {@code yes} holds form a majority of every voting half. */
    public boolean hasQuorum(java.util.function.Predicate<String> yes) {
        return majority(voters, yes) && (outgoing.isEmpty() || majority(outgoing, yes));
    }

    /** True when the members for which {@code no} holds make a quorum impossible in some half. */
    public boolean quorumImpossible(java.util.function.Predicate<String> no) {
        return blocked(voters, no) || (!outgoing.isEmpty() && blocked(outgoing, no));
    }

    private static boolean majority(Set<String> set, java.util.function.Predicate<String> yes) {
        if (set.isEmpty()) {
            return true;
        }
        int n = 0;
        for (String s : set) {
            if (yes.test(s)) {
                n++;
            }
        }
        return n > set.size() / 2;
    }

    private static boolean blocked(Set<String> set, java.util.function.Predicate<String> no) {
        if (set.isEmpty()) {
            return false;
        }
        int n = 0;
        for (String s : set) {
            if (no.test(s)) {
                n++;
            }
        }
        return n >= set.size() - set.size() / 2;
    }

    /** The largest index replicated on a quorum of every half, given each member's match index. */
    public long quorumIndex(java.util.function.ToLongFunction<String> match) {
        long a = quorumIndex(voters, match);
        return outgoing.isEmpty() ? a : Math.min(a, quorumIndex(outgoing, match));
    }

    private static long quorumIndex(Set<String> set, java.util.function.ToLongFunction<String> match) {
        if (set.isEmpty()) {
            return Long.MAX_VALUE;
        }
        long[] m = new long[set.size()];
        int i = 0;
        for (String s : set) {
            m[i++] = match.applyAsLong(s);
        }
        java.util.Arrays.sort(m);
        // the value held by a majority: sorted ascending, index n - (n/2 + 1)
        return m[m.length - (m.length / 2 + 1)];
    }

    public byte[] encode() {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            for (Set<String> s : java.util.List.of(voters, outgoing, learners)) {
                out.writeInt(s.size());
                for (String m : s) {
                    out.writeUTF(m);
                }
            }
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Configuration decode(byte[] data) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(data));
            java.util.List<TreeSet<String>> sets = new java.util.ArrayList<>();
            for (int k = 0; k < 3; k++) {
                int n = in.readInt();
                TreeSet<String> s = new TreeSet<>();
                for (int i = 0; i < n; i++) {
                    s.add(in.readUTF());
                }
                sets.add(s);
            }
            return new Configuration(sets.get(0), sets.get(1), sets.get(2));
        } catch (IOException e) {
            throw new IllegalArgumentException("not an encoded configuration", e);
        }
    }

    @Override
    public String toString() {
        return "voters=" + voters + (outgoing.isEmpty() ? "" : " outgoing=" + outgoing)
                + (learners.isEmpty() ? "" : " learners=" + learners);
    }
}
