package io.vetcd.it;

import io.vetcd.Vetcd;
import io.vetcd.server.ServerConfig;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** A single vetcd member inside the test JVM, on free loopback ports and a temporary data dir. */
final class InProcessMember implements AutoCloseable {
  final int clientPort;
  final Path dataDir;
  private final String[] extraFlags;
  private Vetcd vetcd;

  InProcessMember(String... extraFlags) throws Exception {
    this.extraFlags = extraFlags;
    this.clientPort = freePort();
    this.dataDir = Files.createTempDirectory("vetcd-it");
    start();
  }

  void start() throws Exception {
    int peerPort = freePort();
    String peer = "http://127.0.0.1:" + peerPort;
    boolean https = List.of(extraFlags).contains("--https");
    String client = (https ? "https" : "http") + "://127.0.0.1:" + clientPort;
    java.util.List<String> flags = new java.util.ArrayList<>(java.util.List.of(
        "--name", "it", "--data-dir", dataDir.toString(),
        "--listen-client-urls", client, "--advertise-client-urls", client,
        "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
        "--initial-cluster", "it=" + peer));
    flags.addAll(java.util.List.of(extraFlags).stream().filter(f -> !f.equals("--https")).toList());
    ServerConfig config = ServerConfig.parse(flags.toArray(String[]::new), Map.of());
    vetcd = Vetcd.start(config);
  }

  void stop() {
    if (vetcd != null) {
      vetcd.close();
      vetcd = null;
    }
  }

  String endpoint() {
    return "http://127.0.0.1:" + clientPort;
  }

  @Override
  public void close() throws IOException {
    stop();
    try (var files = Files.walk(dataDir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
