package io.vetcd.mvcc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import io.vetcd.pb.DeleteRangeRequest;
import io.vetcd.pb.PutRequest;
import io.vetcd.pb.RangeRequest;
import io.vetcd.pb.RangeResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A whole store exported to a file and loaded into another store: everything travels, atomically. */
class StoreSnapshotTest {
  @TempDir
  Path dir;

  static ByteString b(String v) {
    return ByteString.copyFromUtf8(v);
  }

  static void put(MvccStore s, String k, String v) {
    s.put(PutRequest.newBuilder().setKey(b(k)).setValue(b(v)).build());
  }

  static RangeResponse all(MvccStore s, long rev) {
    return s.range(RangeRequest.newBuilder().setKey(ZERO).setRangeEnd(ZERO).setRevision(rev).build()).build();
  }

  static final ByteString ZERO = ByteString.copyFrom(new byte[] {0});

  Path export(MvccStore s) throws IOException {
    Path file = dir.resolve("snap-" + System.nanoTime());
    try (OutputStream out = Files.newOutputStream(file)) {
      s.exportTo(out);
    }
    return file;
  }

  @Test
  void every_table_travels_and_the_index_is_rebuilt() throws Exception {
    try (MvccStore source = MvccStore.open(dir.resolve("a/db")); MvccStore target = MvccStore.open(dir.resolve("b/db"))) {
      for (int i = 0; i < 500; i++) {
        put(source, "k" + (i % 120), "v" + i);
      }
      source.deleteRange(DeleteRangeRequest.newBuilder().setKey(b("k7")).build());
      source.compact(300);
      source.leaseTable().put(42L, 60L);
      source.alarmTable().put(7L, 2);
      source.clusterTable().put("member/1", new byte[] {1, 2, 3});
      source.setConsistentIndex(1234);
      source.commit();
      put(target, "other", "x");
      target.leaseTable().put(9L, 5L);
      target.commit();

      Path file = export(source);
      target.replaceFrom(file);

      assertEquals(source.currentRevision(), target.currentRevision());
      assertEquals(source.compactRevision(), target.compactRevision());
      assertEquals(1234, target.consistentIndex());
      assertEquals(source.hash(), target.hash());
      assertEquals(source.hashKv(0), target.hashKv(0));
      assertEquals(all(source, 0), all(target, 0));
      assertEquals(all(source, 400), all(target, 400));
      assertEquals(java.util.Map.of(42L, 60L), target.leaseTable());
      assertEquals(java.util.Map.of(7L, 2), target.alarmTable());
      assertArrayEquals(new byte[] {1, 2, 3}, target.clusterTable().get("member/1"));
      assertEquals(source.sizeInUseBytes(), target.sizeInUseBytes());
      // the target keeps working as a store after the replacement
      put(target, "k1", "after");
      assertEquals(source.currentRevision() + 1, target.currentRevision());
    }
    // and the replacement is durable
    try (MvccStore reopened = MvccStore.open(dir.resolve("b/db"))) {
      assertEquals(1234, reopened.consistentIndex());
      assertEquals(java.util.Map.of(42L, 60L), reopened.leaseTable());
    }
  }

  @Test
  void a_damaged_snapshot_changes_nothing() throws Exception {
    try (MvccStore source = MvccStore.open(dir.resolve("a/db")); MvccStore target = MvccStore.open(dir.resolve("b/db"))) {
      for (int i = 0; i < 50; i++) {
        put(source, "k" + i, "v" + i);
      }
      source.commit();
      put(target, "mine", "x");
      target.commit();
      Path file = export(source);
      byte[] bytes = Files.readAllBytes(file);
      bytes[bytes.length / 2] ^= 0x40;
      Files.write(file, bytes);
      assertThrows(IOException.class, () -> target.replaceFrom(file));
      Path truncated = export(source);
      try (var ch = Files.newByteChannel(truncated, StandardOpenOption.WRITE)) {
        ch.truncate(Files.size(truncated) - 3);
      }
      assertThrows(IOException.class, () -> target.replaceFrom(truncated));
      assertEquals(1, all(target, 0).getCount());
      assertEquals(2, target.currentRevision());
    }
  }
}
