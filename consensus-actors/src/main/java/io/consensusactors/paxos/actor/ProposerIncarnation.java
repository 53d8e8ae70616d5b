package io.consensusactors.paxos.actor;

import io.consensusactors.persistence.CborSerializable;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;

import java.time.Duration;

/**
 * A durable counter of a node's proposer starts. A proposer must never reuse a ballot ("Paxos Made Simple" §2.5); this
 * node's proposer numbers its ballots {@code (round, incarnation * 4096 + nodeId)} with a round counter kept in memory,
 * so each (re)start takes a fresh incarnation from here first — persisted before it is handed out.
 */
public final class ProposerIncarnation
        extends EventSourcedBehaviorWithEnforcedReplies<ProposerIncarnation.Command, ProposerIncarnation.Began, Long> {

    public sealed interface Command extends CborSerializable {
    }

    /** Takes the next incarnation number. */
    public record Begin(ActorRef<Incarnation> replyTo) implements Command {
    }

    public record Incarnation(long number) implements CborSerializable {
    }

    /** Event: one more start. */
    public record Began(long number) implements CborSerializable {
    }

    public static Behavior<Command> create(int nodeId) {
        return new ProposerIncarnation(nodeId);
    }

    private ProposerIncarnation(int nodeId) {
        super(PersistenceId.of("paxos-proposer-incarnation", Integer.toString(nodeId), "|"),
                SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.2));
    }

    @Override
    public Long emptyState() {
        return 0L;
    }

    @Override
    public CommandHandlerWithReply<Command, Began, Long> commandHandler() {
        return newCommandHandlerWithReplyBuilder().forAnyState()
                .onCommand(Begin.class, (n, c) -> Effect().persist(new Began(n + 1))
                        .thenReply(c.replyTo(), next -> new Incarnation(next)))
                .build();
    }

    @Override
    public EventHandler<Long, Began> eventHandler() {
        return newEventHandlerBuilder().forAnyState().onEvent(Began.class, (n, e) -> e.number()).build();
    }
}
