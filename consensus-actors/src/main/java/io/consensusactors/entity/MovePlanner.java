package io.consensusactors.entity;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The next membership step that moves one Raft group towards its target replicas, computed by the group's leader
 * from its current configuration alone (pure: no Pekko, no clock, no I/O). Because the input is the configuration
 * the group itself holds, a leader that takes over in the middle of a move recomputes the same plan and carries on:
 * the move is idempotent across leader changes.
 *
 * <p>One replica is exchanged at a time: add the new owner as a learner, let it catch up, then one joint-consensus
 * change that promotes it and removes one replica that is no longer an owner (C(old,new) needs a majority of the
 * old voters and of the new ones; the leader then appends C(new) by itself). The voter count never falls below
 * {@code replicas}: a replica that is not an owner any more is only removed without a replacement when the group has
 * more voters than {@code replicas}, so a cluster with fewer nodes than replicas (or a node that is merely slow to
 * come up) never shrinks a group. A leader that should be removed hands leadership to a voter that stays first, and
 * the new leader performs the exchange.
 */
public final class MovePlanner {

    private MovePlanner() {
    }

    /** What the leader should do now. */
    public sealed interface Step {
    }

    /** The group is where it should be. */
    public record InPlace() implements Step {
    }

    /** Nothing can be done now (joint phase committing, or the budget of concurrent moves is used up). */
    public record Wait(String reason) implements Step {
    }

    /** Change the configuration to these voters and learners (a joint-consensus change if the voters differ). */
    public record Change(SortedSet<String> voters, SortedSet<String> learners, String why) implements Step {
    }

    /** Hand leadership to this voter first (the leader itself is the replica to remove). */
    public record Transfer(String to) implements Step {
    }

    /**
     * @param self        the leader's node id
     * @param voters      the group's current voters (the latest configuration in the leader's log)
     * @param learners    its current learners
     * @param joint       whether that configuration is joint (C(old,new) not yet replaced by C(new))
     * @param target      the owners the ring gives the group over the current members, in preference order
     * @param replicas    the number of replicas the entity type asks for
     * @param mayStartNew whether a new move (adding a learner) fits the budget of concurrent moves
     */
    public static Step plan(String self, Set<String> voters, Set<String> learners, boolean joint, List<String> target,
                            int replicas, boolean mayStartNew) {
        if (joint) {
            return new Wait("joint configuration committing; the leader appends C(new) by itself");
        }
        if (target.isEmpty()) {
            return new Wait("no member hosts replicas");
        }
        SortedSet<String> v = new TreeSet<>(voters);
        SortedSet<String> l = new TreeSet<>(learners);
        SortedSet<String> keptLearners = new TreeSet<>(l);
        keptLearners.retainAll(target);
        if (!keptLearners.equals(l)) {
            return new Change(v, keptLearners, "drop learners that are not owners any more " + minus(l, keptLearners));
        }
        List<String> toAdd = new ArrayList<>();
        for (String t : target) {
            if (!v.contains(t)) {
                toAdd.add(t);
            }
        }
        SortedSet<String> toRemove = minus(v, new TreeSet<>(target));
        if (!toAdd.isEmpty()) {
            String add = toAdd.stream().filter(l::contains).findFirst().orElse(toAdd.get(0));
            if (!l.contains(add)) {
                if (!mayStartNew) {
                    return new Wait("concurrent move budget used up");
                }
                SortedSet<String> nl = new TreeSet<>(l);
                nl.add(add);
                return new Change(v, nl, "add learner " + add);
            }
            String remove = v.size() >= replicas ? pickRemoval(self, toRemove) : null;
            if (remove != null && remove.equals(self)) {
                String heir = heir(self, v, target);
                if (heir != null) {
                    return new Transfer(heir);
                }
            }
            SortedSet<String> nv = new TreeSet<>(v);
            nv.add(add);
            if (remove != null) {
                nv.remove(remove);
            }
            SortedSet<String> nl = new TreeSet<>(l);
            nl.remove(add);
            return new Change(nv, nl, "promote " + add + (remove == null ? "" : " and remove " + remove));
        }
        if (!toRemove.isEmpty() && v.size() > replicas) {
            String remove = pickRemoval(self, toRemove);
            if (remove.equals(self)) {
                String heir = heir(self, v, target);
                if (heir != null) {
                    return new Transfer(heir);
                }
            }
            SortedSet<String> nv = new TreeSet<>(v);
            nv.remove(remove);
            return new Change(nv, l, "remove surplus replica " + remove);
        }
        return new InPlace();
    }

    /** Whether a configuration counts as a move in progress (for the budget): a joint phase or a learner owner. */
    public static boolean moving(Set<String> learners, boolean joint, List<String> target) {
        if (joint) {
            return true;
        }
        for (String l : learners) {
            if (target.contains(l)) {
                return true;
            }
        }
        return false;
    }

    private static String pickRemoval(String self, SortedSet<String> toRemove) {
        for (String r : toRemove) {
            if (!r.equals(self)) {
                return r;
            }
        }
        return toRemove.isEmpty() ? null : toRemove.first();
    }

    private static String heir(String self, Set<String> voters, List<String> target) {
        for (String t : target) {
            if (!t.equals(self) && voters.contains(t)) {
                return t;
            }
        }
        return null;
    }

    private static SortedSet<String> minus(Set<String> a, Set<String> b) {
        SortedSet<String> r = new TreeSet<>(a);
        r.removeAll(b);
        return r;
    }
}
