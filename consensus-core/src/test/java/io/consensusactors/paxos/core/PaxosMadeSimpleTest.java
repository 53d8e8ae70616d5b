package io.consensusactors.paxos.core;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Scripted single-decree scenarios, each citing the rule of Lamport's "Paxos Made Simple" (2001) it protects. */
class PaxosMadeSimpleTest {

    static final PaxosConfig CONFIG = PaxosConfig.defaults();

    static Ballot b(long round, long proposer) {
        return new Ballot(round, proposer);
    }

    @Test
    void ballotsAreTotallyOrderedByRoundThenProposer() {
        // §2.2: "different proposals have different numbers"; numbers are totally ordered.
        assertTrue(b(2, 1).greaterThan(b(1, 9)));
        assertTrue(b(2, 2).greaterThan(b(2, 1)));
        assertTrue(b(1, 1).greaterThan(Ballot.NONE));
        assertEquals(0, b(3, 3).compareTo(b(3, 3)));
    }

    // ------------------------------------------------------------------------------------------------ acceptor

    @Test
    void acceptorPromisesAndReportsItsHighestAcceptedProposal() {
        // §2.2 phase 1(b): respond "with a promise not to accept any more proposals numbered less than n and with
        // the highest-numbered proposal (if any) that it has accepted".
        AcceptorState<String> s = AcceptorState.initial();
        s = Acceptor.step(s, new PaxosMessage.Accept<>(b(1, 1), "x")).state();
        AcceptorResult<String> r = Acceptor.step(s, new PaxosMessage.Prepare<>(b(2, 2)));
        assertEquals(new PaxosMessage.Promise<>(b(2, 2), b(1, 1), "x"), r.reply());
        assertEquals(new AcceptorEvent.Promised<String>(b(2, 2)), r.persist(), "a new promise must be persisted");
        assertEquals(b(2, 2), r.state().promised());
    }

    @Test
    void acceptorRefusesPrepareBelowItsPromiseWithANackCarryingThePromise() {
        // §2.2 P1a and the optimisation "the acceptor [should] inform the proposer".
        AcceptorState<String> s = Acceptor.step(AcceptorState.<String>initial(), new PaxosMessage.Prepare<>(b(5, 2))).state();
        AcceptorResult<String> r = Acceptor.step(s, new PaxosMessage.Prepare<>(b(4, 9)));
        assertEquals(new PaxosMessage.Nack<String>(b(4, 9), b(5, 2)), r.reply());
        assertNull(r.persist());
        assertEquals(s, r.state());
    }

    @Test
    void acceptorRefusesAcceptBelowItsPromise() {
        // §2.2 P1a: "an acceptor can accept a proposal numbered n iff it has not responded to a prepare request
        // having a number greater than n".
        AcceptorState<String> s = Acceptor.step(AcceptorState.<String>initial(), new PaxosMessage.Prepare<>(b(5, 2))).state();
        AcceptorResult<String> r = Acceptor.step(s, new PaxosMessage.Accept<>(b(3, 1), "late"));
        assertInstanceOf(PaxosMessage.Nack.class, r.reply());
        assertNull(r.state().acceptedValue());
        AcceptorResult<String> ok = Acceptor.step(s, new PaxosMessage.Accept<>(b(5, 2), "v"));
        assertEquals(new PaxosMessage.Accepted<>(b(5, 2), "v"), ok.reply());
        assertEquals(new AcceptorEvent.Accepted<>(b(5, 2), "v"), ok.persist(), "an acceptance must be persisted");
    }

    @Test
    void acceptorAnswersADuplicateRequestAgainWithoutANewWrite() {
        AcceptorState<String> s = Acceptor.step(AcceptorState.<String>initial(), new PaxosMessage.Prepare<>(b(1, 1))).state();
        assertNull(Acceptor.step(s, new PaxosMessage.Prepare<>(b(1, 1))).persist());
        s = Acceptor.step(s, new PaxosMessage.Accept<>(b(1, 1), "v")).state();
        AcceptorResult<String> again = Acceptor.step(s, new PaxosMessage.Accept<>(b(1, 1), "v"));
        assertNull(again.persist());
        assertEquals(new PaxosMessage.Accepted<>(b(1, 1), "v"), again.reply());
    }

