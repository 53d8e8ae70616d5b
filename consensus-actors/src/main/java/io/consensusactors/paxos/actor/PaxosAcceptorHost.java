package io.consensusactors.paxos.actor;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * The acceptor {@code acceptorId} of a node: registered with the Receptionist under {@link #SERVICE_KEY} so that
 * proposers anywhere in the cluster find it, it routes every {@link PaxosAcceptor.Prepare}/{@link PaxosAcceptor.Accept}
 * to the event-sourced {@link PaxosAcceptor} of the message's key, spawning it on demand (it recovers its promise and
 * accepted value from the journal before answering) and forgetting it when it passivates. A message that reaches a
 * passivating child is lost, which Paxos tolerates: the proposer retransmits.
 */
public final class PaxosAcceptorHost extends AbstractBehavior<PaxosAcceptor.Command> {

    public static final ServiceKey<PaxosAcceptor.Command> SERVICE_KEY =
            ServiceKey.create(PaxosAcceptor.Command.class, "paxos-acceptor");

    private final int acceptorId;
    private final Duration idleTimeout;
    private final Map<String, ActorRef<PaxosAcceptor.Command>> children = new HashMap<>();

    public static Behavior<PaxosAcceptor.Command> create(int acceptorId, Duration idleTimeout) {
        return Behaviors.<PaxosAcceptor.Command>supervise(Behaviors.setup(context -> {
            context.getSystem().receptionist().tell(Receptionist.register(SERVICE_KEY, context.getSelf()));
            return new PaxosAcceptorHost(context, acceptorId, idleTimeout);
        })).onFailure(SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.2));
    }

    private PaxosAcceptorHost(ActorContext<PaxosAcceptor.Command> context, int acceptorId, Duration idleTimeout) {
        super(context);
        this.acceptorId = acceptorId;
        this.idleTimeout = idleTimeout;
    }

    @Override
    public Receive<PaxosAcceptor.Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(PaxosAcceptor.Prepare.class, this::onPrepare)
                .onMessage(PaxosAcceptor.Accept.class, this::onAccept)
                .onMessage(PaxosAcceptor.Forget.class, m -> {
                    child(m.key()).tell(m);
                    return this;
                })
                .onMessage(PaxosAcceptor.ChildStopped.class, this::onChildStopped)
                .build();
    }

    private Behavior<PaxosAcceptor.Command> onPrepare(PaxosAcceptor.Prepare m) {
        child(m.key()).tell(m);
        return this;
    }

    private Behavior<PaxosAcceptor.Command> onAccept(PaxosAcceptor.Accept m) {
        child(m.key()).tell(m);
        return this;
    }

    private Behavior<PaxosAcceptor.Command> onChildStopped(PaxosAcceptor.ChildStopped m) {
        children.remove(m.key(), m.ref());
        return this;
    }

    private ActorRef<PaxosAcceptor.Command> child(String key) {
        ActorRef<PaxosAcceptor.Command> ref = children.get(key);
        if (ref == null) {
            ref = getContext().spawn(PaxosAcceptor.create(acceptorId, key, idleTimeout),
                    URLEncoder.encode(key, StandardCharsets.UTF_8));
            getContext().watchWith(ref, new PaxosAcceptor.ChildStopped(key, ref));
            children.put(key, ref);
        }
        return ref;
    }
}
