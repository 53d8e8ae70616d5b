package io.consensusactors.persistence;

import com.typesafe.config.Config;
import org.junit.jupiter.api.BeforeAll;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The recovery suite on a real PostgreSQL server. Runs when {@code CA_PG_URL} (and {@code CA_PG_USER},
 * {@code CA_PG_PASSWORD}) are set, as {@code .ci/run} does.
 */
class PostgresJournalRecoveryTest extends AbstractJournalRecoveryTest {

    static final String URL = System.getenv("CA_PG_URL");

    @BeforeAll
    static void requirePostgres() {
        assumeTrue(URL != null && !URL.isBlank(),
                "PostgreSQL tests skipped: set CA_PG_URL=jdbc:postgresql://127.0.0.1:5432/consensus, CA_PG_USER and "
                        + "CA_PG_PASSWORD (.ci/run does) to run them");
    }

    @Override
    protected Config databaseConfig() {
        return PersistenceSettings.postgres(URL, env("CA_PG_USER"), env("CA_PG_PASSWORD"));
    }

    private static String env(String name) {
        String v = System.getenv(name);
        return v == null ? "" : v;
    }
}
