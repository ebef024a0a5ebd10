package io.vetcd.wal;

/**
 * One raft log entry as stored in the WAL. {@code data} is stored as given (a {@code null} data is
 * written as empty); arrays are not copied, so callers must not mutate them after {@link Wal#append}.
 */
public record WalEntry(long term, long index, int type, byte[] data) {}
