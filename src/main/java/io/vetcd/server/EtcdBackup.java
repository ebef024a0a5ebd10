package io.vetcd.server;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import io.vertx.core.json.Json;
import io.vetcd.auth.AuthStore;
import io.vetcd.mvcc.MvccStore;
import io.vetcd.mvcc.bolt.BoltReader;
import io.vetcd.mvcc.bolt.BoltWriter;
import io.vetcd.mvcc.bolt.Sha256Trailer;
import io.vetcd.pb.AlarmMember;
import io.vetcd.pb.AlarmType;
import io.vetcd.pb.Member;
import io.vetcd.wal.Wal;
import io.vetcd.wal.WalSnapshotMarker;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A member's store as etcd 3.4's backend file (a bbolt database with etcd's buckets), and back:
 * what {@code Maintenance.Snapshot} streams and {@code etcdctl snapshot save} keeps, and what
 * {@code vetcd snapshot restore} starts a member from — a file saved from vetcd or from real etcd.
 *
 * <p>etcd's buckets: {@code key} (revision → mvccpb.KeyValue, the layout vetcd's revision tree already
 * has), {@code meta} ({@code consistent_index}, {@code scheduledCompactRev}/{@code finishedCompactRev}),
 * {@code lease} (8-byte big-endian id → leasepb.Lease), {@code auth}, {@code authUsers},
 * {@code authRoles} (authpb records, as vetcd keeps them), {@code members} and {@code members_removed}
 * (etcd's member JSON), {@code cluster} ({@code clusterVersion}) and {@code alarm} (AlarmMember keys).
 */
public final class EtcdBackup {
  static final String CLUSTER_VERSION = "3.4.0";
  private static final byte[] KEY = ascii("key");
  private static final byte[] META = ascii("meta");
  private static final byte[] LEASE = ascii("lease");
  private static final byte[] AUTH = ascii("auth");
  private static final byte[] AUTH_USERS = ascii("authUsers");
  private static final byte[] AUTH_ROLES = ascii("authRoles");
  private static final byte[] CONSISTENT_INDEX = ascii("consistent_index");
  private static final byte[] SCHEDULED_COMPACT_REV = ascii("scheduledCompactRev");
  private static final byte[] FINISHED_COMPACT_REV = ascii("finishedCompactRev");
  private static final byte[] AUTH_ENABLED = ascii("authEnabled");
  private static final byte[] AUTH_REVISION = ascii("authRevision");
  /** Restored members get the first raft indexes, as etcd's restore gives them (one conf change each). */
  private static final long RESTORED_TERM = 1;

  /** The database file written, with the digest that follows it on the wire. */
  public record Written(long sizeBytes, byte[] sha256) {}

  /** What a restore found in the snapshot. */
  public record Restored(long revision, long compactRevision, long revisions, int leases, long memberId,
      long clusterId) {}

  private EtcdBackup() {}

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  private static TreeMap<byte[], byte[]> sorted() {
    return new TreeMap<>(Arrays::compareUnsigned);
  }

  // ---------------------------------------------------------------- backup

  /**
   * Writes the store as an etcd backend file. Blocking: call on a worker thread, while no write
   * runs on the store (reads may).
   */
  public static Written write(MvccStore store, Path file) throws IOException {
    long size;
    try (BoltWriter out = BoltWriter.create(file)) {
      out.bucket(ascii("alarm"));
      TreeMap<byte[], byte[]> alarms = sorted();
      for (Map.Entry<Long, Integer> e : store.alarmTable().entrySet()) {
        for (AlarmType type : AlarmType.values()) {
          if (type != AlarmType.UNRECOGNIZED && type != AlarmType.NONE && (e.getValue() & (1 << type.getNumber())) != 0) {
            alarms.put(AlarmMember.newBuilder().setMemberID(e.getKey()).setAlarm(type).build().toByteArray(), new byte[0]);
          }
        }
      }
      putAll(out, alarms);

      Map<String, byte[]> authTable = store.authTable();
      out.bucket(AUTH);
      byte[] enabled = authTable.get(AuthStore.ENABLED_KEY);
      if (enabled != null) { // as etcd: written by the first auth enable (or disable), absent before
        out.put(AUTH_ENABLED, enabled);
      }
      byte[] authRevision = authTable.get(AuthStore.REVISION_KEY);
      out.put(AUTH_REVISION, authRevision == null ? ByteBuffer.allocate(8).putLong(1).array() : authRevision);
      out.bucket(AUTH_ROLES);
      putAll(out, withPrefix(authTable, AuthStore.ROLE_PREFIX));
      out.bucket(AUTH_USERS);
      putAll(out, withPrefix(authTable, AuthStore.USER_PREFIX));

      out.bucket(ascii("cluster"));
      out.put(ascii("clusterVersion"), ascii(CLUSTER_VERSION));

      out.bucket(KEY);
      try {
        store.forEachRevision((k, v) -> {
          try {
            out.put(k, v);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
      } catch (UncheckedIOException e) {
        throw e.getCause();
      }

      out.bucket(LEASE);
      TreeMap<byte[], byte[]> leases = sorted();
      for (Map.Entry<Long, Long> e : store.leaseTable().entrySet()) {
        leases.put(ByteBuffer.allocate(8).putLong(e.getKey()).array(), leaseRecord(e.getKey(), e.getValue()));
      }
      putAll(out, leases);

      MemberTable members = new MemberTable(store.clusterTable());
      out.bucket(ascii("members"));
      TreeMap<byte[], byte[]> memberRecords = sorted();
      for (Member m : members.members()) {
        memberRecords.put(ascii(Long.toHexString(m.getID())), memberJson(m));
      }
      putAll(out, memberRecords);
      out.bucket(ascii("members_removed"));
      TreeMap<byte[], byte[]> removed = sorted();
      for (long id : members.removed()) {
        removed.put(ascii(Long.toHexString(id)), ascii("removed"));
      }
      putAll(out, removed);

      out.bucket(META);
      out.put(CONSISTENT_INDEX, ByteBuffer.allocate(8).putLong(store.consistentIndex()).array());
      long compacted = store.compactRevision();
      if (compacted > 0) {
        out.put(FINISHED_COMPACT_REV, revisionKey(compacted));
        out.put(SCHEDULED_COMPACT_REV, revisionKey(compacted));
      }
      size = out.finish();
    }
    return new Written(size, Sha256Trailer.digest(file, size));
  }

  private static void putAll(BoltWriter out, TreeMap<byte[], byte[]> entries) throws IOException {
    for (Map.Entry<byte[], byte[]> e : entries.entrySet()) {
      out.put(e.getKey(), e.getValue());
    }
  }

  private static TreeMap<byte[], byte[]> withPrefix(Map<String, byte[]> table, String prefix) {
    TreeMap<byte[], byte[]> out = sorted();
    for (Map.Entry<String, byte[]> e : table.entrySet()) {
      if (e.getKey().startsWith(prefix)) {
        out.put(e.getKey().substring(prefix.length()).getBytes(StandardCharsets.UTF_8), e.getValue());
      }
    }
    return out;
  }

  /** etcd's revision key of a compaction: main revision, '_', sub revision 0. */
  private static byte[] revisionKey(long main) {
    return ByteBuffer.allocate(17).putLong(main).put((byte) '_').putLong(0).array();
  }

  /** leasepb.Lease {ID = 1, TTL = 2}. */
  static byte[] leaseRecord(long id, long ttlSeconds) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(24);
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    out.writeInt64(1, id);
    out.writeInt64(2, ttlSeconds);
    out.flush();
    return bytes.toByteArray();
  }

  /** etcd's member record: {"id":…,"peerURLs":[…],"isLearner":true?,"name":…,"clientURLs":[…]}. */
  static byte[] memberJson(Member m) {
    StringBuilder json = new StringBuilder("{\"id\":").append(Long.toUnsignedString(m.getID()))
        .append(",\"peerURLs\":").append(Json.encode(m.getPeerURLsList()));
    if (m.getIsLearner()) {
      json.append(",\"isLearner\":true");
    }
    if (!m.getName().isEmpty()) {
      json.append(",\"name\":").append(Json.encode(m.getName()));
    }
    if (m.getClientURLsCount() > 0) {
      json.append(",\"clientURLs\":").append(Json.encode(m.getClientURLsList()));
    }
    return json.append('}').toString().getBytes(StandardCharsets.UTF_8);
  }

  // ---------------------------------------------------------------- restore

  /**
   * Creates a new member's data directory from a backup, as {@code etcdctl snapshot restore} does:
   * the data, leases, compaction and auth of the snapshot, and a new cluster made of the
   * {@code --initial-cluster} members (the snapshot's membership and alarms are dropped). Every
   * member of the new cluster is restored from the same file with the same cluster flags.
   */
  public static Restored restore(Path snapshot, boolean skipHashCheck, ServerConfig config) throws Exception {
    long fileSize = Files.size(snapshot);
    if (Sha256Trailer.present(fileSize)) {
      if (!skipHashCheck) {
        Sha256Trailer.verify(snapshot);
      }
    } else if (!skipHashCheck) {
      throw new IOException("snapshot missing hash but --skip-hash-check=false");
    }
    Path dataDir = config.dataDir();
    if (Files.exists(dataDir)) {
      throw new IOException("data-dir \"" + dataDir + "\" exists");
    }
    if (Files.exists(config.walDir())) {
      throw new IOException("wal-dir \"" + config.walDir() + "\" exists");
    }
    Membership cluster = Membership.fromInitialCluster(config.initialCluster(), config.clusterToken(), config.name(),
        config.advertiseClientUrls());
    if (cluster.localMemberId() == 0) {
      throw new IOException("couldn't find local name \"" + config.name() + "\" in the initial cluster configuration");
    }
    List<String> advertised = config.initialAdvertisePeerUrls().stream().sorted().toList();
    List<String> listed = config.initialCluster().get(config.name()).stream().sorted().toList();
    if (!advertised.equals(listed)) {
      // as etcd: the member's id derives from its peer URLs, so both flags must name the same ones
      throw new IOException("--initial-cluster has " + config.name() + "=" + String.join(",", listed)
          + " but missing from --initial-advertise-peer-urls=" + String.join(",", advertised));
    }
    try {
      Restored restored = load(snapshot, config, cluster);
      long index = cluster.members().size();
      try (Wal wal = Wal.open(config.walDir())) {
        wal.saveSnapshotMarker(new WalSnapshotMarker(index, RESTORED_TERM));
        wal.sync();
      }
      Bootstrap.saveIdentity(dataDir, cluster.localMemberId(), cluster.clusterId());
      return restored;
    } catch (Exception e) {
      deleteTree(config.walDir());
      deleteTree(dataDir);
      throw e;
    }
  }

  private static Restored load(Path snapshot, ServerConfig config, Membership cluster) throws IOException {
    Path dbFile = config.dataDir().resolve("member").resolve("snap").resolve("db");
    try (BoltReader in = BoltReader.open(snapshot); MvccStore store = MvccStore.open(dbFile)) {
      long[] revisions = {0};
      in.forEach(KEY, (k, v) -> {
        store.loadRevision(k, v);
        revisions[0]++;
      });
      long[] compaction = {-1, -1}; // finished, scheduled
      in.forEach(META, (k, v) -> {
        if (Arrays.equals(k, FINISHED_COMPACT_REV)) {
          compaction[0] = ByteBuffer.wrap(v).getLong();
        } else if (Arrays.equals(k, SCHEDULED_COMPACT_REV)) {
          compaction[1] = ByteBuffer.wrap(v).getLong();
        }
      });
      Map<Long, Long> leases = store.leaseTable();
      in.forEach(LEASE, (k, v) -> {
        long[] idAndTtl = parseLease(v);
        leases.put(idAndTtl[0], idAndTtl[1]);
      });
      Map<String, byte[]> auth = store.authTable();
      in.forEach(AUTH, (k, v) -> {
        if (Arrays.equals(k, AUTH_ENABLED)) {
          auth.put(AuthStore.ENABLED_KEY, v);
        } else if (Arrays.equals(k, AUTH_REVISION)) {
          auth.put(AuthStore.REVISION_KEY, v);
        }
      });
      in.forEach(AUTH_USERS, (k, v) -> auth.put(AuthStore.USER_PREFIX + new String(k, StandardCharsets.UTF_8), v));
      in.forEach(AUTH_ROLES, (k, v) -> auth.put(AuthStore.ROLE_PREFIX + new String(k, StandardCharsets.UTF_8), v));
      MemberTable members = new MemberTable(store.clusterTable());
      members.seed(cluster.clusterId(), cluster.members(), List.of());
      members.setAppliedTerm(RESTORED_TERM);
      store.finishLoad(compaction[0], cluster.members().size());
      if (compaction[1] > compaction[0] && compaction[1] <= store.currentRevision()) {
        // etcd finishes a compaction that was scheduled but not done when it starts on such a file
        store.compact(compaction[1]);
        store.commit();
      }
      // The member's own snapshot at the WAL's first index: a store found damaged after a crash is
      // rebuilt from it (and the WAL), before the member has written a snapshot of its own.
      new Snapshots(dbFile.getParent()).write(store, cluster.members().size(), RESTORED_TERM, members.voters(),
          members.learners());
      return new Restored(store.currentRevision(), store.compactRevision(), revisions[0], leases.size(),
          cluster.localMemberId(), cluster.clusterId());
    }
  }

  /** leasepb.Lease's ID (field 1) and TTL (field 2); other fields are skipped. */
  static long[] parseLease(byte[] record) throws IOException {
    CodedInputStream in = CodedInputStream.newInstance(record);
    long id = 0;
    long ttl = 0;
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      switch (tag >>> 3) {
        case 1 -> id = in.readInt64();
        case 2 -> ttl = in.readInt64();
        default -> in.skipField(tag);
      }
    }
    return new long[] {id, ttl};
  }

  private static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (var files = Files.walk(dir)) {
      for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException ignored) {
      // best effort: the restore failed anyway and says why
    }
  }
}
