package io.consensusactors.testkit.sim;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.Set;
import java.util.function.Predicate;

/**
 * A seeded in-process network between nodes 0..n-1, in the manner of etcd raft's test {@code network}: every send
 * is dropped, duplicated and delayed according to the current {@link NetworkFaults}, and links can be cut in either
 * direction (partitions). All randomness comes from the one {@link Random} given, so a seed replays the exact same
 * schedule. Time is in ticks owned by the caller's event loop. Owned by one simulation loop; not thread-safe.
 *
 * <p>A cut link drops at send time and again at delivery time, so cutting a link also loses what was in flight on
 * it. Messages a node sends to itself are delivered without faults.
 */
public final class SimNetwork<M> {
    private final int nodes;
    private final Random rng;
    private final boolean[][] cut;
    private final double[][] linkDrop;
    private final PriorityQueue<Envelope<M>> queue = new PriorityQueue<>((a, b) -> a.deliverAt() != b.deliverAt()
            ? Long.compare(a.deliverAt(), b.deliverAt()) : Long.compare(a.seq(), b.seq()));
    private NetworkFaults faults = NetworkFaults.NONE;
    private Predicate<? super M> dropFilter = m -> false;
    private long seq;
    private long sent;
    private long delivered;
    private long dropped;
    private long duplicated;

    public SimNetwork(int nodes, Random rng) {
        if (nodes <= 0) {
            throw new IllegalArgumentException("nodes must be positive, was " + nodes);
        }
        this.nodes = nodes;
        this.rng = rng;
        this.cut = new boolean[nodes][nodes];
        this.linkDrop = new double[nodes][nodes];
    }

    public void setFaults(NetworkFaults faults) {
        this.faults = faults;
    }

    public NetworkFaults faults() {
        return faults;
    }

    public Random random() {
        return rng;
    }

    public int nodes() {
        return nodes;
    }

    /**
     * Queues {@code msg} from → to at time {@code now}: dropped if the link is cut, by the message filter, by the
     * link's own drop rate or with the faults' drop rate; maybe duplicated; each copy delivered at
     * {@code now + uniform[minDelay, maxDelay]}. A message to oneself is delivered at {@code now + minDelay}
     * without faults.
     */
    public void send(long now, int from, int to, M msg) {
        sent++;
        if (from == to) {
            queue.add(new Envelope<>(from, to, msg, now + faults.minDelay(), seq++));
            return;
        }
        if (cut[from][to] || dropFilter.test(msg)
                || (linkDrop[from][to] > 0 && rng.nextDouble() < linkDrop[from][to])
                || (faults.dropRate() > 0 && rng.nextDouble() < faults.dropRate())) {
            dropped++;
            return;
        }
        int copies = 1;
        if (faults.duplicateRate() > 0 && rng.nextDouble() < faults.duplicateRate()) {
            copies = 2;
            duplicated++;
        }
        int span = faults.maxDelay() - faults.minDelay();
        for (int i = 0; i < copies; i++) {
            long delay = faults.minDelay() + (span == 0 ? 0 : rng.nextInt(span + 1));
            queue.add(new Envelope<>(from, to, msg, now + delay, seq++));
        }
    }

    /** Removes and returns every envelope due at or before {@code now}, in (deliverAt, seq) order. */
    public List<Envelope<M>> deliverDue(long now) {
        List<Envelope<M>> out = new ArrayList<>();
        while (!queue.isEmpty() && queue.peek().deliverAt() <= now) {
            Envelope<M> e = queue.poll();
            if (e.from() != e.to() && cut[e.from()][e.to()]) {
                dropped++; // the link was cut while the message was in flight
                continue;
            }
            delivered++;
            out.add(e);
        }
        return out;
    }

    /** Earliest {@code deliverAt} among queued envelopes, or {@code Long.MAX_VALUE} if none. */
    public long nextDeliveryTime() {
        return queue.isEmpty() ? Long.MAX_VALUE : queue.peek().deliverAt();
    }

    public int inFlight() {
        return queue.size();
    }

    /** Drops every queued message to or from {@code node} (e.g. when the simulation crashes it). */
    public void dropInFlight(int node) {
        Iterator<Envelope<M>> it = queue.iterator();
        while (it.hasNext()) {
            Envelope<M> e = it.next();
            if (e.from() == node || e.to() == node) {
                it.remove();
                dropped++;
            }
        }
    }

    /** Cuts the link between a and b in both directions. */
    public void cut(int a, int b) {
        cutOneWay(a, b);
        cutOneWay(b, a);
    }

    public void cutOneWay(int from, int to) {
        if (from != to) {
            cut[from][to] = true;
        }
    }

    /** Restores the link between a and b in both directions (leaves other cuts alone). */
    public void restore(int a, int b) {
        cut[a][b] = false;
        cut[b][a] = false;
    }

    /** Cuts {@code node} from every other node. */
    public void isolate(int node) {
        for (int i = 0; i < nodes; i++) {
            if (i != node) {
                cut(node, i);
            }
        }
    }

    /** Cuts every link between {@code side} and the other nodes (links inside each side stay as they are). */
    public void partition(Set<Integer> side) {
        for (int a : side) {
            for (int b = 0; b < nodes; b++) {
                if (!side.contains(b)) {
                    cut(a, b);
                }
            }
        }
    }

    /** Restores every link (cuts only; per-link drop rates and the message filter stay). */
    public void heal() {
        for (boolean[] row : cut) {
            Arrays.fill(row, false);
        }
    }

    public boolean linked(int from, int to) {
        return !cut[from][to];
    }

    /** Drops sends on the directed link from → to with probability {@code p}, on top of the global drop rate. */
    public void drop(int from, int to, double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("drop probability must be in [0, 1], was " + p);
        }
        linkDrop[from][to] = p;
    }

    /** Drops every message (between distinct nodes) matching {@code filter} at send time, e.g. by message type. */
    public void dropMessages(Predicate<? super M> filter) {
        this.dropFilter = filter;
    }

    /** Removes per-link drop rates and the message filter. */
    public void clearDropRules() {
        for (double[] row : linkDrop) {
            Arrays.fill(row, 0);
        }
        dropFilter = m -> false;
    }

    public long sent() {
        return sent;
    }

    public long delivered() {
        return delivered;
    }

    public long dropped() {
        return dropped;
    }

    public long duplicated() {
        return duplicated;
    }

    @Override
    public String toString() {
        return "SimNetwork{nodes=" + nodes + ", faults=" + faults + ", inFlight=" + queue.size() + ", sent=" + sent
                + ", delivered=" + delivered + ", dropped=" + dropped + ", duplicated=" + duplicated + '}';
    }
}
