package io.consensusactors.raft.core;

/** Volatile role of a member (etcd's SoftState). */
public enum Role { FOLLOWER, PRE_CANDIDATE, CANDIDATE, LEADER }
