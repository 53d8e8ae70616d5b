package io.consensusactors.raft.actor;

import io.consensusactors.raft.core.ReadConsistency;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
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
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;

/**
 * Client of Raft groups running on {@link RaftHost}s anywhere in the cluster. Writes go to the group's leader
 * (cached, following redirects) under an exactly-once session: a retry after a timeout or a leader change reuses
 * the session and sequence number, so the state machine answers it from its table instead of applying it again.
 * Reads use the consistency asked for. Thread-safe; results complete on Pekko's dispatcher.
 *
 * <p>No ask per request: every attempt carries a correlation id that the member echoes in its {@link ClientReply},
 * all replies come back through one message adapter, and attempt timeouts are found by a periodic sweep of the
 * attempts in flight (running only while there are some). An ask would start a temporary actor and a future per
 * attempt, and Pekko's {@code pipeToSelf} hands its completion to {@code CompletableFuture}'s default executor —
 * which on a 2-core machine (common-pool parallelism 1) is a new thread per reply.
 *
 * <p>Proposals and reads for one node that are sent during one mailbox run of the client leave as one
 * {@link RaftHost.ClientBatch}, and that host sends their answers back together ({@link ClientReply.Batch}): under
 * load one network message carries several requests each way.
 */
public final class RaftClient {

    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final Duration MIN_SWEEP = Duration.ofMillis(10);

    /** Raised when a request could not complete: the message says whether it may have been applied. */
    public static final class RaftClientException extends RuntimeException {
        public RaftClientException(String message) {
            super(message);
        }
    }

    private final ActorRef<ClientActor.Command> actor;

    private RaftClient(ActorRef<ClientActor.Command> actor) {
        this.actor = actor;
    }

    public static RaftClient create(ActorSystem<?> system, RaftSettings settings) {
        return new RaftClient(system.systemActorOf(ClientActor.create(settings),
                "raft-client-" + COUNTER.incrementAndGet(), Props.empty()));
    }

    /** Replicates {@code command} in the group and completes with the state machine's result once applied. */
    public CompletionStage<byte[]> propose(String groupId, byte[] command) {
        CompletableFuture<byte[]> f = new CompletableFuture<>();
        actor.tell(new ClientActor.Submit(groupId, Kind.PROPOSE, command, null, f));
        return f;
    }

    public CompletionStage<byte[]> read(String groupId, byte[] query, ReadConsistency consistency) {
        CompletableFuture<byte[]> f = new CompletableFuture<>();
        actor.tell(new ClientActor.Submit(groupId, Kind.READ, query, consistency, f));
        return f;
    }

    /** Changes the group's voters and learners (node ids) at its leader (joint consensus). */
    public CompletionStage<byte[]> changeMembership(String groupId, Set<String> voters, Set<String> learners) {
        CompletableFuture<byte[]> f = new CompletableFuture<>();
        actor.tell(new ClientActor.Admin(groupId, (id, r) -> new RaftMember.ChangeMembership(voters, learners, id, r), f));
        return f;
    }

    public CompletionStage<byte[]> transferLeadership(String groupId, String toNode) {
        CompletableFuture<byte[]> f = new CompletableFuture<>();
        actor.tell(new ClientActor.Admin(groupId, (id, r) -> new RaftMember.TransferLeadership(toNode, id, r), f));
        return f;
    }

    /** The node this client currently believes leads the group (null if unknown). */
    public CompletionStage<String> cachedLeader(String groupId) {
        CompletableFuture<String> f = new CompletableFuture<>();
        actor.tell(new ClientActor.GetLeader(groupId, f));
        return f;
    }

    enum Kind { PROPOSE, READ, ADMIN }

    static final class ClientActor extends AbstractBehavior<ClientActor.Command> {
        sealed interface Command {
        }

        record Submit(String groupId, Kind kind, byte[] payload, ReadConsistency consistency,
                      CompletableFuture<byte[]> result) implements Command {
        }

        /** An administrative command, built from (request id, reply-to). */
        record Admin(String groupId, BiFunction<Long, ActorRef<ClientReply>, RaftMember.Command> command,
                     CompletableFuture<byte[]> result) implements Command {
        }

        record GetLeader(String groupId, CompletableFuture<String> result) implements Command {
        }

