package io.vetcd.server;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The one thread that writes and fsyncs a member's WAL, fed by the raft verticle. A hand-off is one
 * queue offer and one unpark, and the result goes back to the verticle's context as one task: a
 * Vert.x worker executor costs a single write about 50 µs more to start (its ordered task queue's lock
 * is contended by the loop that just queued the task, so the worker parks twice), and that is a
 * quarter of a single client's put on a fast disk.
 */
final class WalThread {
  /** The raft verticle has at most one WAL write in flight; a few more is a bug, many a leak. */
  static final int QUEUED_TASKS_MAX = 64;

  private final Context context;
  private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
  private final AtomicInteger queued = new AtomicInteger();
  private final Thread thread;
  private volatile boolean closed;

  WalThread(Context context, String name) {
    this.context = context;
    this.thread = new Thread(this::run, name);
    thread.setDaemon(true);
    thread.start();
  }

  /** Runs {@code work} on the WAL thread; the future completes on the verticle's context. */
  <T> Future<T> submit(Callable<T> work) {
    Promise<T> promise = Promise.promise();
    if (closed) {
      promise.fail(new IllegalStateException("the WAL thread is closed"));
      return promise.future();
    }
    if (queued.incrementAndGet() > QUEUED_TASKS_MAX) {
      queued.decrementAndGet();
      promise.fail(new IllegalStateException("more than " + QUEUED_TASKS_MAX + " WAL writes queued"));
      return promise.future();
    }
    tasks.offer(() -> {
      T result;
      try {
        result = work.call();
      } catch (Throwable t) {
        context.runOnContext(v -> promise.fail(t));
        return;
      }
      context.runOnContext(v -> promise.complete(result));
    });
    LockSupport.unpark(thread);
    return promise.future();
  }

  /** The thread ends once the tasks queued so far have run. */
  void close() {
    closed = true;
    LockSupport.unpark(thread);
  }

  private void run() {
    while (true) {
      Runnable task = tasks.poll();
      if (task != null) {
        queued.decrementAndGet();
        try {
          task.run();
        } catch (RuntimeException e) {
          // only the hand-back can throw here (the work's own failures go to its future): Vert.x closed
          org.slf4j.LoggerFactory.getLogger(WalThread.class).warn("cannot hand a WAL write's result back", e);
        }
      } else if (closed) {
        return;
      } else {
        LockSupport.park(this);
      }
    }
  }
}
