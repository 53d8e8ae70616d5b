/**
 * A seeded, single-threaded network simulator for testing pure protocol cores (Raft, Paxos) in one process:
 * {@link io.consensusactors.testkit.sim.SimNetwork} (drops, duplicates, delays, directional cuts and partitions),
 * {@link io.consensusactors.testkit.sim.Partitions} (random partition shapes) and
 * {@link io.consensusactors.testkit.sim.Seeds} (run a property over many seeds; replay one with a system property).
 * No Pekko, no threads, no clock: time is in ticks owned by the caller's event loop.
 */
package io.consensusactors.testkit.sim;
