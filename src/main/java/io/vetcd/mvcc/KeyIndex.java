package io.vetcd.mvcc;

import com.google.protobuf.ByteString;
import io.vetcd.pb.KeyValue;
import java.util.Arrays;
import java.util.Set;

/**
 * The revision history of one key, as a list of generations. A generation starts with the put that
 * creates the key and ends with the tombstone that deletes it; the last generation is the open one
 * (empty while the key is deleted). Mirrors the behaviour of etcd's key index.
 *
 * <p>There is one of these per key, so its layout is kept small (a million keys are a million of
 * them): the open generation is a field, the rare closed ones an array that exists only once the key
 * was deleted, and a generation's revisions are one object while there is one, then a small array.
 */
final class KeyIndex {
  private static final Generation[] NO_GENERATIONS = new Generation[0];

  /** One life of the key: every revision from its creation to its tombstone (inclusive). */
  static final class Generation {
    long ver;
    Revision created;
    /**
     * The revisions: a {@link Revision} while there is one (most keys are written once), a
     * {@code Revision[]} from the second on; one field for both keeps the object at 32 bytes and
     * saves an array per key (24 MB at a million keys).
     */
    private Object revs;
    private int size;

    boolean isEmpty() {
      return size == 0;
    }

    int size() {
      return size;
    }

    Revision rev(int i) {
      if (i < 0 || i >= size) {
        throw new IndexOutOfBoundsException(i);
      }
      return revs instanceof Revision[] many ? many[i] : (Revision) revs;
    }

    Revision last() {
      return rev(size - 1);
    }

    void add(Revision rev) {
      if (size == 0) {
        revs = rev;
      } else {
        Revision[] many;
        if (revs instanceof Revision[] grown) {
          many = size < grown.length ? grown
              : Arrays.copyOf(grown, size < 4 ? size + 1 : size + (size >> 1)); // most keys have few revisions
        } else {
          many = new Revision[] {(Revision) revs, null};
        }
        many[size] = rev;
        revs = many;
      }
      size++;
    }

    /** Keeps the revisions from position {@code from} on. */
    void dropBefore(int from) {
      if (from == 0) {
        return;
      }
      if (from > size) {
        throw new IndexOutOfBoundsException(from);
      }
      int kept = size - from;
      if (kept == 0) {
        revs = null;
      } else if (kept == 1) {
        revs = last();
      } else {
        revs = Arrays.copyOfRange((Revision[]) revs, from, size);
      }
      size = kept;
    }

    /** Index of the newest revision with main <= atRev, or -1. */
    int newestAtOrBefore(long atRev) {
      for (int i = size - 1; i >= 0; i--) {
        if (rev(i).main() <= atRev) {
          return i;
        }
      }
      return -1;
    }
  }

  /** The visible state of the key at some revision. */
  record State(Revision modified, Revision created, long version) {}

  final ByteString key;
  Revision modified = new Revision(0, 0);
  /** The last generation (null before the first put); generations before it are in {@link #closed}. */
  private Generation open;
  private Generation[] closed = NO_GENERATIONS;
  /** The live value at {@link #modified} (null while deleted), so current reads skip the revision tree. */
  KeyValue latest;

  KeyIndex(ByteString key) {
    this.key = key;
  }

  private int generationCount() {
    return open == null ? 0 : closed.length + 1;
  }

  private Generation generation(int i) {
    return i < closed.length ? closed[i] : open;
  }

  /** Drops the first {@code count} generations (never the open one). */
  private void dropGenerationsBefore(int count) {
    if (count > 0) {
      closed = count == closed.length ? NO_GENERATIONS : Arrays.copyOfRange(closed, count, closed.length);
    }
  }

  boolean isEmpty() {
    return open != null && closed.length == 0 && open.isEmpty();
  }

  void put(Revision rev) {
    if (!rev.greaterThan(modified)) {
      throw new IllegalStateException("key " + key.toStringUtf8() + ": put revision " + rev
          + " is not after the last modification " + modified);
    }
    if (open == null) {
      open = new Generation();
    }
    Generation g = open;
    if (g.isEmpty()) {
      g.created = rev;
    }
    g.add(rev);
    g.ver++;
    modified = rev;
  }

  /** Rebuilds the index of a key whose older revisions were compacted away. */
  void restore(Revision created, Revision modifiedRev, long ver) {
    if (open != null) {
      throw new IllegalStateException("restore of a non-empty key index " + key.toStringUtf8());
    }
    Generation g = new Generation();
    g.created = created;
    g.ver = ver;
    g.add(modifiedRev);
    open = g;
    modified = modifiedRev;
  }

  /** Whether the key currently has a live generation that a tombstone may end. */
  boolean isLive() {
    return open != null && !open.isEmpty();
  }

  void tombstone(Revision rev) {
    if (open == null || isEmpty()) {
      throw new IllegalStateException("tombstone on an empty key index " + key.toStringUtf8());
    }
    if (open.isEmpty()) {
      throw new IllegalStateException("tombstone of the already deleted key " + key.toStringUtf8());
    }
    put(rev);
    latest = null; // the store has taken it out of its cache budget already
    Generation[] grown = Arrays.copyOf(closed, closed.length + 1);
    grown[closed.length] = open;
    closed = grown;
    open = new Generation();
  }

  private Generation findGeneration(long rev) {
    int lastg = generationCount() - 1;
    for (int cg = lastg; cg >= 0; cg--) {
      Generation g = generation(cg);
      if (g.isEmpty()) {
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
    if (open == null) {
      return null;
    }
    Generation g = findGeneration(atRev);
    if (g == null || g.isEmpty()) {
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
      throw new IllegalStateException("compact of an empty key index " + key.toStringUtf8());
    }
    int[] revIndex = new int[1];
    int genIdx = doCompact(atRev, available, revIndex);
    Generation g = generation(genIdx);
    if (!g.isEmpty()) {
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
    if (!g.isEmpty() && revIndex[0] == g.size() - 1 && genIdx != generationCount() - 1) {
      available.remove(g.rev(revIndex[0]));
    }
  }
}
