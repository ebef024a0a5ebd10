package io.vetcd.raft;

/** Volatile state, reported for information only. leaderId 0 = unknown. */
public record SoftState(long leaderId, Role role) {}
