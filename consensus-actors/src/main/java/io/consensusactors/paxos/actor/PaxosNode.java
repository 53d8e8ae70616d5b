package io.consensusactors.paxos.actor;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.time.Duration;

/**
 * The per-node guardian of the Paxos actors: the node's acceptor (if it hosts one), its learner, its durable proposer
 * incarnation counter and its proposer, each supervised with restart and backoff. Requests for the proposer
 * ({@link PaxosProposer.Decide}, {@link PaxosProposer.Read}) sent to the guardian are forwarded to it, so the guardian's
 * ref is the node's stable entry point (see {@link ConsensusRegister}).
 */
public final class PaxosNode {

    private PaxosNode() {
    }

    public static Behavior<PaxosProposer.Command> create(PaxosSettings settings) {
        return Behaviors.setup(context -> {
            if (settings.acceptorId() >= 0) {
                context.spawn(PaxosAcceptorHost.create(settings.acceptorId(), settings.acceptorIdleTimeout()),
                        "acceptor-" + settings.acceptorId());
            }
            ActorRef<PaxosLearner.Command> learner = context.spawn(PaxosLearner.create(settings.learnedCacheSize()),
                    "learner");
            ActorRef<ProposerIncarnation.Command> incarnations = context.spawn(
                    ProposerIncarnation.create(settings.nodeId()), "incarnation");
            ActorRef<PaxosProposer.Command> proposer = context.spawn(
                    Behaviors.supervise(PaxosProposer.create(settings, learner, incarnations))
                            .onFailure(SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200),
                                    Duration.ofSeconds(5), 0.2)),
                    "proposer");
            return Behaviors.receiveMessage(m -> {
                proposer.tell(m);
                return Behaviors.same();
            });
        });
    }
}
