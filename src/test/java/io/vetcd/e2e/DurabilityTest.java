package io.vetcd.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Crash durability: every put acknowledged to a client must survive {@code kill -9} and a restart on
 * the same data dir. Target kind from {@code -De2e.target} (default vetcd).
 */
class DurabilityTest {

  static final int N = 300;
  static final int IN_FLIGHT = 16;

  static ByteSequence bs(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  static Client client(Member m) {
    return Client.builder().endpoints(m.clientUrl()).build();
  }

  /** All keys under a prefix, as a sorted map key -> value. */
  static Map<String, String> readPrefix(Member m, String prefix) throws Exception {
    try (Client c = client(m)) {
      GetResponse r = c.getKVClient().get(bs(prefix), GetOption.builder().isPrefix(true).build()).get(30, TimeUnit.SECONDS);
      Map<String, String> out = new TreeMap<>();
      for (KeyValue kv : r.getKvs()) out.put(kv.getKey().toString(StandardCharsets.UTF_8), kv.getValue().toString(StandardCharsets.UTF_8));
      return out;
    }
  }

  /**
   * Issues up to N concurrent puts (at most IN_FLIGHT outstanding) with keys {@code prefix + i}; once
   * {@code killAfterAcks} puts have been acknowledged, kill -9s the member while puts are in flight.
   * Records every acknowledged put (key -> value) into {@code acked}.
   */
  static int putUntilKill(Member m, String prefix, int killAfterAcks, Map<String, String> acked, long seed) throws Exception {
    AtomicInteger acks = new AtomicInteger();
    Semaphore slots = new Semaphore(IN_FLIGHT);
    Client c = client(m);
    int issued = 0;
    try {
      for (int i = 0; i < N; i++) {
        if (acks.get() >= killAfterAcks) break;
        if (!slots.tryAcquire(30, TimeUnit.SECONDS)) fail("puts stalled; acks=" + acks + "\n" + m.logTail(30));
        String k = prefix + String.format("%04d", i);
        String v = "v-" + seed + "-" + i;
        issued++;
        c.getKVClient().put(bs(k), bs(v)).whenComplete((r, e) -> {
          if (e == null) {
            acked.put(k, v);
            acks.incrementAndGet();
          }
          slots.release();
        });
      }
      m.kill9(); // with up to IN_FLIGHT puts still outstanding
    } finally {
      c.close();
    }
    return issued;
  }

  static void assertAllPresent(Member m, Map<String, String> expected, String prefix, String ctx) throws Exception {
    Map<String, String> got = readPrefix(m, prefix);
    List<String> missing = new ArrayList<>();
    List<String> wrong = new ArrayList<>();
    for (Map.Entry<String, String> e : expected.entrySet()) {
      String v = got.get(e.getKey());
      if (v == null) missing.add(e.getKey());
      else if (!v.equals(e.getValue())) wrong.add(e.getKey() + "=" + v + " (acked " + e.getValue() + ")");
    }
    assertTrue(missing.isEmpty() && wrong.isEmpty(), ctx + ": " + missing.size() + " acknowledged keys missing " + missing
        + ", " + wrong.size() + " with wrong value " + wrong + " (acked " + expected.size() + ", present " + got.size() + ")");
  }

  @Test
  void acknowledgedPutsSurviveRepeatedKill9() throws Exception {
    long seed = Long.getLong("e2e.seed", System.nanoTime());
    Random rnd = new Random(seed);
    try (Member m = Member.start(Member.Kind.target())) {
      // From the second start on, snapshots every 64 entries: recoveries then start from a snapshot
      // file and the WAL after it, not only from the whole WAL.
      m.withEnvironment("ETCD_SNAPSHOT_COUNT", "64");
      Map<String, String> acked = new ConcurrentHashMap<>();
      for (int round = 1; round <= 4; round++) {
        int killAfter = 30 + rnd.nextInt(N - 60);
        Map<String, String> roundAcked = new ConcurrentHashMap<>();
        int issued = putUntilKill(m, "d/r" + round + "/", killAfter, roundAcked, seed);
        acked.putAll(roundAcked);
        assertTrue(roundAcked.size() >= killAfter, "round " + round + ": only " + roundAcked.size() + " acks");
        m.restart();
        String ctx = "seed " + seed + " round " + round + " (kill after " + killAfter + " acks, " + issued + " issued)";
        assertAllPresent(m, acked, "d/", ctx);
        // and the member still accepts writes after recovery
        try (Client c = client(m)) {
          c.getKVClient().put(bs("after/" + round), bs("ok")).get(30, TimeUnit.SECONDS);
        }
      }
      // graceful restart keeps everything too
      m.stop();
      m.restart();
      assertAllPresent(m, acked, "d/", "seed " + seed + " after final graceful restart");
      assertEquals(4, readPrefix(m, "after/").size());
    }
  }

  /**
   * Three cycles of: 200 concurrent puts, 10 sequential puts, kill -9, cut 3 bytes off the newest WAL
   * segment, restart. The member must start and serve, and every put acknowledged before the final 10
   * of each cycle must be present. (Whether the cut lands in an entry or in a hard-state record
   * depends on timing, so several cycles are run to make the check less luck-dependent.)
   */
  @Test
  void truncatedWalTailStillStartsAndKeepsEarlierWrites() throws Exception {
    try (Member m = Member.start(Member.Kind.target())) {
      Map<String, String> early = new ConcurrentHashMap<>();
      for (int cycle = 1; cycle <= 3; cycle++) {
        String base = "w/c" + cycle + "/";
        try (Client c = client(m)) {
          List<java.util.concurrent.CompletableFuture<?>> fs = new ArrayList<>();
          Semaphore slots = new Semaphore(IN_FLIGHT);
          for (int i = 0; i < 200; i++) {
            slots.acquire();
            String k = base + "early/" + String.format("%04d", i);
            String v = "e" + cycle + "-" + i;
            fs.add(c.getKVClient().put(bs(k), bs(v)).whenComplete((r, e) -> {
              if (e == null) early.put(k, v);
              slots.release();
            }));
          }
          for (var f : fs) f.get(30, TimeUnit.SECONDS);
          // the final 10 writes, sequential; the very last records of the WAL belong to these
          for (int i = 0; i < 10; i++) {
            c.getKVClient().put(bs(base + "tail/" + i), bs("t" + i)).get(30, TimeUnit.SECONDS);
          }
        }
        m.kill9();
        Path wal = newestWal(m.dataDir());
        long size = Files.size(wal);
        try (FileChannel ch = FileChannel.open(wal, StandardOpenOption.WRITE)) {
          ch.truncate(size - 3);
        }
        String ctx = "cycle " + cycle + ", after cutting 3 bytes of " + m.dataDir().relativize(wal) + " (was " + size + " bytes)";
        try {
          m.restart();
        } catch (AssertionError e) {
          throw new AssertionError(ctx + ": member did not come back: " + e.getMessage(), e);
        }
        assertAllPresent(m, early, "w/", ctx);
        try (Client c = client(m)) {
          c.getKVClient().put(bs(base + "post"), bs("ok")).get(30, TimeUnit.SECONDS);
          GetResponse r = c.getKVClient().get(bs(base + "post")).get(30, TimeUnit.SECONDS);
          assertEquals(1, r.getCount(), ctx);
        }
        Map<String, String> tails = readPrefix(m, base + "tail/");
        // tolerated loss: only tail writes, and what survived must be a prefix of the sequence
        for (int i = 0; i < tails.size(); i++) {
          assertNotNull(tails.get(base + "tail/" + i), ctx + ": surviving tail writes are not a prefix: " + tails.keySet());
        }
      }
    }
  }

  /** The newest {@code *.wal} file under {@code <data-dir>/member/wal}. */
  static Path newestWal(Path dataDir) throws IOException {
    Path dir = dataDir.resolve("member").resolve("wal");
    assertTrue(Files.isDirectory(dir), "no WAL directory " + dir + "; data dir contains: " + listing(dataDir));
    try (Stream<Path> s = Files.list(dir)) {
      List<Path> wals = s.filter(p -> p.getFileName().toString().endsWith(".wal")).sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
      assertTrue(!wals.isEmpty(), "no *.wal files in " + dir + ": " + listing(dataDir));
      return wals.get(wals.size() - 1);
    }
  }

  static String listing(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.map(p -> dir.relativize(p).toString()).toList().toString();
    } catch (IOException e) {
      return e.toString();
    }
  }
}
