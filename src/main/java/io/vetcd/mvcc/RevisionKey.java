package io.vetcd.mvcc;

import java.nio.ByteBuffer;

/**
 * A key of the revision tree: the revision of one change and whether the change is a deletion.
 * Orders by revision (a revision is never both). Its byte form is etcd's key-bucket key: main
 * (8 bytes big-endian), '_', sub (8 bytes big-endian), then 't' for a tombstone; backups and hashKV
 * use it, and store snapshots carry it, so they stay what etcd (and older vetcd versions) write.
 */
record RevisionKey(long main, long sub, boolean tombstone) implements Comparable<RevisionKey> {
  static final int LEN = 17;
  private static final byte SEPARATOR = '_';
  private static final byte TOMBSTONE_MARK = 't';
  /** Sub revisions are shifted left by one in the tree's node arrays (the low bit is the tombstone mark). */
  static final long SUB_MAX = Long.MAX_VALUE >>> 1;

  RevisionKey {
    if (main < 0 || sub < 0 || sub > SUB_MAX) {
      throw new IllegalArgumentException("revision out of range: " + main + "_" + sub);
    }
  }

  static RevisionKey put(Revision rev) {
    return new RevisionKey(rev.main(), rev.sub(), false);
  }

  static RevisionKey tombstone(Revision rev) {
    return new RevisionKey(rev.main(), rev.sub(), true);
  }

  /** The lowest key of a main revision: every change of it sorts at or after this. */
  static RevisionKey floor(long main) {
    return new RevisionKey(main, 0, false);
  }

  Revision revision() {
    return new Revision(main, sub);
  }

  /** The sub revision and the tombstone mark in one non-negative long, ordered as the keys are. */
  long subAndMark() {
    return sub << 1 | (tombstone ? 1 : 0);
  }

  static RevisionKey of(long main, long subAndMark) {
    return new RevisionKey(main, subAndMark >>> 1, (subAndMark & 1) != 0);
  }

  int byteLength() {
    return tombstone ? LEN + 1 : LEN;
  }

  byte[] toBytes() {
    ByteBuffer b = ByteBuffer.allocate(byteLength());
    b.putLong(main).put(SEPARATOR).putLong(sub);
    if (tombstone) {
      b.put(TOMBSTONE_MARK);
    }
    return b.array();
  }

  /** Parses the byte form; throws IllegalArgumentException for anything else. */
  static RevisionKey fromBytes(byte[] k) {
    if (k.length != LEN && k.length != LEN + 1) {
      throw new IllegalArgumentException("bad revision key length " + k.length);
    }
    ByteBuffer b = ByteBuffer.wrap(k);
    long main = b.getLong();
    if (b.get() != SEPARATOR || (k.length == LEN + 1 && k[LEN] != TOMBSTONE_MARK)) {
      throw new IllegalArgumentException("bad revision key " + java.util.HexFormat.of().formatHex(k));
    }
    return new RevisionKey(main, b.getLong(), k.length == LEN + 1);
  }

  @Override
  public int compareTo(RevisionKey o) {
    int c = Long.compare(main, o.main);
    return c != 0 ? c : Long.compare(subAndMark(), o.subAndMark());
  }
}
