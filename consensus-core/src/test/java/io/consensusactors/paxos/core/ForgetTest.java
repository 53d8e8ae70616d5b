package io.consensusactors.paxos.core;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tombstones ({@link Acceptor#forget}): an acceptor that forgot an instance keeps only its chosen value, and the rule
 * "a forgotten key never gets a second value" holds: a Prepare is answered with the chosen value as the highest
 * accepted proposal (so P2c, "Paxos Made Simple" §2.2, makes any new proposer propose it), an Accept of another value
 * is refused, and a proposer facing tombstones (alone or mixed with live acceptors) gets the chosen value chosen.
 */
class ForgetTest {

    static Ballot b(long round, long proposer) {
        return new Ballot(round, proposer);
    }

    static AcceptorState<String> tombstone(String chosen) {
        AcceptorState<String> s = AcceptorState.<String>initial().apply(new AcceptorEvent.Accepted<>(b(3, 1), chosen));
        AcceptorResult<String> r = Acceptor.forget(s, chosen);
        assertEquals(new AcceptorEvent.Forgotten<>(chosen), r.persist(), "the tombstone must be made durable");
        assertNull(r.reply());
        return r.state();
    }

    @Test
    void aTombstoneReportsTheChosenValueAboveEveryBallot() {
        AcceptorState<String> t = tombstone("COMMIT");
        assertTrue(t.isForgotten());
        AcceptorResult<String> r = Acceptor.onPrepare(t, new PaxosMessage.Prepare<>(b(Long.MAX_VALUE - 1, 9)));
        assertNull(r.persist(), "a tombstone never changes");
        PaxosMessage.Promise<String> p = assertInstanceOf(PaxosMessage.Promise.class, r.reply());
        assertEquals(Ballot.FORGOTTEN, p.acceptedBallot());
        assertEquals("COMMIT", p.acceptedValue());
    }

    @Test
    void aTombstoneAcceptsOnlyTheChosenValue() {
        AcceptorState<String> t = tombstone("COMMIT");
        assertInstanceOf(PaxosMessage.Accepted.class, Acceptor.onAccept(t, new PaxosMessage.Accept<>(b(1, 1), "COMMIT")).reply());
        AcceptorResult<String> other = Acceptor.onAccept(t, new PaxosMessage.Accept<>(b(50, 2), "ABORT"));
        PaxosMessage.Nack<String> n = assertInstanceOf(PaxosMessage.Nack.class, other.reply());
        assertEquals(b(50, 2), n.promised(), "the proposer retries above its own ballot, never near FORGOTTEN");
        assertNull(other.persist());
        assertEquals(t, t.apply(new AcceptorEvent.Promised<>(b(99, 1))), "no event changes a tombstone");
        assertEquals(t, Acceptor.forget(t, "COMMIT").state(), "forget is idempotent");
        assertThrows(IllegalArgumentException.class, () -> Acceptor.forget(t, "ABORT"));
    }

    /** A proposer with its own different value, against one tombstone and two acceptors that never heard of it. */
    @Test
    void aProposerFacingATombstoneChoosesTheForgottenValue() {
        for (int tombstones = 1; tombstones <= 3; tombstones++) {
            List<AcceptorState<String>> acceptors = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                acceptors.add(i < tombstones ? tombstone("COMMIT") : AcceptorState.initial());
            }
            // the proposer hears only from acceptor 0 (a tombstone) and acceptor 2
            Proposer<String> p = new Proposer<>(5, 3, 0, PaxosConfig.defaults(), new Random(1));
            p.propose("ABORT");
            String chosen = null;
            for (int step = 0; step < 50 && chosen == null; step++) {
                Proposer.Ready<String> ready = p.ready();
                for (PaxosMessage<String> m : ready.toAcceptors()) {
                    for (int a : new int[]{0, 2}) {
                        AcceptorResult<String> r = Acceptor.step(acceptors.get(a), m);
                        acceptors.set(a, r.state());
                        p.step(a, r.reply());
                    }
                }
                chosen = p.chosen().orElse(null);
                p.tick();
            }
            assertEquals("COMMIT", chosen, tombstones + " tombstone(s)");
        }
    }
}
