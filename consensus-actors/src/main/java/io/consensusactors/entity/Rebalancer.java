package io.consensusactors.entity;

import io.consensusactors.raft.actor.ClientReply;
import io.consensusactors.raft.actor.RaftHost;
import io.consensusactors.raft.actor.RaftMember;
import io.consensusactors.raft.core.Role;
import io.consensusactors.sharding.ring.HashRing;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Moves this node's Raft groups to the replicas the consistent-hash ring gives them over the <em>current</em>
 * members, one per node (started by {@link ConsensusEntities} on nodes that host replicas in a cluster).
 *
 * <p><b>Who hosts replicas.</b> The hosting members are the cluster members with status {@code Up} that run a
 * {@link RaftHost} (registered with the Receptionist; a host's node id is its actor name {@code raft-<nodeId>}, as
 * {@link RaftHost} and the Raft client already use). Joining, Leaving, Exiting, Down and removed members do not
 * host; an {@code Up} member that is merely unreachable still does (a restart must not move its groups). Every node
 * computes the same ring from the same converged membership. Nothing moves until that set has been unchanged for
 * {@code stable-after}, so a cluster that is still forming or a rolling restart does not move groups towards
 * transient owners.
 *
 * <p><b>Who moves a group.</b> Every {@code interval} the rebalancer asks each local member for its status. Where the
 * local member leads the group, it plans the next step with {@link MovePlanner} from the group's configuration (the
 * latest in the leader's log) and sends it to the member: add the new owner as a learner (its node's host starts the
 * member when the first message arrives; the member learns its configuration from the leader), retry the joint
 * change that promotes it and removes one old replica until the core accepts it (the core refuses a learner that has
 * not caught up), and let the leader append C(new). At most {@code max-concurrent-moves} groups led here are moving at
 * once. A new leader recomputes from the configuration it holds, so a move survives leader changes; a failed or
 * timed-out call is simply planned again at the next round.
 *
 * <p><b>Removed members</b> are stopped, and their journal is left in place (inert): a local member that is not an
 * owner any more asks the group's leader for its status and stops itself once a leader reports a non-joint
 * configuration without it <em>and</em> that leader's commit index has passed the last index it had when that was
 * first seen (so C(new) is committed and no future leader can need it). Keeping the journal means a node that is
 * added back later resumes from its old log (Raft repairs it) rather than rejoining with a blank state under the
 * same id, which could make it vote twice in one term. A stray message for the group starts the member again from
 * that journal; it is not in the configuration, so it cannot win an election (PreVote), and it is stopped again.
 *
 * <p><b>Leaving.</b> {@link AwaitHandoff} answers once no local group still has somewhere to go: used by the
 * coordinated-shutdown task that {@link ConsensusEntities} registers, so a node that leaves gracefully hands its
 * replicas over before it exits (bounded by {@code leave-timeout}).
 */
public final class Rebalancer extends AbstractBehavior<Rebalancer.Command> {

    public sealed interface Command {
    }

    /** Answered once no local group has a replacement owner left to move to. */
    public record AwaitHandoff(ActorRef<HandoffDone> replyTo) implements Command {
    }

    /** The local groups still hosted here when the hand-off ended (empty: every replica moved to other members). */
    public record HandoffDone(Set<String> groupsLeft) {
    }

    /** Counters and the current hosting set, for tests and operators. */
    public record GetStats(ActorRef<Stats> replyTo) implements Command {
    }

    public record Stats(SortedSet<String> hosting, boolean stable, int movesLedHere, long changesApplied,
                        long membersStopped) {
    }

    private enum Tick implements Command { INSTANCE }

    private record HostsChanged(Receptionist.Listing listing) implements Command {
    }

    private record LocalGroups(Set<String> groups) implements Command {
    }

    private record StatusReceived(RaftMember.Status status) implements Command {
    }

    private record AdminDone(String groupId, String what, ClientReply reply, Throwable failure) implements Command {
    }

