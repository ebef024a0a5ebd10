package io.vetcd.mvcc;

import java.io.IOException;
import java.util.Arrays;
import java.util.Comparator;
import org.mapdb.DataInput2;
import org.mapdb.DataOutput2;
import org.mapdb.Serializer;
import org.mapdb.serializer.GroupSerializer;

/**
 * How the revision tree stores its keys. A B-tree node's keys are one {@code long[]} of (main,
 * sub-and-mark) pairs, written as variable-length deltas of the main revision: a put reads and
 * rewrites the nodes on its path, and with byte-array keys that meant one array per key per node
 * (a quarter of a put's time with a large store went to rebuilding them). A key on its own (in a
 * store snapshot) is etcd's byte form, written as a byte array, as before this serializer existed.
 */
public final class RevisionKeySerializer implements GroupSerializer<RevisionKey> {
  static final RevisionKeySerializer INSTANCE = new RevisionKeySerializer();

  // ---------------------------------------------------------------- one key: etcd's byte form

  /** As {@code Serializer.BYTE_ARRAY} wrote the byte form (older store snapshots hold keys that way). */
  @Override
  public void serialize(DataOutput2 out, RevisionKey key) throws IOException {
    Serializer.BYTE_ARRAY.serialize(out, key.toBytes());
  }

  @Override
  public RevisionKey deserialize(DataInput2 in, int available) throws IOException {
    try {
      return RevisionKey.fromBytes(Serializer.BYTE_ARRAY.deserialize(in, available));
    } catch (IllegalArgumentException e) {
      throw new IOException(e.getMessage(), e);
    }
  }

  @Override
  public boolean isTrusted() {
    return true;
  }

  @Override
  public int compare(RevisionKey a, RevisionKey b) {
    return a.compareTo(b);
  }

  @Override
  public boolean equals(RevisionKey a, RevisionKey b) {
    return a.equals(b);
  }

  @Override
  public int hashCode(RevisionKey key, int seed) {
    return key.hashCode() * 31 + seed;
  }

  @Override
  public RevisionKey nextValue(RevisionKey key) {
    return RevisionKey.of(key.main(), key.subAndMark() + 1);
  }

  // ---------------------------------------------------------------- a node's keys: long[2n]

  private static long[] pairs(Object keys) {
    return (long[]) keys;
  }

  @Override
  public int valueArraySize(Object keys) {
    return pairs(keys).length / 2;
  }

  @Override
  public Object valueArrayEmpty() {
    return new long[0];
  }

  @Override
  public RevisionKey valueArrayGet(Object keys, int pos) {
    long[] a = pairs(keys);
    return RevisionKey.of(a[2 * pos], a[2 * pos + 1]);
  }

  @Override
  public int valueArraySearch(Object keys, RevisionKey key) {
    long[] a = pairs(keys);
    long main = key.main();
    long subAndMark = key.subAndMark();
    int low = 0;
    int high = a.length / 2 - 1;
    while (low <= high) {
      int mid = (low + high) >>> 1;
      int c = Long.compare(a[2 * mid], main);
      if (c == 0) {
        c = Long.compare(a[2 * mid + 1], subAndMark);
      }
      if (c < 0) {
        low = mid + 1;
      } else if (c > 0) {
        high = mid - 1;
      } else {
        return mid;
      }
    }
    return -(low + 1);
  }

  @Override
  @SuppressWarnings({"unchecked", "rawtypes"})
  public int valueArraySearch(Object keys, RevisionKey key, Comparator comparator) {
    if (comparator == this) {
      return valueArraySearch(keys, key);
    }
    // not taken by the revision tree (its comparator is this serializer)
    return Arrays.binarySearch(valueArrayToArray(keys), key, comparator);
  }

  @Override
  public Object valueArrayPut(Object keys, int pos, RevisionKey key) {
    long[] a = pairs(keys);
    long[] b = new long[a.length + 2];
    System.arraycopy(a, 0, b, 0, 2 * pos);
    b[2 * pos] = key.main();
    b[2 * pos + 1] = key.subAndMark();
    System.arraycopy(a, 2 * pos, b, 2 * pos + 2, a.length - 2 * pos);
    return b;
  }

  @Override
  public Object valueArrayUpdateVal(Object keys, int pos, RevisionKey key) {
    long[] b = pairs(keys).clone();
    b[2 * pos] = key.main();
    b[2 * pos + 1] = key.subAndMark();
    return b;
  }

  @Override
  public Object valueArrayFromArray(Object[] keys) {
    long[] b = new long[keys.length * 2];
    for (int i = 0; i < keys.length; i++) {
      RevisionKey k = (RevisionKey) keys[i];
      b[2 * i] = k.main();
      b[2 * i + 1] = k.subAndMark();
    }
    return b;
  }

  @Override
  public Object valueArrayCopyOfRange(Object keys, int from, int to) {
    return Arrays.copyOfRange(pairs(keys), 2 * from, 2 * to);
  }

  /** MapDB's contract: {@code pos} counts from 1 here. */
  @Override
  public Object valueArrayDeleteValue(Object keys, int pos) {
    long[] a = pairs(keys);
    int at = 2 * (pos - 1);
    long[] b = new long[a.length - 2];
    System.arraycopy(a, 0, b, 0, at);
    System.arraycopy(a, at + 2, b, at, b.length - at);
    return b;
  }

  /** Keys are sorted, so each main revision is written as its (non-negative) distance from the previous one. */
  @Override
  public void valueArraySerialize(DataOutput2 out, Object keys) throws IOException {
    long[] a = pairs(keys);
    long previousMain = 0;
    for (int i = 0; i < a.length; i += 2) {
      long delta = a[i] - previousMain;
      if (delta < 0) {
        throw new IllegalStateException("revision tree node keys out of order: " + a[i] + " after " + previousMain);
      }
      out.packLong(delta);
      out.packLong(a[i + 1]);
      previousMain = a[i];
    }
  }

  @Override
  public Object valueArrayDeserialize(DataInput2 in, int size) throws IOException {
    long[] a = new long[2 * size];
    long main = 0;
    for (int i = 0; i < a.length; i += 2) {
      main += in.unpackLong();
      a[i] = main;
      a[i + 1] = in.unpackLong();
    }
    return a;
  }
}
