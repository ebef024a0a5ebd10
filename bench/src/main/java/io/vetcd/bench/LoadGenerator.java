package io.vetcd.bench;

import io.vetcd.client.VetcdClient;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;
import reactor.core.publisher.Mono;

/**
 * A closed loop load: {@code --clients} loops, each with one request in flight, share {@code total}
 * requests. A loop sends its next request from the callback of the previous answer (on a Vert.x event
 * loop; nothing blocks), so the rate is what the server sustains, or {@code --rate} if set.
 */
final class LoadGenerator {
  /** Lowest and highest latency the histograms tell apart: 1 µs to 1 min, 3 significant digits. */
  static final long LATENCY_LOWEST_NANOS = 1_000;
  static final long LATENCY_HIGHEST_NANOS = TimeUnit.MINUTES.toNanos(1);

  /** Builds the request for operation {@code sequence} (0-based), to be sent on {@code client}. */
  interface Operation {
    Mono<?> call(VetcdClient client, long sequence);

    /** Which of the kinds given to {@link #run} operation {@code sequence} is (txn-mixed: read or write). */
    default int kindOf(long sequence) {
      return 0;
    }
  }

  static Histogram newLatencyHistogram() {
    return new ConcurrentHistogram(LATENCY_LOWEST_NANOS, LATENCY_HIGHEST_NANOS, 3);
  }

  private final Connections connections;
  private final int loopCount;
  private final long total;
  private final double ratePerSecond;
  private final Operation operation;
  private final Histogram[] latencyByKindNanos;
  private final Histogram allLatencyNanos = newLatencyHistogram();
  private final List<String> kinds;
  private final AtomicLong issued = new AtomicLong();
  private final LongAdder succeeded = new LongAdder();
  private final ErrorCounter errors = new ErrorCounter();
  private final AtomicInteger loopsRunning;
  private final CountDownLatch finished = new CountDownLatch(1);
  private volatile long startNanos;
  private volatile long endNanos;

  private LoadGenerator(Connections connections, int loopCount, long total, double ratePerSecond, List<String> kinds,
      Operation operation) {
    this.connections = connections;
    this.loopCount = loopCount;
    this.total = total;
    this.ratePerSecond = ratePerSecond;
    this.operation = operation;
    this.kinds = kinds;
    this.latencyByKindNanos = new Histogram[kinds.size()];
    for (int i = 0; i < kinds.size(); i++) latencyByKindNanos[i] = newLatencyHistogram();
    this.loopsRunning = new AtomicInteger(loopCount);
  }

