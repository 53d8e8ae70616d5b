package io.consensusactors.sharding.kademlia;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An iterative node or value lookup (§2.3) as a pure state machine. It starts from the k contacts the initiator
 * knows closest to the target, keeps at most {@code alpha} RPCs in flight, always to the closest candidates not yet
 * asked, merges the contacts each response returns, and drops candidates whose RPC timed out. It terminates when
 * the k closest candidates that have not failed have all responded (or, for FIND_VALUE, as soon as a value arrives,
 * or when no candidate is left to ask).
 *
 * <p>Inputs: {@link #onNodes}, {@link #onValue}, {@link #onTimeout}. Output: {@link #nextRequests()}, the contacts to
 * send the next RPCs to; the caller sends them and reports back.
 */
public final class Lookup {

    enum State { FRESH, IN_FLIGHT, RESPONDED, FAILED }

    private static final class Candidate {
        final Contact contact;
        final int hop; // the RPC to this candidate is hop number `hop` of the lookup
        State state = State.FRESH;

        Candidate(Contact contact, int hop) {
            this.contact = contact;
            this.hop = hop;
        }
    }

    private final NodeId target;
    private final NodeId self;
    private final int k;
    private final int alpha;
    private final boolean findValue;
    private final ArrayList<Candidate> candidates = new ArrayList<>(); // closest to the target first
    private final Map<NodeId, Candidate> byId = new HashMap<>();
    private int inFlight;
    private int queried;
    private byte[] value;
    private Contact valueFrom;
    private int valueHop;

    public Lookup(NodeId self, NodeId target, int k, int alpha, boolean findValue, List<Contact> initial) {
        this.self = self;
        this.target = target;
        this.k = k;
        this.alpha = alpha;
        this.findValue = findValue;
        for (Contact c : initial) {
            add(c, 1);
        }
    }

    public NodeId target() {
        return target;
    }

    public boolean findValue() {
        return findValue;
    }

    private void add(Contact c, int hop) {
        if (c.id().equals(self) || byId.containsKey(c.id())) {
            return;
        }
        Candidate cand = new Candidate(c, hop);
        byId.put(c.id(), cand);
        int lo = 0;
        int hi = candidates.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (NodeId.compareDistance(candidates.get(mid).contact.id(), c.id(), target) < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        candidates.add(lo, cand);
    }

    /** The contacts to send FIND_NODE / FIND_VALUE to now (marked in flight); empty when none may be sent. */
    public List<Contact> nextRequests() {
        List<Contact> out = new ArrayList<>();
        if (isDone()) {
            return out;
        }
        int live = 0;
        for (Candidate c : candidates) {
            if (inFlight >= alpha || live >= k) {
                break;
            }
            if (c.state == State.FAILED) {
                continue;
            }
            live++;
            if (c.state == State.FRESH) {
                c.state = State.IN_FLIGHT;
                inFlight++;
                queried++;
                out.add(c.contact);
            }
        }
        return out;
    }

    /** {@code from} answered with the contacts it knows closest to the target. */
    public void onNodes(NodeId from, List<Contact> closest) {
        Candidate c = byId.get(from);
        if (c == null || c.state != State.IN_FLIGHT) {
            return; // late or unsolicited
        }
        c.state = State.RESPONDED;
        inFlight--;
        for (Contact n : closest) {
            add(n, c.hop + 1);
        }
    }

    /** {@code from} answered FIND_VALUE with the value. */
    public void onValue(NodeId from, byte[] found) {
        Candidate c = byId.get(from);
        if (c == null || c.state != State.IN_FLIGHT) {
            return;
        }
        c.state = State.RESPONDED;
        inFlight--;
        if (value == null) {
            value = found;
            valueFrom = c.contact;
            valueHop = c.hop;
        }
    }

    /** The RPC to {@code from} timed out: it is no longer a candidate. */
    public void onTimeout(NodeId from) {
        Candidate c = byId.get(from);
        if (c == null || c.state != State.IN_FLIGHT) {
            return;
        }
        c.state = State.FAILED;
        inFlight--;
    }

    /**
     * Done when a value was found (FIND_VALUE), or when the k closest non-failed candidates have all responded, or
     * when nothing is in flight and no candidate is left to ask.
     */
    public boolean isDone() {
        if (value != null) {
            return true;
        }
        int live = 0;
        for (Candidate c : candidates) {
            if (c.state == State.FAILED) {
                continue;
            }
            if (c.state != State.RESPONDED) {
                return false;
            }
            if (++live >= k) {
                return true;
            }
        }
        return inFlight == 0;
    }

    /** Up to k contacts that responded, closest to the target first: the result of a node lookup. */
    public List<Contact> closestResponded() {
        List<Contact> out = new ArrayList<>(k);
        for (Candidate c : candidates) {
            if (c.state == State.RESPONDED) {
                out.add(c.contact);
                if (out.size() == k) {
                    break;
                }
            }
        }
        return out;
    }

    /** The value found by FIND_VALUE, or null. */
    public byte[] value() {
        return value;
    }

    public Contact valueFrom() {
        return valueFrom;
    }

    /**
     * Hops: for a found value, the hop at which the node holding it was asked (1 = one of the initiator's own
     * contacts); otherwise the hop at which the closest responder was asked. 0 if nobody responded.
     */
    public int hops() {
        if (value != null) {
            return valueHop;
        }
        for (Candidate c : candidates) {
            if (c.state == State.RESPONDED) {
                return c.hop;
            }
        }
        return 0;
    }

    /** RPCs sent so far. */
    public int queried() {
        return queried;
    }

    public int inFlight() {
        return inFlight;
    }
}
