package io.consensusactors.paxos.actor;

import io.consensusactors.persistence.CborSerializable;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A node's learner ("Paxos Made Simple" §2.3): remembers the values it was told are chosen, so that a later decide or
 * read of the same key is answered without a Paxos round. A proposer that sees a majority accept a value broadcasts
 * {@link Learned} to every learner found under {@link #SERVICE_KEY}. A chosen value never changes, so a cached one is
 * never stale; the cache is bounded (least recently used first out) and volatile — a forgotten key costs one round.
 */
public final class PaxosLearner extends AbstractBehavior<PaxosLearner.Command> {

    public static final ServiceKey<Command> SERVICE_KEY = ServiceKey.create(Command.class, "paxos-learner");

    public sealed interface Command extends CborSerializable {
    }

    /** {@code value} is chosen for {@code key}. */
    public record Learned(String key, String value) implements Command {
    }

    /** Asks what is known about {@code key}. */
    public record Lookup(String key, ActorRef<Known> replyTo) implements Command {
    }

    /** The chosen value of {@code key}, or null if this learner does not know it. */
    public record Known(String key, String value) implements CborSerializable {
    }

    private final Map<String, String> chosen;

    public static Behavior<Command> create(int capacity) {
        return Behaviors.<Command>supervise(Behaviors.setup(context -> {
            context.getSystem().receptionist().tell(Receptionist.register(SERVICE_KEY, context.getSelf()));
            return new PaxosLearner(context, capacity);
        })).onFailure(SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.2));
    }

    private PaxosLearner(ActorContext<Command> context, int capacity) {
        super(context);
        this.chosen = new LinkedHashMap<>(1024, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
                return size() > capacity;
            }
        };
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Learned.class, this::onLearned)
                .onMessage(Lookup.class, this::onLookup)
                .build();
    }

    private Behavior<Command> onLearned(Learned m) {
        String before = chosen.putIfAbsent(m.key(), m.value());
        if (before != null && !before.equals(m.value())) {
            // Cannot happen unless two acceptors share an id or a journal was lost: say it loudly.
            getContext().getLog().error("Paxos safety violation for key '{}': learned '{}' after '{}'. Check that "
                    + "acceptor ids are unique and that no acceptor journal was deleted.", m.key(), m.value(), before);
        }
        return this;
    }

    private Behavior<Command> onLookup(Lookup m) {
        m.replyTo().tell(new Known(m.key(), chosen.get(m.key())));
        return this;
    }
}
