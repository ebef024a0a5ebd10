package io.vetcd.mvcc;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;
import org.mapdb.DB;
import org.mapdb.DataInput2;
import org.mapdb.DataOutput2;
import org.mapdb.Serializer;

/**
 * The whole content of a store's MapDB file as one stream: every named map (revision tree, meta,
 * leases, alarms, members, and whatever tables are added later) with its entries, each key and value
 * in the map's own serialized form. This is what a member that fell behind the leader's compacted log
 * receives, in chunks, before it continues from the log tail.
 *
 * <pre>
 *   "VSNAP1"
 *   per map:  byte 1 | UTF name | per entry: int keyLength | key | int valueLength | value ; int -1
 *   byte 0 | long CRC32C of every byte before it
 * </pre>
 */
final class StoreSnapshot {
  private static final byte[] MAGIC = {'V', 'S', 'N', 'A', 'P', '1'};

  private StoreSnapshot() {}

  /** The names of the maps a store file holds, sorted. */
  static List<String> mapNames(DB db) {
    List<String> names = new ArrayList<>();
    for (String name : db.getAllNames()) {
      names.add(name);
    }
    names.sort(String::compareTo);
    return names;
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  static void export(DB db, OutputStream raw) throws IOException {
    CRC32C crc = new CRC32C();
    DataOutputStream out = new DataOutputStream(new CheckedOutputStream(new BufferedOutputStream(raw, 1 << 16), crc));
    out.write(MAGIC);
    DataOutput2 buffer = new DataOutput2();
    for (String name : mapNames(db)) {
      Object collection = db.get(name);
      if (!(collection instanceof org.mapdb.BTreeMap<?, ?> map)) {
        throw new IllegalStateException("cannot snapshot the store's collection " + name);
      }
      Serializer keys = map.getKeySerializer();
      Serializer values = map.getValueSerializer();
      out.writeByte(1);
      out.writeUTF(name);
      for (Map.Entry<?, ?> e : map.entrySet()) {
        buffer.pos = 0;
        keys.serialize(buffer, e.getKey());
        out.writeInt(buffer.pos);
        out.write(buffer.buf, 0, buffer.pos);
        buffer.pos = 0;
        values.serialize(buffer, e.getValue());
        out.writeInt(buffer.pos);
        out.write(buffer.buf, 0, buffer.pos);
      }
      out.writeInt(-1);
    }
    out.writeByte(0);
    out.flush();
    new DataOutputStream(raw).writeLong(crc.getValue());
    raw.flush();
  }

  /** Checks a snapshot file whole (magic, structure, checksum) before anything is changed. */
  static void verify(Path file) throws IOException {
    read(file, null);
  }

  /** Replaces the content of every map of {@code db} by the snapshot's (not committed here). */
  static void load(DB db, Path file) throws IOException {
    read(file, db);
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static void read(Path file, DB db) throws IOException {
    CRC32C crc = new CRC32C();
    long size = Files.size(file);
    try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
      DataInputStream in = new DataInputStream(new CheckedInputStream(raw, crc));
      byte[] magic = new byte[MAGIC.length];
      in.readFully(magic);
      if (!java.util.Arrays.equals(magic, MAGIC)) {
        throw new IOException("not a store snapshot: " + file);
      }
      if (db != null) {
        for (String name : mapNames(db)) {
          ((Map<?, ?>) db.get(name)).clear();
        }
      }
      byte[] key = new byte[64];
      byte[] value = new byte[256];
      while (in.readByte() == 1) {
        String name = in.readUTF();
        org.mapdb.BTreeMap map = null;
        if (db != null) {
          Object collection = db.exists(name) ? db.get(name) : null;
          if (!(collection instanceof org.mapdb.BTreeMap<?, ?> m)) {
            throw new IOException("the snapshot holds a map " + name + " this store does not have");
          }
          map = m;
        }
        for (int n = in.readInt(); n != -1; n = in.readInt()) {
          key = readInto(in, n, key, size);
          int kl = n;
          int vl = in.readInt();
          value = readInto(in, vl, value, size);
          if (map != null) {
            Object k = map.getKeySerializer().deserialize(new DataInput2.ByteArray(key), kl);
            Object v = map.getValueSerializer().deserialize(new DataInput2.ByteArray(value), vl);
            map.put(k, v);
          }
        }
      }
      long expected = crc.getValue();
      long stored;
      try {
        stored = new DataInputStream(raw).readLong();
      } catch (EOFException e) {
        throw new IOException("truncated store snapshot " + file);
      }
      if (stored != expected) {
        throw new IOException("store snapshot " + file + " fails its checksum");
      }
    }
  }

  private static byte[] readInto(DataInputStream in, int n, byte[] buf, long max) throws IOException {
    if (n < 0 || n > max) {
      throw new IOException("corrupt store snapshot: length " + n);
    }
    byte[] b = buf.length >= n ? buf : new byte[Math.max(n, buf.length * 2)];
    in.readFully(b, 0, n);
    return b;
  }
}
