package io.consensusactors.paxos.actor;

import io.consensusactors.statemachine.SessionStateMachine;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A client of one Multi-Paxos group: one exactly-once session ({@link SessionStateMachine}: random client id, opened
 * with sequence 0, then 1, 2, 3 ...), one command in flight at a time, later ones queued. It finds the group's hosts
 * through the Receptionist, sends to the node it believes leads, follows {@code NotLeader} hints, and retries the
 * same (client id, sequence) on another node after an attempt timeout or a {@code Superseded} slot — the session
 * table applies a retried command once. A command that is not applied before the request timeout fails its stage
 * with a message saying the outcome is unknown. Use several clients for concurrency.
 */
public final class MultiPaxosClient {

    /** The stage of a command that could not be confirmed (it may or may not have been applied). */
    public static final class OutcomeUnknownException extends RuntimeException {
        public OutcomeUnknownException(String message) {
            super(message);
        }
    }

    private final ActorRef<ClientActor.Command> actor;

    private MultiPaxosClient(ActorRef<ClientActor.Command> actor) {
        this.actor = actor;
    }

    public static MultiPaxosClient create(ActorSystem<?> system, String group, Duration attemptTimeout,
                                          Duration requestTimeout) {
        return new MultiPaxosClient(system.systemActorOf(ClientActor.create(group, attemptTimeout, requestTimeout),
                "multi-paxos-client-" + UUID.randomUUID(), org.apache.pekko.actor.typed.Props.empty()));
    }

    /** Proposes {@code command}; completes with the state machine's answer once it is applied (exactly once). */
    public CompletionStage<byte[]> propose(byte[] command) {
        CompletableFuture<byte[]> f = new CompletableFuture<>();
        actor.tell(new ClientActor.Submit(command, f));
        return f;
    }

    /** The node that last applied one of this client's commands as leader (null before the first). */
    public CompletionStage<String> leader() {
        CompletableFuture<String> f = new CompletableFuture<>();
        actor.tell(new ClientActor.GetLeader(f));
        return f;
    }

    public void stop() {
        actor.tell(ClientActor.Stop.INSTANCE);
    }

    static final class ClientActor extends AbstractBehavior<ClientActor.Command> {
        sealed interface Command {
        }

        record Submit(byte[] command, CompletableFuture<byte[]> result) implements Command {
        }

        record GetLeader(CompletableFuture<String> result) implements Command {
        }

        enum Stop implements Command { INSTANCE }

        private record Answer(long attempt, MultiPaxosMember.Reply reply, Throwable failure) implements Command {
        }

        private record Resend(long attempt) implements Command {
        }

        private record PeersChanged(Receptionist.Listing listing) implements Command {
        }

        private static final class Request {
            final byte[] command;
            final CompletableFuture<byte[]> result;
            long deadline;

            Request(byte[] command, CompletableFuture<byte[]> result) {
                this.command = command;
                this.result = result;
            }
        }

        private final String group;
        private final Duration attemptTimeout;
        private final Duration requestTimeout;
        private final TimerScheduler<Command> timers;
        private final Map<String, ActorRef<MultiPaxosHost.Command>> hosts = new HashMap<>();
        private final ArrayDeque<Request> queue = new ArrayDeque<>();
        private long clientId = newClientId();
        private boolean opened;
        private long seq;
        private Request current;
        private long attempt;
        private String leader;
        private String target;
        private final List<String> tried = new ArrayList<>();

        static Behavior<Command> create(String group, Duration attemptTimeout, Duration requestTimeout) {
            return Behaviors.setup(ctx -> Behaviors.withTimers(t -> new ClientActor(ctx, t, group, attemptTimeout,
                    requestTimeout)));
        }

        private static long newClientId() {
            return ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
        }

        /** Abandons the session after an unconfirmed command: a fresh one never meets that sequence number again. */
        private void newSession() {
            opened = false;
            seq = 0;
            clientId = newClientId();
        }

        private ClientActor(ActorContext<Command> ctx, TimerScheduler<Command> timers, String group,
                            Duration attemptTimeout, Duration requestTimeout) {
            super(ctx);
            this.group = group;
            this.attemptTimeout = attemptTimeout;
            this.requestTimeout = requestTimeout;
            this.timers = timers;
            ActorRef<Receptionist.Listing> adapter = ctx.messageAdapter(Receptionist.Listing.class, PeersChanged::new);
            ctx.getSystem().receptionist().tell(Receptionist.subscribe(MultiPaxosHost.SERVICE_KEY, adapter));
        }

