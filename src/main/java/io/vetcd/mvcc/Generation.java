package io.vetcd.mvcc;

import java.util.Arrays;

/**
 * One life of a key: every revision from its creation to its tombstone (inclusive). A key's open
 * (newest) generation is its {@link KeyIndex} itself, which extends this class, so the common key
 * (one generation) is one object; closed generations are objects of their own.
 *
 * <p>The methods are final and named apart from KeyIndex's own ({@link #hasNoRevisions}, not
 * isEmpty), so a call on a generation never reaches a key index override.
 */
class Generation {
  long ver;
  Revision created;
  /**
   * The revisions: a {@link Revision} while there is one (most keys are written once), a
   * {@code Revision[]} from the second on; one field for both saves an array per key.
   */
  private Object revs;
  private int size;

  final boolean hasNoRevisions() {
    return size == 0;
  }

  final int size() {
    return size;
  }

  final Revision rev(int i) {
    if (i < 0 || i >= size) {
      throw new IndexOutOfBoundsException(i);
    }
    return revs instanceof Revision[] many ? many[i] : (Revision) revs;
  }

  final Revision last() {
    return rev(size - 1);
  }

  final void add(Revision rev) {
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
  final void dropBefore(int from) {
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
  final int newestAtOrBefore(long atRev) {
    for (int i = size - 1; i >= 0; i--) {
      if (rev(i).main() <= atRev) {
        return i;
      }
    }
    return -1;
  }

  /** A closed copy of this generation's content. */
  final Generation copy() {
    Generation g = new Generation();
    g.ver = ver;
    g.created = created;
    g.revs = revs;
    g.size = size;
    return g;
  }

  /** Empties this generation (a key index reusing itself as the next open generation). */
  final void reset() {
    ver = 0;
    created = null;
    revs = null;
    size = 0;
  }
}
