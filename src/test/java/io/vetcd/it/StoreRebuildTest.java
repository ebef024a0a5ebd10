package io.vetcd.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.*;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.GetOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The store's file is a cache: one that is unreadable, or was not closed cleanly, is rebuilt from the
 * newest snapshot file and the WAL after it, with every write and revision.
 */
class StoreRebuildTest {
  static ByteSequence b(String s) {
    return ByteSequence.from(s, UTF_8);
  }

  @Test
  void damaged_store_is_rebuilt_from_the_wal_with_every_write_and_revision() throws Exception {
    try (InProcessMember member = new InProcessMember()) {
      long lastRevision;
      try (Client client = Client.builder().endpoints(member.endpoint()).build()) {
        for (int i = 0; i < 50; i++) {
          client.getKVClient().put(b("rebuild/" + i), b("v" + i)).get(10, TimeUnit.SECONDS);
        }
        lastRevision = client.getKVClient().delete(b("rebuild/7")).get(10, TimeUnit.SECONDS).getHeader().getRevision();
      }
      member.stop();
      Path db = member.dataDir.resolve("member/snap/db");
      byte[] garbage = new byte[(int) Math.min(Files.size(db), 64 * 1024)];
      new java.util.Random(7).nextBytes(garbage);
      Files.write(db, garbage); // the store's file is now unreadable
      member.start();
      try (Client client = Client.builder().endpoints(member.endpoint()).build()) {
        var all = client.getKVClient().get(b("rebuild/"), GetOption.builder().isPrefix(true).build())
            .get(10, TimeUnit.SECONDS);
        assertEquals(49, all.getCount());
        assertEquals(lastRevision, all.getHeader().getRevision(), "the same revisions, replayed in order");
        assertEquals("v3", client.getKVClient().get(b("rebuild/3")).get(10, TimeUnit.SECONDS)
            .getKvs().get(0).getValue().toString(UTF_8));
      }
    }
  }

  @Test
  void store_not_closed_cleanly_is_rebuilt_from_the_snapshot_and_the_wal_tail() throws Exception {
    try (InProcessMember member = new InProcessMember("--snapshot-count", "40")) {
      long lastRevision;
      long leaseId;
      try (Client client = Client.builder().endpoints(member.endpoint()).build()) {
        leaseId = client.getLeaseClient().grant(600).get(10, TimeUnit.SECONDS).getID();
        for (int i = 0; i < 150; i++) {
          client.getKVClient().put(b("snap/" + (i % 60)), b("v" + i)).get(10, TimeUnit.SECONDS);
        }
        client.getKVClient().put(b("leased"), b("x"), io.etcd.jetcd.options.PutOption.builder().withLeaseId(leaseId)
            .build()).get(10, TimeUnit.SECONDS);
        client.getKVClient().compact(100).get(10, TimeUnit.SECONDS);
        lastRevision = client.getKVClient().delete(b("snap/7")).get(10, TimeUnit.SECONDS).getHeader().getRevision();
      }
      member.stop();
      Path snapDir = member.dataDir.resolve("member/snap");
      try (var files = Files.list(snapDir)) {
        assertTrue(files.anyMatch(f -> f.getFileName().toString().endsWith(".snapdb")), "a snapshot was written");
      }
      // As after kill -9: the file may be anything, and the clean-close marker is missing.
      Files.delete(snapDir.resolve("db.clean"));
      byte[] garbage = new byte[4096];
      new java.util.Random(11).nextBytes(garbage);
      try (var ch = Files.newByteChannel(snapDir.resolve("db"), java.nio.file.StandardOpenOption.WRITE)) {
        ch.position(8192);
        ch.write(java.nio.ByteBuffer.wrap(garbage));
      }
      member.start();
      try (Client client = Client.builder().endpoints(member.endpoint()).build()) {
        var all = client.getKVClient().get(b("snap/"), GetOption.builder().isPrefix(true).build())
            .get(10, TimeUnit.SECONDS);
        assertEquals(59, all.getCount());
        assertEquals(lastRevision, all.getHeader().getRevision());
        assertEquals("v149", client.getKVClient().get(b("snap/29")).get(10, TimeUnit.SECONDS)
            .getKvs().get(0).getValue().toString(UTF_8));
        assertEquals("v99", client.getKVClient().get(b("snap/39"), GetOption.builder().withRevision(101).build())
            .get(10, TimeUnit.SECONDS).getKvs().get(0).getValue().toString(UTF_8), "history after the compaction");
        var compacted = assertThrows(java.util.concurrent.ExecutionException.class, () -> client.getKVClient()
            .get(b("snap/1"), GetOption.builder().withRevision(50).build()).get(10, TimeUnit.SECONDS));
        assertTrue(compacted.getCause().getMessage().contains("required revision has been compacted"));
        assertTrue(client.getLeaseClient().timeToLive(leaseId, io.etcd.jetcd.options.LeaseOption.DEFAULT)
            .get(10, TimeUnit.SECONDS).getTTL() > 0, "the lease survives");
      }
      try (var files = Files.list(member.dataDir.resolve("member/wal"))) {
        assertTrue(files.findAny().isPresent());
      }
    }
  }
}
