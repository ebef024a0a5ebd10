package io.vetcd.mvcc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * One key's history against a plain model: after any mix of puts, deletes and compactions, every
 * revision at or after the compaction reads as the key was then (modification, creation, version),
 * and a compaction keeps exactly the revision visible at the compaction point.
 */
class KeyIndexTest {
  /** One write of the key: a put or a delete, at a main revision. */
  private record Write(long main, boolean delete) {}

  /** The key as of atRev, from the writes alone; null when it did not exist then. */
  private static KeyIndex.State model(List<Write> writes, long atRev) {
    Revision created = null;
    Revision modified = null;
    long version = 0;
    for (Write w : writes) {
      if (w.main() > atRev) {
        break;
      }
      if (w.delete()) {
        created = null;
        modified = null;
        version = 0;
      } else {
        if (created == null) {
          created = new Revision(w.main(), 0);
        }
        modified = new Revision(w.main(), 0);
        version++;
      }
    }
    return modified == null ? null : new KeyIndex.State(modified, created, version);
  }

  @Test
  void historyAfterRandomWritesAndCompactionsMatchesTheModel() {
    Random random = new Random(20261126L);
    for (int round = 0; round < 300; round++) {
      KeyIndex ki = new KeyIndex(ByteString.copyFromUtf8("k"));
      List<Write> writes = new ArrayList<>();
      long rev = 1;
      long compactedAt = 0;
      boolean live = false;
      int steps = 1 + random.nextInt(40);
      for (int step = 0; step < steps; step++) {
        rev += 1 + random.nextInt(3);
        int what = random.nextInt(10);
        if (!live || what < 6) {
          ki.put(new Revision(rev, 0));
          writes.add(new Write(rev, false));
          live = true;
        } else if (what < 8) {
          ki.tombstone(new Revision(rev, 0));
          writes.add(new Write(rev, true));
          live = false;
        } else if (!ki.isEmpty()) {
          long at = compactedAt + random.nextInt((int) (rev - compactedAt) + 1);
          Set<Revision> kept = new HashSet<>();
          Set<Revision> wouldKeep = new HashSet<>();
          ki.keep(at, wouldKeep);
          ki.compact(at, kept);
          compactedAt = Math.max(compactedAt, at);
          KeyIndex.State visible = model(writes, at);
          Set<Revision> expected = visible == null ? Set.of() : Set.of(visible.modified());
          assertEquals(expected, kept, "round " + round + ": kept by a compaction at " + at + " of " + writes);
          assertEquals(expected, wouldKeep, "round " + round + ": keep() at " + at + " of " + writes);
        }
        for (long at = compactedAt; at <= rev + 1; at++) {
          assertEquals(model(writes, at), ki.get(at), "round " + round + ": read at " + at + " of " + writes
              + " compacted at " + compactedAt);
        }
      }
    }
  }

  @Test
  void aKeyWrittenManyTimesKeepsEveryRevision() {
    KeyIndex ki = new KeyIndex(ByteString.copyFromUtf8("k"));
    for (long rev = 2; rev < 1000; rev++) {
      ki.put(new Revision(rev, 0));
    }
    for (long rev = 2; rev < 1000; rev++) {
      assertEquals(new KeyIndex.State(new Revision(rev, 0), new Revision(2, 0), rev - 1), ki.get(rev));
    }
    assertNull(ki.get(1));
  }

  @Test
  void outOfOrderWritesAreInvariantBreaks() {
    KeyIndex ki = new KeyIndex(ByteString.copyFromUtf8("k"));
    ki.put(new Revision(5, 1));
    assertThrows(IllegalStateException.class, () -> ki.put(new Revision(5, 0)));
    ki.tombstone(new Revision(6, 0));
    assertThrows(IllegalStateException.class, () -> ki.tombstone(new Revision(7, 0)));
  }

  /** A generation's revisions (one object, then an array) read back as a list would, through adds and drops. */
  @Test
  void generationRevisionsMatchAListThroughAddsAndDrops() {
    Random random = new Random(7L);
    for (int trial = 0; trial < 300; trial++) {
      Generation g = new Generation();
      List<Revision> model = new ArrayList<>();
      long main = 1;
      for (int step = 0; step < 20; step++) {
        if (model.isEmpty() || random.nextInt(3) > 0) {
          Revision rev = new Revision(main++, random.nextInt(3));
          g.add(rev);
          model.add(rev);
        } else {
          int from = random.nextInt(model.size() + 1);
          g.dropBefore(from);
          model.subList(0, from).clear();
        }
        assertEquals(model.size(), g.size());
        assertEquals(model.isEmpty(), g.hasNoRevisions());
        for (int i = 0; i < model.size(); i++) {
          assertEquals(model.get(i), g.rev(i));
        }
        if (!model.isEmpty()) {
          assertEquals(model.get(model.size() - 1), g.last());
        }
        final int size = model.size();
        assertThrows(IndexOutOfBoundsException.class, () -> g.rev(size));
        assertThrows(IndexOutOfBoundsException.class, () -> g.dropBefore(size + 1));
      }
    }
  }
}
