package io.consensusactors.paxos.actor;

import com.typesafe.config.Config;
import io.consensusactors.paxos.core.PaxosConfig;

import java.time.Duration;

/**
 * Settings of the Paxos actors of one node, from the block {@code consensus-actors.paxos} (every key optional; the
 * defaults below apply):
 *
 * <pre>
 * consensus-actors.paxos {
 *   node-id = 0           # unique per node in the cluster, 0..4095 (part of every ballot this node issues)
 *   acceptor-id = 0       # the acceptor this node hosts, 0..acceptors-1, unique in the cluster; -1: none
 *   acceptors = 3         # size of the fixed acceptor set: a quorum is a majority of it, never of who answers
 *   tick-interval = 20ms  # one core tick
 *   retransmit-ticks = 25, attempt-ticks = 100, backoff-ticks = 5   # 500 ms, 2 s, 100 ms..3.2 s
 *   decide-timeout = 5s   # a decide/read that has not finished by then fails (the value may still be chosen)
 *   acceptor-idle-timeout = 120s  # a per-key acceptor without messages for that long is passivated
 *   learned-cache-size = 100000   # chosen values remembered per node
 * }
 * </pre>
 */
public record PaxosSettings(int nodeId, int acceptorId, int acceptors, Duration tickInterval, PaxosConfig core,
                            Duration decideTimeout, Duration acceptorIdleTimeout, int learnedCacheSize) {

    public static final String PREFIX = "consensus-actors.paxos";

    public PaxosSettings {
        if (nodeId < 0 || nodeId >= 4096) {
            throw new IllegalArgumentException(PREFIX + ".node-id must be in 0..4095, was " + nodeId);
        }
        if (acceptors < 1) {
            throw new IllegalArgumentException(PREFIX + ".acceptors must be at least 1, was " + acceptors);
        }
        if (acceptorId < -1 || acceptorId >= acceptors) {
            throw new IllegalArgumentException(PREFIX + ".acceptor-id must be -1 (none) or in 0.." + (acceptors - 1)
                    + ", was " + acceptorId);
        }
        if (tickInterval.isZero() || tickInterval.isNegative() || decideTimeout.compareTo(tickInterval) <= 0) {
            throw new IllegalArgumentException(PREFIX + ": tick-interval must be positive and below decide-timeout");
        }
    }

    public static PaxosSettings defaults(int nodeId, int acceptorId, int acceptors) {
        return new PaxosSettings(nodeId, acceptorId, acceptors, Duration.ofMillis(20),
                PaxosConfig.defaults().withAttempt(25, 100, 5), Duration.ofSeconds(5), Duration.ofSeconds(120), 100_000);
    }

    /** Reads {@code consensus-actors.paxos} from {@code config}, with the defaults for missing keys. */
    public static PaxosSettings fromConfig(Config config) {
        PaxosSettings d = defaults(0, 0, 3);
        if (!config.hasPath(PREFIX)) {
            return d;
        }
        Config c = config.getConfig(PREFIX);
        PaxosConfig core = d.core.withAttempt(
                c.hasPath("retransmit-ticks") ? c.getInt("retransmit-ticks") : d.core.retransmitTicks(),
                c.hasPath("attempt-ticks") ? c.getInt("attempt-ticks") : d.core.attemptTicks(),
                c.hasPath("backoff-ticks") ? c.getInt("backoff-ticks") : d.core.backoffTicks());
        return new PaxosSettings(
                c.hasPath("node-id") ? c.getInt("node-id") : d.nodeId,
                c.hasPath("acceptor-id") ? c.getInt("acceptor-id") : d.acceptorId,
                c.hasPath("acceptors") ? c.getInt("acceptors") : d.acceptors,
                c.hasPath("tick-interval") ? c.getDuration("tick-interval") : d.tickInterval,
                core,
                c.hasPath("decide-timeout") ? c.getDuration("decide-timeout") : d.decideTimeout,
                c.hasPath("acceptor-idle-timeout") ? c.getDuration("acceptor-idle-timeout") : d.acceptorIdleTimeout,
                c.hasPath("learned-cache-size") ? c.getInt("learned-cache-size") : d.learnedCacheSize);
    }

    public PaxosSettings withDecideTimeout(Duration timeout) {
        return new PaxosSettings(nodeId, acceptorId, acceptors, tickInterval, core, timeout, acceptorIdleTimeout,
                learnedCacheSize);
    }

    public PaxosSettings withCore(PaxosConfig config) {
        return new PaxosSettings(nodeId, acceptorId, acceptors, tickInterval, config, decideTimeout,
                acceptorIdleTimeout, learnedCacheSize);
    }

    public PaxosSettings withTickInterval(Duration tick) {
        return new PaxosSettings(nodeId, acceptorId, acceptors, tick, core, decideTimeout, acceptorIdleTimeout,
                learnedCacheSize);
    }

    public int quorum() {
        return acceptors / 2 + 1;
    }

    /** The decide timeout in ticks (at least 1). */
    public long decideTimeoutTicks() {
        return Math.max(1, decideTimeout.toNanos() / tickInterval.toNanos());
    }
}
