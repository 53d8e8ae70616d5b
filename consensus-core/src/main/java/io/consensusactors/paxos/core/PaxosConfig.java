package io.consensusactors.paxos.core;

/**
 * Timing of the cores, in ticks (the shell decides how long a tick is).
 *
 * @param retransmitTicks   a proposer resends its current Prepare/Accept after this many ticks without a quorum
 * @param attemptTicks      a single-decree proposer abandons a ballot after this many ticks without a quorum
 * @param backoffTicks      base of the randomized backoff after a rejected or timed-out ballot: the wait is uniform
 *                          in [1, backoffTicks * 2^min(attempts, maxBackoffExponent)]
 * @param maxBackoffExponent cap of the exponential growth of the backoff
 * @param heartbeatTicks    Multi-Paxos: a leader sends a heartbeat (with its chosen prefix) this often
 * @param electionTicks     Multi-Paxos: a replica that hears no leader for electionTicks + random[0, electionTicks)
 *                          ticks runs phase 1 with a higher ballot
 * @param maxBatch          Multi-Paxos: most slots in one Accept or Learn message
 */
public record PaxosConfig(int retransmitTicks, int attemptTicks, int backoffTicks, int maxBackoffExponent,
                          int heartbeatTicks, int electionTicks, int maxBatch) {

    public PaxosConfig {
        if (retransmitTicks < 1 || attemptTicks < 1 || backoffTicks < 1 || maxBackoffExponent < 0
                || heartbeatTicks < 1 || electionTicks <= heartbeatTicks || maxBatch < 1) {
            throw new IllegalArgumentException("bad Paxos timing: " + this);
        }
    }

    public static PaxosConfig defaults() {
        return new PaxosConfig(4, 24, 4, 5, 2, 10, 64);
    }

    public PaxosConfig withElection(int heartbeat, int election) {
        return new PaxosConfig(retransmitTicks, attemptTicks, backoffTicks, maxBackoffExponent, heartbeat, election,
                maxBatch);
    }

    public PaxosConfig withAttempt(int retransmit, int attempt, int backoff) {
        return new PaxosConfig(retransmit, attempt, backoff, maxBackoffExponent, heartbeatTicks, electionTicks,
                maxBatch);
    }

    public PaxosConfig withMaxBatch(int batch) {
        return new PaxosConfig(retransmitTicks, attemptTicks, backoffTicks, maxBackoffExponent, heartbeatTicks,
                electionTicks, batch);
    }
}
