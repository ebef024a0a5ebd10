package io.vetcd.wal;

/** Raft hard state: current term, vote in that term (0 = none) and commit index. */
public record WalHardState(long term, long votedFor, long commit) {}
