package io.vetcd.http;

import io.vertx.core.json.JsonObject;
import io.vetcd.Vetcd;
import io.vetcd.server.ServerConfig;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * A single vetcd member inside the test JVM on free loopback ports, and an HTTP/1.1 client that talks
 * to its client port as curl would.
 */
final class GatewayMember implements AutoCloseable {
  final int clientPort;
  private final Path dataDir;
  private final Vetcd vetcd;
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  GatewayMember(String... extraFlags) throws Exception {
    this.clientPort = freePort();
    this.dataDir = Files.createTempDirectory("vetcd-gw");
    String peer = "http://127.0.0.1:" + freePort();
    String client = "http://127.0.0.1:" + clientPort;
    List<String> args = new ArrayList<>(List.of("--name", "gw", "--data-dir", dataDir.toString(),
        "--listen-client-urls", client, "--advertise-client-urls", client,
        "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "gw=" + peer));
    args.addAll(List.of(extraFlags));
    this.vetcd = Vetcd.start(ServerConfig.parse(args.toArray(String[]::new), Map.of()));
  }

  URI uri(String path) {
    return URI.create("http://127.0.0.1:" + clientPort + path);
  }

  HttpResponse<String> post(String path, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(20))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> get(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(20)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** POSTs and expects 200 with a JSON object. */
  JsonObject call(String path, String body) throws Exception {
    HttpResponse<String> response = post(path, body);
    if (response.statusCode() != 200) {
      throw new AssertionError(path + " answered " + response.statusCode() + ": " + response.body());
    }
    return new JsonObject(response.body());
  }

  static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  static String unb64(String s) {
    return new String(Base64.getDecoder().decode(s), StandardCharsets.UTF_8);
  }

  @Override
  public void close() throws IOException {
    vetcd.close();
    try (var files = Files.walk(dataDir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
