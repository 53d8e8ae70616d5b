package io.consensusactors.sharding.kademlia;

import io.consensusactors.sharding.placement.Placement;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * One Kademlia node as a pure state machine (Maymounkov &amp; Mazières, "Kademlia: A Peer-to-peer Information System
 * Based on the XOR Metric", 2002): k-buckets with a replacement cache, iterative alpha-parallel FIND_NODE and
 * FIND_VALUE lookups, STORE with expiry and republication, bucket refresh and join.
 *
 * <p>No clock, threads or I/O. Inputs: {@link #step(Message)} for every message received, {@link #tick()} for the
 * passing of time, and the operations {@link #join}, {@link #findNode}, {@link #findValue}, {@link #store}. Outputs:
 * {@link #takeOutbox()} (messages the shell must send) and {@link #takeResults()} (completed operations). The same
 * inputs give the same outputs: the only randomness (ids chosen for bucket refresh) comes from a generator seeded
 * with the node id.
 *
 * <p>As a {@link Placement}: the owners of a key are the nodes this node knows closest to SHA-1(key), itself
 * included, identified by their addresses. This is a local view, answered without messages: it is exact for keys
 * near this node (its near buckets are complete) but for a far key it only knows k of the nodes in that region, so
 * the true owners need a lookup ({@link #findNode}). {@link KademliaPlacement} applies the same rule to a known
 * membership.
 */
public final class Kademlia implements Placement {

    /** A completed client operation. */
    public sealed interface Result {
        long operation();

        /** Lookups sent this many RPCs; see {@link Lookup#hops()}. */
        int rpcs();

        int hops();
    }

    public record NodesFound(long operation, NodeId target, List<Contact> closest, int rpcs, int hops)
            implements Result {}

    /** {@code value} is null if no node returned it. */
    public record ValueFound(long operation, NodeId key, byte[] value, int rpcs, int hops) implements Result {}

    /**
     * The value is held by {@code storedAt}: the nodes among the k closest that acknowledged the STORE (this node's
     * own address included if it is one of them), closest first. Completes when every STORE was acknowledged or
     * timed out.
     */
    public record Stored(long operation, NodeId key, List<String> storedAt, int rpcs, int hops) implements Result {}

    private enum Kind { FIND_NODE, FIND_VALUE, STORE, JOIN, REFRESH, REPUBLISH }

    private static final class Operation {
        final long id;
        final Kind kind;
        final Lookup lookup;
        final byte[] value;
        /** For a STORE: the tick the value expires at, or -1 for expireTicks after the STORE is sent. */
        final long expiresAt;
        /** After the lookup of a STORE: the STOREs are out, awaiting acknowledgements. */
        boolean storing;
        int awaitingAcks;
        final List<Contact> storedAt = new ArrayList<>();

        Operation(long id, Kind kind, Lookup lookup, byte[] value, long expiresAt) {
            this.id = id;
            this.kind = kind;
            this.lookup = lookup;
            this.value = value;
            this.expiresAt = expiresAt;
        }
    }

    /** An RPC awaiting its reply: to whom, until when, and for which lookup (or -1 for an eviction ping). */
    private record Pending(String to, NodeId toId, long deadline, long operation) {}

    private static final class StoredValue {
        byte[] value;
        long expiresAt;
        long republishAt;

        StoredValue(byte[] value, long expiresAt, long republishAt) {
            this.value = value;
            this.expiresAt = expiresAt;
            this.republishAt = republishAt;
        }
    }

    private static final class Published {
        final byte[] value;
        long republishAt;

        Published(byte[] value, long republishAt) {
            this.value = value;
            this.republishAt = republishAt;
        }
    }

    private final Contact self;
    private final KademliaConfig config;
    private final RoutingTable table;
    private final SplittableRandom random;
    private final Map<NodeId, StoredValue> values = new HashMap<>();
    private final Map<NodeId, Published> published = new HashMap<>();
    private final LinkedHashMap<Long, Pending> pending = new LinkedHashMap<>(); // deadline order: one timeout for all
    private final Map<Long, Operation> operations = new HashMap<>();
    private List<Envelope> outbox = new ArrayList<>();
    private List<Result> results = new ArrayList<>();
    private long now;
    private long nextRpcId = 1;
    private long nextOperationId = 1;
    private long nextRefreshCheck;
    private long nextValueDue = Long.MAX_VALUE; // no stored value expires or is due for republication before this
    private long joinOperation = -1;
    private boolean joined;

    public Kademlia(Contact self, KademliaConfig config) {
        this.self = self;
        this.config = config;
        this.table = new RoutingTable(self.id(), config);
        this.random = new SplittableRandom(self.id().low() ^ self.id().middle() ^ self.id().high());
        this.nextRefreshCheck = config.refreshTicks();
    }

    public Contact self() {
        return self;
    }

    public KademliaConfig config() {
        return config;
    }

    public RoutingTable routingTable() {
        return table;
    }

    public long now() {
        return now;
    }

    /** Keys this node holds a value for. */
    public int storedCount() {
        return values.size();
    }

    public byte[] storedValue(NodeId key) {
        StoredValue v = values.get(key);
        return v == null ? null : v.value;
    }

    public boolean joined() {
        return joined;
    }

    public int pendingRpcs() {
        return pending.size();
    }

    public int runningOperations() {
        return operations.size();
    }

    /** Messages to send, in the order they were produced; the caller takes ownership. */
    public List<Envelope> takeOutbox() {
        if (outbox.isEmpty()) {
            return List.of();
        }
        List<Envelope> out = outbox;
        outbox = new ArrayList<>();
        return out;
    }

    public List<Result> takeResults() {
        if (results.isEmpty()) {
            return List.of();
        }
        List<Result> out = results;
        results = new ArrayList<>();
        return out;
    }

    // ---------------------------------------------------------------------------------------------- operations

    /**
     * Join through known contacts (§2.3): insert them, look up our own id, then (if configured) refresh every bucket
     * further away than the closest neighbour. {@code contacts} with unknown ids can be introduced with
     * {@link #introduce(String)} instead; the node joins as soon as the first of them answers.
     */
    public void join(List<Contact> contacts) {
        contacts.forEach(this::observe);
        startJoin();
    }

    /** Pings an address whose node id is not known yet (bootstrap from a discovered peer); joins when it answers. */
    public void introduce(String address) {
        if (address.equals(self.address())) {
            return;
        }
        long rpc = nextRpcId++;
        pending.put(rpc, new Pending(address, null, now + config.rpcTimeoutTicks(), -1));
        outbox.add(new Envelope(address, new Message.Ping(self, rpc)));
    }

    private void startJoin() {
        if (joinOperation < 0 && table.size() > 0) {
            joinOperation = start(Kind.JOIN, self.id(), null, 0);
        }
    }

    /** Iterative FIND_NODE: the k closest live nodes to {@code target}. Completes with {@link NodesFound}. */
    public long findNode(NodeId target) {
        return start(Kind.FIND_NODE, target, null, 0);
    }

    /** Iterative FIND_VALUE. Completes with {@link ValueFound} (value null if not found). */
    public long findValue(NodeId key) {
        StoredValue local = values.get(key);
        if (local != null) {
            long op = nextOperationId++;
            results.add(new ValueFound(op, key, local.value, 0, 0));
            return op;
        }
        return start(Kind.FIND_VALUE, key, null, 0);
    }

    /**
     * Publishes {@code value} under {@code key}: a node lookup, then STORE at the k closest (§2.3). This node becomes
     * the original publisher and re-stores it every {@code publisherRepublishTicks}. Completes with {@link Stored}.
     */
    public long store(NodeId key, byte[] value) {
        published.put(key, new Published(value, now + config.publisherRepublishTicks()));
        return start(Kind.STORE, key, value, -1);
    }

    private long start(Kind kind, NodeId target, byte[] value, long expiresAt) {
        long id = nextOperationId++;
        table.touch(self.id().bucketIndex(target), now);
        Lookup lookup = new Lookup(self.id(), target, config.k(), config.alpha(), kind == Kind.FIND_VALUE,
                table.closest(target, config.k(), null));
        Operation op = new Operation(id, kind, lookup, value, expiresAt);
        operations.put(id, op);
        pump(op);
        return id;
    }

    private void pump(Operation op) {
        for (Contact c : op.lookup.nextRequests()) {
            long rpc = nextRpcId++;
            pending.put(rpc, new Pending(c.address(), c.id(), now + config.rpcTimeoutTicks(), op.id));
            Message m = op.lookup.findValue() ? new Message.FindValue(self, rpc, op.lookup.target())
                    : new Message.FindNode(self, rpc, op.lookup.target());
            outbox.add(new Envelope(c.address(), m));
        }
        if (op.lookup.isDone()) {
            finish(op);
        }
    }

    private void finish(Operation op) {
        Lookup l = op.lookup;
        switch (op.kind) {
            case FIND_NODE:
                results.add(new NodesFound(op.id, l.target(), l.closestResponded(), l.queried(), l.hops()));
                break;
            case FIND_VALUE:
                results.add(new ValueFound(op.id, l.target(), l.value(), l.queried(), l.hops()));
                break;
            case STORE:
            case REPUBLISH:
                // The time to live is computed now, not when the lookup began, so republication does not extend it.
                long ttl = op.expiresAt < 0 ? config.expireTicks() : op.expiresAt - now;
                op.storing = true;
                storeAtClosest(op, ttl, l.closestResponded());
                if (op.awaitingAcks > 0) {
                    return; // completes in storeAcknowledged
                }
                break;
            case JOIN:
                joined = true;
                joinOperation = -1;
                if (config.refreshOnJoin()) {
                    refresh(table.bucketsToRefresh(Long.MAX_VALUE, 1));
                }
                break;
            default: // REFRESH: filling the buckets on the way was the point
                break;
        }
        complete(op);
    }

    private void complete(Operation op) {
        operations.remove(op.id);
        if (op.kind == Kind.STORE) {
            NodeId key = op.lookup.target();
            op.storedAt.sort((a, b) -> NodeId.compareDistance(a.id(), b.id(), key));
            results.add(new Stored(op.id, key, op.storedAt.stream().map(Contact::address).toList(),
                    op.lookup.queried(), op.lookup.hops()));
        }
    }

    /** STORE RPCs to the k closest of the responders and ourselves. */
    private void storeAtClosest(Operation op, long ttl, List<Contact> responded) {
        NodeId key = op.lookup.target();
        List<Contact> closest = new ArrayList<>(responded);
        closest.add(self);
        closest.sort((a, b) -> NodeId.compareDistance(a.id(), b.id(), key));
        for (Contact c : closest.subList(0, Math.min(config.k(), closest.size()))) {
            if (c.equals(self)) {
                accept(key, op.value, ttl);
                op.storedAt.add(self);
            } else {
                long rpc = nextRpcId++;
                pending.put(rpc, new Pending(c.address(), c.id(), now + config.rpcTimeoutTicks(), op.id));
                op.awaitingAcks++;
                outbox.add(new Envelope(c.address(), new Message.Store(self, rpc, key, op.value, ttl)));
            }
        }
    }

    /** A STORE was acknowledged ({@code by} non-null) or timed out. */
    private void storeAcknowledged(Operation op, Contact by) {
        if (by != null) {
            op.storedAt.add(by);
        }
        if (--op.awaitingAcks == 0) {
            complete(op);
        }
    }

    private void refresh(List<Integer> bucketIndexes) {
        for (int i : bucketIndexes) {
            start(Kind.REFRESH, self.id().randomInBucket(i, random), null, 0);
        }
    }

    // ---------------------------------------------------------------------------------------------- inputs

    /** A message from another node. */
    public void step(Message m) {
        if (m.from().id().equals(self.id())) {
            return;
        }
        observe(m.from());
        if (m instanceof Message.Ping p) {
            outbox.add(new Envelope(p.from().address(), new Message.Pong(self, p.rpcId())));
        } else if (m instanceof Message.Store s) {
            accept(s.key(), s.value(), s.ttlTicks());
            outbox.add(new Envelope(s.from().address(), new Message.StoreAck(self, s.rpcId())));
        } else if (m instanceof Message.FindNode f) {
            outbox.add(new Envelope(f.from().address(),
                    new Message.FoundNodes(self, f.rpcId(), table.closest(f.target(), config.k(), f.from().id()))));
        } else if (m instanceof Message.FindValue f) {
            StoredValue v = values.get(f.key());
            outbox.add(new Envelope(f.from().address(), v != null
                    ? new Message.FoundValue(self, f.rpcId(), v.value, List.of())
                    : new Message.FoundValue(self, f.rpcId(), null,
                    table.closest(f.key(), config.k(), f.from().id()))));
        } else if (m instanceof Message.Pong p) {
            onReply(p, null, null);
        } else if (m instanceof Message.StoreAck a) {
            onReply(a, null, null);
        } else if (m instanceof Message.FoundNodes f) {
            onReply(f, f.closest(), null);
        } else if (m instanceof Message.FoundValue f) {
            onReply(f, f.closest(), f.value());
        }
    }

    private void onReply(Message reply, List<Contact> closest, byte[] value) {
        Pending p = pending.get(reply.rpcId());
        if (p == null || !p.to().equals(reply.from().address())) {
            return; // late, unsolicited, or not from whom we asked: keep waiting
        }
        pending.remove(reply.rpcId());
        if (p.operation() < 0) {
            if (p.toId() != null) {
                table.pingAnswered(reply.from());
            }
            startJoinIfIntroduced();
            return;
        }
        Operation op = operations.get(p.operation());
        if (op == null) {
            return;
        }
        if (op.storing) {
            if (reply instanceof Message.StoreAck) {
                storeAcknowledged(op, reply.from());
            }
            return;
        }
        if (value != null) {
            op.lookup.onValue(reply.from().id(), value);
        } else {
            op.lookup.onNodes(reply.from().id(), closest == null ? List.of() : closest);
        }
        pump(op);
    }

    private void startJoinIfIntroduced() {
        if (!joined) {
            startJoin();
        }
    }

    private void observe(Contact c) {
        Contact toPing = table.observe(c);
        if (toPing != null) {
            long rpc = nextRpcId++;
            pending.put(rpc, new Pending(toPing.address(), toPing.id(), now + config.rpcTimeoutTicks(), -1));
            outbox.add(new Envelope(toPing.address(), new Message.Ping(self, rpc)));
        }
    }

    private void accept(NodeId key, byte[] value, long ttl) {
        if (ttl <= 0) {
            return;
        }
        long republishAt = now + config.republishTicks() + jitter(key);
        nextValueDue = Math.min(nextValueDue, Math.min(republishAt, now + ttl));
        StoredValue v = values.get(key);
        if (v == null) {
            values.put(key, new StoredValue(value, now + ttl, republishAt));
        } else {
            // A STORE received postpones our own republication (§2.5: only one node republishes per interval).
            v.value = value;
            v.expiresAt = Math.max(v.expiresAt, now + ttl);
            v.republishAt = republishAt;
        }
    }

    /** Spreads the republication of replicas stored at the same tick, deterministically. */
    private long jitter(NodeId key) {
        long spread = Math.max(1, config.republishTicks() / 10);
        long h = (key.low() ^ self.id().low()) * 0x9E3779B97F4A7C15L;
        return Math.floorMod(h >>> 1, spread);
    }

    /** One unit of time: RPC timeouts, value expiry and republication, bucket refresh. */
    public void tick() {
        now++;
        expireRpcs();
        if (now >= nextValueDue) {
            maintainValues();
        }
        if (!published.isEmpty()) {
            for (Map.Entry<NodeId, Published> e : published.entrySet()) {
                if (e.getValue().republishAt <= now) {
                    e.getValue().republishAt = now + config.publisherRepublishTicks();
                    start(Kind.REPUBLISH, e.getKey(), e.getValue().value, -1);
                }
            }
        }
        if (now >= nextRefreshCheck) {
            nextRefreshCheck = now + Math.max(1, config.refreshTicks() / 8);
            if (joined) {
                refresh(table.bucketsToRefresh(now, config.refreshTicks()));
            }
        }
    }

    private void expireRpcs() {
        if (pending.isEmpty()) {
            return;
        }
        List<Pending> expired = null;
        for (Iterator<Pending> it = pending.values().iterator(); it.hasNext(); ) {
            Pending p = it.next();
            if (p.deadline() > now) {
                break; // deadline order
            }
            it.remove();
            if (expired == null) {
                expired = new ArrayList<>();
            }
            expired.add(p);
        }
        if (expired == null) {
            return;
        }
        TreeSet<Long> touched = new TreeSet<>();
        for (Pending p : expired) {
            if (p.toId() != null) {
                table.failed(p.toId());
            }
            Operation op = p.operation() < 0 ? null : operations.get(p.operation());
            if (op != null && op.storing) {
                storeAcknowledged(op, null);
            } else if (op != null) {
                op.lookup.onTimeout(p.toId());
                touched.add(op.id);
            }
        }
        for (long id : touched) {
            Operation op = operations.get(id);
            if (op != null && !op.storing) {
                pump(op);
            }
        }
    }

    private void maintainValues() {
        List<Map.Entry<NodeId, StoredValue>> due = null;
        long next = Long.MAX_VALUE;
        for (Iterator<Map.Entry<NodeId, StoredValue>> it = values.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<NodeId, StoredValue> e = it.next();
            StoredValue v = e.getValue();
            if (v.expiresAt <= now) {
                it.remove();
                continue;
            }
            if (v.republishAt <= now) {
                if (due == null) {
                    due = new ArrayList<>();
                }
                due.add(e);
                v.republishAt = now + config.republishTicks() + jitter(e.getKey());
            }
            next = Math.min(next, Math.min(v.expiresAt, v.republishAt));
        }
        nextValueDue = next;
        if (due != null) {
            for (Map.Entry<NodeId, StoredValue> e : due) {
                start(Kind.REPUBLISH, e.getKey(), e.getValue().value, e.getValue().expiresAt);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------- placement

    /** The k closest nodes to {@code target} that this node knows, itself included, closest first. */
    public List<Contact> closestKnown(NodeId target, int n) {
        List<Contact> out = table.closest(target, n, null);
        out.add(self);
        out.sort((a, b) -> NodeId.compareDistance(a.id(), b.id(), target));
        return out.size() > n ? out.subList(0, n) : out;
    }

    @Override
    public List<String> owners(byte[] key, int replicas) {
        if (replicas <= 0) {
            throw new IllegalArgumentException("replicas must be positive, was " + replicas);
        }
        return closestKnown(NodeId.sha1(key), replicas).stream().map(Contact::address).toList();
    }

    @Override
    public List<String> members() {
        TreeSet<String> all = new TreeSet<>();
        all.add(self.address());
        table.all().forEach(c -> all.add(c.address()));
        return List.copyOf(all);
    }

    @Override
    public String toString() {
        return "Kademlia(" + self.id() + " @ " + self.address() + ", " + table.size() + " contacts, " + values.size()
                + " values)";
    }
}
