package io.vetcd.raft;

/**
 * Single-step membership change kinds. ADD_NODE of an existing learner promotes it. UPDATE_NODE changes
 * nothing in raft (the application's member attributes, e.g. peer URLs, travel in the context).
 */
public enum ConfChangeType { ADD_NODE, REMOVE_NODE, ADD_LEARNER, PROMOTE_LEARNER, UPDATE_NODE }
