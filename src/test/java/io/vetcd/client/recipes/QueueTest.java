package io.vetcd.client.recipes;

import static org.junit.jupiter.api.Assertions.*;

import io.vetcd.client.VetcdClient;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.publisher.Mono;

class QueueTest extends Servers {

  @ParameterizedTest
  @ValueSource(strings = {"vetcd", "etcd"})
  void fifo_for_one_consumer(String kind) {
    Queue q = new Queue(client(kind), "fifo-" + kind);
    for (int i = 0; i < 5; i++) q.enqueue("item" + i).block(T);
    List<String> out = new ArrayList<>();
    for (int i = 0; i < 5; i++) out.add(q.dequeue().block(T).value());
    assertEquals(List.of("item0", "item1", "item2", "item3", "item4"), out);
  }

  @ParameterizedTest
  @ValueSource(strings = {"vetcd", "etcd"})
  void dequeue_waits_for_an_item(String kind) throws Exception {
    Queue q = new Queue(client(kind), "wait-" + kind);
    Mono<Queue.Item> waiting = q.dequeue().cache();
    waiting.subscribe();
    Thread.sleep(300);
    q.enqueue("late").block(T);
    assertEquals("late", waiting.block(T).value());
  }

  @ParameterizedTest
  @ValueSource(strings = {"vetcd", "etcd"})
  void every_item_taken_exactly_once_under_contention(String kind) throws Exception {
    int items = 40;
    int consumers = 4;
    Queue producer = new Queue(client(kind), "work-" + kind);
    for (int i = 0; i < items; i++) producer.enqueue("job" + i).block(T);
    List<String> taken = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger remaining = new AtomicInteger(items);
    List<CompletableFuture<Void>> all = new ArrayList<>();
    for (int c = 0; c < consumers; c++) {
      Queue q = new Queue(client(kind), "work-" + kind);
      all.add(CompletableFuture.runAsync(() -> {
        while (remaining.getAndDecrement() > 0) taken.add(q.dequeue().block(T).value());
      }));
    }
    CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    assertEquals(items, taken.size());
    assertEquals(items, new HashSet<>(taken).size(), "no item twice");
    assertEquals(0, client(kind).kv().get("work-" + kind + "/",
        io.vetcd.client.GetOptions.options().prefix().countOnly()).block(T).getCount());
    assertEquals(0, client(kind).kv().get("work-" + kind + ".claims/",
        io.vetcd.client.GetOptions.options().prefix().countOnly()).block(T).getCount(), "claims cleaned up");
  }
}
