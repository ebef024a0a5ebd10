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

/** A damaged MapDB store is rebuilt from the WAL while the WAL holds the whole log: nothing is lost. */
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
      try (var files = Files.list(member.dataDir.resolve("member/snap"))) {
        assertTrue(files.anyMatch(f -> f.getFileName().toString().startsWith("db.damaged-")),
            "the damaged store is kept aside, not deleted");
      }
    }
  }
}
