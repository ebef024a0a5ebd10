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
import java.util.List;

/**
 * Writes a new bbolt database file in one pass: top-level buckets in ascending name order, each
 * with its keys in ascending order, as a bulk load. Leaf pages are written as soon as they are
 * full, and each level of branch pages as soon as it is full, so memory stays bounded by the tree's
 * height times the page size (plus one value), whatever the number of keys.
 *
 * <p>Layout choices, all of which bbolt reads and later modifies like any file of its own: pages
 * are filled up to the page size; an element larger than a page gets a page of its own with
 * overflow pages; a bucket small enough is stored inline in its parent (bbolt's rule); the free list
 * is not stored (as in etcd's files: bbolt rebuilds it when it opens the file for writing). The
 * file is exactly {@code pgid * pageSize} bytes long.
 */
public final class BoltWriter implements Closeable {
  private final FileChannel out;
  private final int pageSize;
  /** Next free page: 0 and 1 are the meta pages, written last. */
  private long nextPageId = 2;
  private final TreeBuilder root;
  private TreeBuilder bucket;
  private byte[] bucketName;
  private byte[] lastKey;
  private boolean finished;

  /** Creates (or truncates) {@code file}. */
  public static BoltWriter create(Path file) throws IOException {
    FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.READ);
    return new BoltWriter(ch, BoltFormat.DEFAULT_PAGE_SIZE_BYTES);
  }

  BoltWriter(FileChannel out, int pageSize) {
    this.out = out;
    this.pageSize = pageSize;
    this.root = new TreeBuilder();
  }

  /** Starts the next top-level bucket (ending the previous one); names must ascend. */
  public void bucket(byte[] name) throws IOException {
    checkOpen();
    if (bucketName != null && BoltFormat.compare(name, bucketName) <= 0) {
      throw new IllegalArgumentException("buckets must be written in ascending name order");
    }
    endBucket();
    bucketName = name.clone();
    bucket = new TreeBuilder();
    lastKey = null;
  }

  /** Adds a key to the current bucket; keys must ascend (unsigned bytes) and be non-empty. */
  public void put(byte[] key, byte[] value) throws IOException {
    checkOpen();
    if (bucket == null) {
      throw new IllegalStateException("put before the first bucket");
    }
    if (key.length == 0) {
      throw new IllegalArgumentException("bbolt keys must not be empty");
    }
    if (lastKey != null && BoltFormat.compare(key, lastKey) <= 0) {
      throw new IllegalArgumentException("keys must be written in ascending order within a bucket");
    }
    lastKey = key;
    bucket.add(key, value, 0);
  }

  private void endBucket() throws IOException {
    if (bucket == null) {
      return;
    }
    root.add(bucketName, bucket.finishAsBucketValue(), BUCKET_LEAF_FLAG);
    bucket = null;
  }

  /** Ends the last bucket, writes the root bucket and the meta pages, and forces the file to disk. */
  public long finish() throws IOException {
    checkOpen();
    endBucket();
    long rootPage = root.finishAsPages();
    long pageCount = nextPageId;
    for (int meta = 0; meta < 2; meta++) {
      ByteBuffer page = ByteBuffer.allocate(pageSize).order(ByteOrder.LITTLE_ENDIAN);
      page.putLong(0, meta).putShort(8, BoltFormat.META_PAGE).putShort(10, (short) 0).putInt(12, 0);
      int m = PAGE_HEADER_BYTES;
      page.putInt(m, BoltFormat.MAGIC).putInt(m + 4, BoltFormat.VERSION).putInt(m + 8, pageSize).putInt(m + 12, 0)
          .putLong(m + 16, rootPage).putLong(m + 24, 0).putLong(m + 32, BoltFormat.NO_FREELIST)
          .putLong(m + 40, pageCount).putLong(m + 48, meta); // both metas valid; bbolt picks the higher txid
      page.putLong(m + BoltFormat.META_CHECKSUMMED_BYTES, BoltFormat.fnv1a64(page, m, BoltFormat.META_CHECKSUMMED_BYTES));
      writeAt(page, meta);
    }
    out.force(true);
    finished = true;
    return pageCount * pageSize;
  }

  @Override
  public void close() throws IOException {
    out.close();
  }

  private void checkOpen() {
    if (finished) {
      throw new IllegalStateException("the file is finished");
    }
  }

  private void writeAt(ByteBuffer page, long pageId) throws IOException {
    page.clear();
    long position = pageId * pageSize;
    while (page.hasRemaining()) {
      position += out.write(page, position);
    }
  }

  /** An element of a page being built: a leaf's key/value, or a branch's first key of a child. */
  private record Element(byte[] key, byte[] value, int flags, long child) {
    int dataBytes() {
      return key.length + (value == null ? 0 : value.length);
    }
  }

  /** The page being filled at one level of a tree. */
  private final class PageBuilder {
    final boolean leaf;
    final List<Element> elements = new ArrayList<>();
    int sizeBytes = PAGE_HEADER_BYTES;

    PageBuilder(boolean leaf) {
      this.leaf = leaf;
    }

    boolean fits(Element e) {
      return sizeBytes + ELEMENT_BYTES + e.dataBytes() <= pageSize;
    }

    void add(Element e) {
      elements.add(e);
      sizeBytes += ELEMENT_BYTES + e.dataBytes();
    }

    byte[] firstKey() {
      return elements.get(0).key;
    }

    /** The page's bytes (a multiple of the page size unless {@code inline}), with the given id. */
    ByteBuffer encode(long pageId, boolean inline) {
      int pages = (sizeBytes + pageSize - 1) / pageSize;
      ByteBuffer b = ByteBuffer.allocate(inline ? sizeBytes : pages * pageSize).order(ByteOrder.LITTLE_ENDIAN);
      b.putLong(0, pageId).putShort(8, leaf ? LEAF_PAGE : BRANCH_PAGE).putShort(10, (short) elements.size())
          .putInt(12, inline ? 0 : pages - 1);
      int data = PAGE_HEADER_BYTES + elements.size() * ELEMENT_BYTES;
      for (int i = 0; i < elements.size(); i++) {
        Element e = elements.get(i);
        int at = PAGE_HEADER_BYTES + i * ELEMENT_BYTES;
        if (leaf) {
          b.putInt(at, e.flags).putInt(at + 4, data - at).putInt(at + 8, e.key.length).putInt(at + 12, e.value.length);
          b.put(data, e.key);
          b.put(data + e.key.length, e.value);
        } else {
          b.putInt(at, data - at).putInt(at + 4, e.key.length).putLong(at + 8, e.child);
          b.put(data, e.key);
        }
        data += e.dataBytes();
      }
      return b;
    }
  }

  /**
   * A B+tree built bottom-up from ascending keys: {@code levels.get(0)} is the leaf being filled,
   * {@code levels.get(i)} the branch page that will point at the pages written from level i - 1.
   */
  private final class TreeBuilder {
    final List<PageBuilder> levels = new ArrayList<>(List.of(new PageBuilder(true)));

    void add(byte[] key, byte[] value, int flags) throws IOException {
      addAt(0, new Element(key, value, flags, 0));
    }

    private void addAt(int level, Element e) throws IOException {
      PageBuilder page = levels.get(level);
      if (!page.elements.isEmpty() && !page.fits(e)) {
        flushInto(level);
        page = levels.get(level);
      }
      page.add(e);
    }

    /** Writes the page of {@code level} and points the level above at it. */
    private void flushInto(int level) throws IOException {
      PageBuilder page = levels.get(level);
      long id = write(page);
      levels.set(level, new PageBuilder(page.leaf));
      if (level + 1 == levels.size()) {
        levels.add(new PageBuilder(false));
      }
      addAt(level + 1, new Element(page.firstKey(), null, 0, id));
    }

    private long write(PageBuilder page) throws IOException {
      long id = nextPageId;
      ByteBuffer bytes = page.encode(id, false);
      writeAt(bytes, id);
      nextPageId += bytes.capacity() / pageSize;
      return id;
    }

    /** Writes what is left, bottom-up; returns the root page id. */
    long finishAsPages() throws IOException {
      for (int level = 0; ; level++) {
        if (level == levels.size() - 1) {
          return write(levels.get(level));
        }
        flushInto(level);
      }
    }

    /** The bucket's value in its parent: inline when it is one small leaf, else its root page id. */
    byte[] finishAsBucketValue() throws IOException {
      PageBuilder only = levels.get(0);
      ByteBuffer header = ByteBuffer.allocate(BUCKET_HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
      if (levels.size() == 1 && only.sizeBytes <= BoltFormat.inlineLimitBytes(pageSize)) {
        ByteBuffer inline = only.encode(0, true);
        ByteBuffer value = ByteBuffer.allocate(BUCKET_HEADER_BYTES + inline.capacity());
        value.put(header.array()).put(inline.array());
        return value.array(); // root 0, sequence 0, then the page
      }
      header.putLong(0, finishAsPages()).putLong(8, 0);
      return header.array();
    }
  }
}
