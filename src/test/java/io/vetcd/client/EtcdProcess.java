package io.vetcd.client;

import java.io.File;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** A real etcd 3.4 ({@code /usr/bin/etcd}) on free loopback ports with a temporary data dir. */
public final class EtcdProcess implements AutoCloseable {
  static final String BIN = System.getProperty("client.etcd", "/usr/bin/etcd");
  final int clientPort;
  /** Chosen once: a restart listens where the member was, as an operator's restart does. */
  final int peerPort;
  final Path dataDir;
  private Process process;

  public EtcdProcess() throws Exception {
    this.clientPort = InProcessMember.freePort();
    this.peerPort = InProcessMember.freePort();
    this.dataDir = Files.createTempDirectory("vetcd-client-etcd");
    start();
  }

  public static boolean available() {
    return new File(BIN).canExecute();
  }

  public void start() throws Exception {
    String peer = "http://127.0.0.1:" + peerPort;
    String client = endpoint();
    process = new ProcessBuilder(List.of(BIN, "--name", "e", "--data-dir", dataDir.toString(),
        "--listen-client-urls", client, "--advertise-client-urls", client,
        "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "e=" + peer))
        .redirectErrorStream(true).redirectOutput(dataDir.resolveSibling(dataDir.getFileName() + ".log").toFile())
        .start();
    long deadline = System.currentTimeMillis() + 15_000;
    while (System.currentTimeMillis() < deadline) {
      try (Socket s = new Socket("127.0.0.1", clientPort)) {
        Thread.sleep(300); // listening; give raft a moment to elect itself
        return;
      } catch (Exception notYet) {
        Thread.sleep(100);
      }
    }
    throw new IllegalStateException("etcd did not start");
  }

  /** kill -9. */
  public void kill() throws Exception {
    process.destroyForcibly().waitFor();
  }

  public String endpoint() {
    return "http://127.0.0.1:" + clientPort;
  }

  @Override
  public void close() throws Exception {
    if (process != null) {
      process.destroyForcibly().waitFor();
    }
    try (var files = Files.walk(dataDir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
