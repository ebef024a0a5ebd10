package io.vetcd.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vetcd.client.VetcdClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backups as an etcd operator takes them: {@code etcdctl snapshot save} from a member, {@code etcdctl
 * snapshot status} on the file, and a new member started from it — vetcd from vetcd's snapshot,
 * real etcd 3.4 from vetcd's snapshot (restored with {@code etcdctl snapshot restore}), and vetcd
 * from real etcd's snapshot. The restored member serves the same keys, values, revisions, versions,
 * leases and compaction revision.
 */
class SnapshotRestoreTest {
  private static final int MANY_KEYS = 300;
  @TempDir
  static Path dir;
  static Member vetcd;
  static Path vetcdSnapshot;
  static String vetcdKeys;
  static long vetcdLease;

  @BeforeAll
  static void backUpAVetcdMember() throws Exception {
    vetcd = Member.start(Member.Kind.VETCD);
    vetcdLease = writeHistory(vetcd);
    vetcdKeys = allKeys(vetcd.etcdctl());
    vetcdSnapshot = dir.resolve("vetcd.db");
    vetcd.etcdctl().run("snapshot", "save", vetcdSnapshot.toString()).assertOk();
  }

  @AfterAll
  static void down() {
    if (vetcd != null) {
      vetcd.close();
    }
  }

  /**
   * Puts, overwrites, a delete, a compaction, a leased key, a value larger than a bbolt page, and
   * enough keys for the key bucket to need branch pages. Returns the lease id.
   */
  static long writeHistory(Member member) {
    Etcdctl ctl = member.etcdctl();
    ctl.run("put", "a", "1").assertOk();
    ctl.run("put", "b", "2").assertOk();
    ctl.run("put", "a", "3").assertOk();
    ctl.run("del", "b").assertOk();
    ctl.run("compact", "4").assertOk();
    long lease;
    try (VetcdClient client = VetcdClient.builder().endpoints(member.clientUrl()).build()) {
      lease = client.lease().grant(600).block().getID();
      client.kv().put("leased", "x", lease).block();
      client.kv().put("big", "v".repeat(20_000)).block();
      for (int i = 0; i < MANY_KEYS; i++) {
        client.kv().put(String.format("many/%04d", i), "value-" + i + "-" + "p".repeat(100)).block();
      }
    }
    ctl.run("put", "a", "5").assertOk();
    return lease;
  }

  /** Every live key with its revisions, version, value and lease, and the store's revision. */
  static String allKeys(Etcdctl ctl) {
    String json = ctl.run("get", "", "--prefix", "-w", "json").assertOk().stdout();
    Object parsed = Json.parse(json);
    return "revision " + Json.at(parsed, "header", "revision") + " " + Json.write(Json.at(parsed, "kvs"));
  }

  static Object status(Etcdctl ctl, Path snapshot) {
    return Json.parse(ctl.run("snapshot", "status", snapshot.toString(), "-w", "json").assertOk().stdout());
  }

  @Test
  void when_etcdctl_saves_a_vetcd_snapshot_then_snapshot_status_reads_it() {
    Object status = status(vetcd.etcdctl(), vetcdSnapshot);
    long revision = Long.parseLong(Json.at(Json.parse(vetcd.etcdctl().run("get", "a", "-w", "json").stdout()),
        "header", "revision").toString());
    assertEquals(revision, ((Json.Num) Json.at(status, "revision")).longValue());
    assertTrue(((Json.Num) Json.at(status, "totalKey")).longValue() > MANY_KEYS);
    assertTrue(((Json.Num) Json.at(status, "totalSize")).longValue() % 4096 == 0);
  }

  @Test
  void a_snapshot_of_a_member_that_never_enabled_auth_has_etcds_auth_bucket() throws Exception {
    // etcd writes authEnabled at the first auth enable or disable only: snapshot status counts it
    Path db = dir.resolve("vetcd-no-sha.db");
    byte[] file = Files.readAllBytes(vetcdSnapshot);
    Files.write(db, java.util.Arrays.copyOf(file, file.length - 32));
    List<String> keys = new ArrayList<>();
    try (io.vetcd.mvcc.bolt.BoltReader reader = io.vetcd.mvcc.bolt.BoltReader.open(db)) {
      reader.forEach("auth".getBytes(StandardCharsets.UTF_8), (k, v) -> keys.add(new String(k, StandardCharsets.UTF_8)));
    }
    assertEquals(List.of("authRevision"), keys);
  }

