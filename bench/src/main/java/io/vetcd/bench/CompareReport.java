package io.vetcd.bench;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Turns the results {@code bench/compare} collected into {@code bench/RESULTS.md} and an SVG chart of
 * the throughput ratios. Layout read: {@code <dir>/workloads.tsv} (name, then the bench/run arguments),
 * {@code <dir>/machine.txt} (key: value lines), and per member count {@code <dir>/<members>/<workload>/
 * <system>-<round>.json} with {@code .rss} beside it (the servers' summed RSS in KiB after the run).
 *
 * <pre>java io.vetcd.bench.CompareReport RESULTS_DIR RESULTS.md ratios.svg</pre>
 */
public final class CompareReport {
  static final List<String> SYSTEMS = List.of("etcd", "vetcd");

  /** Medians over the rounds of one system on one workload. */
  record Summary(int rounds, double throughputPerSecond, double p50Millis, double p99Millis, double rssMebibytes,
      double rssSettledMebibytes, long failures, String unit) {}

  /** One row: a workload on a member count, etcd beside vetcd. */
  record Row(String members, String workload, String arguments, Summary etcd, Summary vetcd) {
    double ratio() {
      return CompareReport.ratio(vetcd.throughputPerSecond, etcd.throughputPerSecond);
    }
  }

  public static void main(String[] args) throws IOException {
    if (args.length != 3) {
      System.err.println("usage: CompareReport RESULTS_DIR RESULTS.md CHART.svg");
      System.exit(2);
    }
    Path dir = Path.of(args[0]);
    List<Row> rows = rows(dir);
    Map<String, String> machine = machine(dir.resolve("machine.txt"));
    List<MemoryRow> memory = memoryRows(dir);
    Files.writeString(Path.of(args[1]), markdown(rows, memory, machine, Path.of(args[2]).getFileName().toString()));
    Files.writeString(Path.of(args[2]), svg(rows));
    if (!rows.isEmpty()) {
      System.out.print(table(rows));
    }
    if (!memory.isEmpty()) {
      System.out.print((rows.isEmpty() ? "" : "\n") + memoryTable(memory));
    }
  }

  static List<Row> rows(Path dir) throws IOException {
    List<String[]> workloads = new ArrayList<>();
    for (String line : Files.readAllLines(dir.resolve("workloads.tsv"))) {
      if (!line.isBlank()) workloads.add(line.split("\t", 2));
    }
    List<Row> rows = new ArrayList<>();
    List<Path> memberDirs;
    try (Stream<Path> s = Files.list(dir)) {
      memberDirs = s.filter(Files::isDirectory).sorted().toList();
    }
    for (Path members : memberDirs) {
      if (members.getFileName().toString().equals(MEMORY_DIR)) continue;
      for (String[] w : workloads) {
        Path wdir = members.resolve(w[0]);
        if (!Files.isDirectory(wdir)) continue;
        Summary etcd = summary(wdir, "etcd");
        Summary vetcd = summary(wdir, "vetcd");
        if (etcd == null || vetcd == null) continue;
        rows.add(new Row(members.getFileName().toString(), w[0], w.length > 1 ? w[1] : "", etcd, vetcd));
      }
    }
    return rows;
  }

  static Summary summary(Path workloadDir, String system) throws IOException {
    List<Path> runs;
    try (Stream<Path> s = Files.list(workloadDir)) {
      runs = s.filter(p -> p.getFileName().toString().startsWith(system + "-") && p.toString().endsWith(".json"))
          .sorted().toList();
    }
    if (runs.isEmpty()) return null;
    double[] throughput = new double[runs.size()];
    double[] p50 = new double[runs.size()];
    double[] p99 = new double[runs.size()];
    List<Double> rss = new ArrayList<>();
    List<Double> rssSettled = new ArrayList<>();
    long failures = 0;
    String unit = "requests";
    for (int i = 0; i < runs.size(); i++) {
      JsonObject r = new JsonObject(Files.readString(runs.get(i)));
      throughput[i] = r.getDouble("throughput_per_second");
      JsonObject latency = r.getJsonObject("latency_ms");
      JsonObject main = latency.getJsonObject(latency.fieldNames().iterator().next());
      p50[i] = main.getDouble("p50");
      p99[i] = main.getDouble("p99");
      failures += r.getLong("failed");
      unit = r.getString("unit");
      readMebibytes(Path.of(runs.get(i).toString().replaceAll("\\.json$", ".rss")), rss);
      readMebibytes(Path.of(runs.get(i).toString().replaceAll("\\.json$", ".rss-settled")), rssSettled);
    }
    return new Summary(runs.size(), median(throughput), median(p50), median(p99), median(rss), median(rssSettled),
        failures, unit);
  }

  /** Adds the KiB figure in file (if it exists and is not empty) to out, in MiB. */
  private static void readMebibytes(Path file, List<Double> out) throws IOException {
    if (Files.exists(file)) {
      String kib = Files.readString(file).trim();
      if (!kib.isEmpty()) out.add(Long.parseLong(kib) / 1024.0);
    }
  }

  static double median(List<Double> values) {
    return values.isEmpty() ? 0 : median(values.stream().mapToDouble(Double::doubleValue).toArray());
  }

  /**
   * The memory runs: {@code <dir>/memory/<name>/<system>-<round>.json} (the load's result) with
   * {@code .rss} (right after the load) and {@code .rss-settled} (after a quiet spell) beside it.
   */
  static final String MEMORY_DIR = "memory";

  record MemoryRow(String name, Summary etcd, Summary vetcd) {}

  static List<MemoryRow> memoryRows(Path dir) throws IOException {
    Path memory = dir.resolve(MEMORY_DIR);
    List<MemoryRow> out = new ArrayList<>();
    if (!Files.isDirectory(memory)) return out;
    List<Path> names;
    try (Stream<Path> s = Files.list(memory)) {
      names = s.filter(Files::isDirectory).sorted().toList();
    }
    for (Path n : names) {
      Summary etcd = summary(n, "etcd");
      Summary vetcd = summary(n, "vetcd");
      if (etcd != null && vetcd != null) out.add(new MemoryRow(n.getFileName().toString(), etcd, vetcd));
    }
    return out;
  }

  static String memoryTable(List<MemoryRow> rows) {
    StringBuilder b = new StringBuilder();
    b.append("| store | RSS MiB etcd | RSS MiB vetcd | vetcd ÷ etcd | settled RSS MiB etcd | settled RSS MiB vetcd"
        + " | vetcd ÷ etcd settled | load txn/s etcd | load txn/s vetcd | failures etcd / vetcd |\n");
    b.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (MemoryRow r : rows) {
      b.append(String.format(Locale.ROOT, "| %s | %.0f | %.0f | **%.2f** | %.0f | %.0f | **%.2f** | %.0f | %.0f | %d / %d |%n",
          r.name, r.etcd.rssMebibytes, r.vetcd.rssMebibytes, ratio(r.vetcd.rssMebibytes, r.etcd.rssMebibytes),
          r.etcd.rssSettledMebibytes, r.vetcd.rssSettledMebibytes,
          ratio(r.vetcd.rssSettledMebibytes, r.etcd.rssSettledMebibytes), r.etcd.throughputPerSecond,
          r.vetcd.throughputPerSecond, r.etcd.failures, r.vetcd.failures));
    }
    return b.toString();
  }

  private static double ratio(double a, double b) {
    return b == 0 ? 0 : a / b;
  }

  static double median(double[] values) {
    double[] v = values.clone();
    Arrays.sort(v);
    int n = v.length;
    return n == 0 ? 0 : n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }

  static Map<String, String> machine(Path file) throws IOException {
    Map<String, String> out = new java.util.LinkedHashMap<>();
    if (!Files.exists(file)) return out;
    for (String line : Files.readAllLines(file)) {
      int colon = line.indexOf(':');
      if (colon > 0) out.put(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
    }
    return out;
  }

  static String table(List<Row> rows) {
    StringBuilder b = new StringBuilder();
    b.append("| members | workload | etcd /s | vetcd /s | vetcd ÷ etcd | p50 ms etcd | p50 ms vetcd | p99 ms etcd"
        + " | p99 ms vetcd | RSS MiB etcd | RSS MiB vetcd | failures etcd / vetcd |\n");
    b.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Row r : rows) {
      b.append(String.format(Locale.ROOT, "| %s | %s | %.0f | %.0f | **%.2f** | %.2f | %.2f | %.2f | %.2f | %.0f | %.0f | %d / %d |%n",
          r.members, r.workload, r.etcd.throughputPerSecond, r.vetcd.throughputPerSecond, r.ratio(),
          r.etcd.p50Millis, r.vetcd.p50Millis, r.etcd.p99Millis, r.vetcd.p99Millis, r.etcd.rssMebibytes,
          r.vetcd.rssMebibytes, r.etcd.failures, r.vetcd.failures));
    }
    return b.toString();
  }

  static String markdown(List<Row> rows, List<MemoryRow> memory, Map<String, String> machine, String chartFile) {
    StringBuilder b = new StringBuilder();
    b.append("# vetcd against etcd\n\n");
    b.append("Written by `bench/compare` (").append(machine.getOrDefault("mode", "?")).append("): ")
        .append(machine.getOrDefault("date", "?")).append(".\n\n");
    b.append("- machine: ").append(machine.getOrDefault("cpus", "?")).append(" CPUs (`nproc`), ")
        .append(machine.getOrDefault("cpu model", "?")).append(", ").append(machine.getOrDefault("memory", "?"))
        .append(" memory; load average before the run: ").append(machine.getOrDefault("load before", "?")).append('\n');
    b.append("- etcd: ").append(machine.getOrDefault("etcd", "?")).append("; vetcd: ")
        .append(machine.getOrDefault("vetcd", "?")).append(" on ").append(machine.getOrDefault("java", "?")).append('\n');
    b.append("- client: `bench/run` (vetcd's Reactor client) against both; the same arguments for both; ")
        .append(machine.getOrDefault("rounds", "?")).append(" rounds, etcd and vetcd in alternation; medians; ");
    String warmup = machine.getOrDefault("server warmup", "?");
    if (warmup.equals("0")) {
      b.append("no server warm-up\n");
    } else {
      b.append("each fresh server first got the same unmeasured warm-up of ").append(warmup).append(" puts and ")
          .append(warmup).append(" linearizable ranges, then one pass of every workload\n");
    }
    b.append("- throughput is requests per second (watch: events delivered per second); p50/p99 are request latency")
        .append(" (watch: put-to-delivery); RSS is the servers' resident memory after the run, summed over the members\n");
    b.append("- the load generator runs on the same machine and shares its CPUs with the servers (and with whatever")
        .append(" else runs there): for cheap requests such as ranges it can be the bottleneck, which pulls the ratio")
        .append(" toward 1; failures are requests that got an error or no answer within the request timeout + 2 s\n\n");
    if (!rows.isEmpty()) {
      b.append(table(rows));
      b.append("\n![vetcd throughput ÷ etcd throughput](").append(chartFile).append(")\n\n");
      b.append("Workloads (`bench/run` arguments):\n\n");
      List<String> seen = new ArrayList<>();
      for (Row r : rows) {
        if (seen.contains(r.workload)) continue;
        seen.add(r.workload);
        b.append("- ").append(r.workload).append(": `").append(r.arguments).append("`\n");
      }
    }
    if (!memory.isEmpty()) {
      b.append("\n## Memory with a million keys\n\n");
      b.append("Each round starts a fresh one-member etcd, then a fresh one-member vetcd, alone on the machine, and")
          .append(" loads it with `bench/run ").append(machine.getOrDefault("memory load", "?")).append("`")
          .append(" (a million distinct 8-byte keys with 256-byte values, 100 puts per txn). RSS is read right after")
          .append(" the load and again after ").append(machine.getOrDefault("memory settle seconds", "?"))
          .append(" quiet seconds (settled); medians of ").append(memory.get(0).vetcd().rounds()).append(" rounds.\n\n");
      b.append(memoryTable(memory));
    }
    return b.toString();
  }

  /** Horizontal bars of vetcd ÷ etcd throughput, with lines at parity (1) and at the target (1.5). */
  static String svg(List<Row> rows) {
    int labelWidth = 190;
    int barArea = 480;
    int rowHeight = 24;
    int top = 40;
    int height = top + rows.size() * rowHeight + 40;
    int width = labelWidth + barArea + 70;
    double maxRatio = Math.max(2.0, rows.stream().mapToDouble(Row::ratio).max().orElse(1) * 1.1);
    StringBuilder s = new StringBuilder();
    s.append(String.format(Locale.ROOT,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">%n",
        width, height));
    s.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", width, height));
    s.append("<text x=\"10\" y=\"22\" font-size=\"15\" font-weight=\"bold\">vetcd throughput ÷ etcd throughput"
        + " (higher is better)</text>\n");
    for (int i = 0; i < rows.size(); i++) {
      Row r = rows.get(i);
      int y = top + i * rowHeight;
      double ratio = r.ratio();
      int w = (int) Math.round(ratio / maxRatio * barArea);
      String color = ratio >= 1.5 ? "#2e7d32" : ratio >= 1 ? "#9ccc65" : "#e53935";
      s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s, %s member%s</text>%n",
          labelWidth - 8, y + 15, escape(r.workload), r.members, r.members.equals("1") ? "" : "s"));
      s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>%n",
          labelWidth, y + 3, w, rowHeight - 6, color));
      s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%.2f</text>%n", labelWidth + w + 4, y + 15, ratio));
    }
    int bottom = top + rows.size() * rowHeight;
    for (double mark : new double[] {1.0, 1.5}) {
      int x = labelWidth + (int) Math.round(mark / maxRatio * barArea);
      s.append(String.format(Locale.ROOT,
          "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\" stroke-dasharray=\"4 3\"/>%n", x, top - 4, x, bottom));
      s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>%n", x, bottom + 16,
          mark == 1.0 ? "1 = parity" : "1.5 = target"));
    }
    s.append("</svg>\n");
    return s.toString();
  }

  private static String escape(String text) {
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
