package io.consensusactors.entity;

import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/** Writes user objects (commands, events, states, replies) with Pekko serialization: serializer id, manifest, bytes. */
final class ObjectCodec {
    private final Serialization serialization;

    ObjectCodec(ActorSystem<?> system) {
        this.serialization = SerializationExtension.get(Adapter.toClassic(system));
    }

    void write(DataOutputStream out, Object o) throws IOException {
        Serializer s = serialization.findSerializerFor(o);
        byte[] bytes = s.toBinary(o);
        out.writeInt(s.identifier());
        out.writeUTF(Serializers.manifestFor(s, o));
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    Object read(DataInputStream in) throws IOException {
        int id = in.readInt();
        String manifest = in.readUTF();
        byte[] bytes = in.readNBytes(in.readInt());
        return serialization.deserialize(bytes, id, manifest).get();
    }
}
