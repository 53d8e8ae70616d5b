package io.consensusactors.bank.node;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Tracks cluster membership from cluster events (not {@code Cluster.state()}, which lags the event just received)
 * and publishes an immutable view that the HTTP layer reads. Typed subscriptions deliver the initial state as events.
 */
public final class Membership extends AbstractBehavior<ClusterEvent.ClusterDomainEvent> {

    /** What this node currently sees. */
    public record View(String self, boolean selfUp, Map<String, String> members, Map<String, Set<String>> roles,
                       Set<String> unreachable) {}

    private final java.util.concurrent.atomic.AtomicReference<View> published;
    private final String self;
    private final TreeMap<String, String> status = new TreeMap<>();
    private final TreeMap<String, Set<String>> roles = new TreeMap<>();
    private final TreeSet<String> unreachable = new TreeSet<>();

    public static Behavior<ClusterEvent.ClusterDomainEvent> create(
            java.util.concurrent.atomic.AtomicReference<View> published) {
        return Behaviors.setup(ctx -> new Membership(ctx, published));
    }

    private Membership(ActorContext<ClusterEvent.ClusterDomainEvent> ctx,
                       java.util.concurrent.atomic.AtomicReference<View> published) {
        super(ctx);
        this.published = published;
        Cluster cluster = Cluster.get(ctx.getSystem());
        this.self = cluster.selfMember().address().toString();
        ActorRef<ClusterEvent.ClusterDomainEvent> me = ctx.getSelf();
        cluster.subscriptions().tell(Subscribe.create(me, ClusterEvent.ClusterDomainEvent.class));
        publish();
    }

    @Override
    public Receive<ClusterEvent.ClusterDomainEvent> createReceive() {
        return newReceiveBuilder()
                .onMessage(ClusterEvent.MemberEvent.class, this::onMember)
                .onMessage(ClusterEvent.UnreachableMember.class, e -> reach(e.member(), false))
                .onMessage(ClusterEvent.ReachableMember.class, e -> reach(e.member(), true))
                .onAnyMessage(e -> this)
                .build();
    }

    private Behavior<ClusterEvent.ClusterDomainEvent> onMember(ClusterEvent.MemberEvent e) {
        String address = e.member().address().toString();
        if (e instanceof ClusterEvent.MemberRemoved) {
            status.remove(address);
            roles.remove(address);
            unreachable.remove(address);
        } else {
            put(e.member());
        }
        publish();
        return this;
    }

    private Behavior<ClusterEvent.ClusterDomainEvent> reach(Member m, boolean reachable) {
        if (reachable) {
            unreachable.remove(m.address().toString());
        } else {
            unreachable.add(m.address().toString());
        }
        publish();
        return this;
    }

    private void put(Member m) {
        status.put(m.address().toString(), m.status().toString());
        roles.put(m.address().toString(), new TreeSet<>(m.getRoles()));
    }

    private void publish() {
        published.set(new View(self, "Up".equals(status.get(self)), Map.copyOf(status), Map.copyOf(roles),
                Set.copyOf(unreachable)));
    }
}
