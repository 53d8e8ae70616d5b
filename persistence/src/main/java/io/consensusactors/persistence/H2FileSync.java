package io.consensusactors.persistence;

import org.h2.engine.Session;
import org.h2.engine.SessionLocal;
import org.h2.jdbc.JdbcConnection;
import org.h2.mvstore.MVStore;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Makes what an H2 file database has committed survive an operating-system crash or power loss. H2 (2.2) never
 * forces its file on commit: with {@code WRITE_DELAY=0} a commit writes its chunk to the file (it survives the
 * process, SIGKILL included) but leaves it in the OS page cache. This forces the file ({@code FileChannel.force}),
 * as a {@link GroupSync}: one fsync for every commit that asks while the previous one runs.
 *
 * <p>One instance per database URL in the JVM ({@link #acquire}), shared by every journal writing to it and closed
 * with the last one. The file is forced through H2's {@code MVStore} when the connection is embedded, otherwise
 * (e.g. {@code AUTO_SERVER} served by another process) with {@code CHECKPOINT SYNC} on the serving side.
 */
public final class H2FileSync {

    private static final Map<String, H2FileSync> OPEN = new HashMap<>();

    private final String url;
    private final String user;
    private final String password;
    private final ExecutorService thread;
    private final GroupSync group;
    private int references;
    private Connection connection;
    private MVStore store;
    private Statement checkpoint;

    private H2FileSync(String url, String user, String password) {
        this.url = url;
        this.user = user;
        this.password = password;
        this.thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "h2-fsync");
            t.setDaemon(true);
            return t;
        });
        this.group = new GroupSync(this::force, thread);
    }

    /** The sync of this database URL, opened on first use; {@link #release()} it when done. */
    public static synchronized H2FileSync acquire(String url, String user, String password) {
        H2FileSync s = OPEN.computeIfAbsent(url, u -> new H2FileSync(u, user, password));
        s.references++;
        return s;
    }

    /** The open sync of a database URL, if a journal uses one (for tests and diagnostics). */
    static synchronized H2FileSync opened(String url) {
        return OPEN.get(url);
    }

    /** Completes once everything committed to the database before this call is on stable storage. */
    public CompletableFuture<Void> request() {
        return group.request();
    }

    public GroupSync group() {
        return group;
    }

    public void release() {
        synchronized (H2FileSync.class) {
            if (--references > 0) {
                return;
            }
            OPEN.remove(url);
        }
        thread.execute(this::closeConnection); // after any sync still queued
        thread.shutdown();
        try {
            // wait, so that a node restarted in this JVM does not open the file while this connection still closes it
            thread.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Runs on the sync thread only. */
    private void force() throws SQLException {
        if (connection == null) {
            connection = DriverManager.getConnection(url, user, password);
            Session session = connection.unwrap(JdbcConnection.class).getSession();
            if (session instanceof SessionLocal local) {
                store = local.getDatabase().getStore().getMvStore();
            } else {
                checkpoint = connection.createStatement();
            }
        }
        if (store != null) {
            store.sync(); // FileChannel.force(true) on the database file
        } else {
            checkpoint.execute("CHECKPOINT SYNC");
        }
    }

    private void closeConnection() {
        try {
            if (connection != null) {
                connection.close();
            }
        } catch (SQLException ignored) {
            // closing after the last journal stopped: nothing is waiting for it
        }
        connection = null;
        store = null;
        checkpoint = null;
    }

    @Override
    public String toString() {
        return "H2FileSync(" + url + ")";
    }
}
