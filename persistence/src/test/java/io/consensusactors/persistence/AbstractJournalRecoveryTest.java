package io.consensusactors.persistence;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Durability of the journal and snapshot store: what was persisted before an ActorSystem stopped is recovered, in
 * order and exactly once, by a new ActorSystem on the same database. One suite, one subclass per database.
 */
abstract class AbstractJournalRecoveryTest {

    /** The persistence overlay of the database under test ({@link PersistenceSettings} block). */
    protected abstract Config databaseConfig();

    private Config systemConfig() {
        Config app = databaseConfig().withFallback(ConfigFactory.parseString(
                "pekko.loglevel = WARNING\npekko.actor.provider = local"));
        return PersistenceSettings.forNode(app).withFallback(app).withFallback(ConfigFactory.load());
    }

    // --- a tiny event-sourced list: commands are records, events are records, state is the list --------------
    sealed interface Command extends CborSerializable {}
    record Add(String item, ActorRef<Done> replyTo) implements Command {}
    record Get(ActorRef<Items> replyTo) implements Command {}
    record Added(String item) implements CborSerializable {}
    record Items(List<String> items) implements CborSerializable {}
    enum Done implements CborSerializable { INSTANCE }

    static Behavior<Command> listEntity(String id, int snapshotEvery) {
        return listEntity(id, snapshotEvery, e -> Set.of());
    }

    /** The list entity, its events tagged by {@code tagsFor}. */
    static Behavior<Command> listEntity(String id, int snapshotEvery, Function<Added, Set<String>> tagsFor) {
        return new EventSourcedBehavior<Command, Added, Items>(PersistenceId.ofUniqueId(id)) {
            @Override
            public Items emptyState() {
                return new Items(List.of());
            }

            @Override
            public CommandHandler<Command, Added, Items> commandHandler() {
                return newCommandHandlerBuilder().forAnyState()
                        .onCommand(Add.class, (s, c) -> Effect().persist(new Added(c.item()))
                                .thenReply(c.replyTo(), ns -> Done.INSTANCE))
                        .onCommand(Get.class, (s, c) -> Effect().reply(c.replyTo(), s))
                        .build();
            }

            @Override
            public EventHandler<Items, Added> eventHandler() {
                return newEventHandlerBuilder().forAnyState().onEvent(Added.class, (s, e) -> {
                    List<String> next = new ArrayList<>(s.items());
                    next.add(e.item());
                    return new Items(List.copyOf(next));
                }).build();
            }

            @Override
            public Set<String> tagsFor(Added event) {
                return tagsFor.apply(event);
            }

            @Override
            public RetentionCriteria retentionCriteria() {
                return snapshotEvery > 0 ? RetentionCriteria.snapshotEvery(snapshotEvery, 2) : RetentionCriteria.disabled();
            }
        };
    }

    private List<String> writeThenRecover(int events, int snapshotEvery) {
        String id = "recovery-" + UUID.randomUUID();
        Config config = systemConfig();
        SchemaInitializer.createIfNotExists(config);
        List<String> written = new ArrayList<>();
        ActorTestKit first = ActorTestKit.create("first", config);
        try {
            ActorRef<Command> entity = first.spawn(listEntity(id, snapshotEvery));
            TestProbe<Done> probe = first.createTestProbe();
            for (int i = 0; i < events; i++) {
                String item = "item-" + i;
                entity.tell(new Add(item, probe.getRef()));
                probe.expectMessage(Duration.ofSeconds(10), Done.INSTANCE);
                written.add(item);
            }
        } finally {
            first.shutdownTestKit();
        }
        ActorTestKit second = ActorTestKit.create("second", config);
        try {
            ActorRef<Command> recovered = second.spawn(listEntity(id, snapshotEvery));
            TestProbe<Items> probe = second.createTestProbe();
            recovered.tell(new Get(probe.getRef()));
            Items items = probe.expectMessageClass(Items.class, Duration.ofSeconds(15));
            assertEquals(written, items.items(), "recovered events differ from the acknowledged ones");
            return items.items();
        } finally {
            second.shutdownTestKit();
        }
    }

    @Test
    void acknowledgedEventsAreRecoveredInOrderByANewActorSystem() {
        assertEquals(25, writeThenRecover(25, 0).size());
    }

    @Test
    void stateIsRecoveredFromSnapshotPlusLaterEvents() {
        assertEquals(23, writeThenRecover(23, 5).size());
    }
}
