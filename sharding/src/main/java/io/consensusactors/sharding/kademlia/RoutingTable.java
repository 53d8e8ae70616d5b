package io.consensusactors.sharding.kademlia;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The k-buckets of one node (§2.2): bucket {@code i} holds up to k contacts at XOR distance [2^i, 2^(i+1)) from the
 * node, least recently seen first. A contact seen again moves to the tail. A new contact for a full bucket goes into
 * the bucket's replacement cache (§4.1) and the least recently seen contact is pinged: it is evicted (and the most
 * recent replacement takes its place) only if that ping fails; if it answers, it moves to the tail and stays. Live
 * contacts are never evicted in favour of new ones, which is what makes Kademlia resist flooding with new ids.
 *
 * <p>Pure and mutable, owned by one {@link Kademlia} core; no clock: the core passes the tick.
 */
public final class RoutingTable {

    private static final class Entry {
        final long low; // of the id, compared first: avoids two dereferences on the hot path
        Contact contact;
        int failures;

        Entry(Contact contact) {
            this.contact = contact;
            this.low = contact.id().low();
        }
    }

    private static final class Bucket {
        final ArrayList<Entry> entries = new ArrayList<>(); // least recently seen first
        final ArrayDeque<Contact> replacements = new ArrayDeque<>(); // most recently seen last
        Contact pinging; // the least recently seen contact, being pinged before eviction
        long lastTouched;
    }

    private final NodeId self;
    private final int k;
    private final int staleAfterFailures;
    private final int replacementCacheSize;
    private final Bucket[] buckets = new Bucket[NodeId.BITS];
    private int size;

    public RoutingTable(NodeId self, int k, int staleAfterFailures, int replacementCacheSize) {
        this.self = self;
        this.k = k;
        this.staleAfterFailures = staleAfterFailures;
        this.replacementCacheSize = replacementCacheSize;
    }

    public RoutingTable(NodeId self, KademliaConfig config) {
        this(self, config.k(), config.staleAfterFailures(), config.replacementCacheSize());
    }

    public NodeId self() {
        return self;
    }

    /** Contacts in the buckets (stale ones included). */
    public int size() {
        return size;
    }

    private Bucket bucket(int index, boolean create) {
        Bucket b = buckets[index];
        if (b == null && create) {
            b = new Bucket();
            buckets[index] = b;
        }
        return b;
    }

