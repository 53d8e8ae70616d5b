package io.consensusactors.persistence;

import com.typesafe.config.Config;
import org.apache.pekko.actor.typed.ActorSystem;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Creates the Pekko Persistence JDBC tables if they do not exist, from the idempotent DDL shipped under
 * {@code schema/<db>/create-schema.sql}. Safe to call on every start and from several nodes at once.
 */
public final class SchemaInitializer {

    /** How long start-up retries an unavailable database before failing with the clear error. */
    static final long RETRY_FOR_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(6);

    private SchemaInitializer() {
    }

    /** Creates the schema for the database configured in {@code system}'s settings. */
    public static void createIfNotExists(ActorSystem<?> system) {
        createIfNotExists(system.settings().config());
    }

    /** Creates the schema for the database configured in {@code config} ({@code consensus-actors.persistence}). */
    public static void createIfNotExists(Config config) {
        createIfNotExists(PersistenceSettings.read(config));
    }

    public static void createIfNotExists(PersistenceSettings settings) {
        // Several local nodes starting together race to open a shared H2 file (automatic mixed mode: one becomes
        // the server, "Lock file recently modified" for the others), and a database may still be starting:
        // retry for a while before giving up with the clear error.
        DatabaseUnavailableException last = null;
        long deadline = System.nanoTime() + RETRY_FOR_NANOS;
        do {
            try {
                createOnce(settings);
                return;
            } catch (DatabaseUnavailableException e) {
                last = e;
                try {
                    Thread.sleep(250);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        } while (System.nanoTime() < deadline);
        throw last;
    }

    private static void createOnce(PersistenceSettings settings) {
        String resource = settings.database == PersistenceSettings.Database.H2
                ? "schema/h2/create-schema.sql" : "schema/postgres/create-schema.sql";
        List<String> statements = statements(resource);
        try (Connection connection = connect(settings); Statement st = connection.createStatement()) {
            for (String sql : statements) {
                try {
                    st.execute(sql);
                } catch (SQLException e) {
                    // Two nodes creating the same table at the same moment on PostgreSQL race inside
                    // "IF NOT EXISTS" (unique violation on pg_type). The other node created it: that is fine.
                    if (!"23505".equals(e.getSQLState()) && !"42P07".equals(e.getSQLState())) {
                        throw e;
                    }
                }
            }
        } catch (SQLException e) {
            throw new DatabaseUnavailableException(settings, e);
        }
    }

    /** Opens a plain JDBC connection to the configured database, with a clear error when it is unreachable. */
    public static Connection connect(PersistenceSettings settings) throws SQLException {
        DriverManager.setLoginTimeout(5);
        return DriverManager.getConnection(settings.jdbcUrl, settings.user, settings.password);
    }

    static List<String> statements(String resource) {
        try (InputStream in = SchemaInitializer.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("DDL resource " + resource + " is missing from the classpath");
            }
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            List<String> out = new ArrayList<>();
            StringBuilder current = new StringBuilder();
            for (String line : text.split("\n")) {
                String trimmed = line.trim();
                if (trimmed.startsWith("--") || trimmed.isEmpty()) {
                    continue;
                }
                current.append(line).append('\n');
                if (trimmed.endsWith(";")) {
                    String sql = current.toString().trim();
                    out.add(sql.substring(0, sql.length() - 1));
                    current.setLength(0);
                }
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + resource, e);
        }
    }

    /** The database could not be reached or refused the schema: says which URL and what to check. */
    public static final class DatabaseUnavailableException extends RuntimeException {
        public DatabaseUnavailableException(PersistenceSettings settings, SQLException cause) {
            super("cannot use database " + settings.jdbcUrl + " (" + cause.getMessage() + "). "
                    + (settings.database == PersistenceSettings.Database.POSTGRES
                    ? "Is PostgreSQL running and reachable? Check consensus-actors.persistence.postgres.url, .user "
                      + "and .password."
                    : "Is another process holding this H2 file, or is the data directory writable? Check "
                      + "consensus-actors.persistence.data-dir."), cause);
        }
    }
}
