package io.vetcd.metrics;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/** A Prometheus histogram with fixed upper bounds (seconds), safe to observe from any thread. */
public final class Histogram {
  private final double[] upperBounds;
  private final AtomicLongArray counts;
  private final LongAdder count = new LongAdder();
  private final DoubleAdder sum = new DoubleAdder();

  public Histogram(double[] upperBounds) {
    this.upperBounds = upperBounds.clone();
    this.counts = new AtomicLongArray(upperBounds.length);
  }

  /** Prometheus' ExponentialBuckets(start, factor, count), as etcd declares its histograms. */
  public static double[] exponentialBuckets(double start, double factor, int count) {
    double[] bounds = new double[count];
    double bound = start;
    for (int i = 0; i < count; i++) {
      bounds[i] = bound;
      bound *= factor;
    }
    return bounds;
  }

  public void observe(double value) {
    for (int i = 0; i < upperBounds.length; i++) {
      if (value <= upperBounds[i]) {
        counts.incrementAndGet(i);
        break;
      }
    }
    count.increment();
    sum.add(value);
  }

  public void observeNanos(long nanos) {
    observe(nanos / 1e9);
  }

  public double[] upperBounds() {
    return upperBounds.clone();
  }

  /** Cumulative counts per upper bound (what the {@code _bucket} samples show). */
  public long[] cumulativeCounts() {
    long[] cumulative = new long[upperBounds.length];
    long running = 0;
    for (int i = 0; i < upperBounds.length; i++) {
      running += counts.get(i);
      cumulative[i] = running;
    }
    return cumulative;
  }

  public long count() {
    return count.sum();
  }

  public double sum() {
    return sum.sum();
  }
}
