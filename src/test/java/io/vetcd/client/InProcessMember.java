package io.vetcd.client;

import io.vetcd.Vetcd;
import io.vetcd.server.ServerConfig;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** A single vetcd member inside the test JVM, on free loopback ports and a temporary data dir. */
public final class InProcessMember implements AutoCloseable {
  final int clientPort;
  final Path dataDir;
  private Vetcd vetcd;

  public InProcessMember() throws Exception {
    this.clientPort = freePort();
    this.dataDir = Files.createTempDirectory("vetcd-client");
    start();
  }

  public void start() throws Exception {
    int peerPort = freePort();
    String peer = "http://127.0.0.1:" + peerPort;
    String client = "http://127.0.0.1:" + clientPort;
    ServerConfig config = ServerConfig.parse(new String[] {
        "--name", "it", "--data-dir", dataDir.toString(),
        "--listen-client-urls", client, "--advertise-client-urls", client,
        "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
        "--initial-cluster", "it=" + peer}, Map.of());
    vetcd = Vetcd.start(config);
  }

  public void stop() {
    if (vetcd != null) {
      vetcd.close();
      vetcd = null;
    }
  }

  public String endpoint() {
    return "http://127.0.0.1:" + clientPort;
  }

  @Override
  public void close() throws IOException {
    stop();
    try (var files = Files.walk(dataDir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  public static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
