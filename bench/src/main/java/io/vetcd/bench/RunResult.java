package io.vetcd.bench;

import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * What one run measured: how many operations succeeded or failed, how long it took, and latency
 * histograms in nanoseconds. The first histogram is the main one (for the watch workloads: from a put
 * being sent to its event being delivered); the others break it down (txn-mixed: read and write).
 */
public final class RunResult {
  public final String workload;
  /** What one operation is: "requests", or "events" for the watch workloads. */
  public final String unit;
  /** Operations planned: requests, or events expected (watchers × puts). */
  public final long expected;
  public final long succeeded;
  public final long failed;
  public final Map<String, Long> errorCounts;
  public final long durationNanos;
  public final Map<String, Histogram> latenciesNanos;

  RunResult(String workload, String unit, long expected, long succeeded, long failed, Map<String, Long> errorCounts,
      long durationNanos, Map<String, Histogram> latenciesNanos) {
    this.workload = workload;
    this.unit = unit;
    this.expected = expected;
    this.succeeded = succeeded;
    this.failed = failed;
    this.errorCounts = Map.copyOf(errorCounts);
    this.durationNanos = durationNanos;
    this.latenciesNanos = new LinkedHashMap<>(latenciesNanos);
  }

  /** The main latency histogram. */
  public Histogram latency() {
    return latenciesNanos.values().iterator().next();
  }

  public double durationSeconds() {
    return durationNanos / 1e9;
  }

  /** Successful operations per second. */
  public double throughputPerSecond() {
    return durationNanos == 0 ? 0 : succeeded / durationSeconds();
  }

  public static double percentileMillis(Histogram h, double percentile) {
    return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(percentile) / 1e6;
  }

  public JsonObject toJson() {
    JsonObject latency = new JsonObject();
    for (Map.Entry<String, Histogram> e : latenciesNanos.entrySet()) {
      latency.put(e.getKey(), latencyJson(e.getValue()));
    }
    JsonObject errors = new JsonObject();
    errorCounts.forEach(errors::put);
    return new JsonObject()
        .put("workload", workload)
        .put("unit", unit)
        .put("expected", expected)
        .put("succeeded", succeeded)
        .put("failed", failed)
        .put("errors", errors)
        .put("duration_seconds", round(durationSeconds()))
        .put("throughput_per_second", round(throughputPerSecond()))
        .put("latency_ms", latency);
  }

  private static JsonObject latencyJson(Histogram h) {
    return new JsonObject()
        .put("count", h.getTotalCount())
        .put("min", round(h.getTotalCount() == 0 ? 0 : h.getMinValue() / 1e6))
        .put("mean", round(h.getTotalCount() == 0 ? 0 : h.getMean() / 1e6))
        .put("p50", round(percentileMillis(h, 50)))
        .put("p90", round(percentileMillis(h, 90)))
        .put("p99", round(percentileMillis(h, 99)))
        .put("p99_9", round(percentileMillis(h, 99.9)))
        .put("max", round(h.getTotalCount() == 0 ? 0 : h.getMaxValue() / 1e6));
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }

  /** A report in the spirit of etcd's benchmark tool. */
  public String toText() {
    StringBuilder b = new StringBuilder();
    b.append("\nSummary (").append(workload).append("):\n");
    b.append(String.format(Locale.ROOT, "  Total:\t%.4f secs.%n", durationSeconds()));
    b.append(String.format(Locale.ROOT, "  %s:\t%d of %d succeeded, %d failed%n",
        capitalized(unit), succeeded, expected, failed));
    b.append(String.format(Locale.ROOT, "  %s/sec:\t%.1f%n", capitalized(unit), throughputPerSecond()));
    for (Map.Entry<String, Histogram> e : latenciesNanos.entrySet()) {
      Histogram h = e.getValue();
      b.append("\nLatency, ").append(e.getKey()).append(" (ms):\n");
      if (h.getTotalCount() == 0) {
        b.append("  (none)\n");
        continue;
      }
      b.append(String.format(Locale.ROOT, "  Fastest:\t%.4f%n  Average:\t%.4f%n  Stddev:\t%.4f%n  Slowest:\t%.4f%n",
          h.getMinValue() / 1e6, h.getMean() / 1e6, h.getStdDeviation() / 1e6, h.getMaxValue() / 1e6));
      for (double p : new double[] {50, 90, 99, 99.9}) {
        b.append(String.format(Locale.ROOT, "  p%s:\t%.4f%n", p == 99.9 ? "99.9" : String.valueOf((int) p),
            percentileMillis(h, p)));
      }
    }
    if (!errorCounts.isEmpty()) {
      b.append("\nErrors:\n");
      errorCounts.forEach((msg, n) -> b.append("  ").append(n).append(" × ").append(msg).append('\n'));
    }
    return b.toString();
  }

  private static String capitalized(String s) {
    return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
  }
}
