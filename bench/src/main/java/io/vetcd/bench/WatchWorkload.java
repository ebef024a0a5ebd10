package io.vetcd.bench;

import com.google.protobuf.ByteString;
import io.vetcd.client.WatchOptions;
import io.vetcd.pb.Event;
import io.vetcd.pb.PutRequest;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import reactor.core.Disposable;

/**
 * watch: {@code --watchers} watchers (one gRPC watch stream each, spread over the connections) on one
 * prefix, then {@code --total} puts under it from {@code --clients} loops as fast as they are answered;
 * every watcher should see every put. Measures events delivered per second, from the first put to the
 * last event, and each event's latency from its put being sent (the put's value carries the send time).
 *
 * <p>watch-latency: the same at a steady {@code --put-rate} (default 100 puts/s), where the delivery
 * latency rather than the throughput is the point.
 */
final class WatchWorkload {
  static final double DEFAULT_PUT_RATE_PER_SECOND = 100;
  private static final int TIMESTAMP_BYTES = Long.BYTES;

  private WatchWorkload() {}

  static RunResult run(BenchOptions o, Connections c, boolean steadyRate) throws InterruptedException {
    String workload = steadyRate ? "watch-latency" : "watch";
    String prefix = "bench-watch/" + Long.toHexString(System.nanoTime()) + "/";
    KeySource keys = new KeySource(prefix, o.keySizeBytes, o.keySpaceSize, o.sequentialKeys);
    ByteString filler = KeySource.value(Math.max(0, o.valueSizeBytes - TIMESTAMP_BYTES));
    // watch from the next revision: no event is missed however late a watch stream gets created
    long startRevision = c.clients.get(0).kv().get(prefix).block(o.requestTimeout.plusSeconds(1)).getHeader().getRevision() + 1;

    long expectedEvents = (long) o.watchers * o.total;
    Histogram deliveryNanos = LoadGenerator.newLatencyHistogram();
    LongAdder delivered = new LongAdder();
    AtomicLong lastDeliveryNanos = new AtomicLong();
    ErrorCounter errors = new ErrorCounter();
    CountDownLatch allDelivered = new CountDownLatch(1);
    AtomicLong remaining = new AtomicLong(expectedEvents);
    List<Disposable> watches = java.util.Collections.synchronizedList(new ArrayList<>());
    ByteString watchedPrefix = ByteString.copyFromUtf8(prefix);
    CountDownLatch subscribed = new CountDownLatch(o.watchers);
    for (int w = 0; w < o.watchers; w++) {
      // from the connection's own context, so that its events arrive on that event loop
      io.vetcd.client.VetcdClient client = c.forLoop(w);
      c.contextForLoop(w).runOnContext(v -> {
        try {
          watches.add(subscribe(client, watchedPrefix, startRevision, event -> {
            long now = System.nanoTime();
            if (event.getType() == Event.EventType.PUT) {
              long sentNanos = event.getKv().getValue().asReadOnlyByteBuffer().getLong(0);
              deliveryNanos.recordValue(Math.max(LoadGenerator.LATENCY_LOWEST_NANOS,
                  Math.min(LoadGenerator.LATENCY_HIGHEST_NANOS, now - sentNanos)));
            }
            delivered.increment();
            lastDeliveryNanos.accumulateAndGet(now, Math::max);
            if (remaining.decrementAndGet() == 0) allDelivered.countDown();
          }, errors::record));
        } catch (RuntimeException e) {
          errors.record(e);
        } finally {
          subscribed.countDown();
        }
      });
    }
    // every watch is subscribed (its stream may still be opening) before the first put, so none is
    // created after the run's end has disposed the others
    if (!subscribed.await(o.requestTimeout.plusSeconds(1).toMillis(), TimeUnit.MILLISECONDS)) {
      synchronized (watches) {
        watches.forEach(Disposable::dispose);
      }
      throw new IllegalStateException("watchers not subscribed within " + o.requestTimeout.plusSeconds(1).toMillis() + " ms");
    }
    double putRate = steadyRate && o.ratePerSecond == 0 ? DEFAULT_PUT_RATE_PER_SECOND : o.ratePerSecond;
    RunResult puts;
    long startNanos = System.nanoTime();
    try (AutoCloseable bar = ProgressBar.start(o.progress, workload, expectedEvents, delivered::sum, errors::total)) {
      puts = LoadGenerator.run(workload + "-puts", c, o.clients, o.total, putRate, false, List.of("put"),
          (client, seq) -> client.kv().put(PutRequest.newBuilder().setKey(keys.keyFor(seq))
              .setValue(stamped(System.nanoTime(), filler)).build()));
      // a failed put produces no event
      if (remaining.addAndGet(-(long) o.watchers * puts.failed) <= 0) allDelivered.countDown();
      allDelivered.await(o.drainTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    } finally {
      synchronized (watches) {
        watches.forEach(Disposable::dispose);
      }
    }
    puts.errorCounts.forEach((msg, n) -> errors.record("put: " + msg, n));
    long deliveredEvents = delivered.sum(); // once: a watcher may still deliver while its dispose runs
    long missing = (long) o.watchers * puts.succeeded - deliveredEvents;
    errors.record("watch events not delivered within " + o.drainTimeout.toMillis() + " ms", missing);
    long endNanos = Math.max(lastDeliveryNanos.get(), startNanos);
    Map<String, Histogram> latencies = new LinkedHashMap<>();
    latencies.put("delivery", deliveryNanos);
    latencies.put("put", puts.latency());
    return new RunResult(workload, "events", expectedEvents, deliveredEvents, errors.total(), errors.snapshot(),
        endNanos - startNanos, latencies);
  }

  private static Disposable subscribe(io.vetcd.client.VetcdClient client, ByteString prefix, long startRevision,
      java.util.function.Consumer<Event> onEvent, java.util.function.Consumer<Throwable> onError) {
    return client.watch().watch(prefix, WatchOptions.options().prefix().startRevision(startRevision))
        .subscribe(onEvent, onError);
  }

  /** A value whose first 8 bytes are the send time, for the watcher to measure the delivery latency. */
  static ByteString stamped(long sentNanos, ByteString filler) {
    return ByteString.copyFrom(ByteBuffer.allocate(TIMESTAMP_BYTES).putLong(0, sentNanos)).concat(filler);
  }
}