    /** Settings read from {@code consensus-actors.entities.rebalance}. */
    public record Settings(Duration interval, Duration stableAfter, int maxConcurrentMoves, Duration callTimeout,
                           Duration leaveTimeout, int vnodes) {
        public Settings {
            if (maxConcurrentMoves < 1) {
                throw new IllegalArgumentException("consensus-actors.entities.rebalance.max-concurrent-moves must be "
                        + "at least 1, was " + maxConcurrentMoves);
            }
        }

        public static Settings from(com.typesafe.config.Config config) {
            com.typesafe.config.Config c = config.getConfig("consensus-actors.entities");
            com.typesafe.config.Config r = c.getConfig("rebalance");
            return new Settings(r.getDuration("interval"), r.getDuration("stable-after"),
                    r.getInt("max-concurrent-moves"), r.getDuration("call-timeout"), r.getDuration("leave-timeout"),
                    c.getInt("ring-vnodes"));
        }
    }

    private final String nodeId;
    private final ActorRef<RaftHost.Command> host;
    private final Function<String, Integer> replicasOfGroup;
    private final Settings settings;
    private final ActorRef<RaftMember.Status> statusAdapter;
    private final ActorRef<Set<String>> groupsAdapter;
    private final Map<String, ActorRef<RaftHost.Command>> hosts = new HashMap<>();
    private SortedSet<String> hosting = new TreeSet<>();
    private HashRing ring;
    private long stableSince = System.nanoTime();
    private final Set<String> busy = new HashSet<>();
    private final Map<String, Boolean> moving = new HashMap<>();
    private final Map<String, Boolean> needsMove = new HashMap<>();
    private final Map<String, Long> removalMarks = new HashMap<>();
    private Set<String> localGroups = Set.of();
    private final List<ActorRef<HandoffDone>> handoffWaiters = new ArrayList<>();
    private long changesApplied;
    private long membersStopped;

