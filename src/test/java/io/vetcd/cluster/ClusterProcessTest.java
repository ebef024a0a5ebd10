package io.vetcd.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.maintenance.StatusResponse;
import io.etcd.jetcd.options.GetOption;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Three vetcd members as separate JVMs on loopback: writes through any member are read on every
 * member; {@code kill -9} of the leader gives a new leader within seconds and loses no acknowledged
 * write; the killed member restarts from its WAL and catches up.
 */
class ClusterProcessTest {
  static final int MEMBERS = 3;
  static Path root;
  static final List<Member> members = new ArrayList<>();

  /** A member process with a client for it. */
  static final class Member extends MemberProcess {
    Client client;

    Member(String name) {
      super(name, root);
    }

    void start(String initialCluster) throws IOException {
      startInCluster("cluster-test", initialCluster);
      if (client == null) {
        client = Client.builder().endpoints(endpoint()).build();
      }
    }

    /** This member's status, or null if it does not answer. */
    StatusResponse status() {
      try {
        return client.getMaintenanceClient().statusMember(endpoint()).get(1, TimeUnit.SECONDS);
      } catch (Exception e) {
        return null;
      }
    }
  }

  @BeforeAll
  static void startCluster() throws Exception {
    root = Files.createTempDirectory("vetcd-cluster");
    StringBuilder initial = new StringBuilder();
    for (int i = 1; i <= MEMBERS; i++) {
      Member m = new Member("m" + i);
      members.add(m);
      initial.append(initial.length() == 0 ? "" : ",").append(m.name).append("=http://127.0.0.1:").append(m.peerPort);
    }
    for (Member m : members) {
      m.start(initial.toString());
    }
  }

  @AfterAll
  static void stopCluster() throws Exception {
    for (Member m : members) {
      if (m.client != null) {
        m.client.close();
      }
      m.kill9();
    }
    try (var files = Files.walk(root)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  static String initialCluster() {
    StringBuilder initial = new StringBuilder();
    for (Member m : members) {
      initial.append(initial.length() == 0 ? "" : ",").append(m.name).append("=http://127.0.0.1:").append(m.peerPort);
    }
    return initial.toString();
  }

  /** Waits until every given member answers and names the same, live leader; returns that leader. */
  static Member awaitLeader(List<Member> among, long timeoutMillis) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    while (System.nanoTime() < deadline) {
      long leader = -1;
      boolean agreed = true;
      for (Member m : among) {
        StatusResponse s = m.status();
        if (s == null || s.getLeader() == 0 || (leader != -1 && leader != s.getLeader())) {
          agreed = false;
          break;
        }
        leader = s.getLeader();
      }
      if (agreed) {
        for (Member m : among) {
          StatusResponse s = m.status();
          if (s != null && s.getHeader().getMemberId() == leader) {
            return m;
          }
        }
      }
      Thread.sleep(100);
    }
    fail("no leader among " + among.stream().map(m -> m.name).toList() + " after " + timeoutMillis + " ms");
    return null;
  }

  static ByteSequence b(String s) {
    return ByteSequence.from(s, UTF_8);
  }

  /** Puts through the given member, retrying on errors (a retried put may land twice: same value). */
  static void put(Member m, String key, String value) throws Exception {
    Exception last = null;
    for (int attempt = 0; attempt < 20; attempt++) {
      try {
        m.client.getKVClient().put(b(key), b(value)).get(10, TimeUnit.SECONDS);
        return;
      } catch (Exception e) {
        last = e;
        Thread.sleep(250);
      }
    }
    throw last;
  }

  static Map<String, String> all(Member m, boolean serializable) throws Exception {
    GetResponse r = m.client.getKVClient().get(b("k/"), GetOption.builder().isPrefix(true)
        .withSerializable(serializable).build()).get(10, TimeUnit.SECONDS);
    Map<String, String> kvs = new LinkedHashMap<>();
    for (KeyValue kv : r.getKvs()) {
      kvs.put(kv.getKey().toString(UTF_8), kv.getValue().toString(UTF_8));
    }
    return kvs;
  }

  @Test
  void writes_survive_killing_the_leader_and_a_restarted_member_catches_up() throws Exception {
    Member leader = awaitLeader(members, 60_000);
    Map<String, String> acknowledged = new LinkedHashMap<>();
    for (int i = 0; i < 30; i++) {
      Member via = members.get(i % MEMBERS);
      put(via, "k/" + i, "v" + i + "@" + via.name);
      acknowledged.put("k/" + i, "v" + i + "@" + via.name);
    }
    for (Member m : members) {
      assertEquals(acknowledged, all(m, false), "linearizable read on " + m.name);
    }

    leader.kill9();
    long killedAt = System.nanoTime();
    List<Member> survivors = members.stream().filter(m -> m != leader).toList();
    Member newLeader = awaitLeader(survivors, 15_000);
    long electionMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
    assertNotEquals(leader, newLeader);
    assertTrue(electionMillis < 10_000, "new leader after " + electionMillis + " ms");

    for (int i = 30; i < 50; i++) {
      Member via = survivors.get(i % survivors.size());
      put(via, "k/" + i, "v" + i + "@" + via.name);
      acknowledged.put("k/" + i, "v" + i + "@" + via.name);
    }
    for (Member m : survivors) {
      assertEquals(acknowledged, all(m, false), "after the leader's death, on " + m.name);
    }

    leader.start(initialCluster());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    Map<String, String> seen = Map.of();
    while (System.nanoTime() < deadline) {
      try {
        seen = all(leader, true);
        if (seen.equals(acknowledged)) {
          break;
        }
      } catch (Exception notYet) {
        // still starting
      }
      Thread.sleep(200);
    }
    assertEquals(acknowledged, seen, "the restarted member caught up");
    put(leader, "k/after-restart", "x");
    assertEquals("x", all(survivors.get(0), false).get("k/after-restart"));
  }
}
