package io.vetcd.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.vetcd.auth.AuthStore;
import io.vetcd.mvcc.MvccStore;
import io.vetcd.mvcc.bolt.BoltReader;
import io.vetcd.pb.DeleteRangeRequest;
import io.vetcd.pb.Member;
import io.vetcd.pb.PutRequest;
import io.vetcd.pb.RangeRequest;
import io.vetcd.pb.RangeResponse;
import io.vetcd.pb.Role;
import io.vetcd.pb.User;
import io.vetcd.wal.Wal;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A store backed up in etcd's format and restored into a new member's data dir, in process. */
class EtcdBackupTest {
  @TempDir
  Path dir;

  static ByteString b(String s) {
    return ByteString.copyFromUtf8(s);
  }

  static RangeResponse all(MvccStore store, long revision) {
    ByteString zero = ByteString.copyFrom(new byte[] {0});
    return store.range(RangeRequest.newBuilder().setKey(zero).setRangeEnd(zero).setRevision(revision).build()).build();
  }

  ServerConfig config(String dataDir) throws Exception {
    return ServerConfig.parse(new String[] {"--name", "n1", "--data-dir", dir.resolve(dataDir).toString(),
        "--initial-cluster", "n1=http://127.0.0.1:12380,n2=http://127.0.0.1:22380",
        "--initial-advertise-peer-urls", "http://127.0.0.1:12380", "--initial-cluster-token", "t"}, Map.of());
  }

