package io.vetcd.e2e;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs one scripted sequence of etcdctl commands against a reference member (real etcd) and a
 * member under test, normalizes each result (ids, terms, lease ids by order of appearance, remaining
 * TTLs) and reports every step whose exit code, stdout or stderr differs.
 */
public final class Differ {

  public enum Mode {
    /** compare exit code, normalized stdout and stderr. */
    NORMAL,
    /** long-running command (watch): terminated after a timeout, output collected and compared. */
    TIMED,
    /** compare only the set of JSON field paths of stdout (values are member specific). */
    SHAPE
  }

  /**
   * One etcdctl invocation. Args may contain placeholders resolved per side:
   * {L1}, {L2}... hex id of the n-th lease granted so far on that side; {REV}, {REV-2}, {REV+100}:
   * current store revision of that side (read just before the step); {CREV}, {CREV-1}: the last
   * revision passed to a successful compaction on that side.
   */
  public record Step(String name, Mode mode, String stdin, List<String> args) {
    @Override
    public String toString() {
      return name + ": etcdctl " + String.join(" ", args) + (stdin == null ? "" : " <<< " + stdin.replace("\n", "\\n"));
    }
  }

  public static Step step(String name, String... args) {
    return new Step(name, Mode.NORMAL, null, List.of(args));
  }

  public static Step stdin(String name, String stdin, String... args) {
    return new Step(name, Mode.NORMAL, stdin, List.of(args));
  }

  public static Step timed(String name, String... args) {
    return new Step(name, Mode.TIMED, null, List.of(args));
  }

  public static Step shape(String name, String... args) {
    return new Step(name, Mode.SHAPE, null, List.of(args));
  }

  static final Duration TIMED_DURATION = Duration.ofSeconds(Long.getLong("e2e.watchSec", 4));

  /** Per-side state for placeholders and lease normalization. */
  static final class Side {
    final Member member;
    final Etcdctl ctl;
    final List<String> leaseHex = new ArrayList<>();
    Long compacted;
    final List<String> transcript = new ArrayList<>();

    Side(Member member) {
      this.member = member;
      this.ctl = member.etcdctl();
    }

    long currentRevision() {
      Etcdctl.Result r = ctl.run("get", "__e2e_probe__", "-w", "json");
      if (r.exitCode() != 0) return -1;
      return ((Json.Num) Json.at(Json.parse(r.stdout()), "header", "revision")).longValue();
    }

    void registerLease(String hex) {
      hex = hex.toLowerCase();
      if (!leaseHex.contains(hex)) leaseHex.add(hex);
    }

    String leaseName(BigInteger id) {
      if (id.signum() == 0) return "0";
      String hex = String.format("%016x", id);
      int i = leaseHex.indexOf(hex);
      return i < 0 ? "L?" + hex : "L" + (i + 1);
    }
  }

  private static final Pattern PLACEHOLDER = Pattern.compile("\\{(L\\d+|REV|CREV)([+-]\\d+)?}");
  private static final Pattern GRANTED_TEXT = Pattern.compile("lease ([0-9a-f]{16}) granted with TTL");
  private static final Pattern COMPACTED_TEXT = Pattern.compile("^compacted revision (\\d+)$", Pattern.MULTILINE);
  private static final Pattern HEX16 = Pattern.compile("\\b[0-9a-f]{16}\\b");
  private static final Pattern REMAINING = Pattern.compile("TTL\\((\\d+)s\\), remaining\\((-?\\d+)s\\)");

  static List<String> resolve(Side side, List<String> args) {
    List<String> out = new ArrayList<>();
    for (String a : args) {
      Matcher m = PLACEHOLDER.matcher(a);
      StringBuilder sb = new StringBuilder();
      while (m.find()) {
        String what = m.group(1);
        long delta = m.group(2) == null ? 0 : Long.parseLong(m.group(2));
        String rep;
        if (what.startsWith("L")) {
          int n = Integer.parseInt(what.substring(1));
          rep = n <= side.leaseHex.size() ? side.leaseHex.get(n - 1) : "ffffffffffff" + n;
        } else if (what.equals("REV")) {
          rep = Long.toString(side.currentRevision() + delta);
        } else {
          rep = Long.toString((side.compacted == null ? 0 : side.compacted) + delta);
        }
        m.appendReplacement(sb, Matcher.quoteReplacement(rep));
      }
      m.appendTail(sb);
      out.add(sb.toString());
    }
    return out;
  }

