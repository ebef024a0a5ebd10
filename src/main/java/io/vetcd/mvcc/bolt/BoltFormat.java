package io.vetcd.mvcc.bolt;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The on-disk layout of a bbolt database file (format version 2, the one etcd 3.x uses), as far as
 * the writer and the reader need it. Every number is little-endian (the byte order of the machines
 * bbolt files are written on in practice, and of every etcd snapshot).
 *
 * <pre>
 *   page i starts at i * pageSize:  id u64 | flags u16 | count u16 | overflow u32   (16 bytes)
 *   meta page body:   magic u32 | version u32 | pageSize u32 | flags u32 | root bucket (root u64,
 *                     sequence u64) | freelist u64 | pgid u64 | txid u64 | checksum u64
 *                     (FNV-1a 64 of the 56 bytes before it)
 *   leaf element:     flags u32 | pos u32 | ksize u32 | vsize u32;  key and value at element + pos
 *   branch element:   pos u32 | ksize u32 | child page id u64;       key at element + pos
 *   bucket value:     root page u64 | sequence u64, then, when root is 0, an inline leaf page
 * </pre>
 *
 * A page whose content does not fit in one page continues over the {@code overflow} pages after it.
 */
final class BoltFormat {
  static final int DEFAULT_PAGE_SIZE_BYTES = 4096;
  static final int PAGE_HEADER_BYTES = 16;
  static final int ELEMENT_BYTES = 16;
  static final int BUCKET_HEADER_BYTES = 16;
  static final int META_BYTES = 64;
  static final int META_CHECKSUMMED_BYTES = 56;

  static final int MAGIC = 0xED0CDAED;
  static final int VERSION = 2;

  static final short BRANCH_PAGE = 0x01;
  static final short LEAF_PAGE = 0x02;
  static final short META_PAGE = 0x04;
  static final short FREELIST_PAGE = 0x10;

  /** Leaf element flag: the value is a nested bucket. */
  static final int BUCKET_LEAF_FLAG = 0x01;

  /** The meta's freelist field when the free list is not stored (etcd's files; rebuilt on open). */
  static final long NO_FREELIST = -1L;

  /** Bucket values up to this size are kept inline in their parent's leaf (bbolt's rule: a quarter page). */
  static int inlineLimitBytes(int pageSize) {
    return pageSize / 4;
  }

  private BoltFormat() {}

  static long fnv1a64(ByteBuffer b, int from, int length) {
    long hash = 0xcbf29ce484222325L;
    for (int i = from; i < from + length; i++) {
      hash ^= b.get(i) & 0xff;
      hash *= 0x100000001b3L;
    }
    return hash;
  }

  /** Unsigned byte order, as bbolt sorts keys. */
  static int compare(byte[] a, byte[] b) {
    return Arrays.compareUnsigned(a, b);
  }
}
