package io.vetcd.mvcc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.vetcd.pb.PutRequest;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store's file is only a cache (the WAL is the durable record): a file whose writer was killed
 * (SIGKILL) mid-write is never reopened as if it were whole, and a cleanly closed one always is.
 */
class CrashSafetyTest {
  /** Child process: puts forever, reporting each put. */
  public static void main(String[] args) {
    MvccStore s = MvccStore.open(Path.of(args[0]));
    for (long i = 0; ; i++) {
      WriteResult<?> w = s.put(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("k" + (i % 10)))
          .setValue(ByteString.copyFromUtf8("v".repeat((int) (i % 2000)))).build());
      s.setConsistentIndex(w.revision());
      s.commit();
      System.out.println("put " + w.revision());
      System.out.flush();
    }
  }

  @Test
  void a_store_killed_mid_write_is_refused_and_can_be_recreated(@TempDir Path dir) throws Exception {
    Path db = dir.resolve("kv.db");
    try (MvccStore s = MvccStore.open(db)) {
      s.put(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("before")).build());
    }
    runAndKill(db, 200);
    assertThrows(MvccStore.NotCleanlyClosedException.class, () -> MvccStore.open(db));
    assertThrows(MvccStore.NotCleanlyClosedException.class, () -> MvccStore.open(db), "and stays refused");
    try (MvccStore s = MvccStore.recreate(db)) {
      assertEquals(1, s.currentRevision(), "recreated empty");
      s.put(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("after")).build());
    }
    try (MvccStore s = MvccStore.open(db)) {
      assertEquals(2, s.currentRevision(), "a cleanly closed store reopens with its data");
      assertTrue(s.get(ByteString.copyFromUtf8("after")).isPresent());
    }
    assertTrue(Files.exists(dir.resolve("kv.db.clean")));
  }

  /** A file in the layout vetcd wrote before its tree keys were packed longs (byte-array keys, no format entry). */
  @Test
  void a_store_file_in_the_older_layout_is_refused_so_it_is_rebuilt(@TempDir Path dir) throws Exception {
    Path db = dir.resolve("kv.db");
    org.mapdb.DB old = org.mapdb.DBMaker.fileDB(db.toFile()).fileMmapEnableIfSupported().make();
    old.treeMap("kv", org.mapdb.Serializer.BYTE_ARRAY, org.mapdb.Serializer.BYTE_ARRAY).valuesOutsideNodesEnable()
        .createOrOpen().put(RevisionKey.put(new Revision(2, 0)).toBytes(), io.vetcd.pb.KeyValue.newBuilder()
            .setKey(ByteString.copyFromUtf8("a")).setCreateRevision(2).setModRevision(2).setVersion(1).build().toByteArray());
    old.treeMap("meta", org.mapdb.Serializer.STRING, org.mapdb.Serializer.LONG).createOrOpen().put("currentRevision", 2L);
    old.close();
    Files.createFile(dir.resolve("kv.db.clean"));
    MvccStore.OlderFormatException e = assertThrows(MvccStore.OlderFormatException.class, () -> MvccStore.open(db));
    assertTrue(e.getMessage().contains("older layout"), e.getMessage());
    try (MvccStore s = MvccStore.recreate(db)) {
      s.put(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("b")).build());
    }
    try (MvccStore s = MvccStore.open(db)) {
      assertEquals(2, s.currentRevision(), "the recreated file reopens in the current layout");
    }
  }

  private static void runAndKill(Path db, int afterPuts) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
        CrashSafetyTest.class.getName(), db.toString()).redirectErrorStream(true).start();
    int seen = 0;
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        if (line.startsWith("put ") && ++seen >= afterPuts) {
          p.destroyForcibly();
          break;
        }
      }
    }
    p.waitFor(30, TimeUnit.SECONDS);
    assertTrue(seen >= afterPuts, "writer died early");
  }
}
