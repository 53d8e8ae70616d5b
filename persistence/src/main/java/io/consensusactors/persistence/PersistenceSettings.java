package io.consensusactors.persistence;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Turns the block {@code consensus-actors.persistence { database, data-dir, node-name, postgres { .. } }} into the
 * Pekko Persistence JDBC configuration of one node: journal, snapshot store, read journal and durable state share
 * one Slick/Hikari pool ({@code pekko-persistence-jdbc.shared-databases.slick}).
 *
 * <p>Use {@link #forNode(Config)} on the application config; the overlay it returns goes in front:
 * {@code PersistenceSettings.forNode(appConfig).withFallback(appConfig)}.
 */
public final class PersistenceSettings {

    public static final String PREFIX = "consensus-actors.persistence";
    /** The Slick database that journal, snapshot store, read journal and durable state share (its {@code db} block). */
    public static final String SHARED_DB = "pekko-persistence-jdbc.shared-databases.slick";

    /** {@code pool-size = auto}: the constructor picks 1 connection for H2, 8 for PostgreSQL. */
    private static final int AUTO = 0;

    /** The database a node writes to. */
    public enum Database { H2, POSTGRES }

    public final Database database;
    public final String jdbcUrl;
    public final String user;
    public final String password;
    public final int poolSize;
    public final boolean createSchema;
    /** An H2 file database whose journal forces the file to stable storage before acknowledging a write. */
    public final boolean fsync;

    private PersistenceSettings(Database database, String jdbcUrl, String user, String password, int poolSize,
                                boolean createSchema, boolean fsync) {
        this.database = database;
        this.jdbcUrl = jdbcUrl;
        this.user = user;
        this.password = password;
        this.poolSize = poolSize != AUTO ? poolSize : database == Database.H2 ? 1 : 8;
        this.createSchema = createSchema;
        this.fsync = fsync;
    }

    /** Reads and validates {@code consensus-actors.persistence} (falling back to this module's reference.conf). */
    public static PersistenceSettings read(Config config) {
        Config c = config.withFallback(ConfigFactory.defaultReference()).getConfig(PREFIX);
        String name = c.getString("database").trim().toLowerCase(Locale.ROOT);
        boolean createSchema = c.getBoolean("create-schema");
        int pool = poolSize(c);
        switch (name) {
            case "h2": {
                String dataDir = c.getString("data-dir");
                String node = c.getString("node-name");
                if (node.isBlank() || !node.matches("[A-Za-z0-9_.-]+")) {
                    throw new IllegalArgumentException(PREFIX + ".node-name must be a plain file name "
                            + "(letters, digits, '-', '_', '.'), was '" + node + "'");
                }
                boolean shared = c.getBoolean("h2.shared");
                String fileName = shared ? c.getString("h2.shared-name") : node;
                String file = Path.of(dataDir).toAbsolutePath().resolve(fileName).toString().replace('\\', '/');
                String url = "jdbc:h2:file:" + file + c.getString("h2.url-options") + (shared ? ";AUTO_SERVER=TRUE" : "");
                return new PersistenceSettings(Database.H2, url, "sa", "", pool, createSchema, c.getBoolean("h2.fsync"));
            }
            case "h2-mem": {
                String node = c.getString("node-name");
                String url = "jdbc:h2:mem:" + node + ";DB_CLOSE_DELAY=-1" + c.getString("h2.url-options");
                return new PersistenceSettings(Database.H2, url, "sa", "", pool, createSchema, false);
            }
            case "postgres":
            case "postgresql": {
                String url = c.getString("postgres.url").trim();
                if (url.isEmpty()) {
                    throw new IllegalArgumentException("database = postgres but " + PREFIX + ".postgres.url is empty: "
                            + "set it, e.g. jdbc:postgresql://127.0.0.1:5432/consensus (and .user, .password)");
                }
                if (!url.startsWith("jdbc:postgresql:")) {
                    throw new IllegalArgumentException(PREFIX + ".postgres.url must start with 'jdbc:postgresql:', was '"
                            + url + "'");
                }
                return new PersistenceSettings(Database.POSTGRES, url, c.getString("postgres.user"),
                        c.getString("postgres.password"), pool, createSchema, false);
            }
            default:
                throw new IllegalArgumentException("unknown " + PREFIX + ".database '" + name
                        + "': use \"h2\" (embedded, the default), \"h2-mem\" (tests) or \"postgres\"");
        }
    }

    /** {@code pool-size}: a positive number, or {@link #AUTO}. */
    private static int poolSize(Config c) {
        ConfigValue v = c.getValue("pool-size");
        if (v.valueType() == ConfigValueType.STRING && "auto".equals(String.valueOf(v.unwrapped()).trim())) {
            return AUTO;
        }
        try {
            int pool = c.getInt("pool-size");
            if (pool >= 1) {
                return pool;
            }
        } catch (ConfigException.WrongType e) {
            // not a number: refused below
        }
        throw new IllegalArgumentException(PREFIX + ".pool-size must be a positive number or auto, was " + v.render()
                + " (auto: 1 connection for H2, 8 for PostgreSQL)");
    }

    /**
     * The Pekko configuration overlay for the node described by {@code config}'s
     * {@code consensus-actors.persistence} block. Put it in front of the application config.
     */
    public static Config forNode(Config config) {
        try {
            return read(config).toPekkoConfig();
        } catch (ConfigException e) {
            throw new IllegalArgumentException("bad persistence configuration: " + e.getMessage(), e);
        }
    }

    /** Overlay selecting an H2 file database {@code <dataDir>/<nodeName>}. */
    public static Config h2(Path dataDir, String nodeName) {
        return ConfigFactory.parseMap(Map.of(
                PREFIX + ".database", "h2",
                PREFIX + ".data-dir", dataDir.toAbsolutePath().toString(),
                PREFIX + ".node-name", nodeName));
    }

    /** Overlay selecting an in-memory H2 database (tests). */
    public static Config h2InMemory(String name) {
        return ConfigFactory.parseMap(Map.of(PREFIX + ".database", "h2-mem", PREFIX + ".node-name", name));
    }

    /** Overlay selecting PostgreSQL. */
    public static Config postgres(String url, String user, String password) {
        return ConfigFactory.parseMap(Map.of(
                PREFIX + ".database", "postgres",
                PREFIX + ".postgres.url", url,
                PREFIX + ".postgres.user", user,
                PREFIX + ".postgres.password", password));
    }

    /** The Pekko Persistence JDBC configuration for these settings. */
    public Config toPekkoConfig() {
        Map<String, Object> m = new HashMap<>();
        m.put("pekko.persistence.journal.plugin", "jdbc-journal");
        if (fsync) {
            m.put("jdbc-journal.class", SyncingJdbcJournal.class.getName());
        }
        m.put("pekko.persistence.snapshot-store.plugin", "jdbc-snapshot-store");
        m.put("pekko.persistence.state.plugin", "jdbc-durable-state-store");
        m.put("pekko.persistence.journal.auto-start-journals", java.util.List.of("jdbc-journal"));
        m.put("pekko.persistence.snapshot-store.auto-start-snapshot-stores", java.util.List.of("jdbc-snapshot-store"));
        String db = SHARED_DB;
        m.put(db + ".profile", database == Database.H2 ? "slick.jdbc.H2Profile$" : "slick.jdbc.PostgresProfile$");
        m.put(db + ".db.url", jdbcUrl);
        m.put(db + ".db.user", user);
        m.put(db + ".db.password", password);
        m.put(db + ".db.driver", database == Database.H2 ? "org.h2.Driver" : "org.postgresql.Driver");
        m.put(db + ".db.numThreads", poolSize);
        m.put(db + ".db.maxConnections", poolSize);
        m.put(db + ".db.minConnections", poolSize);
        // Fail within seconds, with a message, when the database is down instead of waiting three minutes.
        m.put(db + ".db.connectionTimeout", 5000);
        for (String plugin : new String[] {"jdbc-journal", "jdbc-snapshot-store", "jdbc-read-journal",
                "jdbc-durable-state-store"}) {
            m.put(plugin + ".use-shared-db", "slick");
        }
        return ConfigFactory.parseMap(m).withValue(PREFIX + ".resolved-url", ConfigValueFactory.fromAnyRef(jdbcUrl));
    }

    @Override
    public String toString() {
        return database + " " + jdbcUrl;
    }
}
