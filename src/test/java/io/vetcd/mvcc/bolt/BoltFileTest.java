package io.vetcd.mvcc.bolt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bbolt files written by {@link BoltWriter} read back by {@link BoltReader}, and a file real etcd wrote. */
class BoltFileTest {
  @TempDir
  Path dir;

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** A revision key as etcd's key bucket has it: main and sub, 8 bytes big-endian each, around '_'. */
  static byte[] revision(long main, long sub) {
    return ByteBuffer.allocate(17).putLong(main).put((byte) '_').putLong(sub).array();
  }

  static Map<String, List<byte[][]>> readAll(Path file) throws IOException {
    Map<String, List<byte[][]>> all = new TreeMap<>();
    try (BoltReader reader = BoltReader.open(file)) {
      for (byte[] name : reader.bucketNames()) {
        List<byte[][]> entries = new ArrayList<>();
        assertTrue(reader.forEach(name, (k, v) -> entries.add(new byte[][] {k, v})));
        all.put(new String(name, StandardCharsets.UTF_8), entries);
      }
    }
    return all;
  }

  @Test
  void when_small_buckets_are_written_then_they_read_back_inline_and_in_order() throws IOException {
    Path file = dir.resolve("small.db");
    try (BoltWriter w = BoltWriter.create(file)) {
      w.bucket(utf8("alarm"));
      w.bucket(utf8("auth"));
      w.put(utf8("authEnabled"), new byte[] {0});
      w.put(utf8("authRevision"), new byte[8]);
      w.bucket(utf8("meta"));
      w.put(utf8("consistent_index"), new byte[] {0, 0, 0, 0, 0, 0, 0, 7});
      long size = w.finish();
      assertEquals(Files.size(file), size);
      assertEquals(3 * 4096, size, "two meta pages and the root leaf: every bucket is inline");
    }
    Map<String, List<byte[][]>> all = readAll(file);
    assertEquals(List.of("alarm", "auth", "meta"), new ArrayList<>(all.keySet()));
    assertEquals(0, all.get("alarm").size());
    assertArrayEquals(utf8("authRevision"), all.get("auth").get(1)[0]);
    assertArrayEquals(new byte[] {0, 0, 0, 0, 0, 0, 0, 7}, all.get("meta").get(0)[1]);
    try (BoltReader reader = BoltReader.open(file)) {
      assertFalse(reader.forEach(utf8("nope"), (k, v) -> { }));
      assertEquals(size(file), reader.sizeBytes());
    }
  }

  static long size(Path file) throws IOException {
    return Files.size(file);
  }

  @Test
  void when_many_keys_are_written_then_leaves_and_branches_split_and_every_key_reads_back() throws IOException {
    Path file = dir.resolve("many.db");
    int keys = 60_000;
    try (BoltWriter w = BoltWriter.create(file)) {
      w.bucket(utf8("key"));
      for (int i = 0; i < keys; i++) {
        w.put(revision(i + 2, i % 3), utf8("value-" + i));
      }
      w.bucket(utf8("lease"));
      for (long id = 1; id <= 500; id++) {
        w.put(ByteBuffer.allocate(8).putLong(id * 1_000_003L).array(), new byte[13]);
      }
      w.finish();
    }
    List<byte[][]> read = readAll(file).get("key");
    assertEquals(keys, read.size());
    for (int i = 0; i < keys; i++) {
      assertArrayEquals(revision(i + 2, i % 3), read.get(i)[0]);
      assertArrayEquals(utf8("value-" + i), read.get(i)[1]);
    }
    assertEquals(500, readAll(file).get("lease").size());
    assertTrue(treeHeight(file, "key") >= 3, "60,000 keys need a root branch over branches over leaves");
  }

  @Test
  void when_values_are_larger_than_a_page_then_they_go_to_overflow_pages() throws IOException {
    Path file = dir.resolve("large.db");
    Random random = new Random(7);
    List<byte[]> values = new ArrayList<>();
    try (BoltWriter w = BoltWriter.create(file)) {
      w.bucket(utf8("key"));
      for (int i = 0; i < 20; i++) {
        byte[] v = new byte[i % 2 == 0 ? 100 : 1 + random.nextInt(300_000)];
        random.nextBytes(v);
        values.add(v);
        w.put(revision(i + 2, 0), v);
      }
      w.finish();
    }
    List<byte[][]> read = readAll(file).get("key");
    for (int i = 0; i < values.size(); i++) {
      assertArrayEquals(values.get(i), read.get(i)[1], "value " + i);
    }
    assertEquals(0, Files.size(file) % 4096);
  }

