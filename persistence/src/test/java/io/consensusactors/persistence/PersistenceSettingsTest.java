package io.consensusactors.persistence;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.io.Serializable;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Configuration validation, schema idempotence, and the serialization policy (CBOR on, Java serialization off). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PersistenceSettingsTest {

    private final ActorTestKit kit = ActorTestKit.create("serialization",
            PersistenceSettings.forNode(PersistenceSettings.h2InMemory("ser")).withFallback(ConfigFactory.load()));

    @AfterAll
    void shutdown() {
        kit.shutdownTestKit();
    }

    record Transfer(String from, String to, long amount, List<String> tags) implements CborSerializable {}

    record JavaOnly(String value) implements Serializable {}

    @Test
    void cborSerializableRecordRoundTrips() throws Exception {
        Serialization serialization = SerializationExtension.get(kit.system());
        Transfer original = new Transfer("a", "b", 42, List.of("x"));
        assertEquals("jackson-cbor", serialization.serializerFor(Transfer.class).getClass().getSimpleName()
                .replace("JacksonCborSerializer", "jackson-cbor"));
        byte[] bytes = serialization.serialize(original).get();
        Object back = serialization.deserialize(bytes, serialization.findSerializerFor(original).identifier(),
                serialization.serializerFor(Transfer.class) instanceof org.apache.pekko.serialization.SerializerWithStringManifest s
                        ? s.manifest(original) : "").get();
        assertEquals(original, back);
    }

    @Test
    void javaSerializationIsOff() {
        Serialization serialization = SerializationExtension.get(kit.system());
        // A java.io.Serializable message that is not CborSerializable must not be serialized with Java serialization.
        Throwable failure = serialization.serialize(new JavaOnly("secret")).failed().get();
        assertTrue(failure.getMessage().contains("Java serialization") || failure.getMessage().contains("JavaOnly")
                || failure.getMessage().contains("disabled"), failure.getMessage());
    }

    @Test
    void h2UrlCommitsBeforeAcknowledging(@TempDir Path dir) {
        PersistenceSettings s = PersistenceSettings.read(PersistenceSettings.h2(dir, "n1"));
        assertTrue(s.jdbcUrl.contains("WRITE_DELAY=0"), s.jdbcUrl);
        assertTrue(s.jdbcUrl.startsWith("jdbc:h2:file:" + dir.toAbsolutePath().toString().replace('\\', '/') + "/n1"),
                s.jdbcUrl);
        Config pekko = PersistenceSettings.forNode(PersistenceSettings.h2(dir, "n1"));
        assertEquals("jdbc-journal", pekko.getString("pekko.persistence.journal.plugin"));
        assertEquals("slick", pekko.getString("jdbc-snapshot-store.use-shared-db"));
        assertEquals("slick.jdbc.H2Profile$", pekko.getString("pekko-persistence-jdbc.shared-databases.slick.profile"));
    }

    @Test
    void poolSizeIsOneConnectionForH2AndEightForPostgresUnlessSet(@TempDir Path dir) {
        Config h2 = PersistenceSettings.h2(dir, "n1");
        Config pg = PersistenceSettings.postgres("jdbc:postgresql://127.0.0.1:5432/x", "u", "p");
        assertEquals(1, PersistenceSettings.read(h2).poolSize);
        assertEquals(8, PersistenceSettings.read(pg).poolSize);
        Config three = ConfigFactory.parseString("consensus-actors.persistence.pool-size = 3");
        assertEquals(3, PersistenceSettings.read(three.withFallback(h2)).poolSize);
        // as a system property would give it: a string
        Config four = ConfigFactory.parseMap(Map.of("consensus-actors.persistence.pool-size", "4"));
        assertEquals(4, PersistenceSettings.read(four.withFallback(pg)).poolSize);
        Config pekko = PersistenceSettings.forNode(h2);
        assertEquals(1, pekko.getInt("pekko-persistence-jdbc.shared-databases.slick.db.numThreads"));
        assertEquals(1, pekko.getInt("pekko-persistence-jdbc.shared-databases.slick.db.maxConnections"));
        for (String bad : new String[] {"0", "lots", "-2"}) {
            Config c = ConfigFactory.parseMap(Map.of("consensus-actors.persistence.pool-size", bad));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> PersistenceSettings.read(c.withFallback(h2)));
            assertTrue(e.getMessage().contains("pool-size must be a positive number or auto")
                    && e.getMessage().contains(bad), e.getMessage());
        }
    }

    @Test
    void unknownDatabaseIsRejectedWithTheChoices() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PersistenceSettings.read(
                ConfigFactory.parseString("consensus-actors.persistence.database = oracle")));
        assertTrue(e.getMessage().contains("\"h2\"") && e.getMessage().contains("postgres"), e.getMessage());
    }

    @Test
    void postgresWithoutUrlSaysWhichKeyToSet() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PersistenceSettings.read(
                ConfigFactory.parseString("consensus-actors.persistence.database = postgres")));
        assertTrue(e.getMessage().contains("consensus-actors.persistence.postgres.url"), e.getMessage());
    }

    @Test
    void unreachablePostgresGivesAClearError() {
        SchemaInitializer.DatabaseUnavailableException e = assertThrows(
                SchemaInitializer.DatabaseUnavailableException.class,
                () -> SchemaInitializer.createIfNotExists(PersistenceSettings.read(
                        PersistenceSettings.postgres("jdbc:postgresql://127.0.0.1:1/none", "u", "p"))));
        assertTrue(e.getMessage().contains("jdbc:postgresql://127.0.0.1:1/none")
                && e.getMessage().contains("Is PostgreSQL running"), e.getMessage());
    }

    @Test
    void schemaCreationIsIdempotent(@TempDir Path dir) throws Exception {
        PersistenceSettings s = PersistenceSettings.read(PersistenceSettings.h2(dir, "schema"));
        SchemaInitializer.createIfNotExists(s);
        SchemaInitializer.createIfNotExists(s);
        try (var c = SchemaInitializer.connect(s); var rs = c.createStatement().executeQuery(
                "SELECT COUNT(*) FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_NAME IN "
                        + "('event_journal','event_tag','snapshot','durable_state')")) {
            rs.next();
            assertEquals(4, rs.getInt(1));
        }
    }
}