        private record Reply(ClientReply reply) implements Command {
        }

        /** Retry a request after a NotLeader without a hint, unless it was sent again meanwhile. */
        private record Resend(Request request, long attemptId) implements Command {
        }

        private enum Sweep implements Command { INSTANCE }

        /** Send the requests collected during this mailbox run, one message (or batch) per host. */
        private enum SendOutbox implements Command { INSTANCE }

        private record PeersChanged(Receptionist.Listing listing) implements Command {
        }

        private static final class Session {
            final long clientId = ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
            long seq;
            boolean opened;
        }

        private static final class Request {
            final String groupId;
            final Kind kind;
            final byte[] payload;
            final ReadConsistency consistency;
            final BiFunction<Long, ActorRef<ClientReply>, RaftMember.Command> admin;
            final CompletableFuture<byte[]> result;
            final long deadline;
            Session session;
            boolean opening;
            long seq;
            /** Correlation id of the current attempt (0: none in flight); echoed by the member's reply. */
            long attemptId;
            long attemptDeadline;
            String target;
            final List<String> tried = new ArrayList<>();

            Request(String groupId, Kind kind, byte[] payload, ReadConsistency consistency,
                    BiFunction<Long, ActorRef<ClientReply>, RaftMember.Command> admin, CompletableFuture<byte[]> result,
                    long deadline) {
                this.groupId = groupId;
                this.kind = kind;
                this.payload = payload;
                this.consistency = consistency;
                this.admin = admin;
                this.result = result;
                this.deadline = deadline;
            }
        }

        private final RaftSettings settings;
        private final TimerScheduler<Command> timers;
        private final ActorRef<ClientReply> replyAdapter;
        private final long attemptTimeoutNanos;
        private final Map<String, ActorRef<RaftHost.Command>> hosts = new HashMap<>();
        private final Map<String, String> leaders = new HashMap<>();
        private final Map<String, ArrayDeque<Session>> freeSessions = new HashMap<>();
        private final Map<String, Integer> sessionCount = new HashMap<>();
        private final Map<String, ArrayDeque<Request>> waiting = new HashMap<>();
        /** Attempts awaiting an answer, by correlation id. */
        private final Map<Long, Request> inflight = new HashMap<>();
        private final ArrayDeque<Request> noHosts = new ArrayDeque<>();
        /** Proposals and reads to send at the end of this mailbox run, per host. */
        private final Map<ActorRef<RaftHost.Command>, List<RaftHost.Command>> outbox = new HashMap<>();
        private long nextAttemptId = 1;
        private boolean sweeping;

        static Behavior<Command> create(RaftSettings settings) {
            return Behaviors.setup(ctx -> Behaviors.withTimers(t -> new ClientActor(ctx, t, settings)));
        }

        private ClientActor(ActorContext<Command> ctx, TimerScheduler<Command> timers, RaftSettings settings) {
            super(ctx);
            this.settings = settings;
            this.timers = timers;
            this.attemptTimeoutNanos = settings.clientAttemptTimeout().toNanos();
            this.replyAdapter = ctx.messageAdapter(ClientReply.class, Reply::new);
            ActorRef<Receptionist.Listing> adapter = ctx.messageAdapter(Receptionist.Listing.class, PeersChanged::new);
            ctx.getSystem().receptionist().tell(Receptionist.subscribe(RaftHost.SERVICE_KEY, adapter));
        }

        @Override
        public Receive<Command> createReceive() {
            return newReceiveBuilder()
                    .onMessage(Submit.class, this::onSubmit)
                    .onMessage(Admin.class, this::onAdmin)
                    .onMessage(GetLeader.class, g -> {
                        g.result().complete(leaders.get(g.groupId()));
                        return this;
                    })
                    .onMessage(Reply.class, this::onReply)
                    .onMessage(Resend.class, this::onResend)
                    .onMessage(Sweep.class, s -> onSweep())
                    .onMessage(SendOutbox.class, s -> onSendOutbox())
                    .onMessage(PeersChanged.class, this::onPeersChanged)
                    .build();
        }

        private long deadline() {
            return System.nanoTime() + settings.clientRequestTimeout().toNanos();
        }

