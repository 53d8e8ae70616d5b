package io.consensusactors.bench;

import com.sun.management.OperatingSystemMXBean;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Random;

/**
 * What keeping a journal bounded costs H2: a steady state of one journal row inserted and committed (and fsync'd)
 * per iteration while the oldest rows are deleted {@code chunk} at a time once more than {@code retain} are kept —
 * as the Raft node log does under load. Variants: the payload column as {@code VARBINARY} (inline in the row) or
 * {@code BLOB} (H2's separate LOB store; the node's schema, created by {@code SchemaInitializer}, with that column
 * altered), and the deletion as older pekko-persistence-jdbc versions did it (mark the
 * rows deleted, then delete them but the highest) or as one plain {@code DELETE} (close to what 1.1.1 does: delete
 * below the highest row, mark that one), or none. Prints process CPU and bytes written per
 * inserted row, deletions included.
 *
 * <pre>java -cp $CP io.consensusactors.bench.H2DeleteCost [row-bytes] [inserts] [retain] [chunk]</pre>
 */
public final class H2DeleteCost {

    private H2DeleteCost() {
    }

    enum Deletion { NONE, MARK_THEN_DELETE, DELETE }

    public static void main(String[] args) throws Exception {
        int rowBytes = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        int inserts = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
        int retain = args.length > 2 ? Integer.parseInt(args[2]) : 5_000;
        int chunk = args.length > 3 ? Integer.parseInt(args[3]) : 1_000;
        System.out.printf("H2 journal with deletion: rows of %,d bytes, %,d inserts (each committed and fsync'd) "
                + "after %,d warm-up, oldest rows deleted %,d at a time beyond %,d kept%n",
                rowBytes, inserts, retain + inserts / 4, chunk, retain);
        System.out.println("| payload column | deletion | process CPU per insert | bytes written per insert | "
                + "file after run |");
        System.out.println("|---|---|---|---|---|");
        for (int round = 0; round < 2; round++) { // the first round warms the JIT
            for (String type : new String[] {"VARBINARY", "BLOB"}) {
                for (Deletion d : Deletion.values()) {
                    long[] r = run(rowBytes, inserts, retain, chunk, type, d);
                    if (round == 1) {
                        System.out.printf("| %s | %s | %.0f µs | %,d | %,d MB |%n", type, d, r[0] / 1000.0, r[1],
                                r[2] >> 20);
                    }
                }
            }
        }
    }

    /** {CPU ns per insert, bytes written per insert, file bytes}. */
    private static long[] run(int rowBytes, int inserts, int retain, int chunk, String type, Deletion deletion)
            throws Exception {
        Path dir = Files.createTempDirectory("h2-delete-cost");
        OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        try {
            String url = H2CommitCost.createDatabase(dir, "");
            Random random = new Random(42);
            try (Connection c = DriverManager.getConnection(url, "sa", "")) {
                if (!type.equals("VARBINARY")) {
                    // the node's schema, the payload column as Pekko's own H2 script declares it
                    try (Statement s = c.createStatement()) {
                        s.execute("ALTER TABLE \"event_journal\" ALTER COLUMN \"event_payload\" SET DATA TYPE "
                                + type);
                    }
                }
                c.setAutoCommit(false);
                PreparedStatement insert = c.prepareStatement(H2CommitCost.INSERT);
                PreparedStatement mark = c.prepareStatement("UPDATE \"event_journal\" SET \"deleted\" = true WHERE "
                        + "\"persistence_id\" = 'raft-node|node1' AND \"sequence_number\" <= ? AND \"deleted\" = false");
                PreparedStatement highestMarked = c.prepareStatement("SELECT MAX(\"sequence_number\") FROM "
                        + "\"event_journal\" WHERE \"persistence_id\" = 'raft-node|node1' AND \"deleted\" = true");
                PreparedStatement delete = c.prepareStatement(H2CommitCost.DELETE_TO);
                var store = H2CommitCost.store(c);
                int warmup = retain + inserts / 4;
                long cpu0 = 0;
                long bytes0 = 0;
                long deletedTo = 0;
                for (int i = 1; i <= warmup + inserts; i++) {
                    if (i == warmup + 1) {
                        cpu0 = os.getProcessCpuTime();
                        bytes0 = H2CommitCost.bytesWritten();
                    }
                    byte[] payload = new byte[rowBytes];
                    random.nextBytes(payload);
                    H2CommitCost.insert(insert, i, payload);
                    c.commit();
                    store.sync();
                    if (deletion != Deletion.NONE && i - deletedTo >= retain + chunk) {
                        long to = deletedTo + chunk;
                        if (deletion == Deletion.MARK_THEN_DELETE) {
                            mark.setLong(1, to);
                            mark.executeUpdate();
                            long highest;
                            try (ResultSet rs = highestMarked.executeQuery()) {
                                rs.next();
                                highest = rs.getLong(1);
                            }
                            delete.setLong(1, highest - 1);
                            delete.executeUpdate();
                        } else {
                            delete.setLong(1, to);
                            delete.executeUpdate();
                        }
                        c.commit();
                        deletedTo = to;
                    }
                }
                long cpu = os.getProcessCpuTime() - cpu0;
                long bytes = H2CommitCost.bytesWritten() - bytes0;
                long file = Files.size(dir.resolve(H2CommitCost.DATABASE + ".mv.db"));
                return new long[] {cpu / inserts, bytes / inserts, file};
            }
        } finally {
            H2CommitCost.delete(dir);
        }
    }
}
