package io.consensusactors.bank.transfer;

import io.consensusactors.entity.Effect;
import io.consensusactors.entity.ReplicatedEntity;
import io.consensusactors.entity.ReplicatedEntityType;
import io.consensusactors.persistence.CborSerializable;

/**
 * The replicated record of a transfer run by Paxos Commit (docs/bank-transactions.md): which phase it reached,
 * PREPARING → COMMITTING → COMPLETED or PREPARING → ABORTING → FAILED. It makes no calls itself (entities are
 * deterministic); the coordinator ({@link TransferCoordinator}) drives the accounts and the votes and records each
 * phase here, so a retried or recovered transfer resumes where it stopped. The phase after PREPARING only ever
 * follows the outcome chosen by Paxos, so the record can never say both committed and aborted.
 */
public final class ReplicatedTransfer extends ReplicatedEntity<ReplicatedTransfer.Command, ReplicatedTransfer.Event, TransferStatus> {

    public sealed interface Command extends CborSerializable {}

    /** Creates the transfer if new; otherwise answers its status (idempotent). */
    public record Begin(String from, String to, long amount) implements Command {}

    /** Records that the saga moved to {@code phase}; ignored unless it is a legal next phase. */
    public record Advance(TransferStatus.Phase phase, String reason) implements Command {}

    public record Get() implements Command {}

    public sealed interface Event extends CborSerializable {}

    public record Began(String from, String to, long amount) implements Event {}

    public record Advanced(TransferStatus.Phase phase, String reason) implements Event {}

    public static ReplicatedEntityType<Command, Event, TransferStatus> type(int shards, int replicas) {
        return ReplicatedEntityType.of("transfer", ReplicatedTransfer::new).withShards(shards).withReplicas(replicas);
    }

    @Override
    public TransferStatus emptyState() {
        return new TransferStatus("", TransferStatus.Phase.UNKNOWN, "", "", 0, null);
    }

    @Override
    public Effect<Event, TransferStatus> onCommand(String id, TransferStatus state, Command command) {
        if (command instanceof Begin b) {
            if (state.phase() != TransferStatus.Phase.UNKNOWN) {
                return Effect.reply(state);
            }
            return Effect.<Event, TransferStatus>persist(new Began(b.from(), b.to(), b.amount())).thenReply(s -> withId(id, s));
        }
        if (command instanceof Advance a) {
            if (!legal(state.phase(), a.phase())) {
                return Effect.reply(withId(id, state));
            }
            return Effect.<Event, TransferStatus>persist(new Advanced(a.phase(), a.reason())).thenReply(s -> withId(id, s));
        }
        return Effect.reply(withId(id, state));
    }

    private static TransferStatus withId(String id, TransferStatus s) {
        return new TransferStatus(id, s.phase(), s.from(), s.to(), s.amount(), s.reason());
    }

    static boolean legal(TransferStatus.Phase from, TransferStatus.Phase to) {
        return switch (from) {
            case PREPARING -> to == TransferStatus.Phase.COMMITTING || to == TransferStatus.Phase.ABORTING;
            case COMMITTING -> to == TransferStatus.Phase.COMPLETED;
            case ABORTING -> to == TransferStatus.Phase.FAILED;
            default -> false;
        };
    }

    @Override
    public TransferStatus onEvent(TransferStatus state, Event event) {
        if (event instanceof Began b) {
            return new TransferStatus(state.transferId(), TransferStatus.Phase.PREPARING, b.from(), b.to(), b.amount(), null);
        }
        Advanced a = (Advanced) event;
        return new TransferStatus(state.transferId(), a.phase(), state.from(), state.to(), state.amount(),
                a.reason() == null ? state.reason() : a.reason());
    }
}
