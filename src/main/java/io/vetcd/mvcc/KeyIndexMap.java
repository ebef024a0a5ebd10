package io.vetcd.mvcc;

import com.google.protobuf.ByteString;
import java.util.Arrays;
import java.util.ConcurrentModificationException;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.function.Predicate;

/**
 * The key indexes in etcd's key order (bytes compared unsigned, a prefix before its extensions), as
 * a list of sorted chunks: a lookup is a binary search over the chunks' first keys, then one inside
 * the chunk. A key costs a reference in a chunk (plus the chunk's slack), where a TreeMap entry is
 * 40 bytes; and the search reads arrays instead of chasing tree nodes. Not thread-safe: the store
 * guards it with its lock.
 */
final class KeyIndexMap implements Iterable<KeyIndex> {
  /** Big enough that the chunk list stays short, small enough that an insert's shift is cheap. */
  static final int CHUNK_SIZE_MAX = 512;
  /** How full compaction's repacking leaves the chunks: room for inserts before the next split. */
  private static final int REPACK_FILL = CHUNK_SIZE_MAX * 3 / 4;

  private KeyIndex[][] chunks = new KeyIndex[0][];
  private int[] chunkSizes = new int[0];
  private int chunkCount;
  private int size;
  /** Structural changes so far, so an iterator notices a change under it. */
  private int modCount;

  int size() {
    return size;
  }

  /** Chunks in use (tests: how densely keys are packed). */
  int chunkCount() {
    return chunkCount;
  }

  void clear() {
    chunks = new KeyIndex[0][];
    chunkSizes = new int[0];
    chunkCount = 0;
    size = 0;
    modCount++;
  }

  KeyIndex get(ByteString key) {
    return get(key.toByteArray());
  }

  KeyIndex get(byte[] key) {
    int c = chunkFor(key);
    if (c < 0) {
      return null;
    }
    int i = indexIn(c, key);
    return i >= 0 ? chunks[c][i] : null;
  }

  /** Adds an index whose key is not in the map yet. */
  void add(KeyIndex ki) {
    byte[] key = ki.key;
    if (chunkCount == 0) { // no chunk is ever empty: each has a first key to search by
      KeyIndex[] first = new KeyIndex[CHUNK_SIZE_MAX];
      first[0] = ki;
      insertChunk(0, first, 1);
      size++;
      modCount++;
      return;
    }
    int c = Math.max(chunkFor(key), 0);
    int i = indexIn(c, key);
    if (i >= 0) {
      throw new IllegalStateException("key " + ki.key().toStringUtf8() + " is in the key index already");
    }
    int at = -i - 1;
    if (chunkSizes[c] == CHUNK_SIZE_MAX) {
      if (at == CHUNK_SIZE_MAX) {
        if (c + 1 < chunkCount && chunkSizes[c + 1] < CHUNK_SIZE_MAX) {
          at = 0; // between two chunks: the front of the next one, which has room
          c++;
        } else {
          // past a full chunk (keys written in order): a new chunk, so none is left half full
          KeyIndex[] fresh = new KeyIndex[CHUNK_SIZE_MAX];
          fresh[0] = ki;
          insertChunk(c + 1, fresh, 1);
          size++;
          modCount++;
          return;
        }
      } else {
        split(c);
        if (at > chunkSizes[c]) {
          at -= chunkSizes[c];
          c++;
        }
      }
    }
    KeyIndex[] chunk = chunks[c];
    System.arraycopy(chunk, at, chunk, at + 1, chunkSizes[c] - at);
    chunk[at] = ki;
    chunkSizes[c]++;
    size++;
    modCount++;
  }

  /** Removes every index the predicate accepts (it sees each once, in key order) and repacks the chunks. */
  void removeIf(Predicate<KeyIndex> doomed) {
    KeyIndex[][] packed = new KeyIndex[Math.max(1, size / REPACK_FILL + 1)][];
    int[] packedSizes = new int[packed.length];
    int packedCount = 0;
    int kept = 0;
    for (int c = 0; c < chunkCount; c++) {
      KeyIndex[] chunk = chunks[c];
      for (int i = 0; i < chunkSizes[c]; i++) {
        KeyIndex ki = chunk[i];
        if (doomed.test(ki)) {
          continue;
        }
        if (packedCount == 0 || packedSizes[packedCount - 1] == REPACK_FILL) {
          packed[packedCount++] = new KeyIndex[CHUNK_SIZE_MAX];
        }
        packed[packedCount - 1][packedSizes[packedCount - 1]++] = ki;
        kept++;
      }
    }
    chunks = packed;
    chunkSizes = packedSizes;
    chunkCount = packedCount;
    size = kept;
    modCount++;
  }

