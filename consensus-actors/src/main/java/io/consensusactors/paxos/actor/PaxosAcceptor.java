package io.consensusactors.paxos.actor;

import io.consensusactors.paxos.core.Acceptor;
import io.consensusactors.paxos.core.AcceptorEvent;
import io.consensusactors.paxos.core.AcceptorResult;
import io.consensusactors.paxos.core.AcceptorState;
import io.consensusactors.paxos.core.Ballot;
import io.consensusactors.paxos.core.PaxosMessage;
import io.consensusactors.persistence.CborSerializable;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;

import java.time.Duration;

/**
 * The acceptor of one single-decree instance (one register key) on one acceptor node, event-sourced: its promise and
 * its accepted proposal are the events {@link Promised} and {@link Accepted}, and every reply that depends on one is
 * sent only after the event is durable ({@code Effect().persist(..).thenReply(..)}, "Paxos Made Simple" §2.3: an
 * acceptor "must remember this information even if it fails and then restarts"). The decision logic is the pure
 * {@link Acceptor}; the state is the core's {@link AcceptorState}, rebuilt on recovery by folding the events.
 *
 * <p>Spawned on demand by {@link PaxosAcceptorHost} and passivated when idle. Persistence id
 * {@code paxos-acceptor|<acceptorId>|<key>}.
 */
