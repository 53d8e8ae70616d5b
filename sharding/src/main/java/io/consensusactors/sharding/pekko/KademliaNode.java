package io.consensusactors.sharding.pekko;

import io.consensusactors.sharding.kademlia.*;

import com.typesafe.config.Config;
import io.consensusactors.sharding.ShardingSerializable;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Kademlia node as a typed actor: a thin shell around the pure {@link Kademlia} core. It registers with the
 * Receptionist under {@link #SERVICE_KEY} and bootstraps from the peers it finds there (PING, then the join
 * lookup); it turns a timer into {@link Kademlia#tick()}, incoming RPC records into {@link Kademlia#step}, and the
 * core's outbox into messages to other nodes. A node's address is its serialized actor reference (host and port
 * included) and its id is the SHA-1 of that address, so {@link KademliaPlacement} over the addresses agrees with it.
 *
 * <p>Clients: {@link Put} (STORE at the k closest nodes) and {@link Get} (FIND_VALUE).
 */
public final class KademliaNode extends AbstractBehavior<KademliaNode.Command> {

    public static final ServiceKey<Command> SERVICE_KEY = ServiceKey.create(Command.class, "kademlia-node");

    public sealed interface Command extends ShardingSerializable {}

    // The four RPCs and their replies, between nodes: each wraps the core's message as it is.
    public record PingRpc(Message.Ping message) implements Command {}

    public record PongRpc(Message.Pong message) implements Command {}

    public record StoreRpc(Message.Store message) implements Command {}

    public record StoreAckRpc(Message.StoreAck message) implements Command {}

    public record FindNodeRpc(Message.FindNode message) implements Command {}

    public record FoundNodesRpc(Message.FoundNodes message) implements Command {}

    public record FindValueRpc(Message.FindValue message) implements Command {}

    public record FoundValueRpc(Message.FoundValue message) implements Command {}

    /** Store {@code value} under SHA-1({@code key}) at the k closest nodes. */
    public record Put(String key, byte[] value, ActorRef<PutResult> replyTo) implements Command {}

    /** {@code storedAt}: addresses of the nodes that acknowledged the STORE (the k closest, less any that failed). */
    public record PutResult(String key, List<String> storedAt) implements ShardingSerializable {}

    /** Find the value stored under SHA-1({@code key}). */
    public record Get(String key, ActorRef<GetResult> replyTo) implements Command {}

    /** {@code value} is null when no node returned it; {@code hops} as in {@link Lookup#hops()}. */
    public record GetResult(String key, byte[] value, int hops) implements ShardingSerializable {}

    public record GetStats(ActorRef<Stats> replyTo) implements Command {}

    public record Stats(String id, String address, int contacts, int values, boolean joined)
            implements ShardingSerializable {}

    private enum Tick implements Command { INSTANCE }

    private record ListingUpdated(Receptionist.Listing listing) implements Command {}

    private final Kademlia core;
    private final ActorRefResolver resolver;
    private final Map<String, ActorRef<Command>> refs = new HashMap<>();
    private final Set<String> introduced = new HashSet<>();
    private final Map<Long, ActorRef<PutResult>> puts = new HashMap<>();
    private final Map<Long, ActorRef<GetResult>> gets = new HashMap<>();
    private final Map<Long, String> keys = new HashMap<>();

    /** Parameters from {@code consensus-actors.sharding.kademlia} (this module's reference.conf). */
    public static Behavior<Command> create() {
        return Behaviors.setup(ctx -> {
            Config c = ctx.getSystem().settings().config().getConfig("consensus-actors.sharding.kademlia");
            Duration tick = c.getDuration("tick-interval");
            return create(configFrom(c), tick);
        });
    }

    public static Behavior<Command> create(KademliaConfig config, Duration tickInterval) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new KademliaNode(ctx, timers, config,
                tickInterval)));
    }

    /** Converts the durations of the configuration block into ticks of {@code tick-interval}. */
    public static KademliaConfig configFrom(Config c) {
        long tick = c.getDuration("tick-interval").toMillis();
        return new KademliaConfig(c.getInt("k"), c.getInt("alpha"), ticks(c, "rpc-timeout", tick),
                c.getInt("stale-after-failures"), c.getInt("replacement-cache-size"),
                ticks(c, "refresh-interval", tick), ticks(c, "republish-interval", tick),
                ticks(c, "expire-after", tick), ticks(c, "publisher-republish-interval", tick),
                c.getBoolean("refresh-on-join"));
    }

    private static int ticks(Config c, String path, long tickMillis) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, c.getDuration(path).toMillis() / tickMillis));
    }

    private KademliaNode(ActorContext<Command> ctx, TimerScheduler<Command> timers, KademliaConfig config,
                         Duration tickInterval) {
        super(ctx);
        this.resolver = ActorRefResolver.get(ctx.getSystem());
        String address = resolver.toSerializationFormat(ctx.getSelf());
        this.core = new Kademlia(new Contact(NodeId.sha1(address), address), config);
        refs.put(address, ctx.getSelf());
        ctx.getSystem().receptionist().tell(Receptionist.register(SERVICE_KEY, ctx.getSelf()));
        ActorRef<Receptionist.Listing> adapter = ctx.messageAdapter(Receptionist.Listing.class, ListingUpdated::new);
        ctx.getSystem().receptionist().tell(Receptionist.subscribe(SERVICE_KEY, adapter));
        timers.startTimerWithFixedDelay(Tick.INSTANCE, tickInterval);
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(PingRpc.class, m -> onRpc(m.message()))
                .onMessage(PongRpc.class, m -> onRpc(m.message()))
                .onMessage(StoreRpc.class, m -> onRpc(m.message()))
                .onMessage(StoreAckRpc.class, m -> onRpc(m.message()))
                .onMessage(FindNodeRpc.class, m -> onRpc(m.message()))
                .onMessage(FoundNodesRpc.class, m -> onRpc(m.message()))
                .onMessage(FindValueRpc.class, m -> onRpc(m.message()))
                .onMessage(FoundValueRpc.class, m -> onRpc(m.message()))
                .onMessage(Put.class, this::onPut)
                .onMessage(Get.class, this::onGet)
                .onMessage(GetStats.class, this::onGetStats)
                .onMessageEquals(Tick.INSTANCE, this::onTick)
                .onMessage(ListingUpdated.class, this::onListingUpdated)
                .build();
    }

    private Behavior<Command> onRpc(Message message) {
        core.step(message);
        return flush();
    }

    private Behavior<Command> onPut(Put put) {
        long op = core.store(NodeId.sha1(put.key()), put.value());
        puts.put(op, put.replyTo());
        keys.put(op, put.key());
        return flush();
    }

    private Behavior<Command> onGet(Get get) {
        long op = core.findValue(NodeId.sha1(get.key()));
        gets.put(op, get.replyTo());
        keys.put(op, get.key());
        return flush();
    }

    private Behavior<Command> onGetStats(GetStats get) {
        get.replyTo().tell(new Stats(core.self().id().hex(), core.self().address(), core.routingTable().size(),
                core.storedCount(), core.joined()));
        return this;
    }

    private Behavior<Command> onTick() {
        core.tick();
        return flush();
    }

    private Behavior<Command> onListingUpdated(ListingUpdated updated) {
        for (ActorRef<Command> ref : updated.listing().getServiceInstances(SERVICE_KEY)) {
            String address = resolver.toSerializationFormat(ref);
            refs.put(address, ref);
            if (introduced.add(address)) {
                core.introduce(address);
            }
        }
        return flush();
    }

    /** Sends the core's outbox and answers completed client operations. */
    private Behavior<Command> flush() {
        for (Envelope e : core.takeOutbox()) {
            ActorRef<Command> to = refs.computeIfAbsent(e.to(), resolver::<Command>resolveActorRef);
            to.tell(wrap(e.message()));
        }
        for (Kademlia.Result r : core.takeResults()) {
            String key = keys.remove(r.operation());
            if (r instanceof Kademlia.Stored s) {
                ActorRef<PutResult> replyTo = puts.remove(s.operation());
                if (replyTo != null) {
                    replyTo.tell(new PutResult(key, s.storedAt()));
                }
            } else if (r instanceof Kademlia.ValueFound v) {
                ActorRef<GetResult> replyTo = gets.remove(v.operation());
                if (replyTo != null) {
                    replyTo.tell(new GetResult(key, v.value(), v.hops()));
                }
            }
        }
        return this;
    }

    private static Command wrap(Message m) {
        if (m instanceof Message.Ping p) {
            return new PingRpc(p);
        } else if (m instanceof Message.Pong p) {
            return new PongRpc(p);
        } else if (m instanceof Message.Store s) {
            return new StoreRpc(s);
        } else if (m instanceof Message.StoreAck a) {
            return new StoreAckRpc(a);
        } else if (m instanceof Message.FindNode f) {
            return new FindNodeRpc(f);
        } else if (m instanceof Message.FoundNodes f) {
            return new FoundNodesRpc(f);
        } else if (m instanceof Message.FindValue f) {
            return new FindValueRpc(f);
        } else if (m instanceof Message.FoundValue f) {
            return new FoundValueRpc(f);
        }
        throw new IllegalArgumentException("unknown Kademlia message " + m);
    }

    /** Convenience for clients and tests: the UTF-8 value of a {@link GetResult}, or null. */
    public static String valueAsString(GetResult result) {
        return result.value() == null ? null : new String(result.value(), StandardCharsets.UTF_8);
    }
}
