package io.vetcd.mvcc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.mapdb.BTreeMap;
import org.mapdb.DB;
import org.mapdb.DBMaker;
import org.mapdb.DataInput2;
import org.mapdb.DataOutput2;
import org.mapdb.Serializer;

/** The revision tree's key layout: etcd's byte form outside, packed longs inside B-tree nodes. */
class RevisionKeySerializerTest {
  private final RevisionKeySerializer ser = RevisionKeySerializer.INSTANCE;

  private static int unsignedCompare(byte[] a, byte[] b) {
    return Arrays.compareUnsigned(a, b);
  }

  @Test
  void byte_form_is_etcds_and_orders_as_the_keys_do() {
    byte[] put = new RevisionKey(5, 2, false).toBytes();
    assertArrayEquals(new byte[] {0, 0, 0, 0, 0, 0, 0, 5, '_', 0, 0, 0, 0, 0, 0, 0, 2}, put);
    byte[] tomb = new RevisionKey(5, 2, true).toBytes();
    assertEquals(18, tomb.length);
    assertEquals('t', tomb[17]);
    Random r = new Random(7);
    List<RevisionKey> keys = new ArrayList<>();
    long[] mains = {0, 0x7f, 0x80, 0xff, 0x80_00, 0x80_00_00_00L, 1L << 62, Long.MAX_VALUE};
    long[] subs = {0, 0x7f, 0x80, 0xff, 0x80_00_00L, RevisionKey.SUB_MAX};
    for (int i = 0; i < 500; i++) {
      // byte values at and above 0x80 tell unsigned byte order (etcd's) from signed
      long main = mains[r.nextInt(mains.length)];
      long sub = subs[r.nextInt(subs.length)];
      keys.add(new RevisionKey(main > 0 ? main - r.nextInt(2) : main, sub > 0 ? sub - r.nextInt(2) : sub, r.nextBoolean()));
    }
    for (RevisionKey a : keys) {
      assertEquals(a, RevisionKey.fromBytes(a.toBytes()));
      for (RevisionKey b : keys.subList(0, 40)) {
        assertEquals(Integer.signum(unsignedCompare(a.toBytes(), b.toBytes())), Integer.signum(a.compareTo(b)), a + " vs " + b);
      }
    }
  }

  @Test
  void malformed_byte_forms_are_refused() {
    assertThrows(IllegalArgumentException.class, () -> RevisionKey.fromBytes(new byte[16]));
    byte[] noSeparator = new RevisionKey(1, 1, false).toBytes();
    noSeparator[8] = 'x';
    assertThrows(IllegalArgumentException.class, () -> RevisionKey.fromBytes(noSeparator));
    byte[] badMark = Arrays.copyOf(new RevisionKey(1, 1, false).toBytes(), 18);
    badMark[17] = 'q';
    assertThrows(IllegalArgumentException.class, () -> RevisionKey.fromBytes(badMark));
    assertThrows(IllegalArgumentException.class, () -> new RevisionKey(-1, 0, false));
  }

  @Test
  void a_single_key_is_written_as_a_byte_array_of_its_byte_form_as_older_snapshots_hold_it() throws Exception {
    RevisionKey k = new RevisionKey(123456789L, 3, true);
    DataOutput2 mine = new DataOutput2();
    ser.serialize(mine, k);
    DataOutput2 older = new DataOutput2();
    Serializer.BYTE_ARRAY.serialize(older, k.toBytes());
    assertArrayEquals(older.copyBytes(), mine.copyBytes());
    assertEquals(k, ser.deserialize(new DataInput2.ByteArray(older.copyBytes()), older.pos));
  }

