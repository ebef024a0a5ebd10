package io.vetcd.mvcc;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.vetcd.pb.KeyValue;
import java.util.Arrays;
import java.util.Set;

/**
 * The revision history of one key, as a list of generations. A generation starts with the put that
 * creates the key and ends with the tombstone that deletes it; the last generation is the open one
 * (empty while the key is deleted). Mirrors the behaviour of etcd's key index.
 *
 * <p>There is one of these per key, so its layout is kept small (a million keys are a million of
 * them): the open generation is this object itself (it extends {@link Generation}), the rare closed
 * ones an array that exists only once the key was deleted, the key a plain byte array, and a
 * generation's revisions one object while there is one, then a small array. About 100 bytes per
 * key with its place in {@link KeyIndexMap}, where a TreeMap of ByteString keys with a separate
 * generation took 184.
 */
final class KeyIndex extends Generation {
  private static final Generation[] NO_GENERATIONS = new Generation[0];
  private static final Revision NONE = new Revision(0, 0);

  /** The visible state of the key at some revision. */
  record State(Revision modified, Revision created, long version) {}

  /** The key's bytes; never changed (the map orders by them). */
  final byte[] key;
  Revision modified = NONE;
  /** Generations before the open one (this object), oldest first. */
  private Generation[] closed = NO_GENERATIONS;
  /** The live value at {@link #modified} (null while deleted), so current reads skip the revision tree. */
  KeyValue latest;

  KeyIndex(ByteString key) {
    this.key = key.toByteArray();
  }

  /** The key as a ByteString sharing this index's bytes (which never change). */
  ByteString key() {
    return UnsafeByteOperations.unsafeWrap(key);
  }

  private String keyText() {
    return key().toStringUtf8();
  }

  /** Whether the key had any write yet (the open generation exists from the first put on). */
  private boolean started() {
    return modified != NONE;
  }

  private int generationCount() {
    return started() ? closed.length + 1 : 0;
  }

  private Generation generation(int i) {
    return i < closed.length ? closed[i] : this;
  }

  /** Drops the first {@code count} generations (never the open one). */
  private void dropGenerationsBefore(int count) {
    if (count > 0) {
      closed = count == closed.length ? NO_GENERATIONS : Arrays.copyOfRange(closed, count, closed.length);
    }
  }

  /** Whether no revision is left (after compaction): the store drops such an index. */
  boolean isEmpty() {
    return started() && closed.length == 0 && hasNoRevisions();
  }

  void put(Revision rev) {
    if (!rev.greaterThan(modified)) {
      throw new IllegalStateException("key " + keyText() + ": put revision " + rev
          + " is not after the last modification " + modified);
    }
    if (hasNoRevisions()) {
      created = rev;
    }
    add(rev);
    ver++;
    modified = rev;
  }

  /** Rebuilds the index of a key whose older revisions were compacted away. */
  void restore(Revision createdRev, Revision modifiedRev, long version) {
    if (started()) {
      throw new IllegalStateException("restore of a non-empty key index " + keyText());
    }
    created = createdRev;
    ver = version;
    add(modifiedRev);
    modified = modifiedRev;
  }

  /** Whether the key currently has a live generation that a tombstone may end. */
  boolean isLive() {
    return started() && !hasNoRevisions();
  }

  void tombstone(Revision rev) {
    if (!started() || isEmpty()) {
      throw new IllegalStateException("tombstone on an empty key index " + keyText());
    }
    if (hasNoRevisions()) {
      throw new IllegalStateException("tombstone of the already deleted key " + keyText());
    }
    put(rev);
    latest = null; // the store has taken it out of its cache budget already
    Generation[] grown = Arrays.copyOf(closed, closed.length + 1);
    grown[closed.length] = copy();
    closed = grown;
    reset();
  }

  private Generation findGeneration(long rev) {
    int lastg = generationCount() - 1;
    for (int cg = lastg; cg >= 0; cg--) {
      Generation g = generation(cg);
      if (g.hasNoRevisions()) {
        continue;
      }
      if (cg != lastg && g.last().main() <= rev) {
        return null; // deleted at or before rev
      }
      if (g.rev(0).main() <= rev) {
        return g;
      }
    }
    return null;
  }

  /** The cached value when rev is the key's newest (live) revision, else null. */
  KeyValue cachedAt(Revision rev) {
    return latest != null && rev.equals(modified) ? latest : null;
  }

  /** The key's state at atRev, or null when it did not exist then. */
  State get(long atRev) {
    if (!started()) {
      return null;
    }
    Generation g = findGeneration(atRev);
    if (g == null || g.hasNoRevisions()) {
      return null;
    }
    int n = g.newestAtOrBefore(atRev);
    if (n == -1) {
      return null;
    }
    return new State(g.rev(n), g.created, g.ver - (g.size() - n - 1));
  }

  /**
   * Finds the generation holding atRev (or the first created after it) and marks the revision to
   * keep; returns the generation's position, and the revision's in {@code revIndexOut[0]} (-1: none).
   */
  private int doCompact(long atRev, Set<Revision> available, int[] revIndexOut) {
    int last = generationCount() - 1;
    int genIdx = 0;
    Generation g = generation(0);
    while (genIdx < last) {
      if (g.last().main() > atRev) {
        break;
      }
      genIdx++;
      g = generation(genIdx);
    }
    int revIndex = g.newestAtOrBefore(atRev);
    if (revIndex != -1) {
      available.add(g.rev(revIndex));
    }
    revIndexOut[0] = revIndex;
    return genIdx;
  }

  /** Drops every revision older than what atRev needs; fills available with the revisions to keep. */
  void compact(long atRev, Set<Revision> available) {
    if (isEmpty()) {
      throw new IllegalStateException("compact of an empty key index " + keyText());
    }
    int[] revIndex = new int[1];
    int genIdx = doCompact(atRev, available, revIndex);
    Generation g = generation(genIdx);
    if (!g.hasNoRevisions()) {
      if (revIndex[0] != -1) {
        g.dropBefore(revIndex[0]);
      }
      if (g.size() == 1 && genIdx != generationCount() - 1) {
        available.remove(g.rev(0));
        genIdx++;
      }
    }
    dropGenerationsBefore(genIdx);
  }

  /** Like compact but read-only: the revisions a compaction at atRev would keep. */
  void keep(long atRev, Set<Revision> available) {
    if (isEmpty()) {
      return;
    }
    int[] revIndex = new int[1];
    int genIdx = doCompact(atRev, available, revIndex);
    Generation g = generation(genIdx);
    if (!g.hasNoRevisions() && revIndex[0] == g.size() - 1 && genIdx != generationCount() - 1) {
      available.remove(g.rev(revIndex[0]));
    }
  }
}
