package io.vetcd.mvcc.bolt;

import static io.vetcd.mvcc.bolt.BoltFormat.BRANCH_PAGE;
import static io.vetcd.mvcc.bolt.BoltFormat.BUCKET_HEADER_BYTES;
import static io.vetcd.mvcc.bolt.BoltFormat.BUCKET_LEAF_FLAG;
import static io.vetcd.mvcc.bolt.BoltFormat.ELEMENT_BYTES;
import static io.vetcd.mvcc.bolt.BoltFormat.LEAF_PAGE;
import static io.vetcd.mvcc.bolt.BoltFormat.PAGE_HEADER_BYTES;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads a bbolt database file (ours, or one etcd wrote): the top-level buckets and their keys in
 * order. Pages are read one at a time from the file, so memory is bounded by the tree's height
 * times the page size. Trailing bytes after the last page (etcd's sha256 trailer) are ignored.
 */
public final class BoltReader implements Closeable {
  /** Receives a bucket's entries in key order; {@code value} is null for a nested bucket. */
  @FunctionalInterface
  public interface Visitor {
    void visit(byte[] key, byte[] value) throws IOException;
  }

  private final FileChannel in;
  private final int pageSize;
  private final long rootPage;
  private final long pageCount;

  private BoltReader(FileChannel in, int pageSize, long rootPage, long pageCount) {
    this.in = in;
    this.pageSize = pageSize;
    this.rootPage = rootPage;
    this.pageCount = pageCount;
  }

  public static BoltReader open(Path file) throws IOException {
    FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
    try {
      ByteBuffer[] metas = new ByteBuffer[2];
      metas[0] = readMeta(ch, 0);
      int pageSize = metas[0] != null ? metas[0].getInt(8) : BoltFormat.DEFAULT_PAGE_SIZE_BYTES;
      metas[1] = readMeta(ch, pageSize);
      ByteBuffer meta = metas[0];
      if (meta == null || (metas[1] != null && metas[1].getLong(48) > meta.getLong(48))) {
        meta = metas[1];
      }
      if (meta == null) {
        throw new IOException("not a bbolt database (no valid meta page): " + file);
      }
      return new BoltReader(ch, meta.getInt(8), meta.getLong(16), meta.getLong(40));
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  /** The meta page body at {@code offset}, or null when it is not a valid meta (magic, version, checksum). */
  private static ByteBuffer readMeta(FileChannel ch, long offset) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(PAGE_HEADER_BYTES + BoltFormat.META_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    if (readFully(ch, b, offset) < b.capacity()) {
      return null;
    }
    ByteBuffer meta = b.slice(PAGE_HEADER_BYTES, BoltFormat.META_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    boolean valid = meta.getInt(0) == BoltFormat.MAGIC && meta.getInt(4) == BoltFormat.VERSION
        && meta.getLong(BoltFormat.META_CHECKSUMMED_BYTES)
            == BoltFormat.fnv1a64(meta, 0, BoltFormat.META_CHECKSUMMED_BYTES)
        && meta.getInt(8) >= 512 && Integer.bitCount(meta.getInt(8)) == 1;
    return valid ? meta : null;
  }

  private static int readFully(FileChannel ch, ByteBuffer b, long position) throws IOException {
    int total = 0;
    while (b.hasRemaining()) {
      int n = ch.read(b, position + total);
      if (n < 0) {
        break;
      }
      total += n;
    }
    return total;
  }

  public int pageSize() {
    return pageSize;
  }

  /** The database's size as bbolt reports it (pages in use times the page size): etcd's "totalSize". */
  public long sizeBytes() {
    return pageCount * pageSize;
  }

  /** The top-level bucket names, in order. */
  public List<byte[]> bucketNames() throws IOException {
    List<byte[]> names = new ArrayList<>();
    walk(page(rootPage), (k, v) -> names.add(k), true);
    return names;
  }

  /** Visits every key of the top-level bucket {@code name} in order; false when there is no such bucket. */
  public boolean forEach(byte[] name, Visitor visitor) throws IOException {
    byte[][] found = new byte[1][];
    walk(page(rootPage), (k, v) -> {
      if (Arrays.equals(k, name)) {
        found[0] = v;
      }
    }, true);
    if (found[0] == null) {
      return false;
    }
    byte[] header = found[0];
    if (header.length < BUCKET_HEADER_BYTES) {
      throw corrupt("bucket header of " + new String(name, java.nio.charset.StandardCharsets.UTF_8));
    }
    long root = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    if (root == 0) {
      ByteBuffer inline = ByteBuffer.wrap(header, BUCKET_HEADER_BYTES, header.length - BUCKET_HEADER_BYTES)
          .slice().order(ByteOrder.LITTLE_ENDIAN);
      walk(inline, visitor, false);
    } else {
      walk(page(root), visitor, false);
    }
    return true;
  }

  /**
   * Visits a (sub)tree in key order. A nested bucket's value is its raw bucket header when
   * {@code bucketHeaders} (walking the root bucket, whose entries are the top-level buckets), else null.
   */
  private void walk(ByteBuffer page, Visitor visitor, boolean bucketHeaders) throws IOException {
    try {
      short flags = page.getShort(8);
      int count = Short.toUnsignedInt(page.getShort(10));
      for (int i = 0; i < count; i++) {
        int at = PAGE_HEADER_BYTES + i * ELEMENT_BYTES;
        if (flags == BRANCH_PAGE) {
          long child = page.getLong(at + 8);
          walk(page(child), visitor, bucketHeaders);
        } else if (flags == LEAF_PAGE) {
          int elementFlags = page.getInt(at);
          int pos = page.getInt(at + 4);
          byte[] key = new byte[page.getInt(at + 8)];
          byte[] value = new byte[page.getInt(at + 12)];
          page.get(at + pos, key);
          page.get(at + pos + key.length, value);
          boolean nested = (elementFlags & BUCKET_LEAF_FLAG) != 0;
          visitor.visit(key, nested && !bucketHeaders ? null : value);
        } else {
          throw corrupt("page of type " + flags + " inside a tree");
        }
      }
    } catch (IndexOutOfBoundsException | NegativeArraySizeException e) {
      throw corrupt("element outside its page");
    }
  }

  private ByteBuffer page(long id) throws IOException {
    if (id < 2 || id >= pageCount) {
      throw corrupt("page id " + id + " out of range (" + pageCount + " pages)");
    }
    ByteBuffer header = ByteBuffer.allocate(PAGE_HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    if (readFully(in, header, id * pageSize) < PAGE_HEADER_BYTES) {
      throw corrupt("truncated at page " + id);
    }
    long overflow = Integer.toUnsignedLong(header.getInt(12));
    if (id + overflow >= pageCount) {
      throw corrupt("page " + id + " overflows past the end");
    }
    ByteBuffer page = ByteBuffer.allocate(Math.toIntExact((overflow + 1) * pageSize)).order(ByteOrder.LITTLE_ENDIAN);
    if (readFully(in, page, id * pageSize) < page.capacity()) {
      throw corrupt("truncated at page " + id);
    }
    return page;
  }

  private static IOException corrupt(String what) {
    return new IOException("corrupt bbolt database: " + what);
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}
