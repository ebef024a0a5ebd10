package io.vetcd.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.cluster.Member;
import io.etcd.jetcd.maintenance.StatusResponse;
import io.etcd.jetcd.options.GetOption;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Three members as separate JVMs with {@code --snapshot-count 50} and small WAL segments: a member
 * that was down while 300 keys were written catches up through a streamed store snapshot, and the
 * WAL stays bounded; then membership as etcd's procedure does it: add a learner, start it with
 * {@code --initial-cluster-state existing}, promote it, remove the leader; writes go on and every
 * member agrees.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SnapshotMembershipProcessTest {
  static final long WAL_SEGMENT_BYTES = 16 * 1024;
  static Path root;
  static final List<Node> nodes = new ArrayList<>();
  static final Map<String, String> written = new LinkedHashMap<>();

  /** A member process with small WAL segments and a client for it. */
  static final class Node extends MemberProcess {
    Client client;

    Node(String name) {
      super(name, root, "-Dvetcd.wal.segmentBytes=" + WAL_SEGMENT_BYTES);
    }

    void start(String initialCluster, String state) throws IOException {
      startInCluster("snap-test", initialCluster, "--initial-cluster-state", state, "--snapshot-count", "50");
      if (client == null) {
        client = Client.builder().endpoints(endpoint()).build();
      }
    }

    StatusResponse status() {
      try {
        return client.getMaintenanceClient().statusMember(endpoint()).get(1, TimeUnit.SECONDS);
      } catch (Exception e) {
        return null;
      }
    }

    long id() {
      StatusResponse s = status();
      return s == null ? 0 : s.getHeader().getMemberId();
    }
  }

  @BeforeAll
  static void startCluster() throws Exception {
    root = Files.createTempDirectory("vetcd-snap");
    for (int i = 1; i <= 3; i++) {
      nodes.add(new Node("s" + i));
    }
    String initial = initialCluster(nodes);
    for (Node n : nodes) {
      n.start(initial, "new");
    }
  }

  @AfterAll
  static void stopCluster() throws Exception {
    for (Node n : nodes) {
      if (n.client != null) {
        n.client.close();
      }
      n.kill9();
    }
    try (var files = Files.walk(root)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  static String initialCluster(List<Node> among) {
    StringBuilder initial = new StringBuilder();
    for (Node n : among) {
      initial.append(initial.length() == 0 ? "" : ",").append(n.name).append("=").append(n.peerUrl());
    }
    return initial.toString();
  }

  static Node awaitLeader(List<Node> among, long timeoutMillis) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    while (System.nanoTime() < deadline) {
      long leader = -1;
      boolean agreed = true;
      for (Node n : among) {
        StatusResponse s = n.status();
        if (s == null || s.getLeader() == 0 || (leader != -1 && leader != s.getLeader())) {
          agreed = false;
          break;
        }
        leader = s.getLeader();
      }
      if (agreed) {
        for (Node n : among) {
          StatusResponse s = n.status();
          if (s != null && s.getHeader().getMemberId() == leader) {
            return n;
          }
        }
      }
      Thread.sleep(100);
    }
    fail("no leader among " + among.stream().map(n -> n.name).toList());
    return null;
  }

  static ByteSequence b(String s) {
    return ByteSequence.from(s, UTF_8);
  }

  static void put(Node n, String key, String value) throws Exception {
    Exception last = null;
    for (int attempt = 0; attempt < 20; attempt++) {
      try {
        n.client.getKVClient().put(b(key), b(value)).get(10, TimeUnit.SECONDS);
        written.put(key, value);
        return;
      } catch (Exception e) {
        last = e;
        Thread.sleep(250);
      }
    }
    throw last;
  }

  static Map<String, String> all(Node n) throws Exception {
    var r = n.client.getKVClient().get(b("k/"), GetOption.builder().isPrefix(true).withSerializable(true).build())
        .get(10, TimeUnit.SECONDS);
    Map<String, String> kvs = new LinkedHashMap<>();
    for (KeyValue kv : r.getKvs()) {
      kvs.put(kv.getKey().toString(UTF_8), kv.getValue().toString(UTF_8));
    }
    return kvs;
  }

  /** Waits until the member's local (serializable) view holds exactly what was written. */
  static void awaitCaughtUp(Node n, long timeoutMillis) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    Map<String, String> seen = Map.of();
    while (System.nanoTime() < deadline) {
      try {
        seen = all(n);
        if (seen.equals(written)) {
          return;
        }
      } catch (Exception notYet) {
        // still starting
      }
      Thread.sleep(200);
    }
    assertEquals(written, seen, n.name + " caught up");
  }

  static long walBytes(Node n) throws IOException {
    try (var files = Files.list(n.dataDir.resolve("member").resolve("wal"))) {
      return files.filter(p -> p.toString().endsWith(".wal")).mapToLong(p -> p.toFile().length()).sum();
    }
  }

  static long walSegments(Node n) throws IOException {
    try (var files = Files.list(n.dataDir.resolve("member").resolve("wal"))) {
      return files.filter(p -> p.toString().endsWith(".wal")).count();
    }
  }

  @Test
  @Order(1)
  void a_member_down_during_300_writes_catches_up_by_snapshot_and_the_wal_stays_bounded() throws Exception {
    awaitLeader(nodes, 60_000);
    Node down = nodes.get(2);
    down.kill9();
    List<Node> up = nodes.subList(0, 2);
    awaitLeader(up, 15_000);
    for (int i = 0; i < 300; i++) {
      put(up.get(i % 2), "k/" + i, "v" + i);
    }
    for (Node n : up) {
      // 300 entries of ~100 bytes would fill a couple of segments; compaction releases all but the last ones
      assertTrue(walSegments(n) <= 4, n.name + " has " + walSegments(n) + " WAL segments");
      assertTrue(walBytes(n) <= 4 * WAL_SEGMENT_BYTES + 8192, n.name + " WAL bytes " + walBytes(n));
    }
    down.start(initialCluster(nodes), "new");
    awaitCaughtUp(down, 60_000);
    assertTrue(Files.readString(down.log).contains("installed the snapshot"), "caught up through a snapshot");
    // and it keeps working after a restart from its snapshot marker and WAL tail
    put(down, "k/after-snapshot", "x");
    down.kill9();
    down.start(initialCluster(nodes), "new");
    awaitCaughtUp(down, 60_000);
  }

  @Test
  @Order(2)
  void a_learner_joins_is_promoted_and_the_leader_is_removed() throws Exception {
    Node leader = awaitLeader(nodes, 30_000);
    Node joining = new Node("s4");
    // --strict-reconfig-check: refused ("unhealthy cluster") until every voter has been connected to the
    // leader for etcd's health interval (5 s), as etcd does; a member restarted just before may not have been
    io.etcd.jetcd.cluster.MemberAddResponse added = null;
    for (long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30); added == null; Thread.sleep(500)) {
      try {
        added = nodes.get(0).client.getClusterClient()
            .addMember(List.of(URI.create(joining.peerUrl())), true).get(10, TimeUnit.SECONDS);
      } catch (java.util.concurrent.ExecutionException e) {
        if (!String.valueOf(e.getMessage()).contains("unhealthy cluster") || System.nanoTime() > until) {
          throw e;
        }
      }
    }
    long newId = added.getMember().getId();
    assertTrue(added.getMember().isLearner());
    assertEquals(4, added.getMembers().size());
    List<Node> withJoining = new ArrayList<>(nodes);
    withJoining.add(joining);
    nodes.add(joining);
    joining.start(initialCluster(withJoining), "existing");
    awaitCaughtUp(joining, 60_000);
    assertEquals(newId, joining.id());

    // promote: refused while it is behind, accepted once it is in sync
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try {
        nodes.get(1).client.getClusterClient().promoteMember(newId).get(10, TimeUnit.SECONDS);
        break;
      } catch (Exception e) {
        assertTrue(String.valueOf(e.getMessage()).contains("in sync with leader"), e.toString());
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(300);
      }
    }
    List<Member> members = nodes.get(0).client.getClusterClient().listMember().get(10, TimeUnit.SECONDS).getMembers();
    assertEquals(4, members.size());
    assertTrue(members.stream().noneMatch(Member::isLearner));

    // remove the leader, through another member: it stops, the others elect a new leader
    Node via = nodes.stream().filter(n -> n != leader).findFirst().orElseThrow();
    long removedId = leader.id();
    via.client.getClusterClient().removeMember(removedId).get(15, TimeUnit.SECONDS);
    assertTrue(leader.waitFor(20, TimeUnit.SECONDS), "the removed member stops");
    leader.client.close();
    leader.client = null;
    nodes.remove(leader);
    awaitLeader(nodes, 15_000);
    for (int i = 0; i < 20; i++) {
      put(nodes.get(i % nodes.size()), "k/after-remove-" + i, "r" + i);
    }
    for (Node n : nodes) {
      awaitCaughtUp(n, 30_000);
      List<Member> seen = n.client.getClusterClient().listMember().get(10, TimeUnit.SECONDS).getMembers();
      assertEquals(3, seen.size(), "members seen by " + n.name);
      assertFalse(seen.stream().anyMatch(m -> m.getId() == removedId));
    }
  }
}
