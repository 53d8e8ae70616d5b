package io.consensusactors.bench;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.consensusactors.persistence.PersistenceSettings;
import io.consensusactors.persistence.SchemaInitializer;
import org.h2.jdbc.JdbcConnection;
import org.h2.engine.SessionLocal;
import org.h2.mvstore.MVStore;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/**
 * What one node-log write costs H2 alone, without Pekko, Slick or the network: a loop of one journal row
 * (pekko-persistence-jdbc's {@code event_journal} as this project creates it) inserted and committed per
 * iteration, as the node log does under load, then optionally forced to disk. Prints CPU per commit (this thread:
 * insert, commit, H2's chunk serialization and {@code pwrite}), bytes written to the file per commit (the process's write system calls), and the
 * CPU of the fsync, for each H2 URL option set given — to compare H2 settings on the same rows.
 *
 * <pre>java -cp $CP io.consensusactors.bench.H2CommitCost [row-bytes] [commits] [";OPTION=x" ...]</pre>
 *
 * With no option set it measures H2's defaults only. Batch 10 of docs/raft-benchmarks.md: ~27 KB written per
 * commit whatever the row size (the layout map and every B-tree's path to its root), plus about 1.6x the row.
 */
public final class H2CommitCost {

    private H2CommitCost() {
    }

    public static void main(String[] args) throws Exception {
        int rowBytes = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int commits = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
        List<String> variants = new ArrayList<>();
        for (int i = 2; i < args.length; i++) {
            variants.add(args[i]);
        }
        if (variants.isEmpty()) {
            variants.add("");
        }
        System.out.printf("H2 journal commit cost: rows of %d bytes, %d commits per variant after %d warm-up, "
                + "WRITE_DELAY=0, fsync after each commit%n", rowBytes, commits, commits / 4);
        System.out.println("| H2 options | CPU per insert+commit | bytes written per commit | CPU per fsync | "
                + "file after run |");
        System.out.println("|---|---|---|---|---|");
        for (int round = 0; round < 2; round++) { // the first round warms the JIT for every variant
            for (String v : variants) {
                Result r = run(rowBytes, commits, v);
                if (round == 1) {
                    System.out.printf("| `%s` | %.0f µs | %,d | %.0f µs | %,d MB |%n", v.isEmpty() ? "(defaults)" : v,
                            r.cpuPerCommitNanos / 1000, r.bytesPerCommit, r.cpuPerSyncNanos / 1000,
                            r.fileBytes >> 20);
                }
            }
        }
    }

    private record Result(double cpuPerCommitNanos, long bytesPerCommit, double cpuPerSyncNanos, long fileBytes) {
    }

    private static Result run(int rowBytes, int commits, String options) throws Exception {
        Path dir = Files.createTempDirectory("h2-commit-cost");
        try {
            String url = createDatabase(dir, options);
            Path file = dir.resolve(DATABASE + ".mv.db");
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            Random random = new Random(42);
            try (Connection c = DriverManager.getConnection(url, "sa", "")) {
                c.setAutoCommit(false);
                MVStore store = store(c);
                try (PreparedStatement insert = c.prepareStatement(INSERT)) {
                    int warmup = commits / 4;
                    long cpu = 0;
                    long syncCpu = 0;
                    long bytesBefore = 0;
                    for (int i = 0; i < warmup + commits; i++) {
                        if (i == warmup) {
                            bytesBefore = bytesWritten();
                        }
                        byte[] payload = new byte[rowBytes];
                        random.nextBytes(payload);
                        long t0 = threads.getCurrentThreadCpuTime();
                        insert(insert, i + 1, payload);
                        c.commit();
                        long t1 = threads.getCurrentThreadCpuTime();
                        store.sync();
                        long t2 = threads.getCurrentThreadCpuTime();
                        if (i >= warmup) {
                            cpu += t1 - t0;
                            syncCpu += t2 - t1;
                        }
                    }
                    long grown = bytesWritten() - bytesBefore;
                    return new Result((double) cpu / commits, grown / commits, (double) syncCpu / commits,
                            Files.size(file));
                }
            }
        } finally {
            delete(dir);
        }
    }

    /** The database file's name in its directory. */
    static final String DATABASE = "cost";

    /** A node-log row: persistence id and sequence number of the node log, as the journal plugin writes it. */
    static final String INSERT = "INSERT INTO \"event_journal\" (\"deleted\", \"persistence_id\", "
            + "\"sequence_number\", \"writer\", \"write_timestamp\", \"adapter_manifest\", \"event_payload\", "
            + "\"event_ser_id\", \"event_ser_manifest\") VALUES (false, 'raft-node|node1', ?, "
            + "'writer-uuid-0123456789', ?, '', ?, 734101, 'W')";

    /** Deletes the node log's rows up to a sequence number, as one plain DELETE. */
    static final String DELETE_TO = "DELETE FROM \"event_journal\" WHERE \"persistence_id\" = 'raft-node|node1' "
            + "AND \"sequence_number\" <= ?";

    static void insert(PreparedStatement insert, long sequenceNr, byte[] payload) throws SQLException {
        insert.setLong(1, sequenceNr);
        insert.setLong(2, System.currentTimeMillis());
        insert.setBytes(3, payload);
        insert.executeUpdate();
    }

    /**
     * A database under {@code dir} with the schema exactly as a node creates it (SchemaInitializer) and the URL as
     * PersistenceSettings builds it, plus {@code options} (options such as PAGE_SIZE apply only when the database is
     * created: the schema is created with them). Returns its URL.
     */
    static String createDatabase(Path dir, String options) {
        Config settings = PersistenceSettings.h2(dir, DATABASE);
        String key = PersistenceSettings.PREFIX + ".h2.url-options";
        settings = settings.withValue(key, ConfigValueFactory.fromAnyRef(
                ConfigFactory.load().getString(key) + options));
        SchemaInitializer.createIfNotExists(PersistenceSettings.read(settings.withFallback(ConfigFactory.load())));
        return "jdbc:h2:file:" + dir.resolve(DATABASE) + ";DATABASE_TO_UPPER=false;WRITE_DELAY=0" + options;
    }

    /** The MVStore of an embedded connection (to force its file as the journal's fsync does). */
    static MVStore store(Connection c) throws SQLException {
        return ((SessionLocal) c.unwrap(JdbcConnection.class).getSession()).getDatabase().getStore().getMvStore();
    }

    static void delete(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Bytes this process wrote through system calls so far ({@code wchar} of /proc/self/io; Linux). */
    static long bytesWritten() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/io"))) {
            if (line.startsWith("wchar:")) {
                return Long.parseLong(line.substring(6).trim());
            }
        }
        throw new IOException("no wchar in /proc/self/io");
    }
}
