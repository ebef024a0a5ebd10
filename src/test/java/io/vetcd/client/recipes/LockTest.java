package io.vetcd.client.recipes;

import static org.junit.jupiter.api.Assertions.*;

import io.vetcd.client.Op;
import io.vetcd.client.VetcdClient;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.publisher.Mono;

class LockTest extends Servers {
  static final String ETCDCTL = "/usr/bin/etcdctl";

  @ParameterizedTest
  @ValueSource(strings = {"vetcd", "etcd"})
  void mutual_exclusion_under_contention_with_increasing_fencing_tokens(String kind) throws Exception {
    int workers = 4;
    int rounds = 5;
    AtomicInteger inside = new AtomicInteger();
    List<Long> tokens = Collections.synchronizedList(new ArrayList<>());
    List<CompletableFuture<Void>> all = new ArrayList<>();
    for (int w = 0; w < workers; w++) {
      VetcdClient c = client(kind);
      all.add(CompletableFuture.runAsync(() -> {
        try (Session s = Session.create(c, 10).block(T)) {
          Lock lock = new Lock(s, "contended-" + kind);
          for (int i = 0; i < rounds; i++) {
            Lock.Held held = lock.acquire().block(T);
            assertEquals(1, inside.incrementAndGet(), "two holders");
            tokens.add(held.revision());
            // a read-modify-write that is only correct under the lock, fenced by the token
            String v = c.kv().get("counter-" + kind).map(r -> r.getCount() == 0 ? "0"
                : r.getKvs(0).getValue().toStringUtf8()).block(T);
            var txn = c.kv().txn().when(held.guard())
                .then(Op.put("counter-" + kind, String.valueOf(Integer.parseInt(v) + 1))).commit().block(T);
            assertTrue(txn.getSucceeded());
            inside.decrementAndGet();
            lock.release().block(T);
          }
        }
      }));
    }
    CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    VetcdClient c = client(kind);
    assertEquals(String.valueOf(workers * rounds),
        c.kv().get("counter-" + kind).block(T).getKvs(0).getValue().toStringUtf8());
    List<Long> sorted = new ArrayList<>(tokens);
    Collections.sort(sorted);
    assertEquals(sorted, tokens, "fencing tokens grow with each new holder");
  }

  @ParameterizedTest
  @ValueSource(strings = {"vetcd", "etcd"})
  void a_lost_lease_frees_the_lock_and_its_guard_fails(String kind) throws Exception {
    VetcdClient c = client(kind);
    Session a = Session.create(c, 10).block(T);
    Session b = Session.create(c, 10).block(T);
    Lock.Held heldA = new Lock(a, "lost-" + kind).acquire().block(T);
    Mono<Lock.Held> waitB = new Lock(b, "lost-" + kind).acquire().cache();
    waitB.subscribe();
    Thread.sleep(300);
    a.revoke().block(T); // as if A's lease expired
    Lock.Held heldB = waitB.block(T);
    assertTrue(heldB.revision() > heldA.revision());
    assertFalse(c.kv().txn().when(heldA.guard()).then(Op.put("x", "y")).commit().block(T).getSucceeded(),
        "the old holder's fenced write is refused");
    b.close();
  }

  @ParameterizedTest
  @ValueSource(strings = {"vetcd", "etcd"})
  void interoperates_with_etcdctl_lock(String kind) throws Exception {
    Assumptions.assumeTrue(new java.io.File(ETCDCTL).canExecute());
    String name = "shared-" + kind;
    // 1. etcdctl holds the lock; we wait; etcdctl lets go on SIGINT; we get it.
    Process holder = etcdctl(kind, "lock", name);
    BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
    String etcdctlKey = out.readLine();
    assertNotNull(etcdctlKey, "etcdctl printed its lock key");
    assertTrue(etcdctlKey.startsWith(name + "/"), etcdctlKey);
    VetcdClient c = client(kind);
    try (Session s = Session.create(c, 10).block(T)) {
      Lock lock = new Lock(s, name);
      Mono<Lock.Held> mine = lock.acquire().cache();
      mine.subscribe();
      Thread.sleep(700);
      assertTrue(c.kv().get(etcdctlKey).block(T).getCount() == 1, "etcdctl still holds it");
      new ProcessBuilder("kill", "-INT", String.valueOf(holder.pid())).start().waitFor();
      Lock.Held held = mine.block(T);
      assertEquals(lock.key(), held.key());
      holder.waitFor(10, TimeUnit.SECONDS);

      // 2. we hold it; etcdctl lock <name> <command> waits until we release.
      Process waiter = etcdctl(kind, "lock", name, "echo", "etcdctl-got-it");
      assertFalse(waiter.waitFor(1500, TimeUnit.MILLISECONDS), "etcdctl must wait while we hold the lock");
      lock.release().block(T);
      assertTrue(waiter.waitFor(10, TimeUnit.SECONDS));
      String printed = new String(waiter.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(printed.contains("etcdctl-got-it"), printed);
    }
  }

  Process etcdctl(String kind, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(ETCDCTL, "--endpoints", endpoint(kind)));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD);
    pb.environment().put("ETCDCTL_API", "3");
    return pb.start();
  }
}
