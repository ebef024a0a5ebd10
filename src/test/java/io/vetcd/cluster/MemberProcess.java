package io.vetcd.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One vetcd member of a loopback cluster, run as its own JVM ({@code io.vetcd.Vetcd} on the test
 * classpath) so that it can be killed, paused and restarted like a real member. Its data dir and log
 * are {@code <root>/<name>.vetcd} and {@code <root>/<name>.log}; every start appends to the log.
 * Readiness is left to the tests: each waits for its own notion of it (a leader, a caught-up read).
 */
class MemberProcess {
  /** Small and quick to start: several members and the test share a small machine. */
  static final List<String> JVM_FLAGS = List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

  final String name;
  final int clientPort = freePort();
  final int peerPort = freePort();
  final Path dataDir;
  final Path log;
  private final List<String> extraJvmFlags;
  private Process process;

  /** {@code extraJvmFlags} come after {@link #JVM_FLAGS}, e.g. a test-only {@code -D} property. */
  MemberProcess(String name, Path root, String... extraJvmFlags) {
    this.name = name;
    this.dataDir = root.resolve(name + ".vetcd");
    this.log = root.resolve(name + ".log");
    this.extraJvmFlags = List.of(extraJvmFlags);
  }

  /** The client URL, as clients take it. */
  String endpoint() {
    return "http://127.0.0.1:" + clientPort;
  }

  /** The client address without a scheme, as etcdctl's {@code --endpoints} takes it. */
  String clientAddress() {
    return "127.0.0.1:" + clientPort;
  }

  String peerUrl() {
    return "http://127.0.0.1:" + peerPort;
  }

  /**
   * Starts the member of a cluster bootstrapped from a static list: etcd's flags for its name, peer URL,
   * cluster token and initial cluster, then {@code moreFlags}.
   */
  void startInCluster(String clusterToken, String initialCluster, String... moreFlags) throws IOException {
    List<String> flags = new ArrayList<>(List.of(
        "--name", name, "--initial-advertise-peer-urls", peerUrl(),
        "--initial-cluster-token", clusterToken, "--initial-cluster", initialCluster));
    flags.addAll(List.of(moreFlags));
    start(flags, Map.of());
  }

  /**
   * Starts the member with only its data dir and URLs as flags, the rest from {@code etcdVariables}
   * ({@code ETCD_NAME}, ...), as {@code etcdctl member add} prints them.
   */
  void startWithEnvironment(Map<String, String> etcdVariables) throws IOException {
    start(List.of(), etcdVariables);
  }

  private void start(List<String> flags, Map<String, String> etcdVariables) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(JVM_FLAGS);
    command.addAll(extraJvmFlags);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.vetcd.Vetcd",
        "--data-dir", dataDir.toString(),
        "--listen-client-urls", endpoint(), "--advertise-client-urls", endpoint(),
        "--listen-peer-urls", peerUrl()));
    command.addAll(flags);
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    // vetcd reads ETCD_* variables for flags not given: only the test's own may configure the member
    builder.environment().keySet().removeIf(k -> k.startsWith("ETCD_"));
    builder.environment().putAll(etcdVariables);
    // marks where each (re)start begins in the appended log
    Files.writeString(log, "\n===== start\n", StandardCharsets.UTF_8,
        StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    process = builder.start();
  }

  boolean isAlive() {
    return process != null && process.isAlive();
  }

  long pid() {
    return process.pid();
  }

  /** Waits for the process to exit by itself; true if it did. */
  boolean waitFor(long timeout, TimeUnit unit) throws InterruptedException {
    return process.waitFor(timeout, unit);
  }

  /** SIGKILL, as {@code kill -9}: no shutdown hook runs. Does nothing if the member was never started. */
  void kill9() throws InterruptedException {
    if (process == null) {
      return;
    }
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }

  static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