public final class PaxosAcceptor
        extends EventSourcedBehaviorWithEnforcedReplies<PaxosAcceptor.Command, PaxosAcceptor.Event, AcceptorState<String>> {

    /** Messages of the acceptor protocol (sent to a {@link PaxosAcceptorHost}, which routes them by key). */
    public sealed interface Command extends CborSerializable {
    }

    /** Phase 1a for the instance {@code key}. */
    public record Prepare(String key, Ballot ballot, ActorRef<Reply> replyTo) implements Command {
    }

    /** Phase 2a for the instance {@code key}. */
    public record Accept(String key, Ballot ballot, String value, ActorRef<Reply> replyTo) implements Command {
    }

    /**
     * Replaces the instance's state by a tombstone holding {@code chosen}, which must be the value chosen for
     * {@code key} (see {@link ConsensusRegister#forget}); answered with {@link Forgot} once durable.
     */
    public record Forget(String key, String chosen, ActorRef<Reply> replyTo) implements Command {
    }

    /** Stops an idle acceptor (its state is in the journal). */
    enum Passivate implements Command { INSTANCE }

    /** Host-internal: the acceptor of {@code key} stopped. */
    record ChildStopped(String key, ActorRef<Command> ref) implements Command {
    }

    /** Answers, tagged with the acceptor id and the key. */
    public sealed interface Reply extends CborSerializable {
        int acceptor();

        String key();
    }

    /** Phase 1b: promised {@code ballot}; the highest accepted proposal, if any ({@code acceptedValue} null if none). */
    public record Promise(int acceptor, String key, Ballot ballot, Ballot acceptedBallot, String acceptedValue)
            implements Reply {
    }

    /** Phase 2b: accepted {@code value} at {@code ballot}. */
    public record Acceptance(int acceptor, String key, Ballot ballot, String value) implements Reply {
    }

    /** Refused {@code ballot}: already promised {@code promised}. */
    public record Nack(int acceptor, String key, Ballot ballot, Ballot promised) implements Reply {
    }

    /** The acceptor's state of {@code key} is a durable tombstone. */
    public record Forgot(int acceptor, String key) implements Reply {
    }

    /** Journal events (past tense). */
    public sealed interface Event extends CborSerializable {
    }

    public record Promised(Ballot ballot) implements Event {
    }

    public record Accepted(Ballot ballot, String value) implements Event {
    }

    public record Forgotten(String chosen) implements Event {
    }

    private final int acceptorId;
    private final String key;

    private PaxosAcceptor(int acceptorId, String key) {
        super(persistenceId(acceptorId, key), SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200),
                Duration.ofSeconds(5), 0.2));
        this.acceptorId = acceptorId;
        this.key = key;
    }

    public static PersistenceId persistenceId(int acceptorId, String key) {
        // acceptorId is a number, so "paxos-acceptor|<id>|<key>" is unambiguous whatever the key contains.
        return PersistenceId.ofUniqueId("paxos-acceptor|" + acceptorId + "|" + key);
    }

    /** The acceptor {@code acceptorId} of instance {@code key}; passivates after {@code idleTimeout} without messages. */
    public static Behavior<Command> create(int acceptorId, String key, Duration idleTimeout) {
        return Behaviors.setup(context -> {
            context.setReceiveTimeout(idleTimeout, Passivate.INSTANCE);
            return new PaxosAcceptor(acceptorId, key);
        });
    }

    @Override
    public AcceptorState<String> emptyState() {
        return AcceptorState.initial();
    }

    @Override
    public CommandHandlerWithReply<Command, Event, AcceptorState<String>> commandHandler() {
        return newCommandHandlerWithReplyBuilder().forAnyState()
                .onCommand(Prepare.class, this::onPrepare)
                .onCommand(Accept.class, this::onAccept)
                .onCommand(Forget.class, this::onForget)
                .onCommand(Passivate.class, (state, c) -> Effect().stop().thenNoReply())
                .build();
    }

    private ReplyEffect<Event, AcceptorState<String>> onPrepare(AcceptorState<String> state, Prepare c) {
        return decide(Acceptor.onPrepare(state, new PaxosMessage.Prepare<>(c.ballot())), c.replyTo());
    }

    private ReplyEffect<Event, AcceptorState<String>> onAccept(AcceptorState<String> state, Accept c) {
        return decide(Acceptor.onAccept(state, new PaxosMessage.Accept<>(c.ballot(), c.value())), c.replyTo());
    }

    private ReplyEffect<Event, AcceptorState<String>> onForget(AcceptorState<String> state, Forget c) {
        Reply done = new Forgot(acceptorId, key);
        if (state.isForgotten()) {
            if (!state.acceptedValue().equals(c.chosen())) {
                // cannot happen if callers pass chosen values: two values would have been chosen
                throw new IllegalStateException("key '" + key + "' was forgotten with chosen value '"
                        + state.acceptedValue() + "', now asked to forget it with '" + c.chosen() + "'");
            }
            return Effect().reply(c.replyTo(), done);
        }
        return Effect().persist((Event) new Forgotten(c.chosen())).thenReply(c.replyTo(), s -> done);
    }

    /** Persist the event (if any) and only then reply. */
    private ReplyEffect<Event, AcceptorState<String>> decide(AcceptorResult<String> result, ActorRef<Reply> replyTo) {
        Reply reply = toReply(result.reply());
        if (!result.mustPersist()) {
            return Effect().reply(replyTo, reply);
        }
        return Effect().persist(toEvent(result.persist())).thenReply(replyTo, s -> reply);
    }

    @Override
    public EventHandler<AcceptorState<String>, Event> eventHandler() {
        return newEventHandlerBuilder().forAnyState()
                .onEvent(Promised.class, (s, e) -> s.apply(new AcceptorEvent.Promised<>(e.ballot())))
                .onEvent(Accepted.class, (s, e) -> s.apply(new AcceptorEvent.Accepted<>(e.ballot(), e.value())))
                .onEvent(Forgotten.class, (s, e) -> s.apply(new AcceptorEvent.Forgotten<>(e.chosen())))
                .build();
    }

    private static Event toEvent(AcceptorEvent<String> e) {
        if (e instanceof AcceptorEvent.Promised<String> p) {
            return new Promised(p.ballot());
        }
        AcceptorEvent.Accepted<String> a = (AcceptorEvent.Accepted<String>) e;
        return new Accepted(a.ballot(), a.value());
    }

    private Reply toReply(PaxosMessage<String> m) {
        if (m instanceof PaxosMessage.Promise<String> p) {
            return new Promise(acceptorId, key, p.ballot(), p.acceptedBallot(), p.acceptedValue());
        }
        if (m instanceof PaxosMessage.Accepted<String> a) {
            return new Acceptance(acceptorId, key, a.ballot(), a.value());
        }
        PaxosMessage.Nack<String> n = (PaxosMessage.Nack<String>) m;
        return new Nack(acceptorId, key, n.ballot(), n.promised());
    }
}