  @Override
  public Iterator<KeyIndex> iterator() {
    return new Walk(0, 0, null);
  }

  /** The indexes with keys at or after {@code from}, in order. */
  Iterable<KeyIndex> tail(ByteString from) {
    byte[] start = from.toByteArray();
    return () -> walkFrom(start, null);
  }

  /** The indexes with keys in [from, end), in order. */
  Iterable<KeyIndex> range(ByteString from, ByteString end) {
    byte[] start = from.toByteArray();
    byte[] stop = end.toByteArray();
    return () -> walkFrom(start, stop);
  }

  private Walk walkFrom(byte[] start, byte[] stop) {
    int c = Math.max(chunkFor(start), 0);
    if (chunkCount == 0) {
      return new Walk(0, 0, stop);
    }
    int i = indexIn(c, start);
    return new Walk(c, i >= 0 ? i : -i - 1, stop);
  }

  /** The last chunk whose first key is at or before key; -1 when key sorts before every chunk (or none). */
  private int chunkFor(byte[] key) {
    int lo = 0;
    int hi = chunkCount - 1;
    int found = -1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      if (Arrays.compareUnsigned(chunks[mid][0].key, key) <= 0) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /** The key's position in chunk c, or -(insertion point) - 1, as Arrays.binarySearch. */
  private int indexIn(int c, byte[] key) {
    KeyIndex[] chunk = chunks[c];
    int lo = 0;
    int hi = chunkSizes[c] - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      int cmp = Arrays.compareUnsigned(chunk[mid].key, key);
      if (cmp < 0) {
        lo = mid + 1;
      } else if (cmp > 0) {
        hi = mid - 1;
      } else {
        return mid;
      }
    }
    return -(lo + 1);
  }

  /** Splits the full chunk c into two halves. */
  private void split(int c) {
    KeyIndex[] chunk = chunks[c];
    int half = CHUNK_SIZE_MAX / 2;
    KeyIndex[] upper = new KeyIndex[CHUNK_SIZE_MAX];
    System.arraycopy(chunk, half, upper, 0, CHUNK_SIZE_MAX - half);
    Arrays.fill(chunk, half, CHUNK_SIZE_MAX, null);
    chunkSizes[c] = half;
    insertChunk(c + 1, upper, CHUNK_SIZE_MAX - half);
  }

  private void insertChunk(int at, KeyIndex[] chunk, int chunkSize) {
    if (chunkCount == chunks.length) {
      int grown = Math.max(4, chunkCount + (chunkCount >> 1));
      chunks = Arrays.copyOf(chunks, grown);
      chunkSizes = Arrays.copyOf(chunkSizes, grown);
    }
    System.arraycopy(chunks, at, chunks, at + 1, chunkCount - at);
    System.arraycopy(chunkSizes, at, chunkSizes, at + 1, chunkCount - at);
    chunks[at] = chunk;
    chunkSizes[at] = chunkSize;
    chunkCount++;
  }

  /** Walks the indexes in order from a position, up to an exclusive end key (null: to the end). */
  private final class Walk implements Iterator<KeyIndex> {
    private final byte[] stop;
    private final int expectedModCount = modCount;
    private int chunk;
    private int pos;
    private KeyIndex next;

    Walk(int chunk, int pos, byte[] stop) {
      this.chunk = chunk;
      this.pos = pos;
      this.stop = stop;
      advance();
    }

    private void advance() {
      while (chunk < chunkCount && pos >= chunkSizes[chunk]) {
        chunk++;
        pos = 0;
      }
      next = chunk < chunkCount ? chunks[chunk][pos] : null;
      if (next != null && stop != null && Arrays.compareUnsigned(next.key, stop) >= 0) {
        next = null;
      }
    }

    @Override
    public boolean hasNext() {
      return next != null;
    }

    @Override
    public KeyIndex next() {
      if (modCount != expectedModCount) {
        throw new ConcurrentModificationException();
      }
      if (next == null) {
        throw new NoSuchElementException();
      }
      KeyIndex out = next;
      pos++;
      advance();
      return out;
    }
  }
}