  @Test
  void when_a_store_is_backed_up_and_restored_then_data_leases_auth_and_compaction_travel() throws Exception {
    Path backup = dir.resolve("backup.db");
    RangeResponse before;
    RangeResponse beforeAtCompaction;
    long revision;
    try (MvccStore store = MvccStore.open(dir.resolve("source").resolve("db"))) {
      // enough revisions for every byte of a revision key to pass 0x80 (unsigned order matters)
      for (int i = 0; i < 700; i++) {
        store.put(PutRequest.newBuilder().setKey(b("k" + (i % 50))).setValue(b("v" + i)).build());
      }
      store.deleteRange(DeleteRangeRequest.newBuilder().setKey(b("k7")).build());
      store.compact(400);
      store.put(PutRequest.newBuilder().setKey(b("leased")).setValue(b("x")).setLease(0x2d9d000000000007L).build());
      store.put(PutRequest.newBuilder().setKey(b("big")).setValue(ByteString.copyFrom(new byte[50_000])).build());
      store.leaseTable().put(0x2d9d000000000007L, 600L);
      store.authTable().put(AuthStore.ENABLED_KEY, new byte[] {1});
      store.authTable().put(AuthStore.REVISION_KEY, ByteBuffer.allocate(8).putLong(9).array());
      store.authTable().put(AuthStore.USER_PREFIX + "root",
          User.newBuilder().setName(b("root")).setPassword(b("$2a$10$hash")).addRoles("root").build().toByteArray());
      store.authTable().put(AuthStore.ROLE_PREFIX + "r1", Role.newBuilder().setName(b("r1")).build().toByteArray());
      new MemberTable(store.clusterTable()).seed(42, List.of(Member.newBuilder().setID(0x0123456789abcdefL)
          .setName("old").addPeerURLs("http://old:2380").build()), List.of(7L));
      store.setConsistentIndex(1234);
      store.commit();
      before = all(store, 0);
      beforeAtCompaction = all(store, 400);
      revision = store.currentRevision();
      EtcdBackup.Written written = EtcdBackup.write(store, backup);
      assertEquals(Files.size(backup), written.sizeBytes());
    }
    List<String> buckets = new ArrayList<>();
    try (BoltReader reader = BoltReader.open(backup)) {
      for (byte[] name : reader.bucketNames()) {
        buckets.add(new String(name, StandardCharsets.US_ASCII));
      }
      List<String> members = new ArrayList<>();
      reader.forEach("members".getBytes(StandardCharsets.US_ASCII), (k, v) -> members.add(new String(v, StandardCharsets.UTF_8)));
      assertEquals(List.of("{\"id\":81985529216486895,\"peerURLs\":[\"http://old:2380\"],\"name\":\"old\"}"), members);
    }
    assertEquals(List.of("alarm", "auth", "authRoles", "authUsers", "cluster", "key", "lease", "members",
        "members_removed", "meta"), buckets);

    // restore checks the sha256 trailer of a file received from a member: append it as etcdctl receives it
    Path received = dir.resolve("received.db");
    Files.copy(backup, received);
    Files.write(received, io.vetcd.mvcc.bolt.Sha256Trailer.digest(backup, Files.size(backup)),
        java.nio.file.StandardOpenOption.APPEND);
    ServerConfig config = config("restored");
    EtcdBackup.Restored restored = EtcdBackup.restore(received, false, config);
    assertEquals(revision, restored.revision());
    assertEquals(400, restored.compactRevision());

    try (MvccStore store = MvccStore.open(config.dataDir().resolve("member").resolve("snap").resolve("db"))) {
      assertEquals(before, all(store, 0));
      assertEquals(beforeAtCompaction, all(store, 400));
      assertEquals(revision, store.currentRevision());
      assertEquals(400, store.compactRevision());
      assertEquals(2, store.consistentIndex(), "as etcd: one raft index per member of the new cluster");
      assertEquals(Map.of(0x2d9d000000000007L, 600L), Map.copyOf(store.leaseTable()));
      assertArrayEquals(new byte[] {1}, store.authTable().get(AuthStore.ENABLED_KEY));
      assertEquals("root", User.parseFrom(store.authTable().get(AuthStore.USER_PREFIX + "root")).getName().toStringUtf8());
      assertTrue(store.authTable().containsKey(AuthStore.ROLE_PREFIX + "r1"));
      MemberTable members = new MemberTable(store.clusterTable());
      assertEquals(List.of("n1", "n2"), members.members().stream().map(Member::getName).sorted().toList());
      assertTrue(members.removed().isEmpty(), "the old cluster's membership is not carried over");
      assertEquals(restored.clusterId(), members.clusterId());
      assertEquals(1, members.appliedTerm());
    }
    try (Wal wal = Wal.open(config.walDir())) {
      assertEquals(2, wal.recovered().snapshot().index());
      assertEquals(1, wal.recovered().snapshot().term());
    }
    assertTrue(Files.exists(config.dataDir().resolve("member").resolve("snap").resolve(String.format("%016x.snapdb", 2))),
        "a snapshot file at the WAL's first index, to rebuild a store damaged by a crash");
    String identity = Files.readString(config.dataDir().resolve("member").resolve("identity")).trim();
    assertEquals(String.format("%016x %016x", restored.memberId(), restored.clusterId()), identity);

    IOException exists = assertThrows(IOException.class, () -> EtcdBackup.restore(received, false, config));
    assertTrue(exists.getMessage().contains("exists"), exists.getMessage());
    IOException noHash = assertThrows(IOException.class, () -> EtcdBackup.restore(backup, false, config("other")));
    assertEquals("snapshot missing hash but --skip-hash-check=false", noHash.getMessage());
    EtcdBackup.restore(backup, true, config("other"));
  }

  @Test
  void when_a_lease_record_has_etcds_fields_then_id_and_ttl_are_read() throws IOException {
    byte[] record = EtcdBackup.leaseRecord(0x390da21414321309L, 600);
    // etcd 3.4 wrote exactly these bytes for lease 390da21414321309 with TTL 600
    assertArrayEquals(new byte[] {0x08, (byte) 0x89, (byte) 0xa6, (byte) 0xc8, (byte) 0xa1, (byte) 0xc1, (byte) 0xc2,
        (byte) 0xe8, (byte) 0x86, 0x39, 0x10, (byte) 0xd8, 0x04}, record);
    assertArrayEquals(new long[] {0x390da21414321309L, 600}, EtcdBackup.parseLease(record));
  }
}
