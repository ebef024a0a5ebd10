package io.vetcd.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vetcd.e2e.Etcdctl;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What etcdctl prints for membership calls to a member that knows no leader, as against etcd 3.4.23
 * in the same spot: a one-member cluster grows to two voters and the second never starts, so there
 * is no quorum and no leader. The member runs its own {@code --strict-reconfig-check} and answers at
 * once when that refuses; a change that passes it waits for a leader until etcdctl's deadline.
 */
class MembershipWithoutLeaderProcessTest {
  Path root;
  MemberProcess member;

  @AfterEach
  void tearDown() throws Exception {
    if (member != null && member.isAlive()) {
      member.kill9();
    }
    if (root != null) {
      try (var files = Files.walk(root)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  static void assertFails(Etcdctl.Result r, String stderr) {
    assertEquals(1, r.exitCode(), r.toString());
    assertTrue(r.stderr().contains(stderr), r.toString());
  }

  @Test
  void member_calls_without_a_leader_get_etcds_answers() throws Exception {
    root = Files.createTempDirectory("vetcd-noleader");
    member = new MemberProcess("n1", root);
    member.startInCluster("noleader", "n1=" + member.peerUrl());
    Etcdctl ctl = new Etcdctl(member.clientAddress());
    ClusterWalkthroughEtcdctlTest.eventually("a leader that takes writes",
        () -> ctl.run("put", "x", "1").exitCode() == 0 ? true : null);
    String unstartedPeerUrl = "http://127.0.0.1:" + MemberProcess.freePort();
    ctl.run("member", "add", "n2", "--peer-urls=" + unstartedPeerUrl).assertOk();
    String unstarted = ctl.run("member", "list").assertOk().stdout().lines()
        .filter(l -> l.contains("unstarted")).findFirst().orElseThrow().split(",")[0];
    // The leader steps down once it has not heard from a quorum (1 of 2) for an election timeout.
    ClusterWalkthroughEtcdctlTest.eventually("no leader", () -> {
      Etcdctl.Result r = ctl.run("endpoint", "status", "-w", "json");
      return r.stdout().contains("\"errors\":[\"etcdserver: no leader\"]") ? true : null;
    });

    // Refused by the member's own strict check, at once (an unknown id counts as a voter).
    String notEnough = "Error: etcdserver: re-configuration failed due to not enough started members";
    assertFails(ctl.run("member", "remove", "1234"), notEnough);
    assertFails(ctl.run("member", "add", "n3", "--peer-urls=http://127.0.0.1:" + MemberProcess.freePort()),
        notEnough);
    // A learner needs no started quorum, but every voter connected.
    assertFails(ctl.run("member", "add", "n3", "--learner",
        "--peer-urls=http://127.0.0.1:" + MemberProcess.freePort()), "Error: etcdserver: unhealthy cluster");
    // These pass (the member removed is down, so not part of the active quorum; update and promote
    // are checked where they are applied) and wait for a leader that does not come.
    assertFails(ctl.run("member", "remove", unstarted), "Error: context deadline exceeded");
    assertFails(ctl.run("member", "update", "1234", "--peer-urls=http://127.0.0.1:" + MemberProcess.freePort()),
        "Error: context deadline exceeded");
    // Nothing changed, and the member still lists the members.
    String list = ctl.run("member", "list").assertOk().stdout();
    assertEquals(2, list.lines().count(), list);
    assertTrue(list.contains(unstartedPeerUrl), list);
  }
}