    @Test
    void recoveredAcceptorStateIsTheFoldOfItsEvents() {
        // §2.3: "an acceptor must remember this information even if it fails and then restarts".
        AcceptorState<String> s = AcceptorState.initial();
        List<AcceptorEvent<String>> journal = new java.util.ArrayList<>();
        for (PaxosMessage<String> m : List.<PaxosMessage<String>>of(new PaxosMessage.Prepare<>(b(1, 1)),
                new PaxosMessage.Accept<>(b(1, 1), "a"), new PaxosMessage.Prepare<>(b(3, 2)),
                new PaxosMessage.Accept<>(b(2, 1), "stale"))) {
            AcceptorResult<String> r = Acceptor.step(s, m);
            if (r.persist() != null) {
                journal.add(r.persist());
            }
            s = r.state();
        }
        AcceptorState<String> replayed = AcceptorState.initial();
        for (AcceptorEvent<String> e : journal) {
            replayed = replayed.apply(e);
        }
        assertEquals(s, replayed);
        assertEquals(new AcceptorState<>(b(3, 2), b(1, 1), "a"), replayed);
    }

    // ------------------------------------------------------------------------------------------------ proposer

    private static Proposer<String> proposer(long id) {
        return new Proposer<>(id, 3, 0, CONFIG, new Random(1));
    }

    @Test
    void aProposerThatLearnsOfAnAcceptedValueMustProposeIt() {
        // §2.2 P2c: "v is the value of the highest-numbered proposal among [those accepted by a majority S]".
        Proposer<String> p = proposer(2);
        p.propose("mine");
        Ballot ballot = p.ballot();
        p.ready();
        p.step(0, new PaxosMessage.Promise<>(ballot, b(1, 1), "theirs"));
        p.step(1, new PaxosMessage.Promise<>(ballot, Ballot.NONE, null));
        assertEquals(List.of(new PaxosMessage.Accept<>(ballot, "theirs")), p.ready().toAcceptors());
    }

    @Test
    void aProposerPicksTheHighestNumberedAcceptedProposal() {
        // §2.2 phase 2(a): "v is the value of the highest-numbered proposal among the responses".
        Proposer<String> p = proposer(3);
        p.propose("mine");
        Ballot ballot = p.ballot();
        p.ready();
        p.step(0, new PaxosMessage.Promise<>(ballot, b(1, 1), "old"));
        p.step(1, new PaxosMessage.Promise<>(ballot, b(1, 2), "newer"));
        assertEquals(List.of(new PaxosMessage.Accept<>(ballot, "newer")), p.ready().toAcceptors());
    }

    @Test
    void aProposerIsFreeToProposeItsOwnValueWhenNoAcceptorOfTheMajorityAcceptedAny() {
        // §2.2 phase 2(a): "or is any value if the responses reported no proposals".
        Proposer<String> p = proposer(1);
        p.propose("mine");
        Ballot ballot = p.ballot();
        p.ready();
        p.step(0, new PaxosMessage.Promise<>(ballot, Ballot.NONE, null));
        p.step(2, new PaxosMessage.Promise<>(ballot, Ballot.NONE, null));
        assertEquals(List.of(new PaxosMessage.Accept<>(ballot, "mine")), p.ready().toAcceptors());
        p.step(0, new PaxosMessage.Accepted<>(ballot, "mine"));
        assertTrue(p.chosen().isEmpty(), "one acceptance of three is not a majority");
        p.step(2, new PaxosMessage.Accepted<>(ballot, "mine"));
        assertEquals("mine", p.chosen().orElseThrow());
        assertEquals(List.of(new PaxosMessage.Chosen<>("mine")), p.ready().toLearners(), "§2.3: tell the learners");
    }

    @Test
    void aNackMakesTheProposerBackOffAndRetryAboveThePromise() {
        // §2.4 progress: a proposer that learns of a higher number abandons its proposal and tries a higher one.
        Proposer<String> p = proposer(1);
        p.propose("v");
        Ballot first = p.ballot();
        p.ready();
        p.step(0, new PaxosMessage.Nack<>(first, b(7, 2)));
        assertEquals(Proposer.Phase.BACKOFF, p.phase());
        for (int i = 0; i < 1000 && p.phase() == Proposer.Phase.BACKOFF; i++) {
            p.tick();
        }
        assertEquals(Proposer.Phase.PREPARING, p.phase());
        assertEquals(b(8, 1), p.ballot());
        Proposer.Ready<String> r = p.ready();
        assertEquals(8, r.persistRound(), "the new round is hard state, persisted before the Prepare leaves");
        assertEquals(List.of(new PaxosMessage.Prepare<String>(b(8, 1))), r.toAcceptors());
    }