        @Override
        public Receive<Command> createReceive() {
            return newReceiveBuilder()
                    .onMessage(Submit.class, this::onSubmit)
                    .onMessage(GetLeader.class, g -> {
                        g.result().complete(leader);
                        return this;
                    })
                    .onMessage(Answer.class, this::onAnswer)
                    .onMessage(Resend.class, r -> {
                        if (r.attempt() == attempt && current != null) {
                            send();
                        }
                        return this;
                    })
                    .onMessage(PeersChanged.class, this::onPeersChanged)
                    .onMessage(Stop.class, s -> Behaviors.stopped())
                    .build();
        }

        private Behavior<Command> onSubmit(Submit s) {
            queue.add(new Request(s.command(), s.result()));
            next();
            return this;
        }

        private void next() {
            if (current != null || queue.isEmpty()) {
                return;
            }
            current = queue.poll();
            current.deadline = System.nanoTime() + requestTimeout.toNanos();
            tried.clear();
            if (opened) {
                seq++;
            }
            send();
        }

        private void send() {
            if (System.nanoTime() > current.deadline) {
                current.result.completeExceptionally(new OutcomeUnknownException("Multi-Paxos group '" + group
                        + "': command not confirmed within " + requestTimeout + " (" + hosts.size()
                        + " hosts known); it may or may not have been applied: retry it with a new client once a"
                        + " majority of the group's nodes is reachable, or read the state to find out"));
                current = null;
                newSession();
                next();
                return;
            }
            attempt++;
            if (hosts.isEmpty()) {
                timers.startSingleTimer(new Resend(attempt), Duration.ofMillis(100));
                return;
            }
            target = leader != null && hosts.containsKey(leader) ? leader : pick();
            long a = attempt;
            long s = opened ? seq : 0;
            byte[] payload = opened ? current.command : new byte[0];
            getContext().ask(MultiPaxosMember.Reply.class, hosts.get(target), attemptTimeout,
                    replyTo -> new MultiPaxosHost.ClientPropose(group, clientId, s, payload, replyTo),
                    (reply, failure) -> new Answer(a, reply, failure));
        }

        private String pick() {
            List<String> candidates = new ArrayList<>(hosts.keySet());
            candidates.removeAll(tried);
            if (candidates.isEmpty()) {
                tried.clear();
                candidates = new ArrayList<>(hosts.keySet());
            }
            String pick = candidates.get(ThreadLocalRandom.current().nextInt(candidates.size()));
            tried.add(pick);
            return pick;
        }

        private Behavior<Command> onAnswer(Answer a) {
            if (a.attempt() != attempt || current == null) {
                return this; // late answer to an attempt already retried
            }
            if (a.failure() != null) {
                leader = null;
                send();
                return this;
            }
            MultiPaxosMember.Reply reply = a.reply();
            if (reply instanceof MultiPaxosMember.Applied applied) {
                leader = target;
                if (!opened) {
                    opened = true;
                    seq = 1;
                    send();
                    return this;
                }
                if (applied.outcome() == SessionStateMachine.Outcome.APPLIED
                        || applied.outcome() == SessionStateMachine.Outcome.DUPLICATE) {
                    current.result.complete(applied.value());
                } else {
                    current.result.completeExceptionally(new OutcomeUnknownException("Multi-Paxos group '" + group
                            + "': the session of this client was " + applied.outcome() + " (too many sessions or"
                            + " too long idle); the command may or may not have been applied"));
                    newSession();
                }
                current = null;
                next();
            } else if (reply instanceof MultiPaxosMember.NotLeader nl) {
                if (nl.leaderNode() != null && !nl.leaderNode().equals(target) && hosts.containsKey(nl.leaderNode())) {
                    leader = nl.leaderNode();
                    send();
                } else {
                    leader = null; // no leader yet (election): wait a little, then try another node
                    timers.startSingleTimer(new Resend(attempt), Duration.ofMillis(50));
                }
            } else {
                send(); // Superseded: same session and sequence again, applied at most once
            }
            return this;
        }

        private Behavior<Command> onPeersChanged(PeersChanged p) {
            hosts.clear();
            for (ActorRef<MultiPaxosHost.Command> ref : p.listing().getServiceInstances(MultiPaxosHost.SERVICE_KEY)) {
                String name = ref.path().name();
                if (name.startsWith(MultiPaxosHost.NAME_PREFIX)) {
                    hosts.put(name.substring(MultiPaxosHost.NAME_PREFIX.length()), ref);
                }
            }
            return this;
        }
    }
}
