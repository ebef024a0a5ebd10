package io.vetcd.raft;

/** State that must be durable before messages of the same Ready are sent. votedFor 0 = none. */
public record HardState(long term, long votedFor, long commit) {}
