package io.consensusactors.bench;

import com.sun.management.OperatingSystemMXBean;
import org.h2.mvstore.MVStore;

import java.lang.management.ManagementFactory;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.Random;

/**
 * The Raft node log's database over minutes, not seconds: rows inserted, each committed and forced to disk, at a
 * given rate, the oldest deleted {@code chunk} at a time beyond {@code retain} (as the node log does), for each H2
 * option set given; every 20 s it prints the bytes written and process CPU per commit, the MVStore's chunk count,
 * chunk fill rate and file size. Shows whether the cost per commit stays flat or grows with time. An option set
 * ending in {@code +compact} also calls {@code MVStore.compact(50, 1 MB)} once a second, as H2's background writer
 * would do if it ran (it does not with {@code WRITE_DELAY=0}); {@code +datasync} forces the file with
 * {@code fdatasync} (a descriptor of its own, {@code FileChannel.force(false)}) instead of H2's {@code fsync}.
 *
 * <pre>java -cp $CP io.consensusactors.bench.H2SteadyState [row-bytes] [seconds] [commits-per-s] \
 *     [";OPTION=x[+compact][+datasync]" ...]</pre>
 */
public final class H2SteadyState {

    private static final int RETAIN = 3_000;
    private static final int CHUNK = 64;

    private H2SteadyState() {
    }

    public static void main(String[] args) throws Exception {
        int rowBytes = args.length > 0 ? Integer.parseInt(args[0]) : 8_000;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 180;
        int rate = args.length > 2 ? Integer.parseInt(args[2]) : 100;
        String[] variants = args.length > 3 ? Arrays.copyOfRange(args, 3, args.length) : new String[] {""};
        System.out.printf("H2 node-log steady state: rows of %,d bytes, %d commits/s (each fsync'd), oldest deleted "
                + "%d at a time beyond %,d kept, %d s per variant%n", rowBytes, rate, CHUNK, RETAIN, seconds);
        for (String v : variants) {
            run(rowBytes, seconds, rate, v);
        }
    }

    /** An MVStore figure as H2 reports it in INFORMATION_SCHEMA.SETTINGS. */
    private static long info(Connection c, String name) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS WHERE SETTING_NAME = ?")) {
            s.setString(1, name);
            try (ResultSet r = s.executeQuery()) {
                return r.next() ? Long.parseLong(r.getString(1)) : -1;
            }
        }
    }

    private static void run(int rowBytes, int seconds, int rate, String variant) throws Exception {
        boolean compact = variant.contains("+compact");
        boolean datasync = variant.contains("+datasync");
        String options = variant.replace("+compact", "").replace("+datasync", "");
        System.out.printf("%n`%s`%n| time | commits | bytes written per commit | process CPU per commit | "
                + "sync wall time | chunks | chunk fill | file |%n|---|---|---|---|---|---|---|---|%n",
                variant.isEmpty() ? "(defaults)" : variant);
        Path dir = Files.createTempDirectory("h2-steady");
        var os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        try {
            String url = H2CommitCost.createDatabase(dir, options);
            Random random = new Random(42);
            try (Connection c = DriverManager.getConnection(url, "sa", "");
                 FileChannel file = FileChannel.open(dir.resolve(H2CommitCost.DATABASE + ".mv.db"),
                         StandardOpenOption.READ)) {
                c.setAutoCommit(false);
                MVStore store = H2CommitCost.store(c);
                long syncNanos = 0;
                PreparedStatement insert = c.prepareStatement(H2CommitCost.INSERT);
                PreparedStatement delete = c.prepareStatement(H2CommitCost.DELETE_TO);
                long start = System.nanoTime();
                long end = start + seconds * 1_000_000_000L;
                long windowStart = start;
                long nextCompact = start + 1_000_000_000L;
                long bytes0 = H2CommitCost.bytesWritten();
                long cpu0 = os.getProcessCpuTime();
                long commits0 = 0;
                long deletedTo = 0;
                long i = 0;
                while (System.nanoTime() < end) {
                    long due = start + i * 1_000_000_000L / rate;
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    }
                    i++;
                    byte[] payload = new byte[rowBytes];
                    random.nextBytes(payload);
                    H2CommitCost.insert(insert, i, payload);
                    c.commit();
                    long s0 = System.nanoTime();
                    if (datasync) {
                        file.force(false); // fdatasync: the inode's dirty data, whichever descriptor wrote it
                    } else {
                        store.sync();
                    }
                    syncNanos += System.nanoTime() - s0;
                    if (i - deletedTo >= RETAIN + CHUNK) {
                        delete.setLong(1, deletedTo + CHUNK);
                        delete.executeUpdate();
                        c.commit();
                        deletedTo += CHUNK;
                    }
                    long now = System.nanoTime();
                    if (compact && now >= nextCompact) {
                        store.compact(50, 1 << 20);
                        nextCompact = now + 1_000_000_000L;
                    }
                    if (now - windowStart >= 20_000_000_000L) {
                        long n = i - commits0;
                        long bytes = H2CommitCost.bytesWritten();
                        long cpu = os.getProcessCpuTime();
                        System.out.printf("| %d s | %,d | %,d | %.0f µs | %.0f µs | %,d | %d%% | %,d MB |%n",
                                (now - start) / 1_000_000_000L, n, (bytes - bytes0) / n, (cpu - cpu0) / 1e3 / n,
                                syncNanos / 1e3 / n,
                                info(c, "info.CHUNK_COUNT"), store.getFileStore().getChunksFillRate(),
                                store.getFileStore().size() >> 20);
                        windowStart = now;
                        bytes0 = bytes;
                        cpu0 = cpu;
                        commits0 = i;
                        syncNanos = 0;
                    }
                }
            }
        } finally {
            H2CommitCost.delete(dir);
        }
    }
}
