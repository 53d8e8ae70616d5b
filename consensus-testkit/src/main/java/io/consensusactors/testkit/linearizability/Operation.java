package io.consensusactors.testkit.linearizability;

/**
 * One client operation as observed by the client: called at {@code callTime}, answered {@code output} at
 * {@code returnTime}. An operation whose outcome is unknown (timed out, client crashed) has {@code output == null}
 * and {@code returnTime == Long.MAX_VALUE}: it may or may not have taken effect, at any point after its call.
 * Times only need to be consistent with real time (a logical clock is enough); equal times count as overlapping.
 */
public record Operation<I, O>(int clientId, I input, long callTime, O output, long returnTime) {

    public Operation {
        if (returnTime < callTime) {
            throw new IllegalArgumentException("operation returns (" + returnTime + ") before it is called ("
                    + callTime + ")");
        }
    }

    /** An operation of unknown outcome: it may or may not take effect, at any time after {@code callTime}. */
    public static <I, O> Operation<I, O> unknown(int clientId, I input, long callTime) {
        return new Operation<>(clientId, input, callTime, null, Long.MAX_VALUE);
    }

    public boolean pending() {
        return returnTime == Long.MAX_VALUE;
    }

    /** This operation with another output, e.g. to corrupt a history in a test. */
    public Operation<I, O> withOutput(O newOutput) {
        return new Operation<>(clientId, input, callTime, newOutput, returnTime);
    }

    @Override
    public String toString() {
        return "client " + clientId + " " + input + " -> " + (pending() ? "?" : output) + " [" + callTime + ", "
                + (pending() ? "∞" : returnTime) + "]";
    }
}
