package io.vetcd.mvcc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.ConcurrentModificationException;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The key index map against a TreeMap in etcd's key order: after random adds (in order, in reverse
 * and scattered, enough to split many chunks) and removals, lookups, ranges and full walks agree.
 */
class KeyIndexMapTest {
  private static ByteString key(Random random) {
    byte[] bytes = new byte[random.nextInt(4)];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = (byte) (random.nextBoolean() ? random.nextInt(4) : 250 + random.nextInt(6)); // both signs
    }
    return ByteString.copyFrom(bytes).concat(ByteString.copyFromUtf8(Integer.toString(random.nextInt(3000))));
  }

  private static List<ByteString> keys(Iterable<KeyIndex> indexes) {
    List<ByteString> out = new ArrayList<>();
    for (KeyIndex ki : indexes) {
      out.add(ki.key());
    }
    return out;
  }

  private static void assertSameContent(TreeMap<ByteString, KeyIndex> model, KeyIndexMap map, Random random) {
    assertEquals(model.size(), map.size());
    assertEquals(new ArrayList<>(model.keySet()), keys(map));
    for (int probe = 0; probe < 50; probe++) {
      ByteString k = key(random);
      assertSame(model.get(k), map.get(k));
      ByteString end = key(random);
      assertEquals(new ArrayList<>(model.tailMap(k, true).keySet()), keys(map.tail(k)));
      List<ByteString> expected = KeyOrder.INSTANCE.compare(k, end) < 0
          ? new ArrayList<>(model.subMap(k, true, end, false).keySet()) : List.of();
      assertEquals(expected, keys(map.range(k, end)), "range " + k + " .. " + end);
    }
  }

  @Test
  void agreesWithATreeMapThroughAddsAndRemovals() {
    Random random = new Random(20261208L);
    for (int round = 0; round < 6; round++) {
      TreeMap<ByteString, KeyIndex> model = new TreeMap<>(KeyOrder.INSTANCE);
      KeyIndexMap map = new KeyIndexMap();
      for (int i = 0; i < 4000; i++) {
        ByteString k = key(random);
        if (model.containsKey(k)) {
          assertThrows(IllegalStateException.class, () -> map.add(new KeyIndex(k)));
          continue;
        }
        KeyIndex ki = new KeyIndex(k);
        model.put(k, ki);
        map.add(ki);
      }
      assertSameContent(model, map, random);
      int modulus = 2 + round;
      map.removeIf(ki -> ki.key().hashCode() % modulus == 0);
      model.values().removeIf(ki -> ki.key().hashCode() % modulus == 0);
      assertSameContent(model, map, random);
      for (int i = 0; i < 1000; i++) { // adds into the repacked chunks
        ByteString k = key(random);
        if (!model.containsKey(k)) {
          KeyIndex ki = new KeyIndex(k);
          model.put(k, ki);
          map.add(ki);
        }
      }
      assertSameContent(model, map, random);
    }
  }

  @Test
  void keysAddedInOrderAndInReverseOrder() {
    KeyIndexMap ascending = new KeyIndexMap();
    KeyIndexMap descending = new KeyIndexMap();
    TreeMap<ByteString, KeyIndex> model = new TreeMap<>(KeyOrder.INSTANCE);
    int n = KeyIndexMap.CHUNK_SIZE_MAX * 5 + 3;
    for (int i = 0; i < n; i++) {
      ByteString up = ByteString.copyFromUtf8(String.format("k%06d", i));
      ByteString down = ByteString.copyFromUtf8(String.format("k%06d", n - 1 - i));
      KeyIndex ki = new KeyIndex(up);
      model.put(up, ki);
      ascending.add(ki);
      descending.add(new KeyIndex(down));
    }
    assertEquals(new ArrayList<>(model.keySet()), keys(ascending));
    assertEquals(new ArrayList<>(model.keySet()), keys(descending));
    assertNull(ascending.get(ByteString.copyFromUtf8("k")));
    assertEquals(ByteString.copyFromUtf8("k000512"), ascending.get(ByteString.copyFromUtf8("k000512")).key());
    ascending.removeIf(ki -> true);
    assertEquals(0, ascending.size());
    assertEquals(List.of(), keys(ascending.tail(ByteString.EMPTY)));
    ascending.add(new KeyIndex(ByteString.copyFromUtf8("again")));
    assertEquals(List.of(ByteString.copyFromUtf8("again")), keys(ascending));
    ascending.clear();
    assertEquals(List.of(), keys(ascending));
  }

  /** Keys loaded in order fill their chunks; keys then added in reverse into a gap share chunks too. */
  @Test
  void keysAddedInReverseIntoTheGapAfterAFullChunkArePackedTogether() {
    KeyIndexMap map = new KeyIndexMap();
    TreeMap<ByteString, KeyIndex> model = new TreeMap<>(KeyOrder.INSTANCE);
    int loaded = KeyIndexMap.CHUNK_SIZE_MAX * 4;
    for (int i = 0; i < loaded; i++) {
      KeyIndex ki = new KeyIndex(ByteString.copyFromUtf8(String.format("k%06d", i)));
      model.put(ki.key(), ki);
      map.add(ki);
    }
    assertEquals(4, map.chunkCount());
    String lastOfFirstChunk = String.format("k%06d", KeyIndexMap.CHUNK_SIZE_MAX - 1);
    int gapKeys = KeyIndexMap.CHUNK_SIZE_MAX * 2;
    for (int i = gapKeys; i > 0; i--) {
      KeyIndex ki = new KeyIndex(ByteString.copyFromUtf8(lastOfFirstChunk + String.format("-%06d", i)));
      model.put(ki.key(), ki);
      map.add(ki);
    }
    assertEquals(new ArrayList<>(model.keySet()), keys(map));
    assertTrue(map.chunkCount() <= 4 + gapKeys / (KeyIndexMap.CHUNK_SIZE_MAX / 2),
        map.chunkCount() + " chunks for " + map.size() + " keys");
  }

  @Test
  void aWalkNoticesAnAddUnderIt() {
    KeyIndexMap map = new KeyIndexMap();
    map.add(new KeyIndex(ByteString.copyFromUtf8("a")));
    map.add(new KeyIndex(ByteString.copyFromUtf8("c")));
    Iterator<KeyIndex> walk = map.iterator();
    walk.next();
    map.add(new KeyIndex(ByteString.copyFromUtf8("b")));
    assertThrows(ConcurrentModificationException.class, walk::next);
  }
}
