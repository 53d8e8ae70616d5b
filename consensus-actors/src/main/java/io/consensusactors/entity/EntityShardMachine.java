package io.consensusactors.entity;

import io.consensusactors.statemachine.SpeculativeStateMachine;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The replicated state machine of one shard (one Raft group): the states of its entities. On the leader a client
 * command is interpreted by the entity's command handler against the applied state plus the leader's own pending
 * events (speculation), and the resulting events and reply are what gets replicated; every replica folds the events.
 */
final class EntityShardMachine<C, E, S> implements SpeculativeStateMachine {

    static final byte OK = 0;
    static final byte REJECTED = 1;

    private final ReplicatedEntity<C, E, S> behavior;
    private final ObjectCodec codec;
    /** A hash map: a tree map's string comparisons were ~1.4% of a node's CPU under load; snapshots sort the ids. */
    private final HashMap<String, S> applied = new HashMap<>();
    private final Map<String, ArrayDeque<Spec<S>>> speculation = new HashMap<>();
    private final ArrayDeque<Spec<S>> speculationOrder = new ArrayDeque<>();

    private record Spec<S>(long index, String entityId, S state) {
    }

    private record Pending<S>(String entityId, S state) {
    }

    EntityShardMachine(ReplicatedEntity<C, E, S> behavior, ObjectCodec codec) {
        this.behavior = behavior;
        this.codec = codec;
    }

    // ------------------------------------------------------------------ encoding

    static byte[] encodeCommand(ObjectCodec codec, String entityId, Object command) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeUTF(entityId);
            codec.write(out, command);
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Decodes a reply produced by {@link #apply} or {@link #query}: the reply object, or throws the rejection. */
    static Object decodeReply(ObjectCodec codec, byte[] reply) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(reply));
            if (in.readByte() == REJECTED) {
                throw new EntityRejectedException(in.readUTF());
            }
            return codec.read(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private byte[] encodeReply(Effect<E, S> effect, S newState) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
        DataOutputStream out = new DataOutputStream(bytes);
        writeReply(out, effect, newState);
        return bytes.toByteArray();
    }

    private void writeReply(DataOutputStream out, Effect<E, S> effect, S newState) throws IOException {
        if (effect instanceof Effect.Reject<E, S> r) {
            out.writeByte(REJECTED);
            out.writeUTF(r.reason());
        } else if (effect instanceof Effect.Reply<E, S> r) {
            out.writeByte(OK);
            codec.write(out, r.reply());
        } else {
            out.writeByte(OK);
            codec.write(out, ((Effect.Persist<E, S>) effect).reply().apply(newState));
        }
    }

    // ------------------------------------------------------------------ leader side

    private S current(String entityId) {
        ArrayDeque<Spec<S>> specs = speculation.get(entityId);
        if (specs != null && !specs.isEmpty()) {
            return specs.peekLast().state();
        }
        S s = applied.get(entityId);
        return s != null ? s : behavior.emptyState();
    }

    @Override
    @SuppressWarnings("unchecked")
    public Preparation prepare(byte[] command) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(command));
            String entityId = in.readUTF();
            C cmd = (C) codec.read(in);
            S state = current(entityId);
            Effect<E, S> effect;
            try {
                effect = behavior.onCommand(entityId, state, cmd);
            } catch (RuntimeException e) {
                effect = Effect.reject("the command handler failed: " + e);
            }
            List<E> events = effect instanceof Effect.Persist<E, S> p ? p.events() : List.of();
            S next = state;
            for (E e : events) {
                next = behavior.onEvent(next, e);
            }
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeUTF(entityId);
            out.writeInt(events.size());
            for (E e : events) {
                codec.write(out, e);
            }
            writeReply(out, effect, next);
            return new Preparation(bytes.toByteArray(), events.isEmpty() ? null : new Pending<>(entityId, next));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public void proposed(long index, Preparation preparation) {
        if (preparation.speculation() instanceof Pending<?> p) {
            Spec<S> spec = new Spec<>(index, p.entityId(), (S) p.state());
            speculation.computeIfAbsent(p.entityId(), k -> new ArrayDeque<>()).addLast(spec);
            speculationOrder.addLast(spec);
        }
    }

    @Override
    public void retire(long index) {
        while (!speculationOrder.isEmpty() && speculationOrder.peekFirst().index() <= index) {
            Spec<S> s = speculationOrder.pollFirst();
            ArrayDeque<Spec<S>> q = speculation.get(s.entityId());
            if (q != null) {
                q.pollFirst();
                if (q.isEmpty()) {
                    speculation.remove(s.entityId());
                }
            }
        }
    }

    @Override
    public void discardSpeculation() {
        speculation.clear();
        speculationOrder.clear();
    }

    // ------------------------------------------------------------------ every replica

    @Override
    @SuppressWarnings("unchecked")
    public byte[] apply(long index, byte[] entry) {
        try {
            ByteArrayInputStream bytes = new ByteArrayInputStream(entry);
            DataInputStream in = new DataInputStream(bytes);
            String entityId = in.readUTF();
            int n = in.readInt();
            if (n > 0) {
                S state = applied.getOrDefault(entityId, behavior.emptyState());
                for (int i = 0; i < n; i++) {
                    state = behavior.onEvent(state, (E) codec.read(in));
                }
                applied.put(entityId, state);
            }
            // the reply recorded by the leader (ByteArrayInputStream copies the rest; DataInputStream's readAllBytes
            // would read it through 8 KB buffers)
            return bytes.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A read-only command against the applied state (any consistency level); persisting is refused. */
    @Override
    @SuppressWarnings("unchecked")
    public byte[] query(byte[] query) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(query));
            String entityId = in.readUTF();
            C cmd = (C) codec.read(in);
            S state = applied.getOrDefault(entityId, behavior.emptyState());
            Effect<E, S> effect = behavior.onCommand(entityId, state, cmd);
            if (effect instanceof Effect.Persist<E, S> p && !p.events().isEmpty()) {
                effect = Effect.reject("a read (ask with a ReadConsistency) must not persist events: send "
                        + cmd.getClass().getSimpleName() + " with ask(command) instead");
            }
            return encodeReply(effect, state);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public byte[] snapshot() {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            List<Map.Entry<String, S>> entities = new ArrayList<>(applied.entrySet());
            entities.sort(Map.Entry.comparingByKey()); // the same state gives the same bytes on every replica
            out.writeInt(entities.size());
            for (Map.Entry<String, S> e : entities) {
                out.writeUTF(e.getKey());
                codec.write(out, e.getValue());
            }
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public void restore(byte[] snapshot) {
        applied.clear();
        discardSpeculation();
        if (snapshot.length == 0) {
            return;
        }
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(snapshot));
            int n = in.readInt();
            for (int i = 0; i < n; i++) {
                applied.put(in.readUTF(), (S) codec.read(in));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
