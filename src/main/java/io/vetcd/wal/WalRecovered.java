package io.vetcd.wal;

import java.util.List;

/**
 * What {@link Wal#open} found on disk.
 *
 * @param hardState      the last hard state written, or {@code null} if none was ever written
 * @param snapshot       the last snapshot marker written, or {@code null} if none
 * @param entries        the live log after {@code snapshot.index()} (or from index 1 without a snapshot):
 *                       contiguous, conflict-resolved (a later record for an index wins and discards the
 *                       old suffix), unmodifiable
 * @param tailRepaired   whether a torn or corrupt tail of the last segment was truncated on open
 * @param bytesTruncated how many bytes that repair cut off (0 if none)
 */
public record WalRecovered(WalHardState hardState, WalSnapshotMarker snapshot, List<WalEntry> entries,
                           boolean tailRepaired, long bytesTruncated) {}
