package io.vetcd.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.*;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.GetOption;
import io.vetcd.Vetcd;
import io.vetcd.server.ServerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** etcd's peer TLS flags: three members replicating over https peer URLs. */
class PeerTlsTest {
  static Path pki;

  @BeforeAll
  static void makeCertificates() throws Exception {
    pki = TestPki.create();
  }

  /** Starts three members in this JVM with {@code tlsFlags} and https peer URLs. */
  static List<Vetcd> cluster(Path dir, int[] clientPorts, List<String> tlsFlags) throws Exception {
    int[] peerPorts = new int[3];
    StringBuilder initial = new StringBuilder();
    for (int i = 0; i < 3; i++) {
      clientPorts[i] = InProcessMember.freePort();
      peerPorts[i] = InProcessMember.freePort();
      initial.append(i == 0 ? "" : ",").append("p").append(i).append("=https://127.0.0.1:").append(peerPorts[i]);
    }
    Vetcd[] members = new Vetcd[3];
    Exception[] failures = new Exception[3];
    List<Thread> starts = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      int n = i;
      List<String> flags = new ArrayList<>(List.of("--name", "p" + n, "--data-dir", dir.resolve("p" + n).toString(),
          "--listen-client-urls", "http://127.0.0.1:" + clientPorts[n],
          "--advertise-client-urls", "http://127.0.0.1:" + clientPorts[n],
          "--listen-peer-urls", "https://127.0.0.1:" + peerPorts[n],
          "--initial-advertise-peer-urls", "https://127.0.0.1:" + peerPorts[n],
          "--initial-cluster", initial.toString()));
      flags.addAll(tlsFlags);
      Thread t = new Thread(() -> {
        try {
          members[n] = Vetcd.start(ServerConfig.parse(flags.toArray(String[]::new), Map.of()));
        } catch (Exception e) {
          failures[n] = e;
        }
      });
      t.start();
      starts.add(t);
    }
    for (Thread t : starts) {
      t.join();
    }
    for (Exception e : failures) {
      if (e != null) {
        for (Vetcd m : members) {
          if (m != null) m.close();
        }
        throw e;
      }
    }
    return List.of(members);
  }

  static void replicates(int[] clientPorts) throws Exception {
    try (Client first = Client.builder().endpoints("http://127.0.0.1:" + clientPorts[0]).build();
        Client last = Client.builder().endpoints("http://127.0.0.1:" + clientPorts[2]).build()) {
      for (int i = 0; i < 20; i++) {
        first.getKVClient().put(ByteSequence.from("tls/" + i, UTF_8), ByteSequence.from("v" + i, UTF_8))
            .get(20, TimeUnit.SECONDS);
      }
      var got = last.getKVClient().get(ByteSequence.from("tls/", UTF_8), GetOption.builder().isPrefix(true).build())
          .get(20, TimeUnit.SECONDS);
      assertEquals(20, got.getCount(), "a linearizable read on another member sees every write");
      var members = last.getClusterClient().listMember().get(20, TimeUnit.SECONDS).getMembers();
      assertEquals(3, members.size());
      for (var m : members) {
        assertTrue(m.getPeerURIs().get(0).toString().startsWith("https://127.0.0.1:"), m.getPeerURIs().toString());
      }
    }
  }

  @Test
  void peers_with_certificates_from_a_ca_and_client_cert_auth() throws Exception {
    Path dir = Files.createTempDirectory("vetcd-peer-tls");
    int[] clientPorts = new int[3];
    List<Vetcd> members = cluster(dir, clientPorts, List.of(
        "--peer-cert-file", pki.resolve("server.crt").toString(), "--peer-key-file", pki.resolve("server.key").toString(),
        "--peer-trusted-ca-file", pki.resolve("ca.crt").toString(), "--peer-client-cert-auth"));
    try {
      replicates(clientPorts);
      // each member measures its round trip to the others (etcd's metric, one histogram per peer)
      java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      long peersMeasured = 0;
      String metrics = "";
      while (peersMeasured < 2 && System.nanoTime() < deadline) {
        Thread.sleep(500);
        metrics = http.send(java.net.http.HttpRequest.newBuilder(
            java.net.URI.create("http://127.0.0.1:" + clientPorts[0] + "/metrics")).build(),
            java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        peersMeasured = metrics.lines().filter(l -> l.startsWith("etcd_network_peer_round_trip_time_seconds_count{To=")).count();
      }
      assertEquals(2, peersMeasured, "a round-trip histogram for each of the two peers");
      // and counts the bytes it exchanged with each of them
      assertEquals(2, metrics.lines().filter(l -> l.matches("etcd_network_peer_sent_bytes_total\\{To=\"[0-9a-f]+\"\\} [1-9][0-9]*")).count(),
          metrics);
      assertEquals(2, metrics.lines().filter(l -> l.matches("etcd_network_peer_received_bytes_total\\{From=\"[0-9a-f]+\"\\} [1-9][0-9]*")).count(),
          metrics);
    } finally {
      members.forEach(Vetcd::close);
    }
  }

  @Test
  void peers_with_auto_tls() throws Exception {
    Path dir = Files.createTempDirectory("vetcd-peer-autotls");
    int[] clientPorts = new int[3];
    List<Vetcd> members = cluster(dir, clientPorts, List.of("--peer-auto-tls"));
    try {
      replicates(clientPorts);
      assertTrue(Files.exists(dir.resolve("p0/fixtures/peer/cert.p12")), "the generated certificate is kept");
    } finally {
      members.forEach(Vetcd::close);
    }
  }

  @Test
  void an_https_peer_url_without_a_certificate_is_refused_as_etcd_does() throws Exception {
    Path dir = Files.createTempDirectory("vetcd-peer-notls");
    int port = InProcessMember.freePort();
    String peer = "https://127.0.0.1:" + port;
    int clientPort = InProcessMember.freePort();
    ServerConfig config = ServerConfig.parse(new String[] {"--data-dir", dir.toString(),
        "--listen-client-urls", "http://127.0.0.1:" + clientPort, "--advertise-client-urls", "http://127.0.0.1:" + clientPort,
        "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "default=" + peer},
        Map.of());
    Exception refused = assertThrows(IllegalArgumentException.class, () -> Vetcd.start(config));
    assertEquals("cannot listen on TLS for 127.0.0.1:" + port + ": KeyFile and CertFile are not presented",
        refused.getMessage());
  }
}
