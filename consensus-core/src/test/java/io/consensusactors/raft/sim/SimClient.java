package io.consensusactors.raft.sim;
import io.consensusactors.statemachine.KeyValueStateMachine;

import io.consensusactors.raft.core.ProposeResult;
import io.consensusactors.raft.core.ReadConsistency;
import io.consensusactors.statemachine.SessionStateMachine;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A simulated client with an exactly-once session: one operation at a time, retried with the same sequence number
 * at whichever member it believes leads, recorded as a history of (call, return) for the linearizability checker.
 */
public final class SimClient {

    /** A KV operation. kind: PUT(key, a) / CAS(key, a=expect, b=update) / GET(key). */
    public record KvOp(String kind, String key, String a, String b, ReadConsistency consistency) {
        @Override
        public String toString() {
            return switch (kind) {
                case "PUT" -> "put(" + key + "," + a + ")";
                case "CAS" -> "cas(" + key + "," + a + "->" + b + ")";
                default -> "get(" + key + ")/" + consistency;
            };
        }
    }

    /** One finished or unfinished operation: returnTime = Long.MAX_VALUE and output = null when unknown. */
    public record Record(int client, KvOp op, long callTime, String output, long returnTime) {
    }

    private static final int RETRY_TICKS = 25;

    private final RaftSimCluster cluster;
    private final int id;
    final long clientId;
    private long seq;
    private boolean sessionOpen;
    private KvOp op;
    private long callTime;
    private RaftSimCluster.Member target;
    private long sentAt = Long.MIN_VALUE;
    private boolean inFlight;
    private long readContext;
    private String leaderHint;
    private RaftSimCluster.Member sticky;
    private int counter;
    private final List<Record> history;
    private static long nextContext = 1;

    public SimClient(RaftSimCluster cluster, int id, List<Record> history) {
        this.cluster = cluster;
        this.id = id;
        this.clientId = 1000L + id;
        this.history = history;
        cluster.onApply(this::onApplied);
        cluster.onRead(this::onRead);
    }

    public boolean idle() {
        return op == null && sessionOpen;
    }

    /** Called once per tick. */
    public void tick(boolean startNew, String[] keys) {
        if (!sessionOpen && !inFlight) {
            send();
            return;
        }
        if (op == null && sessionOpen && startNew) {
            start(keys);
        }
        if ((op != null || !sessionOpen) && (!inFlight || cluster.now - sentAt >= RETRY_TICKS)) {
            if (inFlight) {
                sticky = null; // timed out: try elsewhere
            }
            send();
        }
    }

    private void start(String[] keys) {
        String key = keys[cluster.rng.nextInt(keys.length)];
        int kind = cluster.rng.nextInt(10);
        if (kind < 4) {
            op = new KvOp("PUT", key, "c" + id + "-" + (++counter), null, null);
        } else if (kind < 6) {
            String expect = cluster.rng.nextBoolean() ? "" : "c" + cluster.rng.nextInt(4) + "-" + (1 + cluster.rng.nextInt(Math.max(1, counter)));
            op = new KvOp("CAS", key, expect, "c" + id + "-" + (++counter), null);
        } else {
            op = new KvOp("GET", key, null, null,
                    cluster.rng.nextInt(3) == 0 ? ReadConsistency.LEASE : ReadConsistency.LINEARIZABLE);
        }
        seq = op.kind().equals("GET") ? seq : seq + 1;
        callTime = ++cluster.clock;
        inFlight = false;
    }

    private void send() {
        target = pickTarget();
        if (target == null) {
            return;
        }
        sentAt = cluster.now;
        inFlight = true;
        if (!sessionOpen) {
            ProposeResult r = cluster.propose(target, clientId, 0, new byte[0]);
            onProposeResult(r);
            return;
        }
        if (op.kind().equals("GET")) {
            readContext = nextContext++;
            cluster.read(target, readContext, KeyValueStateMachine.get(op.key()), op.consistency());
            return;
        }
        byte[] cmd = op.kind().equals("PUT") ? KeyValueStateMachine.put(op.key(), op.a()) : KeyValueStateMachine.cas(op.key(), op.a(), op.b());
        onProposeResult(cluster.propose(target, clientId, seq, cmd));
    }

    private void onProposeResult(ProposeResult r) {
        if (r instanceof ProposeResult.Rejected rej) {
            leaderHint = rej.leaderHint();
            sticky = null;
            inFlight = false;
        }
    }

    private RaftSimCluster.Member pickTarget() {
        if (sticky != null && sticky.up() && leaderHint == null) {
            return sticky; // like a real client: keep talking to the member that answered last (Jepsen's stale-read trap)
        }
        sticky = null;
        if (leaderHint != null) {
            RaftSimCluster.Member m = cluster.member(leaderHint);
            leaderHint = null;
            if (m.up()) {
                return m;
            }
        }
        List<RaftSimCluster.Member> up = new ArrayList<>();
        for (RaftSimCluster.Member m : cluster.members) {
            if (m.up()) {
                up.add(m);
            }
        }
        return up.isEmpty() ? null : up.get(cluster.rng.nextInt(up.size()));
    }

    private void onApplied(RaftSimCluster.Applied a) {
        if (!inFlight || a.member() != target || a.entry().clientId() != clientId || a.result() == null) {
            return;
        }
        SessionStateMachine.Result res = a.result();
        if (!sessionOpen) {
            if (a.entry().seq() == 0) {
                sessionOpen = true;
                inFlight = false;
            }
            return;
        }
        if (op == null || op.kind().equals("GET") || a.entry().seq() != seq) {
            return;
        }
        if (res.outcome() == SessionStateMachine.Outcome.SESSION_EXPIRED
                || res.outcome() == SessionStateMachine.Outcome.STALE) {
            cluster.fail("exactly-once: client " + clientId + " seq " + seq + " answered " + res.outcome());
        }
        complete(new String(res.value(), StandardCharsets.UTF_8));
    }

    private void onRead(RaftSimCluster.ServedRead r) {
        if (!inFlight || op == null || !op.kind().equals("GET") || r.context() != readContext) {
            return;
        }
        if (!r.ok()) {
            leaderHint = r.leaderHint();
            sticky = null;
            inFlight = false;
            return;
        }
        complete(new String(r.value(), StandardCharsets.UTF_8));
    }

    private void complete(String output) {
        sticky = target;
        history.add(new Record(id, op, callTime, output, ++cluster.clock));
        op = null;
        inFlight = false;
    }

    /** Records the outstanding operation, if any, as one of unknown outcome. */
    public void abandon() {
        if (op != null) {
            history.add(new Record(id, op, callTime, null, Long.MAX_VALUE));
            op = null;
        }
    }

    public boolean hasOutstanding() {
        return op != null || !sessionOpen;
    }
}
