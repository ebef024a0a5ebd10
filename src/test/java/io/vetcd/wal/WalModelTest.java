package io.vetcd.wal;

import static io.vetcd.wal.WalTest.assertEntries;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Random appends (with conflicts), hard states, snapshot markers (matching and diverged), syncs,
 * releases and reopens against a plain in-memory model of the log. A failing seed replays exactly.
 */
class WalModelTest {
    @TempDir
    Path tmp;

    /** The log as raft sees it: snapshot, live entries after it, hard state. */
    private static final class Model {
        long snapIndex;
        long snapTerm;
        boolean hasSnap;
        final List<WalEntry> log = new ArrayList<>(); // indexes snapIndex+1 ..
        WalHardState hardState;

        long last() {
            return snapIndex + log.size();
        }

        long termAt(long index) {
            return log.get((int) (index - snapIndex - 1)).term();
        }

        void append(List<WalEntry> es) {
            for (WalEntry e : es) {
                int keep = (int) (e.index() - snapIndex - 1);
                log.subList(keep, log.size()).clear();
                log.add(e);
            }
        }

        void marker(long index, long term) {
            // index == snapIndex only without a snapshot (index 0): nothing to drop
            boolean keepSuffix = index == snapIndex || index < last() && termAt(index) == term;
            if (keepSuffix) {
                log.subList(0, (int) (index - snapIndex)).clear();
            } else {
                log.clear();
            }
            snapIndex = index;
            snapTerm = term;
            hasSnap = true;
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6})
    void random_operations_match_the_model(long seed) throws IOException {
        Random rnd = new Random(seed);
        Path dir = tmp.resolve("w");
        long segmentBytes = 200 + rnd.nextInt(2000);
        Model model = new Model();
        long term = 1;
        Wal wal = Wal.open(dir, segmentBytes);
        try {
            for (int step = 0; step < 1000; step++) {
                String where = "seed " + seed + " step " + step;
                int op = rnd.nextInt(100);
                if (op < 55) {
                    if (rnd.nextInt(10) == 0) {
                        term++;
                    }
                    long start = rnd.nextInt(5) == 0 && model.log.size() > 0
                            ? model.snapIndex + 1 + rnd.nextInt(model.log.size()) // conflict
                            : model.last() + 1;
                    if (start <= model.last()) {
                        term++; // a conflicting entry comes from a newer leader
                    }
                    List<WalEntry> batch = new ArrayList<>();
                    int n = rnd.nextInt(9);
                    for (int k = 0; k < n; k++) {
                        byte[] data = new byte[rnd.nextInt(120)];
                        rnd.nextBytes(data);
                        batch.add(new WalEntry(term, start + k, rnd.nextInt(3), data));
                    }
                    WalHardState hs = rnd.nextBoolean() ? new WalHardState(term, rnd.nextInt(5), model.last()) : null;
                    wal.append(batch, hs);
                    model.append(batch);
                    if (hs != null) {
                        model.hardState = hs;
                    }
                } else if (op < 65) {
                    long index = model.snapIndex + rnd.nextInt(model.log.size() + 4);
                    long t;
                    if (index > model.snapIndex && index <= model.last() && rnd.nextInt(4) != 0) {
                        t = model.termAt(index);
                    } else if (index == model.snapIndex && model.hasSnap) {
                        t = model.snapTerm;
                    } else {
                        t = term + rnd.nextInt(2);
                    }
                    if (index == model.snapIndex && model.hasSnap && t == model.snapTerm) {
                        wal.saveSnapshotMarker(new WalSnapshotMarker(index, t)); // no-op
                    } else {
                        wal.saveSnapshotMarker(new WalSnapshotMarker(index, t));
                        model.marker(index, t);
                        term = Math.max(term, t);
                    }
                    if (model.hasSnap && model.snapIndex > 0) {
                        long stale = model.snapIndex - 1;
                        Wal w = wal;
                        assertThrows(IllegalArgumentException.class,
                                () -> w.saveSnapshotMarker(new WalSnapshotMarker(stale, 1)), where);
                    }
                } else if (op < 75) {
                    wal.sync();
                } else if (op < 85) {
                    wal.releaseBefore(rnd.nextInt((int) model.snapIndex + 5));
                } else if (op < 90) {
                    long gap = model.last() + 2;
                    Wal w = wal;
                    assertThrows(IllegalArgumentException.class,
                            () -> w.append(List.of(new WalEntry(1, gap, 0, new byte[0])), null), where);
                } else {
                    wal.close();
                    wal = Wal.open(dir, segmentBytes);
                    check(model, wal.recovered(), where);
                }
            }
            wal.close();
            wal = Wal.open(dir, segmentBytes);
            check(model, wal.recovered(), "seed " + seed + " end");
        } finally {
            wal.close();
        }
    }

    private static void check(Model model, WalRecovered r, String where) {
        assertFalse(r.tailRepaired(), where);
        assertEquals(model.hardState, r.hardState(), where);
        assertEquals(model.hasSnap ? new WalSnapshotMarker(model.snapIndex, model.snapTerm) : null, r.snapshot(), where);
        assertEntries(model.log, r.entries());
    }
}
