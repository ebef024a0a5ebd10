package io.vetcd.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The subcommand and flags of {@code bench/run}, named as in etcd's {@code benchmark} tool. */
public final class BenchOptions {
  public static final List<String> COMMANDS =
      List.of("put", "range", "txn-put", "txn-mixed", "watch", "watch-latency", "lease-keepalive");

  public String command;
  public List<String> endpoints = List.of("http://127.0.0.1:2379");
  /** gRPC connections (one HTTP/2 connection per client instance). */
  public int connections = 1;
  /** Concurrent request loops (each has one request in flight), spread over the connections. */
  public int clients = 1;
  /** Requests to send (for the watch workloads: puts). */
  public long total = 10_000;
  public int keySizeBytes = 8;
  public int valueSizeBytes = 8;
  /** Keys are chosen among this many; 1 means every request uses the same key. */
  public long keySpaceSize = 1;
  public boolean sequentialKeys;
  /** Send every request to the leader's endpoint (found with Status). */
  public boolean targetLeader;
  /** Range consistency: {@code l} linearizable, {@code s} serializable. */
  public String consistency = "l";
  /** Puts per txn for txn-put and the writes of txn-mixed. */
  public int txnOps = 1;
  /** txn-mixed: reads per write. */
  public double readWriteRatio = 1;
  /** watch, watch-latency: how many watchers (one gRPC watch stream each). */
  public int watchers = 100;
  /** Requests per second across all clients; 0 = as fast as the server answers. */
  public double ratePerSecond;
  /** lease-keepalive: how many leases are granted before the run and kept alive in turn. */
  public int leases;
  public long leaseTtlSeconds = 60;
  public Duration requestTimeout = Duration.ofSeconds(10);
  /** watch workloads: how long to wait for the last events after the last put. */
  public Duration drainTimeout = Duration.ofSeconds(30);
  /** Unmeasured requests of the same workload sent first (connections are always opened first). */
  public long warmup;
  public boolean progress = true;
  /** Print the JSON summary to stdout instead of the text report. */
  public boolean json;
  /** Also write the JSON summary to this file. */
  public String jsonFile;

  public static BenchOptions parse(String... args) {
    BenchOptions o = new BenchOptions();
    List<String> rest = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (!arg.startsWith("--")) {
        rest.add(arg);
        continue;
      }
      String name = arg.substring(2);
      String value = null;
      int eq = name.indexOf('=');
      if (eq >= 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      }
      switch (name) {
        case "sequential-keys" -> o.sequentialKeys = bool(value);
        case "target-leader" -> o.targetLeader = bool(value);
        case "json" -> o.json = bool(value);
        case "no-progress" -> o.progress = !bool(value);
        default -> {
          if (value == null) {
            if (i + 1 >= args.length) throw new IllegalArgumentException("flag needs an argument: --" + name);
            value = args[++i];
          }
          o.set(name, value);
        }
      }
    }
    if (rest.isEmpty()) throw new IllegalArgumentException("no subcommand (one of " + String.join(", ", COMMANDS) + ")");
    if (rest.size() > 1) throw new IllegalArgumentException("unexpected arguments: " + rest.subList(1, rest.size()));
    o.command = rest.get(0);
    if (!COMMANDS.contains(o.command)) {
      throw new IllegalArgumentException("unknown subcommand " + o.command + " (one of " + String.join(", ", COMMANDS) + ")");
    }
    o.check();
    return o;
  }

  private void set(String name, String value) {
    switch (name) {
      case "endpoints" -> endpoints = List.of(value.split(","));
      case "conns" -> connections = Integer.parseInt(value);
      case "clients" -> clients = Integer.parseInt(value);
      case "total" -> total = Long.parseLong(value);
      case "key-size" -> keySizeBytes = Integer.parseInt(value);
      case "val-size" -> valueSizeBytes = Integer.parseInt(value);
      case "key-space-size" -> keySpaceSize = Long.parseLong(value);
      case "consistency" -> consistency = value.toLowerCase(Locale.ROOT);
      case "txn-ops" -> txnOps = Integer.parseInt(value);
      case "rw-ratio" -> readWriteRatio = Double.parseDouble(value);
      case "watchers" -> watchers = Integer.parseInt(value);
      case "rate", "put-rate" -> ratePerSecond = Double.parseDouble(value);
      case "leases" -> leases = Integer.parseInt(value);
      case "lease-ttl" -> leaseTtlSeconds = Long.parseLong(value);
      case "request-timeout-ms" -> requestTimeout = Duration.ofMillis(Long.parseLong(value));
      case "drain-timeout-ms" -> drainTimeout = Duration.ofMillis(Long.parseLong(value));
      case "json-file" -> jsonFile = value;
      case "warmup" -> warmup = Long.parseLong(value);
      default -> throw new IllegalArgumentException("flag provided but not defined: --" + name);
    }
  }

  private static boolean bool(String value) {
    return value == null || Boolean.parseBoolean(value);
  }

  private void check() {
    if (connections < 1 || clients < 1) throw new IllegalArgumentException("--conns and --clients must be at least 1");
    if (total < 0 || warmup < 0) throw new IllegalArgumentException("--total and --warmup must not be negative");
    if (keySizeBytes < 1 || valueSizeBytes < 0) throw new IllegalArgumentException("--key-size must be at least 1");
    if (keySpaceSize < 1) throw new IllegalArgumentException("--key-space-size must be at least 1");
    if (!consistency.equals("l") && !consistency.equals("s")) {
      throw new IllegalArgumentException("--consistency must be l (linearizable) or s (serializable)");
    }
    if (txnOps < 1 || txnOps > keySpaceSize && txnOps > 1 && !sequentialKeys) {
      throw new IllegalArgumentException("--txn-ops must be at least 1 and at most --key-space-size");
    }
    if (watchers < 1) throw new IllegalArgumentException("--watchers must be at least 1");
    if (leases < 0) throw new IllegalArgumentException("--leases must not be negative");
  }

  /** Leases for lease-keepalive: as many as clients unless set. */
  public int leaseCount() {
    return leases > 0 ? leases : clients;
  }

  public static String usage() {
    return """
        usage: bench/run <subcommand> [flags]
        subcommands:
          put              puts (--key-size, --val-size, --key-space-size, --sequential-keys)
          range            single-key gets of prefilled keys (--consistency l|s)
          txn-put          txns of --txn-ops puts
          txn-mixed        txns that read or write (--rw-ratio reads per write)
          watch            --watchers watchers on one prefix, --total puts; events/s delivered
          watch-latency    like watch, puts at --put-rate/s; latency from put to delivery
          lease-keepalive  --leases leases granted, --total keep-alives sent in turn
        flags:
          --endpoints URLS        comma separated (default http://127.0.0.1:2379)
          --conns N               gRPC connections (default 1)
          --clients N             concurrent requests (default 1)
          --total N               requests (watch workloads: puts) (default 10000)
          --key-size BYTES        (default 8)      --val-size BYTES (default 8)
          --key-space-size N      (default 1)      --sequential-keys
          --target-leader         send to the leader's endpoint only
          --rate N                requests per second, 0 = unlimited (watch-latency: --put-rate)
          --txn-ops N  --rw-ratio R  --watchers N  --leases N  --lease-ttl SECONDS
          --warmup N              unmeasured requests first (not for the watch workloads)
          --request-timeout-ms MS --drain-timeout-ms MS
          --json                  print the summary as JSON;  --json-file PATH  also write it there
          --no-progress           no progress bar on stderr
        """;
  }
}
