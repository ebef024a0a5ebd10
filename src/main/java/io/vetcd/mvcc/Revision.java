package io.vetcd.mvcc;

import java.nio.ByteBuffer;

/**
 * A store revision: the main revision of a write request plus the position of the change inside it.
 * Its byte form (the revision tree key) is main (8 bytes big-endian), '_', sub (8 bytes big-endian),
 * then 't' when the entry is a tombstone; the same layout etcd uses, so hashKv can be compared with etcd.
 */
record Revision(long main, long sub) implements Comparable<Revision> {
  static final int LEN = 17;
  static final byte TOMBSTONE_MARK = 't';

  @Override
  public int compareTo(Revision o) {
    int c = Long.compare(main, o.main);
    return c != 0 ? c : Long.compare(sub, o.sub);
  }

  boolean greaterThan(Revision o) {
    return compareTo(o) > 0;
  }

  byte[] toBytes(boolean tombstone) {
    ByteBuffer b = ByteBuffer.allocate(tombstone ? LEN + 1 : LEN);
    b.putLong(main).put((byte) '_').putLong(sub);
    if (tombstone) {
      b.put(TOMBSTONE_MARK);
    }
    return b.array();
  }

  /** Lowest tree key of a main revision (any sub revision sorts at or after it). */
  static byte[] floorKey(long main) {
    return new Revision(main, 0).toBytes(false);
  }

  static Revision fromBytes(byte[] k) {
    if (k.length != LEN && k.length != LEN + 1) {
      throw new IllegalStateException("bad revision key length " + k.length);
    }
    ByteBuffer b = ByteBuffer.wrap(k);
    long main = b.getLong();
    b.get();
    return new Revision(main, b.getLong());
  }

  static boolean isTombstone(byte[] k) {
    return k.length == LEN + 1 && k[LEN] == TOMBSTONE_MARK;
  }
}
