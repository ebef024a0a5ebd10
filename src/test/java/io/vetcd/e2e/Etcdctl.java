package io.vetcd.e2e;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** Runs {@code /usr/bin/etcdctl} (API v3) against one endpoint. */
public final class Etcdctl {

  public static final String BIN = System.getProperty("e2e.etcdctl", "/usr/bin/etcdctl");
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  /** Outcome of one etcdctl invocation; {@code timedOut} means we terminated it ourselves. */
  public record Result(List<String> args, int exitCode, String stdout, String stderr, boolean timedOut) {
    /** The human "Error: ..." lines etcdctl prints on stderr. */
    public List<String> errorLines() {
      List<String> out = new ArrayList<>();
      for (String l : stderr.split("\n")) if (l.startsWith("Error:")) out.add(l);
      return out;
    }

    public Result assertOk() {
      if (exitCode != 0 || timedOut) throw new AssertionError("etcdctl failed: " + this);
      return this;
    }

    @Override
    public String toString() {
      return "etcdctl " + String.join(" ", args) + " -> exit=" + exitCode + (timedOut ? " (timed out)" : "")
          + "\n--- stdout ---\n" + stdout + "\n--- stderr ---\n" + stderr;
    }
  }

  private final String endpoint;

  public Etcdctl(String endpoint) {
    this.endpoint = endpoint;
  }

  public String endpoint() { return endpoint; }

  public Result run(String... args) {
    return run(DEFAULT_TIMEOUT, null, args);
  }

  public Result runWithStdin(String stdin, String... args) {
    return run(DEFAULT_TIMEOUT, stdin, args);
  }

  private ProcessBuilder builder(String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(BIN);
    cmd.add("--endpoints=" + endpoint);
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().keySet().removeIf(k -> k.startsWith("ETCDCTL_"));
    pb.environment().put("ETCDCTL_API", "3");
    return pb;
  }

  /**
   * Runs etcdctl, feeding {@code stdin} (or closing stdin if null). When {@code timeout} elapses the
   * process is terminated (SIGTERM, then SIGKILL) and whatever it printed so far is returned with
   * {@code timedOut=true} — that is how finite-duration watches are collected.
   */
  public Result run(Duration timeout, String stdin, String... args) {
    ProcessBuilder pb = builder(args);
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Pump out = new Pump(p.getInputStream());
    Pump err = new Pump(p.getErrorStream());
    try (OutputStream os = p.getOutputStream()) {
      if (stdin != null) os.write(stdin.getBytes(StandardCharsets.UTF_8));
    } catch (IOException ignored) {
      // process may have exited before reading stdin
    }
    boolean timedOut = false;
    try {
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        timedOut = true;
        p.destroy();
        if (!p.waitFor(5, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          p.waitFor(5, TimeUnit.SECONDS);
        }
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new RuntimeException(e);
    }
    return new Result(List.of(args), p.isAlive() ? -1 : p.exitValue(), out.text(), err.text(), timedOut);
  }

  /** Starts a long-running etcdctl (e.g. watch) whose stdout lines can be consumed one by one. */
  public Background start(String... args) {
    try {
      return new Background(builder(args).start(), List.of(args));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A running etcdctl process; stdout is delivered line by line. */
  public static final class Background implements AutoCloseable {
    private static final String EOF = new String("<EOF>");
    private final Process process;
    private final List<String> args;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> seen = java.util.Collections.synchronizedList(new ArrayList<>());
    private final Pump err;

    Background(Process p, List<String> args) {
      this.process = p;
      this.args = args;
      try { p.getOutputStream().close(); } catch (IOException ignored) { }
      this.err = new Pump(p.getErrorStream());
      Thread t = new Thread(() -> {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
          String l;
          while ((l = r.readLine()) != null) {
            seen.add(l);
            lines.add(l);
          }
        } catch (IOException ignored) {
        } finally {
          lines.add(EOF);
        }
      }, "etcdctl-bg-stdout");
      t.setDaemon(true);
      t.start();
    }

    /** Next stdout line, or null on timeout; throws if the process ended. */
    public String nextLine(Duration timeout) {
      try {
        String l = lines.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (l == EOF) {
          lines.add(EOF);
          throw new AssertionError("etcdctl " + String.join(" ", args) + " exited (" + exitCodeOrRunning()
              + ") ; stdout so far: " + seen + " ; stderr: " + err.text());
        }
        return l;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new RuntimeException(e);
      }
    }

    /** Everything printed on stdout so far. */
    public List<String> seen() {
      synchronized (seen) { return new ArrayList<>(seen); }
    }

    public String stderr() { return err.text(); }

    private String exitCodeOrRunning() {
      return process.isAlive() ? "running" : "exit " + process.exitValue();
    }

    @Override
    public void close() {
      process.destroy();
      try {
        if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly();
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Drains a stream on a daemon thread. */
  static final class Pump {
    private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
    private final Thread thread;

    Pump(InputStream in) {
      thread = new Thread(() -> {
        byte[] b = new byte[8192];
        try (in) {
          int n;
          while ((n = in.read(b)) > 0) {
            synchronized (buf) { buf.write(b, 0, n); }
          }
        } catch (IOException ignored) {
        }
      }, "etcdctl-pump");
      thread.setDaemon(true);
      thread.start();
    }

    String text() {
      try {
        thread.join(2000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      synchronized (buf) { return buf.toString(StandardCharsets.UTF_8); }
    }
  }
}
