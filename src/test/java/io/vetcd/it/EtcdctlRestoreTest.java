package io.vetcd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vetcd.Vetcd;
import io.vetcd.server.ServerConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The restore procedure of etcd's docs, as an operator runs it: {@code etcdctl snapshot save}, then
 * {@code etcdctl snapshot restore} into a new data dir, then a member started on that dir with the same
 * flags. vetcd imports etcd's restored files at start (the original dir is kept beside it).
 */
@org.junit.jupiter.api.Timeout(120)
class EtcdctlRestoreTest {
  private static String etcdctl(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("etcdctl"));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().put("ETCDCTL_API", "3");
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "etcdctl " + args[0] + " did not finish");
    assertEquals(0, p.exitValue(), "etcdctl " + String.join(" ", args) + ": " + out);
    return out;
  }

  @Test
  void a_member_starts_on_a_dir_written_by_etcdctl_snapshot_restore() throws Exception {
    Path work = Files.createTempDirectory("vetcd-restore");
    Path snapshot = work.resolve("snap.db");
    try (InProcessMember source = new InProcessMember()) {
      String ep = "--endpoints=" + source.endpoint();
      etcdctl(ep, "put", "restore/a", "1");
      etcdctl(ep, "put", "restore/b", "2");
      etcdctl(ep, "put", "restore/a", "3");
      etcdctl(ep, "snapshot", "save", snapshot.toString());
    }
    int peerPort = InProcessMember.freePort();
    int clientPort = InProcessMember.freePort();
    String peer = "http://127.0.0.1:" + peerPort;
    String client = "http://127.0.0.1:" + clientPort;
    Path dataDir = work.resolve("restored");
    etcdctl("snapshot", "restore", snapshot.toString(), "--name", "r1", "--initial-cluster", "r1=" + peer,
        "--initial-advertise-peer-urls", peer, "--data-dir", dataDir.toString());

    Vetcd member = Vetcd.start(ServerConfig.parse(new String[] {"--name", "r1", "--data-dir", dataDir.toString(),
        "--listen-client-urls", client, "--advertise-client-urls", client, "--listen-peer-urls", peer,
        "--initial-advertise-peer-urls", peer, "--initial-cluster", "r1=" + peer}, Map.of()));
    try {
      String ep = "--endpoints=" + client;
      assertEquals("restore/a\n3\nrestore/b\n2\n", etcdctl(ep, "get", "restore/", "--prefix"));
      assertTrue(etcdctl(ep, "member", "list").contains(", started, r1, " + peer + ", " + client + ", false"));
      etcdctl(ep, "put", "restore/c", "4"); // and it takes writes
      try (var siblings = Files.list(work)) {
        assertTrue(siblings.anyMatch(p -> p.getFileName().toString().startsWith("restored.etcd-")),
            "etcd's files are kept beside the data dir");
      }
    } finally {
      member.close();
      try (var files = Files.walk(work)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