  /**
   * Runs {@code total} operations on {@code loopCount} loops and waits for the last answer.
   * {@code kinds} names the latency histograms that {@link Operation#kindOf} picks from; with more
   * than one, the result's main histogram ("all") merges them.
   */
  static RunResult run(String workload, Connections connections, int loopCount, long total, double ratePerSecond,
      boolean progress, List<String> kinds, Operation operation) throws InterruptedException {
    LoadGenerator g = new LoadGenerator(connections, loopCount, total, ratePerSecond, kinds, operation);
    try (AutoCloseable bar = ProgressBar.start(progress, workload, total, g.succeeded::sum, g.errors::total)) {
      g.startAndAwait();
    } catch (InterruptedException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    Map<String, Histogram> latencies = new LinkedHashMap<>();
    if (kinds.size() > 1) latencies.put("all", g.allLatencyNanos);
    for (int i = 0; i < kinds.size(); i++) latencies.put(kinds.get(i), g.latencyByKindNanos[i]);
    return new RunResult(workload, "requests", total, g.succeeded.sum(), g.errors.total(), g.errors.snapshot(),
        g.endNanos - g.startNanos, latencies);
  }

  /** One load loop: its client and the request it has in flight. */
  private static final class Loop {
    final VetcdClient client;
    /** The context the loop sends from and gets its answers on: its client's. */
    final io.vertx.core.Context context;
    /**
     * The sequence of the request in flight, or -1. Its answer and the deadline watchdog race to move
     * it to -1; whichever does finishes the request, so a late answer after a timeout is ignored.
     */
    final AtomicLong inFlight = new AtomicLong(-1);
    volatile long sentNanos;
    /** The subscription of the request in flight: cancelled when the watchdog gives up on it. */
    volatile reactor.core.Disposable subscription;

    Loop(VetcdClient client, io.vertx.core.Context context) {
      this.client = client;
      this.context = context;
    }
  }

  private void startAndAwait() throws InterruptedException {
    startNanos = System.nanoTime();
    if (total == 0 || loopCount == 0) {
      endNanos = startNanos;
      return;
    }
    Loop[] loops = new Loop[loopCount];
    for (int i = 0; i < loopCount; i++) {
      loops[i] = new Loop(connections.forLoop(i), connections.contextForLoop(i));
    }
    // One timer for all loops instead of a timeout per request (a Reactor timeout() per request
    // was a tenth of the load generator's CPU).
    long deadlineNanos = connections.operationDeadline.toNanos();
    long watchdog = connections.vertx.setPeriodic(WATCHDOG_PERIOD_MILLIS, id -> expire(loops, deadlineNanos));
    for (Loop loop : loops) {
      loop.context.runOnContext(v -> next(loop));
    }
    try {
      finished.await();
    } finally {
      connections.vertx.cancelTimer(watchdog);
    }
  }

  /** How often the watchdog looks for requests past the load generator's deadline. */
  static final long WATCHDOG_PERIOD_MILLIS = 200;

  private void expire(Loop[] loops, long deadlineNanos) {
    long now = System.nanoTime();
    for (Loop loop : loops) {
      long sequence = loop.inFlight.get();
      if (sequence >= 0 && now - loop.sentNanos > deadlineNanos && loop.inFlight.compareAndSet(sequence, -1)) {
        reactor.core.Disposable stuck = loop.subscription;
        if (stuck != null) {
          stuck.dispose(); // e.g. a keep-alive stream stops retrying
        }
        failed(loop, new TimeoutException("no answer within " + deadlineNanos / 1_000_000 + " ms"));
      }
    }
  }

  private void next(Loop loop) {
    long sequence = issued.getAndIncrement();
    if (sequence >= total) {
      if (loopsRunning.decrementAndGet() == 0) {
        endNanos = System.nanoTime();
        finished.countDown();
      }
      return;
    }
    if (ratePerSecond > 0) {
      long dueNanos = startNanos + (long) (sequence * 1e9 / ratePerSecond);
      long waitMillis = TimeUnit.NANOSECONDS.toMillis(dueNanos - System.nanoTime());
      if (waitMillis >= 1) {
        connections.vertx.setTimer(waitMillis, id -> send(loop, sequence));
        return;
      }
    }
    send(loop, sequence);
  }

  private void send(Loop loop, long sequence) {
    long sentNanos = System.nanoTime();
    loop.sentNanos = sentNanos;
    loop.inFlight.set(sequence);
    Mono<?> call;
    try {
      call = operation.call(loop.client, sequence);
    } catch (RuntimeException e) {
      if (loop.inFlight.compareAndSet(sequence, -1)) failed(loop, e);
      return;
    }
    loop.subscription = null;
    reactor.core.Disposable subscription = call.subscribe(v -> { }, e -> {
      if (loop.inFlight.compareAndSet(sequence, -1)) failed(loop, e);
    }, () -> {
      if (!loop.inFlight.compareAndSet(sequence, -1)) return; // the watchdog counted it as failed
      long latencyNanos = Math.max(LATENCY_LOWEST_NANOS, Math.min(LATENCY_HIGHEST_NANOS, System.nanoTime() - sentNanos));
      latencyByKindNanos[operation.kindOf(sequence)].recordValue(latencyNanos);
      if (latencyByKindNanos.length > 1) allLatencyNanos.recordValue(latencyNanos);
      succeeded.increment();
      next(loop);
    });
    if (loop.inFlight.get() == sequence) {
      loop.subscription = subscription; // not when it already finished (and the loop moved on)
    }
  }

  private void failed(Loop loop, Throwable error) {
    errors.record(error);
    // through the event loop's queue: a call failing at once must not recurse (and the watchdog's
    // timer runs on another context)
    loop.context.runOnContext(v -> next(loop));
  }
}