  /** Runs one step on one side and returns the normalized record. */
  static String runStep(Side side, Step step) {
    List<String> args = resolve(side, step.args());
    Etcdctl.Result r = step.mode() == Mode.TIMED
        ? side.ctl.run(TIMED_DURATION, step.stdin(), args.toArray(String[]::new))
        : side.ctl.run(Etcdctl.DEFAULT_TIMEOUT, step.stdin(), args.toArray(String[]::new));
    side.transcript.add("### " + step + "\n" + r + "\n");
    boolean json = isJson(args);
    // learn lease ids and compaction from the raw output
    Matcher g = GRANTED_TEXT.matcher(r.stdout());
    while (g.find()) side.registerLease(g.group(1));
    if (json && args.size() >= 2 && args.get(0).equals("lease") && args.get(1).equals("grant") && r.exitCode() == 0) {
      Object id = Json.at(Json.parse(r.stdout()), "ID");
      if (id instanceof Json.Num n) side.registerLease(String.format("%016x", n.big()));
    }
    if (!args.isEmpty() && args.get(0).equals("compaction") && r.exitCode() == 0) {
      Matcher c = COMPACTED_TEXT.matcher(r.stdout());
      if (c.find()) side.compacted = Long.parseLong(c.group(1));
    }

    StringBuilder rec = new StringBuilder();
    rec.append("$ etcdctl ").append(String.join(" ", step.args()));
    if (step.stdin() != null) rec.append("  <<< ").append(step.stdin().replace("\n", "\\n"));
    rec.append('\n');
    if (step.mode() == Mode.TIMED) {
      rec.append("exit=").append(r.timedOut() ? "still-running-at-timeout" : Integer.toString(r.exitCode())).append('\n');
    } else {
      rec.append("exit=").append(r.timedOut() ? "TIMEOUT" : Integer.toString(r.exitCode())).append('\n');
    }
    String out;
    if (step.mode() == Mode.SHAPE) {
      out = shapeOf(r.stdout());
    } else if (json) {
      out = normalizeJsonOutput(side, r.stdout(), step.mode() == Mode.TIMED);
    } else {
      out = normalizeText(side, r.stdout());
      if (args.size() >= 2 && args.get(0).equals("lease") && args.get(1).equals("list")) {
        // "found N leases" then one id per line in the server's map order: sort the ids
        List<String> lines = new ArrayList<>(List.of(out.split("\n")));
        if (lines.size() > 1) {
          List<String> ids = new ArrayList<>(lines.subList(1, lines.size()));
          ids.sort(null);
          out = lines.get(0) + "\n" + String.join("\n", ids) + "\n";
        }
      }
    }
    rec.append("stdout:\n").append(out.isEmpty() || out.endsWith("\n") ? out : out + "\n");
    rec.append("stderr:\n").append(normalizeStderr(side, r.stderr()));
    return rec.toString();
  }

