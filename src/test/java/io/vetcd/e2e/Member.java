package io.vetcd.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One single-node member of either real etcd or vetcd, started as a separate OS process with the
 * same command-line flags. Parallel-safe: every member gets its own random ports and temp dirs.
 * Processes are also killed by a JVM shutdown hook if a test forgets to close them.
 */
public final class Member implements AutoCloseable {

  public enum Kind {
    ETCD, VETCD;

    /** The kind under test: system property {@code e2e.target=etcd|vetcd}, default vetcd. */
    public static Kind target() {
      String t = System.getProperty("e2e.target", "vetcd").trim().toLowerCase();
      return switch (t) {
        case "etcd" -> ETCD;
        case "vetcd" -> VETCD;
        default -> throw new IllegalArgumentException("e2e.target must be etcd or vetcd, got " + t);
      };
    }
  }

  public static final String ETCD_BIN = System.getProperty("e2e.etcd", "/usr/bin/etcd");

  private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      for (Process p : LIVE) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
      }
    }, "e2e-member-reaper"));
  }

  private final Kind kind;
  private final String name;
  private final int clientPort;
  private final int peerPort;
  private final Path baseDir;
  private final Path dataDir;
  private final Path logFile;
  private final Duration readyTimeout;
  private Process process;
  private int starts;
  /** Extra ETCD_* variables (etcd's flags as environment), the same for etcd and vetcd. */
  private final Map<String, String> environment = new java.util.concurrent.ConcurrentHashMap<>();

  private Member(Kind kind, int clientPort, int peerPort, Path baseDir) {
    this.kind = kind;
    this.name = "n1";
    this.clientPort = clientPort;
    this.peerPort = peerPort;
    this.baseDir = baseDir;
    this.dataDir = baseDir.resolve("data");
    this.logFile = baseDir.resolve("member.log");
    this.readyTimeout = Duration.ofSeconds(Long.getLong("e2e.readyTimeoutSec", kind == Kind.VETCD ? 90 : 30));
  }

  /** Starts a fresh member of the given kind on free random ports with a fresh temp data dir. */
  public static Member start(Kind kind) {
    IOException last = null;
    for (int attempt = 0; attempt < 3; attempt++) {
      int[] ports = freePorts(2);
      Path base;
      try {
        base = Files.createTempDirectory("e2e-" + kind.name().toLowerCase() + "-");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      Member m = new Member(kind, ports[0], ports[1], base);
      try {
        m.launch();
        m.awaitReady();
        return m;
      } catch (PortRaceException e) {
        // someone grabbed our port between allocation and bind; retry with new ports
        m.close();
        last = new IOException(e.getMessage());
      } catch (RuntimeException | Error e) {
        m.close();
        throw e;
      }
    }
    throw new UncheckedIOException("could not start " + kind, last);
  }

  /** Starts a member on explicit ports and data dir (the data dir may already contain state). */
  public static Member start(Kind kind, int clientPort, int peerPort, Path baseDir) {
    Member m = new Member(kind, clientPort, peerPort, baseDir);
    m.launch();
    m.awaitReady();
    return m;
  }

  public Kind kind() { return kind; }
  /** Sets an environment variable (e.g. {@code ETCD_SNAPSHOT_COUNT}) for the next start. */
  public Member withEnvironment(String name, String value) { environment.put(name, value); return this; }
  public int clientPort() { return clientPort; }
  public int peerPort() { return peerPort; }
  public Path dataDir() { return dataDir; }
  public Path logFile() { return logFile; }
  /** host:port as used by {@code etcdctl --endpoints}. */
  public String endpoint() { return "127.0.0.1:" + clientPort; }
  public String clientUrl() { return "http://127.0.0.1:" + clientPort; }
  public Etcdctl etcdctl() { return new Etcdctl(endpoint()); }
  public boolean isAlive() { return process != null && process.isAlive(); }
  public long pid() { return process.pid(); }

  List<String> command() {
    List<String> cmd = new ArrayList<>();
    if (kind == Kind.ETCD) {
      cmd.add(ETCD_BIN);
    } else {
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      cmd.add("-Xmx512m");
      cmd.add("-cp");
      cmd.add(System.getProperty("java.class.path"));
      cmd.add("io.vetcd.Vetcd");
    }
    String peer = "http://127.0.0.1:" + peerPort;
    String client = "http://127.0.0.1:" + clientPort;
    cmd.addAll(List.of(
        "--name", name,
        "--data-dir", dataDir.toString(),
        "--listen-client-urls", client,
        "--advertise-client-urls", client,
        "--listen-peer-urls", peer,
        "--initial-advertise-peer-urls", peer,
        "--initial-cluster", name + "=" + peer));
    return cmd;
  }

  private synchronized void launch() {
    if (isAlive()) throw new IllegalStateException("already running");
    ProcessBuilder pb = new ProcessBuilder(command());
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
    pb.environment().keySet().removeIf(k -> k.startsWith("ETCD"));
    pb.environment().putAll(environment);
    try {
      String shown = String.join(" ", command()).replace(System.getProperty("java.class.path"), "<test classpath>");
      Files.writeString(logFile, "\n===== start #" + (++starts) + " " + shown + "\n",
          StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
      process = pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + kind + ": " + e.getMessage(), e);
    }
    LIVE.add(process);
  }

  private void awaitReady() {
    long deadline = System.nanoTime() + readyTimeout.toNanos();
    Etcdctl ctl = etcdctl();
    String lastErr = "";
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        String tail = logTail(40);
        String since = tail.substring(Math.max(0, tail.lastIndexOf("===== start #")));
        if (since.toLowerCase().contains("address already in use")) throw new PortRaceException(tail);
        throw new AssertionError(kind + " exited with code " + process.exitValue()
            + " before becoming ready; log tail:\n" + tail);
      }
      if (tcpOpen()) {
        Etcdctl.Result r = ctl.run(Duration.ofSeconds(5), null, "--dial-timeout=1s", "--command-timeout=2s", "get", "x");
        if (r.exitCode() == 0) return;
        lastErr = r.stderr();
      }
      sleep(100);
    }
    String tail = logTail(40);
    kill9();
    throw new AssertionError(kind + " not ready after " + readyTimeout + "; last etcdctl stderr: " + lastErr
        + "\nlog tail:\n" + tail);
  }

  private boolean tcpOpen() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", clientPort), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Graceful stop: SIGTERM, wait up to 15 s, then SIGKILL. Returns the exit code. */
  public synchronized int stop() {
    if (process == null) return -1;
    process.destroy(); // SIGTERM on Linux
    try {
      if (!process.waitFor(15, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    LIVE.remove(process);
    return process.isAlive() ? -1 : process.exitValue();
  }

  /** SIGKILL, waits until the process is gone. */
  public synchronized void kill9() {
    if (process == null) return;
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    LIVE.remove(process);
  }

  /** (Re)starts on the same ports and data dir; stops the current process first if it is alive. */
  public synchronized void restart() {
    if (isAlive()) stop();
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (true) {
      launch();
      try {
        awaitReady();
        return;
      } catch (PortRaceException e) {
        // old socket still lingering; retry for a while
        if (System.nanoTime() > deadline) throw new AssertionError("port stays busy on restart:\n" + e.getMessage());
        sleep(500);
      }
    }
  }

  public String logTail(int lines) {
    try {
      if (!Files.exists(logFile)) return "(no log)";
      List<String> all = Files.readAllLines(logFile, StandardCharsets.UTF_8);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(cannot read log: " + e + ")";
    }
  }

  @Override
  public void close() {
    if (process != null && process.isAlive()) stop();
    if (!Boolean.getBoolean("e2e.keep")) deleteRecursively(baseDir);
  }

  @Override
  public String toString() {
    return kind + "@" + endpoint() + " (" + baseDir + ")";
  }

  // ---------------------------------------------------------------- helpers

  static int[] freePorts(int n) {
    int[] ports = new int[n];
    List<ServerSocket> held = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        ServerSocket s = new ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"));
        s.setReuseAddress(true);
        held.add(s);
        ports[i] = s.getLocalPort();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      for (ServerSocket s : held) {
        try { s.close(); } catch (IOException ignored) { }
      }
    }
    return ports;
  }

  static void deleteRecursively(Path p) {
    if (p == null || !Files.exists(p)) return;
    try (Stream<Path> w = Files.walk(p)) {
      w.sorted(Comparator.reverseOrder()).forEach(f -> {
        try { Files.deleteIfExists(f); } catch (IOException ignored) { }
      });
    } catch (IOException ignored) {
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RuntimeException(e);
    }
  }

  private static final class PortRaceException extends RuntimeException {
    PortRaceException(String msg) { super(msg); }
  }
}
