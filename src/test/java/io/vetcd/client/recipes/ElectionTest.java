package io.vetcd.client.recipes;

import static org.junit.jupiter.api.Assertions.*;

import io.vetcd.client.Op;
import io.vetcd.client.VetcdClient;
import io.vetcd.pb.KeyValue;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

class ElectionTest extends Servers {

  static String val(KeyValue kv) {
    return kv.getValue().toStringUtf8();
  }

  @ParameterizedTest
  @ValueSource(strings = {"vetcd", "etcd"})
  void one_leader_at_a_time_proclaim_resign_observe(String kind) throws Exception {
    VetcdClient c = client(kind);
    String name = "elect-" + kind;
    BlockingQueue<String> observed = new LinkedBlockingQueue<>();
    Disposable obs = Election.observe(c, name).subscribe(kv -> observed.add(val(kv)));
    Session s1 = Session.create(c, 10).block(T);
    Session s2 = Session.create(client(kind), 10).block(T);
    Election e1 = new Election(s1, name);
    Election e2 = new Election(s2, name);
    e1.campaign("one").block(T);
    Mono<Void> second = e2.campaign("two").cache();
    second.subscribe();
    Thread.sleep(500);
    assertEquals("one", val(e2.leader().block(T)));
    assertThrows(Election.NotLeaderException.class, () -> e2.proclaim("usurper").block(T));
    e1.proclaim("one-again").block(T);
    assertFalse(c.kv().txn().when(e2.guard()).then(Op.put("x", "y")).commit().block(T).getSucceeded());
    e1.resign().block(T);
    second.block(T);
    assertEquals("two", val(Election.leader(c, name).block(T)));
    s2.revoke().block(T); // the leader's lease goes: nobody leads
    assertNull(Election.leader(c, name).block(T));
    List<String> seen = new ArrayList<>();
    long deadline = System.currentTimeMillis() + 5000;
    while (seen.size() < 3 && System.currentTimeMillis() < deadline) {
      String s = observed.poll(100, TimeUnit.MILLISECONDS);
      if (s != null) seen.add(s);
    }
    assertEquals(List.of("one", "one-again", "two"), seen);
    obs.dispose();
    s1.close();
  }

  @ParameterizedTest
  @ValueSource(strings = {"vetcd", "etcd"})
  void interoperates_with_etcdctl_elect(String kind) throws Exception {
    Assumptions.assumeTrue(new java.io.File(LockTest.ETCDCTL).canExecute());
    String name = "shared-elect-" + kind;
    VetcdClient c = client(kind);
    // etcdctl leads; we campaign and wait; etcdctl resigns on SIGINT; we lead.
    Process leader = etcdctl(kind, "elect", name, "from-etcdctl");
    BufferedReader out = new BufferedReader(new InputStreamReader(leader.getInputStream(), StandardCharsets.UTF_8));
    String key = out.readLine();
    assertTrue(key.startsWith(name + "/"), key);
    assertEquals("from-etcdctl", out.readLine());
    assertEquals("from-etcdctl", val(Election.leader(c, name).block(T)));
    // an etcdctl observer (elect -l) follows the leaders
    Process listener = etcdctl(kind, "elect", "-l", name);
    BufferedReader lout = new BufferedReader(new InputStreamReader(listener.getInputStream(), StandardCharsets.UTF_8));
    // The observer first prints the leader of the moment: wait for it, or (on a loaded machine) the
    // observer may start only after the changes below and rightly print just the last leader.
    List<String> lines = new ArrayList<>();
    while (!lines.contains("from-etcdctl")) {
      String l = lout.readLine();
      assertTrue(l != null, "the observer ended early: " + lines);
      lines.add(l);
    }
    try (Session s = Session.create(c, 10).block(T)) {
      Election mine = new Election(s, name);
      Mono<Void> campaign = mine.campaign("from-java").cache();
      campaign.subscribe();
      Thread.sleep(700);
      assertEquals("from-etcdctl", val(mine.leader().block(T)));
      new ProcessBuilder("kill", "-INT", String.valueOf(leader.pid())).start().waitFor();
      campaign.block(T);
      mine.proclaim("java-proclaims").block(T);
      long deadline = System.currentTimeMillis() + 10_000;
      while (!lines.contains("java-proclaims") && System.currentTimeMillis() < deadline) {
        String l = lout.readLine();
        if (l == null) break;
        lines.add(l);
      }
      assertTrue(lines.contains("from-etcdctl") && lines.contains("from-java") && lines.contains("java-proclaims"),
          lines.toString());
      mine.resign().block(T);
    } finally {
      listener.destroyForcibly();
      leader.destroyForcibly();
    }
  }

  Process etcdctl(String kind, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(LockTest.ETCDCTL, "--endpoints", endpoint(kind)));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD);
    pb.environment().put("ETCDCTL_API", "3");
    return pb.start();
  }
}
