package io.consensusactors.raft.actor;

import com.typesafe.config.Config;
import io.consensusactors.raft.core.RaftConfig;

import java.time.Duration;

/** Settings of the Raft actors, read from {@code consensus-actors.raft} (see reference.conf). */
public record RaftSettings(Duration tickInterval, RaftConfig core, long compactAfterEntries, int journalCheckpointEvery,
                           int maxSessions, long sessionExpireAfterEntries, Duration clientAttemptTimeout,
                           Duration clientRequestTimeout, int clientSessionsPerGroup, Duration flushDelay,
                           int firstElectionSpreadTicks, int maxWritesInFlight) {

    public static final String PREFIX = "consensus-actors.raft";

    public static RaftSettings from(Config config) {
        Config c = config.getConfig(PREFIX);
        try {
            RaftConfig core = new RaftConfig(c.getInt("election-ticks"), c.getInt("heartbeat-ticks"),
                    c.getBoolean("pre-vote"), c.getBoolean("check-quorum"), c.getInt("max-inflight-messages"),
                    c.getBytes("max-inflight-bytes"), c.getInt("max-entries-per-message"),
                    c.getBytes("max-bytes-per-message"), c.getBytes("snapshot-chunk-bytes").intValue(),
                    c.getInt("lease-safety-ticks"), c.getLong("max-promotion-lag"), c.getInt("quiesce-after-ticks"));
            RaftSettings s = new RaftSettings(c.getDuration("tick-interval"), core, c.getLong("compact-after-entries"),
                    c.getInt("journal-checkpoint-every"), c.getInt("session.max-sessions"),
                    c.getLong("session.expire-after-entries"), c.getDuration("client.attempt-timeout"),
                    c.getDuration("client.request-timeout"), c.getInt("client.sessions-per-group"),
                    c.getDuration("flush-delay"), c.getInt("first-election-spread-ticks"),
                    c.getInt("max-writes-in-flight"));
            if (s.tickInterval.isZero() || s.tickInterval.isNegative()) {
                throw new IllegalArgumentException(PREFIX + ".tick-interval must be positive");
            }
            if (s.firstElectionSpreadTicks < 0) {
                throw new IllegalArgumentException(PREFIX + ".first-election-spread-ticks must be >= 0");
            }
            if (s.maxWritesInFlight < 1) {
                throw new IllegalArgumentException(PREFIX + ".max-writes-in-flight must be >= 1, was " + s.maxWritesInFlight);
            }
            if (s.compactAfterEntries < 1 || s.journalCheckpointEvery < 1) {
                throw new IllegalArgumentException(PREFIX + ".compact-after-entries and journal-checkpoint-every must be positive");
            }
            return s;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid " + PREFIX + " settings: " + e.getMessage()
                    + " (see consensus-actors' reference.conf for every key and its meaning)", e);
        }
    }

    public RaftSettings withFirstElectionSpreadTicks(int ticks) {
        return new RaftSettings(tickInterval, core, compactAfterEntries, journalCheckpointEvery, maxSessions,
                sessionExpireAfterEntries, clientAttemptTimeout, clientRequestTimeout, clientSessionsPerGroup, flushDelay,
                ticks, maxWritesInFlight);
    }

    public RaftSettings withCore(RaftConfig c) {
        return new RaftSettings(tickInterval, c, compactAfterEntries, journalCheckpointEvery, maxSessions,
                sessionExpireAfterEntries, clientAttemptTimeout, clientRequestTimeout, clientSessionsPerGroup, flushDelay,
                firstElectionSpreadTicks, maxWritesInFlight);
    }
}
