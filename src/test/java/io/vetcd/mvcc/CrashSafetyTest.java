package io.vetcd.mvcc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.vetcd.pb.KeyValue;
import io.vetcd.pb.PutRequest;
import io.vetcd.pb.RangeRequest;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Kills a writer process (SIGKILL) while it writes and commits, then checks the file reopens consistently. */
class CrashSafetyTest {
  /** Child process: puts and commits forever, consistent index = revision, reports each commit. */
  public static void main(String[] args) {
    MvccStore s = MvccStore.open(Path.of(args[0]));
    for (long i = 0; ; i++) {
      WriteResult<?> w = s.put(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("k" + (i % 10)))
          .setValue(ByteString.copyFromUtf8("v".repeat((int) (i % 2000)))).build());
      s.setConsistentIndex(w.revision());
      if (i % 3 != 0) {
        s.commit();
        System.out.println("committed " + w.revision());
        System.out.flush();
      }
    }
  }

  @Test
  void killDuringWritesLeavesACommittedState(@TempDir Path dir) throws Exception {
    Path db = dir.resolve("kv.db");
    for (int round = 0; round < 3; round++) {
      long committed = runAndKill(db, 100 + round * 37);
      try (MvccStore s = MvccStore.open(db)) {
        long rev = s.currentRevision();
        assertTrue(rev >= committed, "revision " + rev + " lost commit " + committed);
        assertEquals(rev, s.consistentIndex(), "data and consistent index commit together");
        long total = 0;
        for (KeyValue kv : s.range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("k"))
            .setRangeEnd(ByteString.copyFromUtf8("l")).build()).getKvsList()) {
          total += kv.getVersion();
          assertTrue(kv.getModRevision() <= rev);
        }
        assertEquals(rev - 1, total, "every revision is one put");
        s.hashKv(0);
      }
    }
  }

  private static long runAndKill(Path db, int afterCommits) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), CrashSafetyTest.class.getName(),
        db.toString()).redirectErrorStream(true).start();
    long last = 0;
    int seen = 0;
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        if (line.startsWith("committed ")) {
          last = Long.parseLong(line.substring(10));
          if (++seen >= afterCommits) {
            p.destroyForcibly();
            break;
          }
        }
      }
    }
    p.waitFor(30, TimeUnit.SECONDS);
    assertTrue(seen >= afterCommits, "writer died early");
    return last;
  }
}