        private Behavior<Command> onSubmit(Submit s) {
            Request r = new Request(s.groupId(), s.kind(), s.payload(), s.consistency(), null, s.result(), deadline());
            if (r.kind == Kind.PROPOSE) {
                Session session = acquire(r.groupId);
                if (session == null) {
                    waiting.computeIfAbsent(r.groupId, k -> new ArrayDeque<>()).add(r);
                    return this;
                }
                bind(r, session);
            }
            send(r);
            return this;
        }

        private Behavior<Command> onAdmin(Admin a) {
            send(new Request(a.groupId(), Kind.ADMIN, null, null, a.command(), a.result(), deadline()));
            return this;
        }

        private Session acquire(String groupId) {
            ArrayDeque<Session> free = freeSessions.computeIfAbsent(groupId, k -> new ArrayDeque<>());
            if (!free.isEmpty()) {
                return free.poll();
            }
            int n = sessionCount.getOrDefault(groupId, 0);
            if (n >= settings.clientSessionsPerGroup()) {
                return null;
            }
            sessionCount.put(groupId, n + 1);
            return new Session();
        }

        private void bind(Request r, Session session) {
            r.session = session;
            if (!session.opened) {
                r.opening = true;
                r.seq = 0;
            } else {
                r.seq = ++session.seq;
            }
        }

        private void release(Request r) {
            if (r.session == null) {
                return;
            }
            Session s = r.session;
            r.session = null;
            ArrayDeque<Request> q = waiting.get(r.groupId);
            if (q != null && !q.isEmpty()) {
                Request next = q.poll();
                bind(next, s);
                send(next);
            } else {
                freeSessions.computeIfAbsent(r.groupId, k -> new ArrayDeque<>()).add(s);
            }
        }

        /** Sends the next attempt of {@code r} (same session and sequence number) with a fresh correlation id. */
        private void send(Request r) {
            long now = System.nanoTime();
            if (now - r.deadline > 0) {
                timedOut(r);
                return;
            }
            r.attemptId = 0;
            String target = pickTarget(r);
            if (target == null) {
                noHosts.add(r);
                startSweep();
                return;
            }
            r.target = target;
            r.attemptId = nextAttemptId++;
            r.attemptDeadline = now + attemptTimeoutNanos;
            inflight.put(r.attemptId, r);
            startSweep();
            ActorRef<RaftHost.Command> host = hosts.get(target);
            if (r.kind == Kind.ADMIN) {
                host.tell(message(r));
                return;
            }
            if (outbox.isEmpty()) {
                getContext().getSelf().tell(SendOutbox.INSTANCE); // after what is already in the mailbox
            }
            outbox.computeIfAbsent(host, h -> new ArrayList<>()).add(message(r));
        }

        private Behavior<Command> onSendOutbox() {
            for (Map.Entry<ActorRef<RaftHost.Command>, List<RaftHost.Command>> e : outbox.entrySet()) {
                List<RaftHost.Command> requests = e.getValue();
                e.getKey().tell(requests.size() == 1 ? requests.get(0) : new RaftHost.ClientBatch(requests));
            }
            outbox.clear();
            return this;
        }

        private RaftHost.Command message(Request r) {
            switch (r.kind) {
                case PROPOSE:
                    return new RaftHost.ClientPropose(r.groupId, r.session.clientId, r.seq,
                            r.opening ? new byte[0] : r.payload, r.attemptId, replyAdapter);
                case READ:
                    return new RaftHost.ClientRead(r.groupId, r.payload, r.consistency, r.attemptId, replyAdapter);
                default:
                    return RaftHost.MemberAdmin.of(r.groupId, r.admin.apply(r.attemptId, replyAdapter)); // may cross nodes
            }
        }

        private String pickTarget(Request r) {
            if (hosts.isEmpty()) {
                return null;
            }
            String leader = leaders.get(r.groupId);
            if (leader != null && hosts.containsKey(leader)) {
                return leader;
            }
            List<String> candidates = new ArrayList<>(hosts.keySet());
            candidates.removeAll(r.tried.size() >= hosts.size() ? List.of() : r.tried);
            if (candidates.isEmpty()) {
                candidates = new ArrayList<>(hosts.keySet());
                r.tried.clear();
            }
            String pick = candidates.get(ThreadLocalRandom.current().nextInt(candidates.size()));
            r.tried.add(pick);
            return pick;
        }

