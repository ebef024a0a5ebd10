package io.vetcd.wal;

/**
 * "A snapshot at (index, term) was saved elsewhere; entries {@code <= index} are no longer needed."
 * The WAL stores only this marker, never the snapshot itself.
 */
public record WalSnapshotMarker(long index, long term) {}
