package io.vetcd.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The WAL thread runs work in order off the event loop and answers on the submitting context. */
class WalThreadTest {
  final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() {
    vertx.close().await();
  }

  /** Runs {@code body} on an event-loop context and returns what it completes. */
  static <T> T onContext(Context context, java.util.function.Function<WalThread, Future<T>> body, WalThread wal)
      throws Exception {
    CompletableFuture<T> result = new CompletableFuture<>();
    context.runOnContext(v -> body.apply(wal).onComplete(ar -> {
      if (ar.succeeded()) {
        result.complete(ar.result());
      } else {
        result.completeExceptionally(ar.cause());
      }
    }));
    return result.get(10, TimeUnit.SECONDS);
  }

  @Test
  void work_runs_in_order_on_its_own_thread_and_completes_on_the_context() throws Exception {
    Context context = vertx.getOrCreateContext();
    WalThread wal = new WalThread(context, "wal-test");
    List<String> order = java.util.Collections.synchronizedList(new ArrayList<>());
    String answeredOn = onContext(context, w -> {
      String loop = Thread.currentThread().getName();
      for (int i = 0; i < 10; i++) {
        int n = i;
        w.submit(() -> order.add(Thread.currentThread().getName() + ":" + n));
      }
      return w.submit(() -> "last").map(r -> {
        assertEquals(loop, Thread.currentThread().getName(), "the result comes back on the submitting loop");
        return r + "@" + Thread.currentThread().getName();
      });
    }, wal);
    assertTrue(answeredOn.startsWith("last@"));
    assertEquals(10, order.size());
    for (int i = 0; i < 10; i++) {
      assertEquals("wal-test:" + i, order.get(i));
    }
    assertNotEquals("wal-test", answeredOn.substring(5));
    wal.close();
  }

  @Test
  void a_failure_fails_the_future_and_the_thread_goes_on() throws Exception {
    Context context = vertx.getOrCreateContext();
    WalThread wal = new WalThread(context, "wal-test");
    String outcome = onContext(context, w -> w.submit(() -> {
      throw new java.io.IOException("disk gone");
    }).map(v -> "no failure").recover(e -> Future.succeededFuture(e.getMessage())), wal);
    assertEquals("disk gone", outcome);
    assertEquals(42, (int) onContext(context, w -> w.submit(() -> 42), wal));
    wal.close();
  }

  @Test
  void the_queue_is_bounded_and_a_closed_thread_refuses_work() throws Exception {
    Context context = vertx.getOrCreateContext();
    WalThread wal = new WalThread(context, "wal-test");
    CountDownLatch release = new CountDownLatch(1);
    String refused = onContext(context, w -> {
      w.submit(() -> release.await(10, TimeUnit.SECONDS)); // holds the thread
      Future<Object> last = null;
      for (int i = 0; i <= WalThread.QUEUED_TASKS_MAX; i++) {
        last = w.submit(() -> null);
      }
      release.countDown();
      return last.map(v -> "accepted").recover(e -> Future.succeededFuture(e.getMessage()));
    }, wal);
    assertEquals("more than " + WalThread.QUEUED_TASKS_MAX + " WAL writes queued", refused);
    wal.close();
    String closed = onContext(context, w -> w.submit(() -> "ran").recover(e -> Future.succeededFuture(e.getMessage())),
        wal);
    assertEquals("the WAL thread is closed", closed);
  }
}
