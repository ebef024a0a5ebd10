package io.vetcd.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.vetcd.e2e.Etcdctl;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The README's cluster walkthrough, driven by etcdctl as a user would: three members (infra1..3)
 * as separate processes; {@code member list -w table} shows them started; {@code endpoint status}
 * shows one leader; a write on one member is read on the others; {@code kill -9} of the leader gives
 * a new leader and writes go on; the killed member restarts and catches up; {@code member add} prints
 * the {@code ETCD_*} settings that start the new member with {@code --initial-cluster-state existing};
 * {@code member remove} takes it out again, and it stops by itself.
 */
class ClusterWalkthroughEtcdctlTest {
  static final Pattern STATUS = Pattern.compile(
      "\"Endpoint\":\"([^\"]+)\",\"Status\":\\{\"header\":\\{\"cluster_id\":\\d+,\"member_id\":(\\d+),"
          + "\"revision\":\\d+,\"raft_term\":(\\d+)\\}.*?\"leader\":(\\d+)");

  final Map<String, MemberProcess> nodes = new LinkedHashMap<>();
  Path root;

  record Status(String endpoint, long memberId, long raftTerm, long leader) {}

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
  void three_members_fail_over_and_change_membership_as_in_etcds_walkthrough() throws Exception {
    root = Files.createTempDirectory("vetcd-walkthrough");
    for (String name : List.of("infra1", "infra2", "infra3")) {
      nodes.put(name, new MemberProcess(name, root));
    }
    StringBuilder initial = new StringBuilder();
    for (MemberProcess n : nodes.values()) {
      initial.append(initial.length() == 0 ? "" : ",").append(n.name).append('=').append(n.peerUrl());
    }
    for (MemberProcess n : nodes.values()) {
      n.startInCluster("etcd-cluster-1", initial.toString(), "--initial-cluster-state", "new");
    }
    Etcdctl all = ctl(nodes.values().stream().map(MemberProcess::clientAddress).toList());

    // member list -w table: three started members with their names and URLs
    // As in etcd, a member's client URLs appear once it has published them through raft.
    String table = eventually("three started members with their client URLs", () -> {
      Etcdctl.Result r = all.run("member", "list", "-w", "table");
      return r.exitCode() == 0 && r.stdout().split("started", -1).length == 4
          && nodes.values().stream().allMatch(n -> r.stdout().contains(n.endpoint())) ? r.stdout() : null;
    });
    for (MemberProcess n : nodes.values()) {
      assertTrue(table.contains("| " + n.name + " |"), table);
      assertTrue(table.contains(n.peerUrl()), table);
      assertTrue(table.contains(n.endpoint()), table);
    }

    // endpoint status: every member answers and names the same single leader
    List<Status> statuses = eventually("one leader known to all", () -> {
      List<Status> s = status(all);
      return s.size() == 3 && s.stream().map(Status::leader).distinct().count() == 1 && s.get(0).leader() != 0 ? s : null;
    });
    long leaderId = statuses.get(0).leader();
    assertEquals(1, statuses.stream().filter(s -> s.memberId() == leaderId).count());

    // a write on one member is read on the others
    MemberProcess first = nodes.get("infra1");
    ctl(List.of(first.clientAddress())).run("put", "walk/greeting", "hello").assertOk();
    for (MemberProcess n : nodes.values()) {
      assertEquals("walk/greeting\nhello\n",
          ctl(List.of(n.clientAddress())).run("get", "walk/greeting").assertOk().stdout());
    }

    // kill -9 of the leader: the others elect a new one and writes go on
    MemberProcess leader = nodes.values().stream()
        .filter(n -> statuses.stream()
            .anyMatch(s -> s.memberId() == leaderId && s.endpoint().equals(n.clientAddress())))
        .findFirst().orElseThrow();
    leader.kill9();
    List<String> survivors = nodes.values().stream().filter(n -> n != leader).map(MemberProcess::clientAddress)
        .toList();
    Etcdctl rest = ctl(survivors);
    long newLeader = eventually("a new leader", () -> {
      List<Status> s = status(rest);
      return s.size() == 2 && s.get(0).leader() != 0 && s.get(0).leader() != leaderId
          && s.get(1).leader() == s.get(0).leader() ? s.get(0).leader() : null;
    });
    assertNotEquals(leaderId, newLeader);
    rest.run("put", "walk/greeting", "after-failover").assertOk();

    // the killed member restarts from its WAL and catches up
    leader.startInCluster("etcd-cluster-1", initial.toString(), "--initial-cluster-state", "new");
    Etcdctl restarted = ctl(List.of(leader.clientAddress()));
    eventually("the restarted member caught up", () -> {
      Etcdctl.Result r = restarted.run("get", "walk/greeting", "--consistency=s", "--print-value-only");
      return r.exitCode() == 0 && r.stdout().equals("after-failover\n") ? true : null;
    });

    // member add prints the settings for the new member, which joins with state "existing"
    MemberProcess infra4 = new MemberProcess("infra4", root);
    nodes.put(infra4.name, infra4);
    // As etcd (--strict-reconfig-check), the add is refused with "etcdserver: unhealthy cluster" until
    // the restarted member has been connected for a few seconds.
    Etcdctl.Result added = eventually("member add accepted", () -> {
      Etcdctl.Result r = all.run("member", "add", "infra4", "--peer-urls=" + infra4.peerUrl());
      if (r.exitCode() != 0) {
        assertTrue(r.stderr().contains("Error: etcdserver: unhealthy cluster"), r.toString());
      }
      return r.exitCode() == 0 ? r : null;
    });
    Matcher addedId = Pattern.compile("Member\\s+([0-9a-f]+) added to cluster\\s+([0-9a-f]+)").matcher(added.stdout());
    assertTrue(addedId.find(), added.toString());
    Map<String, String> env = new HashMap<>();
    Matcher line = Pattern.compile("(ETCD_[A-Z_]+)=\"([^\"]*)\"").matcher(added.stdout());
    while (line.find()) {
      env.put(line.group(1), line.group(2));
    }
    assertEquals("infra4", env.get("ETCD_NAME"), added.toString());
    assertEquals("existing", env.get("ETCD_INITIAL_CLUSTER_STATE"), added.toString());
    assertEquals(infra4.peerUrl(), env.get("ETCD_INITIAL_ADVERTISE_PEER_URLS"), added.toString());
    assertTrue(env.get("ETCD_INITIAL_CLUSTER").contains("infra4=" + infra4.peerUrl()), added.toString());
    infra4.startWithEnvironment(env);
    eventually("infra4 started and serving the data", () -> {
      Etcdctl.Result r = ctl(List.of(infra4.clientAddress())).run("get", "walk/greeting", "--print-value-only");
      return r.exitCode() == 0 && r.stdout().equals("after-failover\n") ? true : null;
    });
    String four = eventually("four started members", () -> {
      Etcdctl.Result r = all.run("member", "list");
      return r.exitCode() == 0 && r.stdout().split("started", -1).length == 5 ? r.stdout() : null;
    });
    assertTrue(four.contains(", infra4, " + infra4.peerUrl() + ", " + infra4.endpoint()), four);

    // member remove: gone from the list, and the removed member stops by itself
    Etcdctl.Result removed = all.run("member", "remove", addedId.group(1)).assertOk();
    // etcdctl prints both ids as %16x: an id with leading zeros is padded with spaces
    assertEquals(String.format("Member %16s removed from cluster %16s%n", addedId.group(1), addedId.group(2)),
        removed.stdout());
    eventually("three members again", () -> {
      Etcdctl.Result r = all.run("member", "list");
      return r.exitCode() == 0 && !r.stdout().contains("infra4") && r.stdout().split("\n").length == 3 ? true : null;
    });
    assertTrue(infra4.waitFor(30, TimeUnit.SECONDS), "the removed member should stop by itself");
    all.run("put", "walk/greeting", "three-again").assertOk();
    assertEquals("three-again\n", all.run("get", "walk/greeting", "--print-value-only").assertOk().stdout());
  }

  static Etcdctl ctl(List<String> endpoints) {
    return new Etcdctl(String.join(",", endpoints));
  }

  static List<Status> status(Etcdctl ctl) {
    Etcdctl.Result r = ctl.run("endpoint", "status", "-w", "json");
    List<Status> out = new ArrayList<>();
    Matcher m = STATUS.matcher(r.stdout());
    while (m.find()) {
      out.add(new Status(m.group(1), Long.parseUnsignedLong(m.group(2)), Long.parseLong(m.group(3)),
          Long.parseUnsignedLong(m.group(4))));
    }
    return out;
  }

  /** Polls until {@code check} gives a non-null answer (a deadline, not a timing assertion). */
  static <T> T eventually(String what, Supplier<T> check) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      T answer = check.get();
      if (answer != null) {
        return answer;
      }
      Thread.sleep(300);
    }
    fail("never happened: " + what);
    return null;
  }
}
