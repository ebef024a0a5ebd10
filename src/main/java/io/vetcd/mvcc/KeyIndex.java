package io.vetcd.mvcc;

import com.google.protobuf.ByteString;
import io.vetcd.pb.KeyValue;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The revision history of one key, as a list of generations. A generation starts with the put that
 * creates the key and ends with the tombstone that deletes it; the last generation is the open one
 * (empty while the key is deleted). Mirrors the behaviour of etcd's key index.
 */
final class KeyIndex {
  /** One life of the key: every revision from its creation to its tombstone (inclusive). */
  static final class Generation {
    long ver;
    Revision created;
    final ArrayList<Revision> revs = new ArrayList<>(2); // most keys have one or two revisions

    boolean isEmpty() {
      return revs.isEmpty();
    }

    Revision last() {
      return revs.get(revs.size() - 1);
    }

    /** Index of the newest revision with main <= atRev, or -1. */
    int newestAtOrBefore(long atRev) {
      for (int i = revs.size() - 1; i >= 0; i--) {
        if (revs.get(i).main() <= atRev) {
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
  final ArrayList<Generation> generations = new ArrayList<>(2);
  /** The live value at {@link #modified} (null while deleted), so current reads skip the revision tree. */
  KeyValue latest;

  KeyIndex(ByteString key) {
    this.key = key;
  }

  boolean isEmpty() {
    return generations.size() == 1 && generations.get(0).isEmpty();
  }

  private Generation lastGeneration() {
    return generations.get(generations.size() - 1);
  }

  void put(Revision rev) {
    if (!rev.greaterThan(modified)) {
      throw new IllegalStateException("key " + key.toStringUtf8() + ": put revision " + rev
          + " is not after the last modification " + modified);
    }
    if (generations.isEmpty()) {
      generations.add(new Generation());
    }
    Generation g = lastGeneration();
    if (g.isEmpty()) {
      g.created = rev;
    }
    g.revs.add(rev);
    g.ver++;
    modified = rev;
  }

  /** Rebuilds the index of a key whose older revisions were compacted away. */
  void restore(Revision created, Revision modifiedRev, long ver) {
    if (!generations.isEmpty()) {
      throw new IllegalStateException("restore of a non-empty key index " + key.toStringUtf8());
    }
    Generation g = new Generation();
    g.created = created;
    g.ver = ver;
    g.revs.add(modifiedRev);
    generations.add(g);
    modified = modifiedRev;
  }

  /** Whether the key currently has a live generation that a tombstone may end. */
  boolean isLive() {
    return !generations.isEmpty() && !lastGeneration().isEmpty();
  }

  void tombstone(Revision rev) {
    if (generations.isEmpty() || isEmpty()) {
      throw new IllegalStateException("tombstone on an empty key index " + key.toStringUtf8());
    }
    if (lastGeneration().isEmpty()) {
      throw new IllegalStateException("tombstone of the already deleted key " + key.toStringUtf8());
    }
    put(rev);
    latest = null; // the store has taken it out of its cache budget already
    generations.add(new Generation());
  }

  private Generation findGeneration(long rev) {
    int lastg = generations.size() - 1;
    for (int cg = lastg; cg >= 0; cg--) {
      Generation g = generations.get(cg);
      if (g.isEmpty()) {
        continue;
      }
      if (cg != lastg && g.last().main() <= rev) {
        return null; // deleted at or before rev
      }
      if (g.revs.get(0).main() <= rev) {
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
    if (generations.isEmpty()) {
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
    return new State(g.revs.get(n), g.created, g.ver - (g.revs.size() - n - 1));
  }

  /** Finds the generation holding atRev (or the first created after it) and marks the revision to keep. */
  private int[] doCompact(long atRev, Set<Revision> available) {
    int genIdx = 0;
    Generation g = generations.get(0);
    while (genIdx < generations.size() - 1) {
      if (g.last().main() > atRev) {
        break;
      }
      genIdx++;
      g = generations.get(genIdx);
    }
    int revIndex = g.newestAtOrBefore(atRev);
    if (revIndex != -1) {
      available.add(g.revs.get(revIndex));
    }
    return new int[] {genIdx, revIndex};
  }

  /** Drops every revision older than what atRev needs; fills available with the revisions to keep. */
  void compact(long atRev, Set<Revision> available) {
    if (isEmpty()) {
      throw new IllegalStateException("compact of an empty key index " + key.toStringUtf8());
    }
    int[] r = doCompact(atRev, available);
    int genIdx = r[0];
    Generation g = generations.get(genIdx);
    if (!g.isEmpty()) {
      if (r[1] != -1) {
        List<Revision> rest = new ArrayList<>(g.revs.subList(r[1], g.revs.size()));
        g.revs.clear();
        g.revs.addAll(rest);
      }
      if (g.revs.size() == 1 && genIdx != generations.size() - 1) {
        available.remove(g.revs.get(0));
        genIdx++;
      }
    }
    generations.subList(0, genIdx).clear();
  }

  /** Like compact but read-only: the revisions a compaction at atRev would keep. */
  void keep(long atRev, Set<Revision> available) {
    if (isEmpty()) {
      return;
    }
    int[] r = doCompact(atRev, available);
    Generation g = generations.get(r[0]);
    if (!g.isEmpty() && r[1] == g.revs.size() - 1 && r[0] != generations.size() - 1) {
      available.remove(g.revs.get(r[1]));
    }
  }
}