    /**
     * @param replicasOfGroup the replica count of a group's entity type, or null for a group that is not an entity
     *                        shard (left alone)
     */
    public static Behavior<Command> create(String nodeId, ActorRef<RaftHost.Command> host,
                                           Function<String, Integer> replicasOfGroup, Settings settings) {
        Behavior<Command> behavior = Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
                new Rebalancer(ctx, timers, nodeId, host, replicasOfGroup, settings)));
        // a bug here must not end rebalancing on this node for good: restart from scratch (all state is recomputed)
        return Behaviors.supervise(behavior).onFailure(SupervisorStrategy.restartWithBackoff(
                Duration.ofSeconds(1), Duration.ofSeconds(30), 0.2));
    }

    public static String actorName(String nodeId) {
        return "rebalancer-" + nodeId;
    }

    @SuppressWarnings("unchecked")
    private Rebalancer(ActorContext<Command> context, TimerScheduler<Command> timers, String nodeId,
                       ActorRef<RaftHost.Command> host, Function<String, Integer> replicasOfGroup, Settings settings) {
        super(context);
        context.setLoggerName(Rebalancer.class);
        this.nodeId = nodeId;
        this.host = host;
        this.replicasOfGroup = replicasOfGroup;
        this.settings = settings;
        this.ring = HashRing.ofIds(settings.vnodes(), List.of());
        this.statusAdapter = context.messageAdapter(RaftMember.Status.class, StatusReceived::new);
        this.groupsAdapter = context.messageAdapter((Class<Set<String>>) (Class<?>) Set.class, LocalGroups::new);
        ActorRef<Receptionist.Listing> listing = context.messageAdapter(Receptionist.Listing.class, HostsChanged::new);
        context.getSystem().receptionist().tell(Receptionist.subscribe(RaftHost.SERVICE_KEY, listing));
        timers.startTimerWithFixedDelay(Tick.INSTANCE, settings.interval());
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Tick.class, t -> onTick())
                .onMessage(HostsChanged.class, this::onHostsChanged)
                .onMessage(LocalGroups.class, this::onLocalGroups)
                .onMessage(StatusReceived.class, this::onStatus)
                .onMessage(AdminDone.class, this::onAdminDone)
                .onMessage(AwaitHandoff.class, this::onAwaitHandoff)
                .onMessage(GetStats.class, this::onGetStats)
                .build();
    }

    // ------------------------------------------------------------------ membership

    private Behavior<Command> onHostsChanged(HostsChanged h) {
        hosts.clear();
        // all instances, also on unreachable nodes: a node that is only unreachable (a pause, a partition) keeps its
        // replicas; they move when it is downed or leaves. The reachable-only view would move every group of a
        // paused node away after stable-after, and back when it returns.
        for (ActorRef<RaftHost.Command> ref : h.listing().getAllServiceInstances(RaftHost.SERVICE_KEY)) {
            String name = ref.path().name();
            if (name.startsWith("raft-")) {
                hosts.put(name.substring(5), ref);
            }
        }
        return this;
    }

    private SortedSet<String> currentHosting() {
        Cluster cluster = Cluster.get(getContext().getSystem());
        Address self = cluster.selfMember().address();
        Map<Address, String> byAddress = new HashMap<>();
        for (Map.Entry<String, ActorRef<RaftHost.Command>> e : hosts.entrySet()) {
            Address a = e.getValue().path().address();
            byAddress.put(a.hasGlobalScope() ? a : self, e.getKey());
        }
        SortedSet<String> up = new TreeSet<>();
        for (Member m : cluster.state().getMembers()) {
            String id = byAddress.get(m.address());
            if (id != null && m.status() == MemberStatus.up()) {
                up.add(id);
            }
        }
        return up;
    }

    /** Whether groups may move: some member hosts replicas and that set has not changed for stable-after. */
    private boolean stable() {
        return !hosting.isEmpty() && System.nanoTime() - stableSince >= settings.stableAfter().toNanos();
    }

    private List<String> target(String groupId, int replicas) {
        return ring.size() == 0 ? List.of() : ring.owners(groupId, Math.min(replicas, ring.size()));
    }

    // ------------------------------------------------------------------ rounds

    private Behavior<Command> onTick() {
        SortedSet<String> now = currentHosting();
        if (!now.equals(hosting)) {
            getContext().getLog().info("rebalancer {}: members hosting replicas {} -> {}", nodeId, hosting, now);
            hosting = now;
            ring = HashRing.ofIds(settings.vnodes(), now);
            stableSince = System.nanoTime();
            removalMarks.clear();
            needsMove.clear(); // computed under the old ring: unknown (= still to move) until statuses come back
        }
        host.tell(new RaftHost.GetGroups(groupsAdapter));
        return this;
    }

    private Behavior<Command> onLocalGroups(LocalGroups g) {
        localGroups = g.groups();
        moving.keySet().retainAll(localGroups);
        needsMove.keySet().retainAll(localGroups);
        busy.retainAll(localGroups);
        removalMarks.keySet().retainAll(localGroups);
        answerHandoff();
        if (!stable()) {
            return this;
        }
        for (String group : localGroups) {
            if (replicasOfGroup.apply(group) != null) {
                host.tell(new RaftHost.GetMemberStatus(group, statusAdapter));
            }
        }
        return this;
    }

    private Behavior<Command> onStatus(StatusReceived m) {
        RaftMember.Status s = m.status();
        Integer replicas = replicasOfGroup.apply(s.groupId());
        if (replicas == null || !stable()) {
            return this;
        }
        List<String> target = target(s.groupId(), replicas);
        if (!s.member().equals(nodeId)) {
            onLeaderStatus(s);
            return this;
        }
        // still to hand over: not an owner, unless no other node can take the replica (the group keeps its size)
        boolean blocked = !s.joint() && s.voters().contains(nodeId) && s.voters().containsAll(target)
                && s.voters().size() <= replicas;
        needsMove.put(s.groupId(), !target.contains(nodeId) && !blocked);
        if (s.role() == Role.LEADER) {
            lead(s, target, replicas);
        } else {
            moving.remove(s.groupId());
            boolean inConfig = s.voters().contains(nodeId) || s.learners().contains(nodeId);
            if (!target.contains(nodeId) || !inConfig) {
                checkRemoved(s, target);
            }
        }
        answerHandoff();
        return this;
    }

    private void lead(RaftMember.Status s, List<String> target, int replicas) {
        String g = s.groupId();
        moving.put(g, MovePlanner.moving(s.learners(), s.joint(), target));
        if (busy.contains(g)) {
            return;
        }
        long others = moving.entrySet().stream().filter(e -> e.getValue() && !e.getKey().equals(g)).count();
        MovePlanner.Step step = MovePlanner.plan(nodeId, s.voters(), s.learners(), s.joint(), target, replicas,
                others < settings.maxConcurrentMoves());
        if (step instanceof MovePlanner.Change c) {
            busy.add(g);
            if (MovePlanner.moving(c.learners(), false, target)) {
                moving.put(g, true); // counts against the budget now, before the next status shows the learner
            }
            getContext().getLog().info("rebalancer {}: group {} voters {} learners {} -> voters {} learners {} ({})",
                    nodeId, g, s.voters(), s.learners(), c.voters(), c.learners(), c.why());
            getContext().ask(ClientReply.class, host, settings.callTimeout(),
                    r -> new RaftHost.ToMember(g, new RaftMember.ChangeMembership(c.voters(), c.learners(), 0L, r)),
                    (reply, failure) -> new AdminDone(g, c.why(), reply, failure));
        } else if (step instanceof MovePlanner.Transfer t) {
            busy.add(g);
            getContext().getLog().info("rebalancer {}: group {} leadership -> {} before removing {}",
                    nodeId, g, t.to(), nodeId);
            getContext().ask(ClientReply.class, host, settings.callTimeout(),
                    r -> new RaftHost.ToMember(g, new RaftMember.TransferLeadership(t.to(), 0L, r)),
                    (reply, failure) -> new AdminDone(g, "transfer to " + t.to(), reply, failure));
        }
    }

    private Behavior<Command> onAdminDone(AdminDone d) {
        busy.remove(d.groupId());
        if (d.reply() instanceof ClientReply.Ok) {
            changesApplied++;
        } else {
            // not caught up yet, a change still committing, lost leadership, no answer: planned again next round
            getContext().getLog().debug("rebalancer {}: group {} {} not done now: {}", nodeId, d.groupId(), d.what(),
                    d.failure() != null ? d.failure().toString() : d.reply());
        }
        return this;
    }

    // ------------------------------------------------------------------ removed members

    private void checkRemoved(RaftMember.Status local, List<String> target) {
        // the leader we know of may be stale (it left): ask the owners and the voters we know too
        Set<String> ask = new TreeSet<>(target);
        ask.addAll(local.voters());
        if (local.leader() != null) {
            ask.add(local.leader());
        }
        ask.remove(nodeId);
        for (String n : ask) {
            ActorRef<RaftHost.Command> h = hosts.get(n);
            if (h != null) {
                h.tell(new RaftHost.GetMemberStatus(local.groupId(), statusAdapter));
            }
        }
    }

    private void onLeaderStatus(RaftMember.Status leader) {
        String g = leader.groupId();
        if (leader.role() != Role.LEADER || !localGroups.contains(g)) {
            return;
        }
        boolean excluded = !leader.joint() && !leader.voters().contains(nodeId) && !leader.learners().contains(nodeId);
        if (!excluded) {
            removalMarks.remove(g);
            return;
        }
        Long mark = removalMarks.get(g);
        if (mark == null) {
            removalMarks.put(g, leader.lastIndex()); // C(new) is at or below this index
        } else if (leader.commitIndex() >= mark) {
            getContext().getLog().info("rebalancer {}: removed from group {} (leader {} at term {}, voters {}): "
                    + "stopping the local member, its journal is kept", nodeId, g, leader.member(), leader.term(),
                    leader.voters());
            removalMarks.remove(g);
            host.tell(new RaftHost.StopGroup(g));
            membersStopped++;
        }
    }

    // ------------------------------------------------------------------ leaving

    private Behavior<Command> onAwaitHandoff(AwaitHandoff a) {
        handoffWaiters.add(a.replyTo());
        return this;
    }

    private void answerHandoff() {
        if (handoffWaiters.isEmpty()) {
            return;
        }
        boolean nobodyElse = hosting.stream().allMatch(nodeId::equals); // the last hosting node: nowhere to go
        boolean done = nobodyElse || stable();
        for (String g : nobodyElse ? Set.<String>of() : localGroups) {
            if (replicasOfGroup.apply(g) != null && needsMove.getOrDefault(g, true)) {
                done = false;
                break;
            }
        }
        if (done) {
            getContext().getLog().info("rebalancer {}: hand-off done, local groups left: {}", nodeId, localGroups);
            HandoffDone result = new HandoffDone(Set.copyOf(localGroups));
            handoffWaiters.forEach(w -> w.tell(result));
            handoffWaiters.clear();
        }
    }

    private Behavior<Command> onGetStats(GetStats g) {
        int led = (int) moving.values().stream().filter(b -> b).count();
        g.replyTo().tell(new Stats(new TreeSet<>(hosting), stable(), led, changesApplied, membersStopped));
        return this;
    }
}
