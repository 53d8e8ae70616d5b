package io.consensusactors.sharding.pekko;

import io.consensusactors.sharding.ring.HashRing;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Sends each keyed message to the routee that owns the key on our consistent-hash ring, over the routees currently
 * registered with the Receptionist under a {@link ServiceKey} (on any cluster node).
 *
 * <p>Pekko's {@code Routers.group(key).withConsistentHashingRouting(vnodes, mapping)} does the same with its own
 * ring; this router uses ours so that routing agrees with {@link HashRing} placement everywhere else (shard
 * allocation, replica preference lists) and so that the same key maps to the same routee on every node: routees are
 * identified by their serialized actor reference, which includes the node address. While no routee is registered,
 * up to {@code bufferSize} messages are kept and delivered once one appears; beyond that they are dropped and logged.
 */
public final class RingRouter<M> extends AbstractBehavior<RingRouter.Command<M>> {

    public sealed interface Command<M> {}

    /** Deliver {@code message} to the owner of {@code key}. */
    public record Route<M>(String key, M message) implements Command<M> {}

    private record ListingUpdated<M>(Receptionist.Listing listing) implements Command<M> {}

    public static <M> Behavior<Command<M>> create(ServiceKey<M> serviceKey, int vnodes, int bufferSize) {
        return Behaviors.setup(ctx -> Behaviors.withStash(bufferSize,
                stash -> new RingRouter<>(ctx, serviceKey, vnodes, stash)));
    }

    private final ServiceKey<M> serviceKey;
    private final int vnodes;
    private final StashBuffer<Command<M>> stash;
    private final ActorRefResolver resolver;
    private HashRing ring;
    private Map<String, ActorRef<M>> routees = Map.of();

    private RingRouter(ActorContext<Command<M>> ctx, ServiceKey<M> serviceKey, int vnodes,
                       StashBuffer<Command<M>> stash) {
        super(ctx);
        this.serviceKey = serviceKey;
        this.vnodes = vnodes;
        this.stash = stash;
        this.resolver = ActorRefResolver.get(ctx.getSystem());
        this.ring = HashRing.empty(vnodes);
        ActorRef<Receptionist.Listing> adapter = ctx.messageAdapter(Receptionist.Listing.class, ListingUpdated::new);
        ctx.getSystem().receptionist().tell(Receptionist.subscribe(serviceKey, adapter));
    }

    @Override
    @SuppressWarnings("unchecked")
    public Receive<Command<M>> createReceive() {
        return newReceiveBuilder()
                .onMessage((Class<ListingUpdated<M>>) (Class<?>) ListingUpdated.class, this::onListing)
                .onMessage((Class<Route<M>>) (Class<?>) Route.class, this::onRoute)
                .build();
    }

    private Behavior<Command<M>> onListing(ListingUpdated<M> update) {
        Set<ActorRef<M>> instances = update.listing().getServiceInstances(serviceKey);
        Map<String, ActorRef<M>> next = new HashMap<>();
        for (ActorRef<M> ref : instances) {
            next.put(resolver.toSerializationFormat(ref), ref);
        }
        routees = next;
        ring = HashRing.ofIds(vnodes, next.keySet());
        if (!routees.isEmpty() && !stash.isEmpty()) {
            return stash.unstashAll(this);
        }
        return this;
    }

    private Behavior<Command<M>> onRoute(Route<M> route) {
        if (routees.isEmpty()) {
            if (stash.isFull()) {
                getContext().getLog().warn("no routee registered for {} and {} messages buffered: dropping key {}",
                        serviceKey.id(), stash.size(), route.key());
            } else {
                stash.stash(route);
            }
            return this;
        }
        routees.get(ring.owner(route.key())).tell(route.message());
        return this;
    }
}
