/**
 * A linearizability checker (Wing &amp; Gong's search with Lowe's memoization, as in Porcupine) for histories of
 * client operations recorded against any replicated object: describe the object as a sequential
 * {@link io.consensusactors.testkit.linearizability.Model}, record calls and returns with a
 * {@link io.consensusactors.testkit.linearizability.HistoryRecorder} (or build
 * {@link io.consensusactors.testkit.linearizability.Operation}s from a simulation), and call
 * {@link io.consensusactors.testkit.linearizability.LinearizabilityChecker#check}.
 * Ready-made models: {@link io.consensusactors.testkit.linearizability.KvModel} and
 * {@link io.consensusactors.testkit.linearizability.RegisterModel}.
 */
package io.consensusactors.testkit.linearizability;
