package io.consensusactors.persistence;

import org.h2.tools.Server;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Both ways {@link H2FileSync} forces an H2 file: through the embedded MVStore, and with CHECKPOINT SYNC when the
 * database is served by another process (a remote session: the shared AUTO_SERVER file of the sharding backend).
 * Durability: committed rows are still there after the sync, and one instance serves all journals of a URL.
 */
class H2FileSyncTest {

    @TempDir
    Path dir;

    private static void commitRow(String url, int id) throws Exception {
        try (Connection c = DriverManager.getConnection(url, "sa", "")) {
            c.createStatement().execute("CREATE TABLE IF NOT EXISTS t (id INT PRIMARY KEY)");
            c.createStatement().execute("INSERT INTO t VALUES (" + id + ")");
        }
    }

    private static int rows(String url) throws Exception {
        try (Connection c = DriverManager.getConnection(url, "sa", "");
             ResultSet r = c.createStatement().executeQuery("SELECT COUNT(*) FROM t")) {
            r.next();
            return r.getInt(1);
        }
    }

    @Test
    void syncsAnEmbeddedDatabaseThroughItsStore() throws Exception {
        String url = "jdbc:h2:file:" + dir.resolve("embedded") + ";WRITE_DELAY=0";
        commitRow(url, 1);
        H2FileSync sync = H2FileSync.acquire(url, "sa", "");
        try {
            assertSame(sync, H2FileSync.acquire(url, "sa", ""), "one sync per database URL");
            sync.release();
            sync.request().get(10, TimeUnit.SECONDS);
            commitRow(url, 2);
            sync.request().get(10, TimeUnit.SECONDS);
            assertEquals(2, sync.group().syncs());
            assertEquals(2, rows(url));
        } finally {
            sync.release();
        }
        assertNull(H2FileSync.opened(url));
    }

    @Test
    void syncsADatabaseServedByAnotherProcessWithCheckpointSync() throws Exception {
        Server server = Server.createTcpServer("-tcpPort", "0", "-baseDir", dir.toString(), "-ifNotExists").start();
        String url = "jdbc:h2:tcp://127.0.0.1:" + server.getPort() + "/served;WRITE_DELAY=0";
        try {
            commitRow(url, 1);
            H2FileSync sync = H2FileSync.acquire(url, "sa", "");
            try {
                sync.request().get(10, TimeUnit.SECONDS);
                commitRow(url, 2);
                sync.request().get(10, TimeUnit.SECONDS);
                assertTrue(sync.group().syncs() >= 2);
                assertEquals(2, rows(url));
            } finally {
                sync.release();
            }
        } finally {
            server.stop();
        }
    }
}