  @Test
  void when_keys_or_buckets_are_out_of_order_then_the_writer_refuses() throws IOException {
    try (BoltWriter w = BoltWriter.create(dir.resolve("bad.db"))) {
      w.bucket(utf8("key"));
      w.put(revision(3, 0), new byte[0]);
      assertThrows(IllegalArgumentException.class, () -> w.put(revision(2, 0), new byte[0]));
      assertThrows(IllegalArgumentException.class, () -> w.put(revision(3, 0), new byte[0]));
      assertThrows(IllegalArgumentException.class, () -> w.bucket(utf8("alarm")));
      assertThrows(IllegalArgumentException.class, () -> w.put(new byte[0], new byte[0]));
    }
  }

  @Test
  void when_a_meta_page_is_damaged_then_the_other_one_is_used_and_two_damaged_ones_are_refused() throws IOException {
    Path file = dir.resolve("meta.db");
    try (BoltWriter w = BoltWriter.create(file)) {
      w.bucket(utf8("meta"));
      w.put(utf8("k"), utf8("v"));
      w.finish();
    }
    byte[] bytes = Files.readAllBytes(file);
    bytes[4096 + 16 + 40] ^= 1; // meta page 1's pgid: its checksum no longer matches
    Files.write(file, bytes);
    assertEquals(1, readAll(file).get("meta").size());
    bytes[16 + 40] ^= 1;
    Files.write(file, bytes);
    assertThrows(IOException.class, () -> BoltReader.open(file));
  }

  @Test
  void when_etcd_saved_the_snapshot_then_its_buckets_and_keys_read_back() throws IOException {
    Path file = dir.resolve("etcd.db");
    try (InputStream in = getClass().getResourceAsStream("/bolt/etcd-3.4.23-snapshot.db")) {
      Files.copy(in, file);
    }
    assertTrue(Sha256Trailer.present(Files.size(file)));
    Sha256Trailer.verify(file);
    Map<String, List<byte[][]>> all = readAll(file);
    assertEquals(List.of("alarm", "auth", "authRoles", "authUsers", "cluster", "key", "lease", "members",
        "members_removed", "meta"), new ArrayList<>(all.keySet()));
    // etcdctl snapshot status said: totalKey 18, revision 7, totalSize 20480
    assertEquals(18, all.values().stream().mapToInt(List::size).sum());
    List<byte[][]> keyBucket = all.get("key");
    assertEquals(7, ByteBuffer.wrap(keyBucket.get(keyBucket.size() - 1)[0]).getLong());
    try (BoltReader reader = BoltReader.open(file)) {
      assertEquals(20480, reader.sizeBytes());
    }
    byte[] damaged = Files.readAllBytes(file);
    damaged[damaged.length - 1] ^= 1;
    Files.write(file, damaged);
    assertThrows(IOException.class, () -> Sha256Trailer.verify(file));
  }

  /** Levels from the bucket's root page down to its leaves. */
  static int treeHeight(Path file, String bucket) throws IOException {
    byte[] header;
    try (BoltReader reader = BoltReader.open(file)) {
      byte[][] found = new byte[1][];
      // the root leaf of this small file holds the bucket headers
      ByteBuffer root = page(file, rootPage(file));
      int count = Short.toUnsignedInt(root.getShort(10));
      for (int i = 0; i < count; i++) {
        int at = 16 + i * 16;
        byte[] k = new byte[root.getInt(at + 8)];
        root.get(at + root.getInt(at + 4), k);
        if (new String(k, StandardCharsets.UTF_8).equals(bucket)) {
          found[0] = new byte[8];
          root.get(at + root.getInt(at + 4) + k.length, found[0]);
        }
      }
      header = found[0];
      assertTrue(reader.sizeBytes() > 0);
    }
    long pageId = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN).getLong();
    int height = 1;
    ByteBuffer p = page(file, pageId);
    while (p.getShort(8) == BoltFormat.BRANCH_PAGE) {
      height++;
      p = page(file, p.getLong(16 + 8));
    }
    return height;
  }

  static long rootPage(Path file) throws IOException {
    return page(file, 0).getLong(16 + 16);
  }

  static ByteBuffer page(Path file, long id) throws IOException {
    byte[] all = Files.readAllBytes(file);
    return ByteBuffer.wrap(all, (int) id * 4096, 4096).slice().order(ByteOrder.LITTLE_ENDIAN);
  }
}
