package io.consensusactors.persistence;

import com.typesafe.config.Config;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/** The recovery suite on an H2 file database, the embedded default. */
class H2JournalRecoveryTest extends AbstractJournalRecoveryTest {

    @TempDir
    static Path dataDir;

    @Override
    protected Config databaseConfig() {
        return PersistenceSettings.h2(dataDir, "recovery-node");
    }
}