  @Test
  void node_arrays_round_trip_and_edit_like_a_list() throws Exception {
    Random r = new Random(11);
    for (int round = 0; round < 200; round++) {
      TreeMap<RevisionKey, Boolean> sorted = new TreeMap<>();
      int n = r.nextInt(40);
      long base = r.nextInt(3) == 0 ? Long.MAX_VALUE / 2 : 0;
      while (sorted.size() < n) {
        sorted.put(new RevisionKey(base + r.nextInt(1000), r.nextInt(3) == 0 ? r.nextInt(100_000) : r.nextInt(3), r.nextBoolean()), true);
      }
      List<RevisionKey> list = new ArrayList<>(sorted.keySet());
      Object arr = ser.valueArrayFromArray(list.toArray());
      assertEquals(list.size(), ser.valueArraySize(arr));
      DataOutput2 out = new DataOutput2();
      ser.valueArraySerialize(out, arr);
      Object back = ser.valueArrayDeserialize(new DataInput2.ByteArray(out.copyBytes()), list.size());
      assertEquals(list, Arrays.asList(ser.valueArrayToArray(back)));
      for (int i = 0; i < list.size(); i++) {
        assertEquals(i, ser.valueArraySearch(back, list.get(i)));
        assertEquals(i, ser.valueArraySearch(back, list.get(i), java.util.Comparator.naturalOrder()));
      }
      RevisionKey probe = new RevisionKey(base + r.nextInt(1000), r.nextInt(3), r.nextBoolean());
      int expected = java.util.Collections.binarySearch(list, probe);
      assertEquals(expected, ser.valueArraySearch(back, probe));
      if (expected < 0) {
        List<RevisionKey> inserted = new ArrayList<>(list);
        inserted.add(-expected - 1, probe);
        assertEquals(inserted, Arrays.asList(ser.valueArrayToArray(ser.valueArrayPut(back, -expected - 1, probe))));
      }
      if (!list.isEmpty()) {
        int at = r.nextInt(list.size());
        List<RevisionKey> deleted = new ArrayList<>(list);
        deleted.remove(at);
        // MapDB counts the position to delete from 1
        assertEquals(deleted, Arrays.asList(ser.valueArrayToArray(ser.valueArrayDeleteValue(back, at + 1))));
        int from = r.nextInt(list.size());
        int to = from + r.nextInt(list.size() - from + 1);
        assertEquals(list.subList(from, to), Arrays.asList(ser.valueArrayToArray(ser.valueArrayCopyOfRange(back, from, to))));
        List<RevisionKey> updated = new ArrayList<>(list);
        updated.set(at, probe);
        assertEquals(updated, Arrays.asList(ser.valueArrayToArray(ser.valueArrayUpdateVal(back, at, probe))));
      }
    }
  }

  /** A B-tree with small nodes (many splits; 4 is degenerate in MapDB) behaves as a sorted map through random edits. */
  @Test
  void a_tree_keyed_by_it_matches_a_sorted_map() {
    DB db = DBMaker.memoryDB().make();
    BTreeMap<RevisionKey, byte[]> tree = db.treeMap("kv", ser, Serializer.BYTE_ARRAY)
        .maxNodeSize(6).valuesOutsideNodesEnable().createOrOpen();
    NavigableMap<RevisionKey, byte[]> model = new TreeMap<>();
    Random r = new Random(3);
    long main = 1;
    for (int step = 0; step < 20_000; step++) {
      int op = r.nextInt(10);
      if (op < 6) {
        main += r.nextInt(3) == 0 ? 1 + r.nextInt(1000) : 1;
        int subs = 1 + r.nextInt(r.nextInt(10) == 0 ? 50 : 2);
        for (int sub = 0; sub < subs; sub++) {
          RevisionKey k = new RevisionKey(main, sub, r.nextInt(4) == 0);
          byte[] v = Long.toString(step).getBytes();
          assertEquals(null, tree.put(k, v));
          model.put(k, v);
        }
      } else if (op < 8 && !model.isEmpty()) {
        // compaction-like: remove a run of old entries
        long upTo = model.firstKey().main() + r.nextInt(50);
        for (RevisionKey k : new ArrayList<>(model.headMap(RevisionKey.floor(upTo)).keySet())) {
          if (r.nextInt(3) > 0) {
            assertArrayEquals(model.remove(k), tree.remove(k));
          }
        }
      } else if (!model.isEmpty()) {
        long from = model.firstKey().main() + r.nextInt((int) Math.min(Integer.MAX_VALUE, main - model.firstKey().main() + 1));
        long to = from + r.nextInt(200);
        List<Map.Entry<RevisionKey, byte[]>> got = new ArrayList<>(
            tree.subMap(RevisionKey.floor(from), true, RevisionKey.floor(to), false).entrySet());
        List<Map.Entry<RevisionKey, byte[]>> want = new ArrayList<>(
            model.subMap(RevisionKey.floor(from), true, RevisionKey.floor(to), false).entrySet());
        assertEquals(want.size(), got.size());
        for (int i = 0; i < want.size(); i++) {
          assertEquals(want.get(i).getKey(), got.get(i).getKey());
          assertArrayEquals(want.get(i).getValue(), got.get(i).getValue());
        }
        RevisionKey some = want.isEmpty() ? model.lastKey() : want.get(r.nextInt(want.size())).getKey();
        assertArrayEquals(model.get(some), tree.get(some));
        assertEquals(null, tree.get(new RevisionKey(some.main(), some.sub(), !some.tombstone())));
      }
      if (!model.isEmpty()) {
        assertEquals(model.lastKey(), tree.lastKey());
      }
    }
    assertEquals(model.size(), tree.size());
    assertEquals(new ArrayList<>(model.keySet()), new ArrayList<>(tree.keySet()));
    tree.verify(); // MapDB's own structure check: node keys sorted, links consistent
    db.close();
  }
}
