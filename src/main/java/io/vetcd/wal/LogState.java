package io.vetcd.wal;

import java.util.Arrays;
import java.util.List;

/**
 * The shape of the live log as the WAL sees it: the latest snapshot marker, the range
 * {@code (base, last]} of live entries, and the term of every live index (as runs of equal terms).
 *
 * <p>Recovery replays every record through this class and the writer then keeps using the very same
 * instance, so both make identical decisions. During recovery {@link #entries} mirrors the live
 * entries; afterwards it is {@code null} and only the indexes and term runs are kept (memory is
 * bounded by the number of distinct terms, not by the number of entries).
 *
 * <p>Invariant outside recovery: {@code base == snapIndex} (0 without a snapshot), so live entries
 * are exactly {@code snapIndex+1 .. last}.
 */
final class LogState {
    boolean hasSnap;
    long snapIndex;
    long snapTerm;
    /** Entries {@code <= base} are not held (released, or covered by the snapshot). */
    long base;
    /** Index of the last live entry; {@code == base} when no entry is held. */
    long last;
    /** Live entries during recovery ({@code entries.get(k).index() == base + 1 + k}); null afterwards. */
    List<WalEntry> entries;

    private long[] runStart = new long[8];
    private long[] runTerm = new long[8];
    private int runs;

    LogState(long base, List<WalEntry> entries) {
        this.base = base;
        this.last = base;
        this.entries = entries;
    }

    long floor() {
        return hasSnap ? snapIndex : 0;
    }

    /** Why an entry at {@code index} may not follow a log ending at {@code last}, or null if it may. */
    String checkEntry(long index, long last) {
        if (index <= floor()) {
            return "entry index " + index + " is not after the snapshot index " + floor();
        }
        if (index > last + 1) {
            return "entry index " + index + " leaves a gap after the last index " + last;
        }
        return null;
    }

    /** Appends {@code e}, discarding any live entries at or after its index (a raft conflict). */
    void applyEntry(WalEntry e) {
        long i = e.index();
        if (i <= base) { // only while replaying from a segment whose predecessors were released
            base = i - 1;
            runs = 0;
            if (entries != null) {
                entries.clear();
            }
        } else {
            while (runs > 0 && runStart[runs - 1] >= i) {
                runs--;
            }
            if (entries != null) {
                entries.subList((int) (i - 1 - base), entries.size()).clear();
            }
        }
        last = i;
        if (runs == 0 || runTerm[runs - 1] != e.term()) {
            if (runs == runStart.length) {
                runStart = Arrays.copyOf(runStart, runs * 2);
                runTerm = Arrays.copyOf(runTerm, runs * 2);
            }
            runStart[runs] = i;
            runTerm[runs] = e.term();
            runs++;
        }
        if (entries != null) {
            entries.add(e);
        }
    }

    /** Why a snapshot marker may not be saved now, or null if it may. */
    String checkMarker(long index, long term) {
        if (index < 0) {
            return "snapshot index " + index + " is negative";
        }
        if (hasSnap && index < snapIndex) {
            return "snapshot index " + index + " is older than the saved snapshot index " + snapIndex;
        }
        if (hasSnap && index == snapIndex && term != snapTerm) {
            return "snapshot at index " + index + " has term " + term + " but the saved one has term " + snapTerm;
        }
        return null;
    }

    boolean isCurrentSnapshot(long index, long term) {
        return hasSnap && index == snapIndex && term == snapTerm;
    }

    /**
     * Whether a snapshot at (index, term) contradicts the live entry at that index: then the entries
     * after it belong to a log that diverged from the snapshot and must be discarded with it.
     */
    boolean markerDiscardsSuffix(long index, long term) {
        return index > base && index <= last && termAt(index) != term;
    }

    /** Records a snapshot marker: drops entries {@code <= index}; all entries when {@code discardSuffix}. */
    void applyMarker(long index, long term, boolean discardSuffix) {
        hasSnap = true;
        snapIndex = index;
        snapTerm = term;
        if (discardSuffix || index >= last) {
            base = index;
            last = index;
            runs = 0;
            if (entries != null) {
                entries.clear();
            }
        } else if (index > base) {
            if (entries != null) {
                entries.subList(0, (int) (index - base)).clear();
            }
            int keepFrom = runs - 1; // the run holding index + 1
            while (runStart[keepFrom] > index + 1) {
                keepFrom--;
            }
            System.arraycopy(runStart, keepFrom, runStart, 0, runs - keepFrom);
            System.arraycopy(runTerm, keepFrom, runTerm, 0, runs - keepFrom);
            runs -= keepFrom;
            base = index;
        }
        // index <= base: the entries held already start after it; nothing to drop
    }

    /**
     * A marker repeated at the head of a segment: it only tells a replay that starts at this segment
     * (its predecessors released) which snapshot covered the released entries.
     */
    void applyHeaderMarker(long index, long term) {
        if (!hasSnap || index > snapIndex) {
            hasSnap = true;
            snapIndex = index;
            snapTerm = term;
        }
    }

    private long termAt(long index) {
        for (int r = runs - 1; r >= 0; r--) {
            if (runStart[r] <= index) {
                return runTerm[r];
            }
        }
        throw new IllegalStateException("wal: no term known for index " + index);
    }
}
