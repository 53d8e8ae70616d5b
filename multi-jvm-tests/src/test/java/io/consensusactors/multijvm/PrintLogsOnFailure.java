package io.consensusactors.multijvm;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/** Prints the tail of every node's log when a multi-JVM test fails. The test class exposes its cluster. */
public final class PrintLogsOnFailure implements TestWatcher {

    /** Implemented by tests that own a {@link NodeCluster}. */
    public interface HasCluster {
        NodeCluster cluster();
    }

    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
        Object test = context.getTestInstance().orElse(null);
        if (test instanceof HasCluster h && h.cluster() != null) {
            System.out.println("===== node logs of failed test " + context.getDisplayName() + " =====");
            System.out.println(h.cluster().tails(60));
        }
    }
}
