package io.consensusactors.testkit.sim;

/** A message in flight from one simulated node to another, due at {@code deliverAt} (ticks). */
public record Envelope<M>(int from, int to, M message, long deliverAt, long seq) {
}
