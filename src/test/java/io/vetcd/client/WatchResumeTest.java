package io.vetcd.client;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vetcd.pb.Event;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;

/** The member serving a watch restarts mid-stream: every event arrives exactly once, in order. */
class WatchResumeTest {
  static final Duration T = Duration.ofSeconds(10);

  interface Server {
    void restart() throws Exception;
  }

  static void writeRestartWrite(VetcdClient client, Server server) throws Exception {
    List<Event> seen = new CopyOnWriteArrayList<>();
    long start = client.kv().put("res/start", "s").block(T).getHeader().getRevision();
    Disposable d = client.watch().watch("res/", WatchOptions.options().prefix().startRevision(start + 1))
        .subscribe(seen::add);
    List<Long> revs = new ArrayList<>();
    try {
      for (int i = 0; i < 20; i++) revs.add(client.kv().put("res/" + i, "a" + i).block(T).getHeader().getRevision());
      waitFor(() -> seen.size() >= 20);
      server.restart();
      for (int i = 0; i < 20; i++) {
        revs.add(putWithRetry(client, "res/" + i, "b" + i));
      }
      waitFor(() -> seen.size() >= 40);
      Thread.sleep(300);
      List<Long> got = seen.stream().map(e -> e.getKv().getModRevision()).toList();
      assertEquals(revs, got, "every event once, in order");
    } finally {
      d.dispose();
    }
  }

  /**
   * A put whose outcome is known: retried when the client says it was not applied; when it may
   * have been, the key is read back (each test key has one writer and unique values) to find out.
   */
  static long putWithRetry(VetcdClient client, String key, String value) throws Exception {
    for (int attempt = 0; ; attempt++) {
      try {
        return client.kv().put(key, value).block(T).getHeader().getRevision();
      } catch (VetcdException e) {
        if (attempt > 50) throw e;
        if (e.mayHaveBeenApplied()) {
          Long rev = readBack(client, key, value);
          if (rev != null) return rev;
        }
        Thread.sleep(200);
      }
    }
  }

  private static Long readBack(VetcdClient client, String key, String value) throws Exception {
    for (int i = 0; i < 50; i++) {
      try {
        var r = client.kv().get(key).block(T);
        return r.getCount() > 0 && r.getKvs(0).getValue().toStringUtf8().equals(value)
            ? r.getKvs(0).getModRevision() : null;
      } catch (VetcdException e) {
        Thread.sleep(200);
      }
    }
    return null;
  }

  static void waitFor(java.util.function.BooleanSupplier cond) throws Exception {
    long deadline = System.currentTimeMillis() + 15_000;
    while (!cond.getAsBoolean() && System.currentTimeMillis() < deadline) Thread.sleep(20);
    assertTrue(cond.getAsBoolean(), "timed out");
  }

  @Test
  void vetcd_member_restarted() throws Exception {
    try (InProcessMember member = new InProcessMember();
        VetcdClient client = VetcdClient.builder().endpoints(member.endpoint()).build()) {
      writeRestartWrite(client, () -> {
        member.stop();
        Thread.sleep(300);
        member.start();
      });
    }
  }

  @Test
  void etcd_killed_and_restarted() throws Exception {
    assumeTrue(EtcdProcess.available());
    try (EtcdProcess etcd = new EtcdProcess();
        VetcdClient client = VetcdClient.builder().endpoints(etcd.endpoint()).build()) {
      writeRestartWrite(client, () -> {
        etcd.kill();
        Thread.sleep(300);
        etcd.start();
      });
    }
  }
}
