package io.vetcd.bench;

import io.vetcd.client.VetcdException;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** Counts failures by what went wrong (gRPC status and etcd's message). */
final class ErrorCounter {
  private static final int MESSAGE_CHARS_MAX = 160;
  private final ConcurrentHashMap<String, LongAdder> counts = new ConcurrentHashMap<>();
  private final LongAdder total = new LongAdder();

  void record(Throwable error) {
    record(describe(error), 1);
  }

  void record(String description, long n) {
    if (n <= 0) return;
    counts.computeIfAbsent(description, k -> new LongAdder()).add(n);
    total.add(n);
  }

  long total() {
    return total.sum();
  }

  Map<String, Long> snapshot() {
    Map<String, Long> out = new TreeMap<>();
    counts.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }

  static String describe(Throwable error) {
    String text;
    if (error instanceof VetcdException v) {
      text = v.status().name() + ": " + v.etcdMessage();
    } else if (error instanceof java.util.concurrent.TimeoutException) {
      text = "no answer within the load generator's deadline";
    } else {
      text = error.getClass().getSimpleName() + ": " + error.getMessage();
    }
    return text.length() > MESSAGE_CHARS_MAX ? text.substring(0, MESSAGE_CHARS_MAX) + "…" : text;
  }
}
