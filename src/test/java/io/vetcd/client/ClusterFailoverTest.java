package io.vetcd.client;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vetcd.client.recipes.Lock;
import io.vetcd.client.recipes.Queue;
import io.vetcd.client.recipes.Session;
import io.vetcd.pb.Event;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.Disposable;

/**
 * A three-member cluster loses the member the clients talk to, while a watch streams, workers
 * contend for a lock and consumers drain a queue: the watch sees every event once, in order; the
 * lock never has two holders; every queue item is taken exactly once.
 */
class ClusterFailoverTest {
  static final Duration T = Duration.ofSeconds(20);

  @ParameterizedTest
  @ValueSource(strings = {"vetcd", "etcd"})
  void member_killed_under_load(String kind) throws Exception {
    boolean etcd = kind.equals("etcd");
    if (etcd) assumeTrue(ThreeMembers.etcdAvailable());
    try (ThreeMembers cluster = new ThreeMembers(etcd)) {
      List<VetcdClient> clients = new ArrayList<>();
      try {
        for (int i = 0; i < 4; i++) clients.add(VetcdClient.builder().endpoints(cluster.endpoints()).build());
        VetcdClient c = clients.get(0);
        WatchResumeTest.putWithRetry(c, "cf/warmup", "x"); // waits out the first election
        long start = c.kv().get("cf/").block(T).getHeader().getRevision() + 1;

        List<Event> seen = new CopyOnWriteArrayList<>();
        Disposable watch = c.watch().watch("cf/w/", WatchOptions.options().prefix().startRevision(start))
            .subscribe(seen::add);
        Queue producer = new Queue(c, "cf-queue");
        int items = 20;
        for (int i = 0; i < items; i++) producer.enqueue("job" + i).block(T);

        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        AtomicInteger acquisitions = new AtomicInteger();
        List<CompletableFuture<Void>> lockers = new ArrayList<>();
        for (int w = 1; w <= 2; w++) {
          VetcdClient lc = clients.get(w);
          lockers.add(CompletableFuture.runAsync(() -> {
            while (!stop.get()) {
              boolean[] in = {false};
              try (Session s = Session.create(lc, 5).block(T)) {
                Lock lock = new Lock(s, "cf-lock");
                while (!stop.get() && s.isAlive()) {
                  lock.acquire().block(T);
                  in[0] = true;
                  if (inside.incrementAndGet() > 1) overlaps.incrementAndGet();
                  acquisitions.incrementAndGet();
                  sleep(20);
                  inside.decrementAndGet();
                  in[0] = false;
                  lock.release().block(T);
                }
              } catch (RuntimeException failedDuringFailover) {
                if (in[0]) inside.decrementAndGet();
                sleep(200);
              }
            }
          }));
        }
        List<String> taken = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger remaining = new AtomicInteger(items);
        VetcdClient qc = clients.get(3);
        CompletableFuture<Void> consumer = CompletableFuture.runAsync(() -> {
          Queue q = new Queue(qc, "cf-queue");
          while (remaining.get() > 0) {
            try {
              taken.add(q.dequeue().block(T).value());
              remaining.decrementAndGet();
              sleep(30);
            } catch (RuntimeException retry) {
              sleep(200);
            }
          }
        });

        List<Long> written = new ArrayList<>();
        for (int i = 0; i < 10; i++) written.add(WatchResumeTest.putWithRetry(c, "cf/w/" + i, "a" + i));
        int victim = cluster.indexOf(c.currentEndpoint());
        cluster.kill(victim);
        for (int i = 0; i < 10; i++) written.add(WatchResumeTest.putWithRetry(c, "cf/w/" + i, "b" + i));

        WatchResumeTest.waitFor(() -> seen.size() >= written.size());
        consumer.get(40, TimeUnit.SECONDS);
        Thread.sleep(500);
        stop.set(true);
        CompletableFuture.allOf(lockers.toArray(CompletableFuture[]::new)).get(40, TimeUnit.SECONDS);
        watch.dispose();

        assertEquals(written, seen.stream().map(e -> e.getKv().getModRevision()).toList(),
            "watch: every event once, in order, across the kill");
        assertEquals(0, overlaps.get(), "two lock holders at once");
        assertTrue(acquisitions.get() > 0);
        assertEquals(items, taken.size());
        assertEquals(items, new HashSet<>(taken).size(), "a queue item taken twice");
        assertNotEquals(cluster.endpoint(victim), c.currentEndpoint());
      } finally {
        for (VetcdClient cl : clients) cl.close();
      }
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