    @Test
    void aRestartedProposerNeverReusesABallot() {
        // §2.5: "a proposer must remember ... the highest-numbered proposal it has tried to issue".
        Proposer<String> p = proposer(1);
        p.propose("a");
        long durable = p.ready().persistRound();
        Proposer<String> restarted = new Proposer<>(1, 3, durable, CONFIG, new Random(1));
        restarted.propose("b");
        assertTrue(restarted.ballot().greaterThan(p.ballot()));
    }

    @Test
    void duellingProposersAreResolvedByRandomizedBackoff() {
        // §2.4: two proposers preempting each other forever; randomized backoff lets one finish.
        List<AcceptorState<String>> acceptors = new java.util.ArrayList<>(java.util.Collections.nCopies(3,
                AcceptorState.<String>initial()));
        Proposer<String> p1 = new Proposer<>(1, 3, 0, CONFIG, new Random(11));
        Proposer<String> p2 = new Proposer<>(2, 3, 0, CONFIG, new Random(22));
        p1.propose("one");
        p2.propose("two");
        // Lock-step rounds: every message of a round is delivered before the next; p2's Prepare always reaches the
        // acceptors right after p1's, so without backoff p1 would be preempted in every round.
        for (int tick = 0; tick < 500 && (p1.chosen().isEmpty() || p2.chosen().isEmpty()); tick++) {
            for (Proposer<String> p : List.of(p1, p2)) {
                Proposer.Ready<String> r = p.ready();
                for (PaxosMessage<String> m : r.toAcceptors()) {
                    for (int a = 0; a < 3; a++) {
                        AcceptorResult<String> res = Acceptor.step(acceptors.get(a), m);
                        acceptors.set(a, res.state());
                        p.step(a, res.reply());
                    }
                }
                for (PaxosMessage<String> m : r.toLearners()) {
                    p1.step(-1, m);
                    p2.step(-1, m);
                }
            }
            p1.tick();
            p2.tick();
        }
        assertEquals(p1.chosen().orElseThrow(), p2.chosen().orElseThrow());
    }

    @Test
    void aReadWithNothingAcceptedByAMajorityProposesNothing() {
        Proposer<String> p = proposer(1);
        p.read();
        Ballot ballot = p.ballot();
        p.ready();
        p.step(0, new PaxosMessage.Promise<>(ballot, Ballot.NONE, null));
        p.step(1, new PaxosMessage.Promise<>(ballot, Ballot.NONE, null));
        assertEquals(Proposer.Phase.NOTHING_ACCEPTED, p.phase());
        assertTrue(p.ready().toAcceptors().isEmpty());
    }

    @Test
    void aReadThatFindsAnAcceptedValueCompletesIt() {
        Proposer<String> p = proposer(1);
        p.read();
        Ballot ballot = p.ballot();
        p.ready();
        p.step(0, new PaxosMessage.Promise<>(ballot, b(1, 2), "COMMIT"));
        p.step(1, new PaxosMessage.Promise<>(ballot, Ballot.NONE, null));
        assertEquals(List.of(new PaxosMessage.Accept<>(ballot, "COMMIT")), p.ready().toAcceptors());
    }

    // ------------------------------------------------------------------------------------------------ learner

    @Test
    void aValueIsChosenWhenAMajorityAcceptedItAtTheSameBallot() {
        // §2.3: "the learner must find out that a proposal has been accepted by a majority of acceptors".
        Learner<String> l = new Learner<>(3);
        l.step(0, new PaxosMessage.Accepted<>(b(1, 1), "x"));
        l.step(1, new PaxosMessage.Accepted<>(b(2, 2), "x"));
        assertTrue(l.chosen().isEmpty(), "acceptances at different ballots do not add up");
        l.step(2, new PaxosMessage.Accepted<>(b(2, 2), "x"));
        assertEquals("x", l.chosen().orElseThrow());
    }

    @Test
    void aLearnerRefusesTwoValuesAtOneBallot() {
        Learner<String> l = new Learner<>(3);
        l.step(0, new PaxosMessage.Accepted<>(b(1, 1), "x"));
        assertThrows(IllegalStateException.class, () -> l.step(1, new PaxosMessage.Accepted<>(b(1, 1), "y")));
    }

    @Test
    void duplicateAcceptedMessagesFromOneAcceptorCountOnce() {
        Learner<String> l = new Learner<>(3);
        l.step(0, new PaxosMessage.Accepted<>(b(1, 1), "x"));
        l.step(0, new PaxosMessage.Accepted<>(b(1, 1), "x"));
        assertTrue(l.chosen().isEmpty());
        assertNotNull(l.step(1, new PaxosMessage.Accepted<>(b(1, 1), "x")).orElse(null));
    }
}