  static boolean isJson(List<String> args) {
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      if (a.equals("--write-out=json") || a.equals("-w=json")) return true;
      if ((a.equals("-w") || a.equals("--write-out")) && i + 1 < args.size() && args.get(i + 1).equals("json")) return true;
    }
    return false;
  }

  static String normalizeText(Side side, String s) {
    s = s.replace(side.member.endpoint(), "<endpoint>");
    Matcher m = REMAINING.matcher(s);
    StringBuilder sb = new StringBuilder();
    while (m.find()) {
      long granted = Long.parseLong(m.group(1));
      long rem = Long.parseLong(m.group(2));
      String remS = rem > 0 && rem <= granted ? "<0..granted>" : Long.toString(rem);
      m.appendReplacement(sb, Matcher.quoteReplacement("TTL(" + granted + "s), remaining(" + remS + ")"));
    }
    m.appendTail(sb);
    s = sb.toString();
    Matcher h = HEX16.matcher(s);
    sb = new StringBuilder();
    while (h.find()) {
      int i = side.leaseHex.indexOf(h.group());
      h.appendReplacement(sb, i < 0 ? h.group() : "L" + (i + 1));
    }
    h.appendTail(sb);
    // etcd keeps a lease's attached keys in a Go map: their printed order is random, so sort them.
    Matcher attached = ATTACHED_KEYS.matcher(sb.toString());
    StringBuilder sorted = new StringBuilder();
    while (attached.find()) {
      List<String> keys = new ArrayList<>(List.of(attached.group(1).split(" ")));
      keys.sort(null);
      attached.appendReplacement(sorted, Matcher.quoteReplacement("attached keys([" + String.join(" ", keys) + "])"));
    }
    attached.appendTail(sorted);
    return sorted.toString();
  }

  private static final Pattern ATTACHED_KEYS = Pattern.compile("attached keys\\(\\[([^\\]]*)\\]\\)");

  static String normalizeStderr(Side side, String s) {
    Set<String> lines = new LinkedHashSet<>();
    for (String l : s.split("\n")) {
      if (l.isBlank()) continue;
      if (l.startsWith("{\"level\"")) {
        try {
          Object o = Json.parse(l);
          Object e = Json.at(o, "error");
          if (e != null) lines.add("WARN " + e);
          continue;
        } catch (IllegalArgumentException ignored) {
          // fall through: keep line verbatim
        }
      }
      lines.add(l);
    }
    StringBuilder sb = new StringBuilder();
    for (String l : lines) sb.append(normalizeText(side, l)).append('\n');
    return sb.toString();
  }

  static String normalizeJsonOutput(Side side, String s, boolean watch) {
    List<Object> values;
    try {
      values = Json.parseAll(s);
    } catch (IllegalArgumentException e) {
      return "<unparseable json> " + normalizeText(side, s);
    }
    StringBuilder sb = new StringBuilder();
    if (watch) {
      // a watch prints one WatchResponse per line; how events are batched into responses is not part of
      // the contract, so flatten to one event per line and keep only non-default response flags.
      for (Object v : values) {
        Object events = Json.at(v, "Events");
        if (events instanceof List<?> l) for (Object ev : l) sb.append(Json.write(normalize(side, ev, null))).append('\n');
        for (String k : List.of("CompactRevision", "Canceled", "Created")) {
          Object f = Json.at(v, k);
          if (f != null && !f.toString().equals("0") && !f.toString().equals("false")) {
            sb.append(k).append('=').append(f).append('\n');
          }
        }
      }
      return sb.toString();
    }
    for (Object v : values) sb.append(Json.write(normalize(side, v, null))).append('\n');
    return sb.toString();
  }

  private static final Set<String> VOLATILE = Set.of("cluster_id", "member_id", "raft_term");
  private static final Set<String> LEASE_FIELDS = Set.of("ID", "id", "lease");

  @SuppressWarnings("unchecked")
  static Object normalize(Side side, Object o, String key) {
    if (o instanceof Map<?, ?> m0) {
      Map<String, Object> m = (Map<String, Object>) m0;
      Map<String, Object> out = new LinkedHashMap<>();
      for (Map.Entry<String, Object> e : m.entrySet()) {
        String k = e.getKey();
        Object v = e.getValue();
        if (VOLATILE.contains(k)) {
          out.put(k, "*");
        } else if (LEASE_FIELDS.contains(k) && v instanceof Json.Num n) {
          out.put(k, side.leaseName(n.big()));
        } else if ((k.equals("key") || k.equals("value")) && v instanceof String str) {
          out.put(k, decode(str));
        } else if (k.equals("ttl") && v instanceof Json.Num n && m.get("granted-ttl") instanceof Json.Num g) {
          long ttl = n.longValue();
          out.put(k, ttl > 0 && ttl <= g.longValue() ? "<0..granted>" : n.raw());
        } else if (k.equals("keys") && v instanceof List<?> l) {
          List<Object> keys = new ArrayList<>();
          for (Object x : l) keys.add(x instanceof String str ? decode(str) : x);
          keys.sort((a, b) -> String.valueOf(a).compareTo(String.valueOf(b))); // etcd keeps a lease's keys in a Go map
          out.put(k, keys);
        } else if (k.equals("leases") && v instanceof List<?> l) {
          List<Object> ls = new ArrayList<>();
          for (Object x : l) ls.add(normalize(side, x, k));
          ls.sort((a, b) -> Json.write(a).compareTo(Json.write(b))); // etcd lists leases in map order
          out.put(k, ls);
        } else {
          out.put(k, normalize(side, v, k));
        }
      }
      return out;
    }
    if (o instanceof List<?> l) {
      List<Object> out = new ArrayList<>();
      for (Object x : l) out.add(normalize(side, x, key));
      return out;
    }
    return o;
  }

  private static String decode(String b64) {
    try {
      return "=" + new String(Base64.getDecoder().decode(b64), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return b64;
    }
  }

  static String shapeOf(String s) {
    List<Object> values;
    try {
      values = Json.parseAll(s);
    } catch (IllegalArgumentException e) {
      return "<unparseable json>\n" + s;
    }
    Set<String> paths = new TreeSet<>();
    for (Object v : values) collectPaths(v, "$", paths);
    return String.join("\n", paths) + "\n";
  }

  private static void collectPaths(Object o, String path, Set<String> out) {
    if (o instanceof Map<?, ?> m) {
      out.add(path + "{}");
      for (Map.Entry<?, ?> e : m.entrySet()) collectPaths(e.getValue(), path + "." + e.getKey(), out);
    } else if (o instanceof List<?> l) {
      out.add(path + "[]");
      for (Object x : l) collectPaths(x, path + "[]", out);
    } else {
      String t = o instanceof String ? "string" : o instanceof Json.Num ? "number" : o instanceof Boolean ? "bool" : "null";
      out.add(path + ":" + t);
    }
  }

  /** Result of comparing one script. */
  public record Outcome(List<String> reference, List<String> candidate, List<Step> steps, String report) {
    public boolean same() { return report.isEmpty(); }
  }

  /** Runs the script against both members (concurrently, each side sequentially) and compares. */
  public static Outcome compare(String title, Member reference, Member candidate, List<Step> steps) {
    Side ref = new Side(reference);
    Side cand = new Side(candidate);
    CompletableFuture<List<String>> a = CompletableFuture.supplyAsync(() -> runAll(ref, steps));
    CompletableFuture<List<String>> b = CompletableFuture.supplyAsync(() -> runAll(cand, steps));
    List<String> ra = a.join();
    List<String> rb = b.join();
    StringBuilder report = new StringBuilder();
    int mismatches = 0;
    for (int i = 0; i < steps.size(); i++) {
      if (!ra.get(i).equals(rb.get(i))) {
        mismatches++;
        report.append("\n=== step ").append(i + 1).append(" [").append(steps.get(i).name()).append("] differs\n");
        report.append(diff(ra.get(i), rb.get(i), reference.kind().toString(), candidate.kind().toString()));
      }
    }
    if (mismatches > 0) {
      report.insert(0, title + ": " + mismatches + " of " + steps.size() + " steps differ (" + reference + " vs "
          + candidate + ")\n");
    }
    writeReport(title, ref, cand, ra, rb, report.toString());
    return new Outcome(ra, rb, steps, report.toString());
  }

  private static List<String> runAll(Side side, List<Step> steps) {
    List<String> out = new ArrayList<>();
    for (Step s : steps) out.add(runStep(side, s));
    return out;
  }

  /** A line diff: common lines with two spaces, reference-only with '-', candidate-only with '+'. */
  static String diff(String a, String b, String nameA, String nameB) {
    String[] x = a.split("\n", -1);
    String[] y = b.split("\n", -1);
    int[][] lcs = new int[x.length + 1][y.length + 1];
    for (int i = x.length - 1; i >= 0; i--) {
      for (int j = y.length - 1; j >= 0; j--) {
        lcs[i][j] = x[i].equals(y[j]) ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
      }
    }
    StringBuilder sb = new StringBuilder("--- " + nameA + "\n+++ " + nameB + "\n");
    int i = 0;
    int j = 0;
    while (i < x.length || j < y.length) {
      if (i < x.length && j < y.length && x[i].equals(y[j])) {
        sb.append("  ").append(x[i]).append('\n');
        i++;
        j++;
      } else if (i < x.length && (j == y.length || lcs[i + 1][j] >= lcs[i][j + 1])) {
        sb.append("- ").append(x[i++]).append('\n');
      } else {
        sb.append("+ ").append(y[j++]).append('\n');
      }
    }
    return sb.toString();
  }

  private static void writeReport(String title, Side ref, Side cand, List<String> ra, List<String> rb, String report) {
    try {
      Path dir = Path.of(System.getProperty("e2e.reportDir", "target/e2e-reports"));
      Files.createDirectories(dir);
      String base = title.replaceAll("[^A-Za-z0-9_.-]", "_");
      Files.writeString(dir.resolve(base + ".reference.txt"), String.join("\n", ra));
      Files.writeString(dir.resolve(base + ".candidate.txt"), String.join("\n", rb));
      Files.writeString(dir.resolve(base + ".reference.raw.txt"), String.join("\n", ref.transcript));
      Files.writeString(dir.resolve(base + ".candidate.raw.txt"), String.join("\n", cand.transcript));
      Files.writeString(dir.resolve(base + ".diff.txt"), report.isEmpty() ? "no differences\n" : report);
    } catch (IOException ignored) {
      // reports are a convenience only
    }
  }
}
