package io.vetcd.mvcc;

/**
 * A store revision: the main revision of a write request plus the position of the change inside it.
 * The revision tree's key ({@link RevisionKey}) adds whether the change is a deletion.
 */
record Revision(long main, long sub) implements Comparable<Revision> {
  @Override
  public int compareTo(Revision o) {
    int c = Long.compare(main, o.main);
    return c != 0 ? c : Long.compare(sub, o.sub);
  }

  boolean greaterThan(Revision o) {
    return compareTo(o) > 0;
  }
}
