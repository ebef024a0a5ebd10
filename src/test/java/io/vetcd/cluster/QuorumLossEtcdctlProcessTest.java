package io.vetcd.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vetcd.e2e.Etcdctl;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What etcdctl prints on the one member left of three, as it prints against etcd 3.4.23 in the same
 * spot: a write waits for a leader until the deadline and fails with the context's error (no gRPC
 * code), a keep-alive waits as long and fails with "no leader", a linearizable read fails at
 * etcdctl's deadline, a serializable read still answers, and the members that come back do not apply
 * the writes that failed.
 */
class QuorumLossEtcdctlProcessTest {
  final Map<String, MemberProcess> nodes = new LinkedHashMap<>();
  Path root;

  @AfterEach
  void stop() throws Exception {
    for (MemberProcess n : nodes.values()) {
      if (n.isAlive()) {
        n.kill9();
      }
    }
    if (root != null) {
      try (var files = Files.walk(root)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  @Test
  void the_last_member_of_three_waits_for_a_leader_and_fails_as_etcd_does() throws Exception {
    root = Files.createTempDirectory("vetcd-quorum-loss");
    for (String name : List.of("q1", "q2", "q3")) {
      nodes.put(name, new MemberProcess(name, root));
    }
    StringBuilder initial = new StringBuilder();
    for (MemberProcess n : nodes.values()) {
      initial.append(initial.length() == 0 ? "" : ",").append(n.name).append('=').append(n.peerUrl());
    }
    for (MemberProcess n : nodes.values()) {
      n.startInCluster("quorum-loss", initial.toString(), "--initial-cluster-state", "new");
    }
    MemberProcess last = nodes.get("q1");
    Etcdctl ctl = new Etcdctl(last.clientAddress());
    ClusterWalkthroughEtcdctlTest.eventually("a leader that takes writes",
        () -> ctl.run("put", "x", "1").exitCode() == 0 ? true : null);

    String lease = ctl.run("lease", "grant", "600").assertOk().stdout().split(" ")[1];

    nodes.get("q2").kill9();
    nodes.get("q3").kill9();
    // Once the member knows it has no leader (a leader steps down when it loses its quorum):
    ClusterWalkthroughEtcdctlTest.eventually("no leader on the last member", () -> {
      Etcdctl.Result r = ctl.run("endpoint", "status", "-w", "json");
      return r.stdout().contains("\"errors\":[\"etcdserver: no leader\"]") ? true : null;
    });

    // etcdctl's own 5 s deadline ends the write first.
    Etcdctl.Result put = ctl.run("put", "y", "1");
    assertNotEquals(0, put.exitCode(), put.toString());
    assertTrue(put.stderr().contains("context deadline exceeded"), put.toString());

    // With a longer deadline, the member's own request timeout ends it, with etcd's error.
    Etcdctl.Result longPut = ctl.run("--command-timeout=15s", "put", "y", "2");
    assertNotEquals(0, longPut.exitCode(), longPut.toString());
    assertTrue(longPut.stderr().contains("Error: rpc error: code = Unknown desc = context deadline exceeded"),
        longPut.toString());
    Etcdctl.Result grant = ctl.run("--command-timeout=15s", "lease", "grant", "10");
    assertTrue(grant.stderr().contains(
        "Error: failed to grant lease (rpc error: code = Unknown desc = context deadline exceeded)"), grant.toString());

    // Keep-alives and time-to-live go to the leader: they wait for one up to the request timeout.
    Etcdctl.Result keepAlive = ctl.run("--command-timeout=15s", "lease", "keep-alive", "--once", lease);
    assertTrue(keepAlive.stderr().contains("etcdserver: no leader"), keepAlive.toString());

    Etcdctl.Result read = ctl.run("get", "x");
    assertNotEquals(0, read.exitCode(), read.toString());
    assertTrue(read.stderr().contains("context deadline exceeded"), read.toString());
    assertEquals("x\n1\n", ctl.run("get", "x", "--consistency=s").assertOk().stdout());

    // The failed writes were never proposed: with the quorum back, y does not exist.
    nodes.get("q2").startInCluster("quorum-loss", initial.toString(), "--initial-cluster-state", "new");
    nodes.get("q3").startInCluster("quorum-loss", initial.toString(), "--initial-cluster-state", "new");
    ClusterWalkthroughEtcdctlTest.eventually("a leader again",
        () -> ctl.run("put", "z", "1").exitCode() == 0 ? true : null);
    assertEquals("", ctl.run("get", "y").assertOk().stdout());
    assertEquals("x\n1\n", ctl.run("get", "x").assertOk().stdout());
  }
}