        private Behavior<Command> onReply(Reply rep) {
            if (rep.reply() instanceof ClientReply.Batch batch) {
                batch.replies().forEach(this::onClientReply);
            } else {
                onClientReply(rep.reply());
            }
            return this;
        }

        private void onClientReply(ClientReply reply) {
            Request r = inflight.remove(reply.requestId());
            if (r == null) {
                return; // a late answer to an attempt that timed out and was retried (or a duplicate)
            }
            r.attemptId = 0;
            if (reply instanceof ClientReply.Ok ok) {
                leaders.put(r.groupId, r.target);
                if (r.opening) {
                    r.session.opened = true;
                    r.opening = false;
                    r.seq = ++r.session.seq;
                    send(r);
                    return;
                }
                r.result.complete(ok.result());
                release(r);
            } else if (reply instanceof ClientReply.NotLeader nl) {
                if (nl.leaderHint() != null && !nl.leaderHint().equals(r.target) && hosts.containsKey(nl.leaderHint())) {
                    leaders.put(r.groupId, nl.leaderHint());
                    send(r);
                } else {
                    leaders.remove(r.groupId);
                    // an election is probably under way: retry shortly
                    r.attemptId = nextAttemptId++;
                    timers.startSingleTimer(r, new Resend(r, r.attemptId), settings.tickInterval().multipliedBy(2));
                }
            } else if (reply instanceof ClientReply.Rejected rj) {
                fail(r, rj.reason());
            }
        }

        private Behavior<Command> onResend(Resend rs) {
            Request r = rs.request();
            if (r.attemptId == rs.attemptId() && !inflight.containsKey(r.attemptId)) {
                send(r);
            }
            return this;
        }

        private void startSweep() {
            if (!sweeping) {
                sweeping = true;
                Duration every = settings.clientAttemptTimeout().dividedBy(10);
                timers.startTimerAtFixedRate(Sweep.INSTANCE, every.compareTo(MIN_SWEEP) < 0 ? MIN_SWEEP : every);
            }
        }

        /** Retries every attempt unanswered for the attempt timeout; fails parked requests past their deadline. */
        private Behavior<Command> onSweep() {
            long now = System.nanoTime();
            List<Request> expired = null;
            Iterator<Request> it = inflight.values().iterator();
            while (it.hasNext()) {
                Request r = it.next();
                if (now - r.attemptDeadline > 0) {
                    it.remove();
                    if (expired == null) {
                        expired = new ArrayList<>();
                    }
                    expired.add(r);
                }
            }
            if (expired != null) {
                for (Request r : expired) {
                    getContext().getLog().debug("no answer from {} for group {} within {}: retrying", r.target,
                            r.groupId, settings.clientAttemptTimeout());
                    leaders.remove(r.groupId, r.target); // no answer in time: try another member
                    send(r);
                }
            }
            Iterator<Request> parked = noHosts.iterator();
            while (parked.hasNext()) {
                Request r = parked.next();
                if (now - r.deadline > 0) {
                    parked.remove();
                    timedOut(r);
                }
            }
            if (inflight.isEmpty() && noHosts.isEmpty()) {
                sweeping = false;
                timers.cancel(Sweep.INSTANCE);
            }
            return this;
        }

        private void timedOut(Request r) {
            fail(r, "no answer from Raft group " + r.groupId + " within " + settings.clientRequestTimeout()
                    + (r.kind == Kind.PROPOSE ? "; the command may or may not have been applied" : ""));
        }

        private void fail(Request r, String message) {
            if (r.attemptId != 0) {
                inflight.remove(r.attemptId);
                r.attemptId = 0;
            }
            r.result.completeExceptionally(new RaftClientException(message));
            release(r);
        }

        private Behavior<Command> onPeersChanged(PeersChanged p) {
            hosts.clear();
            for (ActorRef<RaftHost.Command> ref : p.listing().getServiceInstances(RaftHost.SERVICE_KEY)) {
                String name = ref.path().name();
                if (name.startsWith("raft-")) {
                    hosts.put(name.substring(5), ref);
                }
            }
            if (!hosts.isEmpty()) {
                List<Request> parked = new ArrayList<>(noHosts);
                noHosts.clear();
                parked.forEach(this::send);
            }
            return this;
        }
    }
}
