package io.vetcd.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code bench/run <subcommand> [flags]}: an etcd-style load generator on vetcd's Reactor client,
 * for any etcd v3 endpoint. Prints throughput, latency percentiles and errors (or, with
 * {@code --json}, a JSON summary that {@code bench/compare} reads).
 */
public final class Bench {
  private Bench() {}

  public static void main(String[] args) throws Exception {
    if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help") || args[0].equals("help")) {
      System.out.print(BenchOptions.usage());
      return;
    }
    BenchOptions options;
    try {
      options = BenchOptions.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("bench: " + e.getMessage());
      System.err.print(BenchOptions.usage());
      System.exit(2);
      return;
    }
    RunResult result;
    try {
      result = run(options);
    } catch (RuntimeException e) {
      System.err.println("bench: " + ErrorCounter.describe(e));
      System.exit(1);
      return;
    }
    String json = result.toJson().encodePrettily();
    if (options.jsonFile != null) writeJson(Path.of(options.jsonFile), json);
    System.out.println(options.json ? json : result.toText());
    System.exit(0); // the client's pools and Reactor's schedulers keep non-daemon threads
  }

  /** Runs one workload against {@code options.endpoints}. */
  public static RunResult run(BenchOptions options) throws InterruptedException {
    try (Connections connections = new Connections(options)) {
      return Workloads.run(options, connections);
    }
  }

  private static void writeJson(Path file, String json) throws IOException {
    if (file.getParent() != null) Files.createDirectories(file.getParent());
    Files.writeString(file, json + "\n");
  }
}
