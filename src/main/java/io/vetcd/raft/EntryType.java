package io.vetcd.raft;

/** Kind of a replicated log entry. */
public enum EntryType { NORMAL, CONF_CHANGE }
