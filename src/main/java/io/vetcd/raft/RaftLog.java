package io.vetcd.raft;

import java.util.ArrayList;
import java.util.List;

/** In-memory view of the log: a (possibly compacted) prefix summarized by a snapshot, then entries. */
final class RaftLog {
    long snapIndex;
    long snapTerm;
    final ArrayList<Entry> ents = new ArrayList<>();
    long committed;
    /** Highest index handed to the application and acknowledged by advance(). */
    long applied;
    /** First index not yet durable (handed out and acknowledged). */
    long unstableFrom = 1;
    /** Snapshot received from the leader and not yet acknowledged as installed. */
    Snapshot pendingSnapshot;
    /** Latest snapshot (local compaction or installed); sent to lagging followers. */
    Snapshot snapshot;
    /**
     * Entries up to here keep their index, term and type but no longer their data: they were applied,
     * and no follower this node knows of still needs them (see {@link #trimPayloadsTo}). Never below
     * {@link #snapIndex}: compacted entries count as trimmed.
     */
    long payloadTrimmedTo;
    /** Data bytes of the entries after {@link #payloadTrimmedTo}: what the log holds on the heap. */
    long retainedPayloadBytes;

    long lastIndex() { return snapIndex + ents.size(); }

    long firstIndex() { return snapIndex + 1; }

    long lastTerm() { return term(lastIndex()); }

    /** Term of entry i, or -1 if unavailable (compacted or beyond the end). */
    long term(long i) {
        if (i == snapIndex) return snapTerm;
        if (i < snapIndex || i > lastIndex()) return -1;
        return ents.get((int) (i - snapIndex - 1)).term();
    }

    Entry entry(long i) {
        if (i <= snapIndex || i > lastIndex()) throw new IllegalStateException("entry " + i + " unavailable");
        return ents.get((int) (i - snapIndex - 1));
    }

    boolean matchTerm(long i, long t) {
        long x = term(i);
        return x >= 0 && x == t;
    }

    boolean isUpToDate(long lastIdx, long lastT) {
        long myT = lastTerm();
        return lastT > myT || (lastT == myT && lastIdx >= lastIndex());
    }

    /** Appends entries, truncating any conflicting suffix. Entries must be contiguous. */
    void append(List<Entry> es) {
        if (es.isEmpty()) return;
        long first = es.get(0).index();
        if (first <= committed) {
            throw new IllegalStateException("overwriting committed entry " + first + " (committed " + committed + ")");
        }
        if (first > lastIndex() + 1) throw new IllegalStateException("gap appending " + first + " after " + lastIndex());
        if (first <= snapIndex) throw new IllegalStateException("append below snapshot " + first);
        int keep = (int) (first - snapIndex - 1);
        while (ents.size() > keep) retainedPayloadBytes -= ents.remove(ents.size() - 1).data().length;
        long expect = first;
        long prevTerm = term(first - 1);
        for (Entry e : es) {
            if (e.index() != expect++) throw new IllegalStateException("non-contiguous entries");
            if (e.term() < prevTerm) throw new IllegalStateException("entry terms going backwards at " + e.index());
            prevTerm = e.term();
            ents.add(e);
            retainedPayloadBytes += e.data().length;
        }
        unstableFrom = Math.min(unstableFrom, first);
    }

    /** First index in es that conflicts with (or is absent from) the log, or 0 if all match. */
    long findConflict(List<Entry> es) {
        for (Entry e : es) {
            if (!matchTerm(e.index(), e.term())) return e.index();
        }
        return 0;
    }

    /** Largest index <= index whose term is <= t (or snapIndex). */
    long findConflictByTerm(long index, long t) {
        long i = Math.min(index, lastIndex());
        while (i > snapIndex) {
            long ti = term(i);
            if (ti <= t) return i;
            i--;
        }
        return snapIndex;
    }

    void commitTo(long c) {
        if (c > lastIndex()) throw new IllegalStateException("commit " + c + " beyond last index " + lastIndex());
        if (c > committed) committed = c;
    }

    /** Entries [lo, hi] limited to about maxBytes (at least one entry). */
    List<Entry> slice(long lo, long hi, long maxBytes) {
        List<Entry> r = new ArrayList<>();
        if (lo > hi) return r;
        if (lo <= snapIndex) throw new IllegalStateException("slice " + lo + " compacted (snap " + snapIndex + ")");
        if (lo <= payloadTrimmedTo) throw new IllegalStateException("slice " + lo + " has no data (trimmed to " + payloadTrimmedTo + ")");
        if (hi > lastIndex()) throw new IllegalStateException("slice " + hi + " beyond " + lastIndex());
        long size = 0;
        for (long i = lo; i <= hi; i++) {
            Entry e = entry(i);
            size += e.approxSize();
            if (!r.isEmpty() && size > maxBytes) break;
            r.add(e);
        }
        return r;
    }

    List<Entry> unstableEntries() {
        long from = Math.max(unstableFrom, snapIndex + 1);
        if (from > lastIndex()) return List.of();
        return new ArrayList<>(ents.subList((int) (from - snapIndex - 1), ents.size()));
    }

    void stableTo(long i, long t) {
        if (matchTerm(i, t) && i >= unstableFrom) unstableFrom = i + 1;
    }

    /** Drops entries up to and including index (must be available); term of index is kept. */
    void compactTo(long index) {
        if (index <= snapIndex) return;
        if (index > lastIndex()) throw new IllegalStateException("compact beyond last index");
        long t = term(index);
        int drop = (int) (index - snapIndex);
        for (int i = (int) (payloadTrimmedTo - snapIndex); i < drop; i++) {
            retainedPayloadBytes -= ents.get(i).data().length;
        }
        ents.subList(0, drop).clear();
        snapIndex = index;
        snapTerm = t;
        payloadTrimmedTo = Math.max(payloadTrimmedTo, index);
    }

    /**
     * The highest index that can lose its data while the entries after it still hold at least
     * {@code bytes} of data (the current trim point when they hold less).
     */
    long lastIndexBeforeNewest(long bytes) {
        long kept = 0;
        for (long i = lastIndex(); i > payloadTrimmedTo; i--) {
            kept += entry(i).data().length;
            if (kept >= bytes) return i - 1;
        }
        return payloadTrimmedTo;
    }

    /**
     * Drops the data of entries up to and including index (keeping index, term and type, so log
     * matching and membership checks still work): they are applied, and a member that still needs
     * them gets a snapshot instead. The caller picks index (at most the applied and durable index).
     */
    void trimPayloadsTo(long index) {
        if (index > applied || index >= unstableFrom) {
            throw new IllegalStateException("trimming " + index + " beyond applied " + applied + " or durable " + (unstableFrom - 1));
        }
        for (long i = payloadTrimmedTo + 1; i <= index; i++) {
            int at = (int) (i - snapIndex - 1);
            Entry e = ents.get(at);
            if (e.data().length > 0) {
                retainedPayloadBytes -= e.data().length;
                ents.set(at, new Entry(e.term(), e.index(), e.type(), Entry.NO_DATA));
            }
        }
        payloadTrimmedTo = Math.max(payloadTrimmedTo, index);
    }

    /** Replaces the whole log by a snapshot. */
    void restore(Snapshot s) {
        ents.clear();
        retainedPayloadBytes = 0;
        payloadTrimmedTo = s.index();
        snapIndex = s.index();
        snapTerm = s.term();
        committed = s.index();
        applied = Math.max(applied, s.index());
        unstableFrom = s.index() + 1;
        pendingSnapshot = s;
        snapshot = s;
    }
}