    private static int indexOf(Bucket b, NodeId id) {
        long low = id.low();
        for (int i = 0; i < b.entries.size(); i++) {
            Entry e = b.entries.get(i);
            if (e.low == low && e.contact.id().equals(id)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Records that {@code contact} was just heard from (any message from it). Returns the contact the caller must
     * PING before an eviction (the bucket's least recently seen), or null when no ping is needed.
     */
    public Contact observe(Contact contact) {
        int index = self.bucketIndex(contact.id());
        if (index < 0) {
            return null; // ourselves
        }
        Bucket b = bucket(index, true);
        int at = indexOf(b, contact.id());
        if (at >= 0) {
            Entry e = b.entries.remove(at);
            e.contact = contact; // the address may have changed
            e.failures = 0;
            b.entries.add(e);
            return null;
        }
        if (b.entries.size() < k) {
            b.entries.add(new Entry(contact));
            size++;
            return null;
        }
        b.replacements.removeIf(c -> c.id().equals(contact.id()));
        if (replacementCacheSize > 0) {
            b.replacements.addLast(contact);
            while (b.replacements.size() > replacementCacheSize) {
                b.replacements.removeFirst();
            }
        }
        // A stale contact goes at once when there is a replacement; otherwise ping the least recently seen.
        if (replaceStale(b)) {
            return null;
        }
        if (b.pinging == null) {
            b.pinging = b.entries.get(0).contact;
            return b.pinging;
        }
        return null;
    }

    /** The least recently seen contact answered the eviction ping: it stays (moved to the tail). */
    public void pingAnswered(Contact oldest) {
        observe(oldest);
        Bucket b = bucket(self.bucketIndex(oldest.id()), false);
        if (b != null && b.pinging != null && b.pinging.id().equals(oldest.id())) {
            b.pinging = null;
        }
    }

    /**
     * An RPC to {@code id} failed (timed out). A contact that was being pinged for eviction is evicted; one that has
     * now failed {@code staleAfterFailures} times in a row is stale and is replaced if a replacement is cached (if not,
     * it stays flagged, so that a node whose own network is down does not empty its table, §4.1).
     */
    public void failed(NodeId id) {
        int index = self.bucketIndex(id);
        if (index < 0) {
            return;
        }
        Bucket b = bucket(index, false);
        if (b == null) {
            return;
        }
        int at = indexOf(b, id);
        if (b.pinging != null && b.pinging.id().equals(id)) {
            b.pinging = null;
            if (at >= 0) {
                b.entries.remove(at);
                size--;
                promoteReplacement(b);
            }
            return;
        }
        if (at >= 0) {
            b.entries.get(at).failures++;
            replaceStale(b);
        } else {
            b.replacements.removeIf(c -> c.id().equals(id));
        }
    }

    private boolean replaceStale(Bucket b) {
        if (b.replacements.isEmpty()) {
            return false;
        }
        for (int i = 0; i < b.entries.size(); i++) {
            if (b.entries.get(i).failures >= staleAfterFailures) {
                Entry gone = b.entries.remove(i);
                size--;
                if (b.pinging != null && b.pinging.id().equals(gone.contact.id())) {
                    b.pinging = null;
                }
                promoteReplacement(b);
                return true;
            }
        }
        return false;
    }

    private void promoteReplacement(Bucket b) {
        Contact next = b.replacements.pollLast();
        if (next != null) {
            b.entries.add(new Entry(next));
            size++;
        }
    }

    /** Whether {@code id} is in a bucket (stale or not). */
    public boolean contains(NodeId id) {
        int index = self.bucketIndex(id);
        Bucket b = index < 0 ? null : buckets[index];
        return b != null && indexOf(b, id) >= 0;
    }

    /**
     * The up to {@code n} non-stale contacts closest to {@code target} by XOR distance, closest first, excluding
     * {@code exclude} (may be null). Visits only as many buckets as needed: with {@code i} the bucket of the target,
     * contacts of bucket i are closer to it than 2^i, those of buckets below i lie in [2^i, 2^(i+1)), and those of
     * bucket j above i in [2^j, 2^(j+1)).
     */
    public List<Contact> closest(NodeId target, int n, NodeId exclude) {
        ArrayList<Contact> out = new ArrayList<>(Math.min(n * 2, Math.max(size, 1)));
        int i = self.bucketIndex(target);
        if (i >= 0) {
            collect(i, exclude, out);
            if (out.size() < n) {
                for (int j = i - 1; j >= 0; j--) {
                    collect(j, exclude, out);
                }
            }
        }
        for (int j = i + 1; j < NodeId.BITS && out.size() < n; j++) {
            collect(j, exclude, out);
        }
        out.sort((a, b) -> NodeId.compareDistance(a.id(), b.id(), target));
        return out.size() > n ? new ArrayList<>(out.subList(0, n)) : out;
    }

    private void collect(int index, NodeId exclude, List<Contact> out) {
        Bucket b = buckets[index];
        if (b == null) {
            return;
        }
        long excludeLow = exclude == null ? 0 : exclude.low();
        for (Entry e : b.entries) {
            if (e.failures < staleAfterFailures && (exclude == null || e.low != excludeLow
                    || !e.contact.id().equals(exclude))) {
                out.add(e.contact);
            }
        }
    }

    /** Every contact in the buckets, stale ones included. */
    public List<Contact> all() {
        List<Contact> out = new ArrayList<>(size);
        for (Bucket b : buckets) {
            if (b != null) {
                b.entries.forEach(e -> out.add(e.contact));
            }
        }
        return out;
    }

    /** Contacts in bucket {@code index}, least recently seen first. */
    public List<Contact> bucketContents(int index) {
        Bucket b = buckets[index];
        List<Contact> out = new ArrayList<>();
        if (b != null) {
            b.entries.forEach(e -> out.add(e.contact));
        }
        return out;
    }

    public List<Contact> replacements(int index) {
        Bucket b = buckets[index];
        return b == null ? List.of() : List.copyOf(b.replacements);
    }

    /** A lookup for an id in bucket {@code index} happened at {@code tick} (postpones that bucket's refresh). */
    public void touch(int index, long tick) {
        if (index >= 0) {
            bucket(index, true).lastTouched = tick;
        }
    }

    /**
     * Buckets that need a refresh at {@code tick}: not touched for {@code refreshTicks}, among those from the bucket of
     * the closest known contact up to the farthest (closer ones are empty: no node is known there to fill them).
     */
    public List<Integer> bucketsToRefresh(long tick, long refreshTicks) {
        List<Integer> out = new ArrayList<>();
        int lowest = lowestNonEmpty();
        if (lowest < 0) {
            return out;
        }
        for (int i = lowest; i < NodeId.BITS; i++) {
            Bucket b = buckets[i];
            long touched = b == null ? 0 : b.lastTouched;
            if (tick - touched >= refreshTicks) {
                out.add(i);
            }
        }
        return out;
    }

    public int lowestNonEmpty() {
        for (int i = 0; i < NodeId.BITS; i++) {
            if (buckets[i] != null && !buckets[i].entries.isEmpty()) {
                return i;
            }
        }
        return -1;
    }
}
