package io.consensusactors.paxos.actor;

import com.typesafe.config.Config;
import io.consensusactors.paxos.core.PaxosConfig;

import java.time.Duration;

/**
 * Settings of the Multi-Paxos members of a node, from {@code consensus-actors.paxos.multi-paxos} (every key optional):
 *
 * <pre>
 * consensus-actors.paxos.multi-paxos {
 *   tick-interval = 10ms        # one core tick
 *   heartbeat-ticks = 10        # a leader's heartbeat period (100 ms)
 *   election-ticks = 50         # no leader heard for 50..99 ticks (0.5..1 s): run phase 1
 *   retransmit-ticks = 10       # resend unacknowledged Prepare/Accept
 *   max-batch = 64              # slots per Accept / Learn
 *   compact-every = 1000        # snapshot the state machine and truncate the log every 1000 applied slots; 0: never
 *   journal-snapshot-every = 500  # write the member's durable state to the snapshot store every 500 journal events
 *                                 # and delete the events before it
 * }
 * </pre>
 */
public record MultiPaxosSettings(Duration tickInterval, PaxosConfig core, long compactEvery, int journalSnapshotEvery) {

    public static final String PREFIX = "consensus-actors.paxos.multi-paxos";

    public MultiPaxosSettings {
        if (tickInterval.isZero() || tickInterval.isNegative()) {
            throw new IllegalArgumentException(PREFIX + ".tick-interval must be positive, was " + tickInterval);
        }
        if (compactEvery < 0) {
            throw new IllegalArgumentException(PREFIX + ".compact-every must be 0 (never) or positive, was "
                    + compactEvery);
        }
        if (journalSnapshotEvery < 1) {
            throw new IllegalArgumentException(PREFIX + ".journal-snapshot-every must be positive, was "
                    + journalSnapshotEvery);
        }
    }

    public static MultiPaxosSettings defaults() {
        return new MultiPaxosSettings(Duration.ofMillis(10),
                PaxosConfig.defaults().withElection(10, 50).withAttempt(10, 50, 5).withMaxBatch(64), 1000, 500);
    }

    public static MultiPaxosSettings fromConfig(Config config) {
        MultiPaxosSettings d = defaults();
        if (!config.hasPath(PREFIX)) {
            return d;
        }
        Config c = config.getConfig(PREFIX);
        PaxosConfig core = d.core
                .withElection(c.hasPath("heartbeat-ticks") ? c.getInt("heartbeat-ticks") : d.core.heartbeatTicks(),
                        c.hasPath("election-ticks") ? c.getInt("election-ticks") : d.core.electionTicks())
                .withAttempt(c.hasPath("retransmit-ticks") ? c.getInt("retransmit-ticks") : d.core.retransmitTicks(),
                        d.core.attemptTicks(), d.core.backoffTicks())
                .withMaxBatch(c.hasPath("max-batch") ? c.getInt("max-batch") : d.core.maxBatch());
        return new MultiPaxosSettings(
                c.hasPath("tick-interval") ? c.getDuration("tick-interval") : d.tickInterval,
                core,
                c.hasPath("compact-every") ? c.getLong("compact-every") : d.compactEvery,
                c.hasPath("journal-snapshot-every") ? c.getInt("journal-snapshot-every") : d.journalSnapshotEvery);
    }

    public MultiPaxosSettings withCore(PaxosConfig config) {
        return new MultiPaxosSettings(tickInterval, config, compactEvery, journalSnapshotEvery);
    }

    public MultiPaxosSettings withTickInterval(Duration tick) {
        return new MultiPaxosSettings(tick, core, compactEvery, journalSnapshotEvery);
    }

    public MultiPaxosSettings withCompaction(long everySlots, int journalSnapshotEveryEvents) {
        return new MultiPaxosSettings(tickInterval, core, everySlots, journalSnapshotEveryEvents);
    }
}