  @Test
  void when_the_gateway_streams_a_snapshot_then_its_chunks_are_a_bbolt_file_followed_by_its_sha256() throws Exception {
    java.net.http.HttpResponse<java.util.stream.Stream<String>> response = java.net.http.HttpClient.newHttpClient().send(
        java.net.http.HttpRequest.newBuilder(java.net.URI.create(vetcd.clientUrl() + "/v3/maintenance/snapshot"))
            .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{}")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofLines());
    assertEquals(200, response.statusCode());
    List<byte[]> blobs = new ArrayList<>();
    List<Long> remaining = new ArrayList<>();
    response.body().forEach(line -> {
      Object result = Json.at(Json.parse(line), "result");
      blobs.add(java.util.Base64.getDecoder().decode((String) Json.at(result, "blob")));
      Object left = ((java.util.Map<?, ?>) result).get("remaining_bytes");
      remaining.add(left == null ? 0 : Long.parseLong(left.toString()));
    });
    java.io.ByteArrayOutputStream db = new java.io.ByteArrayOutputStream();
    for (byte[] blob : blobs.subList(0, blobs.size() - 1)) {
      db.write(blob);
    }
    assertEquals(0, db.size() % 4096);
    assertEquals(0L, remaining.get(remaining.size() - 1));
    assertEquals(db.size() - blobs.get(0).length, remaining.get(0), "remaining_bytes counts what is still to come");
    assertTrue(java.util.Arrays.equals(java.security.MessageDigest.getInstance("SHA-256").digest(db.toByteArray()),
        blobs.get(blobs.size() - 1)), "the last message is the sha256 of the file");
  }

  @Test
  void when_vetcd_restores_its_own_snapshot_then_the_new_member_serves_the_same_data() throws Exception {
    try (Member restored = restoreIntoVetcd(vetcdSnapshot, "vetcd-from-vetcd")) {
      assertSameData(restored, vetcdKeys, vetcdLease);
    }
  }

  @Test
  void when_etcd_restores_a_vetcd_snapshot_then_etcd_serves_the_same_data() throws Exception {
    assumeTrue(Files.isExecutable(Path.of(Member.ETCD_BIN)), "no etcd binary");
    Path base = Files.createTempDirectory(dir, "etcd-from-vetcd");
    int[] ports = Member.freePorts(2);
    String peer = "http://127.0.0.1:" + ports[1];
    vetcd.etcdctl().run("snapshot", "restore", vetcdSnapshot.toString(), "--data-dir", base.resolve("data").toString(),
        "--name", "n1", "--initial-cluster", "n1=" + peer, "--initial-advertise-peer-urls", peer).assertOk();
    try (Member restored = Member.start(Member.Kind.ETCD, ports[0], ports[1], base)) {
      assertSameData(restored, vetcdKeys, vetcdLease);
    }
  }

  @Test
  void when_vetcd_restores_an_etcd_snapshot_then_vetcd_serves_the_same_data() throws Exception {
    assumeTrue(Files.isExecutable(Path.of(Member.ETCD_BIN)), "no etcd binary");
    Path etcdSnapshot = dir.resolve("etcd.db");
    String etcdKeys;
    long etcdLease;
    try (Member etcd = Member.start(Member.Kind.ETCD)) {
      etcdLease = writeHistory(etcd);
      etcdKeys = allKeys(etcd.etcdctl());
      etcd.etcdctl().run("snapshot", "save", etcdSnapshot.toString()).assertOk();
    }
    try (Member restored = restoreIntoVetcd(etcdSnapshot, "vetcd-from-etcd")) {
      assertSameData(restored, etcdKeys, etcdLease);
    }
  }

  @Test
  void when_the_snapshot_is_damaged_then_restore_refuses_it_and_leaves_no_data_dir() throws Exception {
    Path damaged = dir.resolve("damaged.db");
    byte[] bytes = Files.readAllBytes(vetcdSnapshot);
    bytes[bytes.length / 2] ^= 1;
    Files.write(damaged, bytes);
    Path dataDir = dir.resolve("never");
    Process p = restoreProcess(damaged, dataDir, "http://127.0.0.1:1");
    assertEquals(1, p.exitValue());
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(err.contains("Error: expected sha256"), err);
    assertTrue(!Files.exists(dataDir));
  }

  static void assertSameData(Member restored, String expectedKeys, long lease) {
    Etcdctl ctl = restored.etcdctl();
    assertEquals(expectedKeys, allKeys(ctl));
    Etcdctl.Result compacted = ctl.run("get", "a", "--rev=3");
    assertEquals(List.of("Error: etcdserver: mvcc: required revision has been compacted"), compacted.errorLines());
    assertEquals("a\n3\n", ctl.run("get", "a", "--rev=4").assertOk().stdout(), "the compaction revision stays readable");
    String ttl = ctl.run("lease", "timetolive", Long.toHexString(lease), "--keys").assertOk().stdout();
    assertTrue(ttl.contains("granted with TTL(600s)") && ttl.contains("attached keys([leased])"), ttl);
    long revision = Long.parseLong(expectedKeys.split(" ")[1]);
    ctl.run("put", "after", "restore").assertOk();
    String after = ctl.run("get", "after", "-w", "json").assertOk().stdout();
    assertEquals(revision + 1, Long.parseLong(Json.at(Json.parse(after), "header", "revision").toString()));
  }

  static Member restoreIntoVetcd(Path snapshot, String name) throws Exception {
    Path base = Files.createTempDirectory(dir, name);
    int[] ports = Member.freePorts(2);
    String peer = "http://127.0.0.1:" + ports[1];
    Process p = restoreProcess(snapshot, base.resolve("data"), peer);
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), out + err);
    assertTrue(out.contains("restored snapshot"), out);
    return Member.start(Member.Kind.VETCD, ports[0], ports[1], base);
  }

  /** {@code vetcd snapshot restore}, as scripts/vetcd runs it, in its own JVM. */
  static Process restoreProcess(Path snapshot, Path dataDir, String peerUrl) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-cp", System.getProperty("java.class.path"), "io.vetcd.Vetcd",
        "snapshot", "restore", snapshot.toString(), "--data-dir", dataDir.toString(), "--name", "n1",
        "--initial-cluster", "n1=" + peerUrl, "--initial-advertise-peer-urls", peerUrl));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().keySet().removeIf(k -> k.startsWith("ETCD"));
    Process p = pb.start();
    assertTrue(p.waitFor(Duration.ofSeconds(60).toSeconds(), TimeUnit.SECONDS), "restore did not finish");
    return p;
  }
}
