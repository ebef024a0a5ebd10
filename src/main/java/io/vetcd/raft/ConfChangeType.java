package io.vetcd.raft;

/** Single-step membership change kinds. ADD_NODE of an existing learner promotes it. */
public enum ConfChangeType { ADD_NODE, REMOVE_NODE, ADD_LEARNER, PROMOTE_LEARNER }
