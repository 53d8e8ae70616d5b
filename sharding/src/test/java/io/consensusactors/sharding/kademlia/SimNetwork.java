package io.consensusactors.sharding.kademlia;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Deterministic in-process message passing between {@link Kademlia} cores: one seeded generator, simulated time
 * (one tick per step, every node ticked in a fixed order), a per-message latency drawn from [minLatency,
 * maxLatency] ticks, and nodes that can be killed without warning (messages to them vanish, they send nothing).
 */
final class SimNetwork {

    record Completed(String node, Kademlia.Result result) {}

    private final SplittableRandom random;
    private final int minLatency;
    private final int maxLatency;
    private final List<Kademlia> nodes = new ArrayList<>(); // live nodes, in creation order
    private final Map<String, Kademlia> byAddress = new HashMap<>();
    private final List<List<Envelope>> wheel = new ArrayList<>();
    private final List<Completed> completed = new ArrayList<>();
    private long now;
    long delivered;
    long dropped;

    SimNetwork(long seed, int minLatency, int maxLatency) {
        this.random = new SplittableRandom(seed);
        this.minLatency = minLatency;
        this.maxLatency = maxLatency;
        for (int i = 0; i <= maxLatency; i++) {
            wheel.add(new ArrayList<>());
        }
    }

    SplittableRandom random() {
        return random;
    }

    void add(Kademlia node) {
        nodes.add(node);
        byAddress.put(node.self().address(), node);
    }

    List<Kademlia> live() {
        return nodes;
    }

    Kademlia node(String address) {
        return byAddress.get(address);
    }

    boolean alive(String address) {
        return byAddress.containsKey(address);
    }

    /** Removes the node without warning: it neither receives nor sends from now on. */
    void kill(String address) {
        Kademlia gone = byAddress.remove(address);
        if (gone != null) {
            nodes.remove(gone);
        }
    }

    long now() {
        return now;
    }

    /** Sends what {@code node} produced and records its completed operations. */
    void flush(Kademlia node) {
        for (Envelope e : node.takeOutbox()) {
            int latency = minLatency + random.nextInt(maxLatency - minLatency + 1);
            wheel.get((int) ((now + latency) % wheel.size())).add(e);
        }
        for (Kademlia.Result r : node.takeResults()) {
            completed.add(new Completed(node.self().address(), r));
        }
    }

    /** One tick: deliver the messages due now, then tick every live node. */
    void tick() {
        now++;
        List<Envelope> due = wheel.get((int) (now % wheel.size()));
        if (!due.isEmpty()) {
            List<Envelope> batch = new ArrayList<>(due);
            due.clear();
            for (Envelope e : batch) {
                Kademlia to = byAddress.get(e.to());
                if (to == null) {
                    dropped++;
                    continue;
                }
                delivered++;
                to.step(e.message());
                flush(to);
            }
        }
        for (Kademlia n : nodes) {
            n.tick();
            flush(n);
        }
    }

    void run(long ticks) {
        for (long i = 0; i < ticks; i++) {
            tick();
        }
    }

    boolean inFlight() {
        for (List<Envelope> slot : wheel) {
            if (!slot.isEmpty()) {
                return true;
            }
        }
        return false;
    }

    /** Ticks until no message is in flight and no node has an RPC pending (at most {@code maxTicks}). */
    long runUntilQuiet(long maxTicks) {
        long start = now;
        while (now - start < maxTicks) {
            tick();
            if (!inFlight() && nodes.stream().allMatch(n -> n.pendingRpcs() == 0 && n.runningOperations() == 0)) {
                break;
            }
        }
        return now - start;
    }

    /** Takes the operations completed so far. */
    List<Completed> takeCompleted() {
        List<Completed> out = new ArrayList<>(completed);
        completed.clear();
        return out;
    }
}
