package io.consensusactors.bank.transfer;

import io.consensusactors.entity.Effect;
import io.consensusactors.entity.ReplicatedEntity;
import io.consensusactors.entity.ReplicatedEntityType;
import io.consensusactors.persistence.CborSerializable;

import java.util.ArrayList;
import java.util.List;

/**
 * The transfers that are not finished yet, in {@link #BUCKETS} replicated buckets (entity ids {@code pending-<b>}):
 * what the recovery sweep of {@link TransferCoordinator} reads to find transfers whose coordinator died. A transfer
 * is added (with its accounts and amount, so it can be recovered even if its record was never written) before any
 * account is prepared, and removed once it is final.
 */
public final class TransferIndex extends ReplicatedEntity<TransferIndex.Command, TransferIndex.Event, TransferIndex.State> {

    public static final int BUCKETS = 8;

    public sealed interface Command extends CborSerializable {}

    public record Add(Entry entry) implements Command {}

    public record Remove(String transferId) implements Command {}

    public record GetPending() implements Command {}

    public sealed interface Event extends CborSerializable {}

    public record Added(Entry entry) implements Event {}

    public record Removed(String transferId) implements Event {}

    /** A pending transfer as the coordinator started it. */
    public record Entry(String transferId, String from, String to, long amount) implements CborSerializable {}

    /** The pending transfers of one bucket, oldest first. */
    public record State(List<Entry> pending) implements CborSerializable {
        public State {
            pending = pending == null ? List.of() : List.copyOf(pending);
        }

        boolean contains(String transferId) {
            return pending.stream().anyMatch(e -> e.transferId().equals(transferId));
        }
    }

    public static ReplicatedEntityType<Command, Event, State> type(int shards, int replicas) {
        return ReplicatedEntityType.of("transferindex", TransferIndex::new).withShards(shards).withReplicas(replicas);
    }

    /** The bucket entity id of a transfer. */
    public static String bucketOf(String transferId) {
        return "pending-" + Math.floorMod(transferId.hashCode(), BUCKETS);
    }

    @Override
    public State emptyState() {
        return new State(List.of());
    }

    @Override
    public Effect<Event, State> onCommand(String id, State state, Command command) {
        if (command instanceof Add a) {
            if (state.contains(a.entry().transferId())) {
                return Effect.reply(org.apache.pekko.Done.getInstance());
            }
            return Effect.persist(new Added(a.entry()));
        }
        if (command instanceof Remove r) {
            if (!state.contains(r.transferId())) {
                return Effect.reply(org.apache.pekko.Done.getInstance());
            }
            return Effect.persist(new Removed(r.transferId()));
        }
        return Effect.reply(state);
    }

    @Override
    public State onEvent(State state, Event event) {
        List<Entry> next = new ArrayList<>(state.pending());
        if (event instanceof Added a) {
            next.add(a.entry());
        } else {
            String tx = ((Removed) event).transferId();
            next.removeIf(e -> e.transferId().equals(tx));
        }
        return new State(next);
    }
}
