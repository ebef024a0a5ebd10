package io.vetcd.it;

import static org.junit.jupiter.api.Assertions.*;

import io.vetcd.client.VetcdClient;
import io.vetcd.client.VetcdException;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The Reactor client over TLS (server and client certificates) and with a user and password. */
class ClientTlsAndAuthTest {
  static final Duration T = Duration.ofSeconds(20);
  static Path pki;

  @BeforeAll
  static void makeCertificates() throws Exception {
    pki = TestPki.create();
  }

  @Test
  void mutual_tls_and_a_refused_client_without_a_certificate() throws Exception {
    try (InProcessMember member = new InProcessMember("--https", "--cert-file", pki.resolve("server.crt").toString(),
        "--key-file", pki.resolve("server.key").toString(), "--trusted-ca-file", pki.resolve("ca.crt").toString(),
        "--client-cert-auth")) {
      String endpoint = "https://127.0.0.1:" + member.clientPort;
      try (VetcdClient client = VetcdClient.builder().endpoints(endpoint).caCert(pki.resolve("ca.crt").toString())
          .clientCert(pki.resolve("client.crt").toString(), pki.resolve("client.key").toString()).build()) {
        client.kv().put("tls", "yes").block(T);
        assertEquals("yes", client.kv().get("tls").block(T).getKvs(0).getValue().toStringUtf8());
      }
      try (VetcdClient anonymous = VetcdClient.builder().endpoints(endpoint).caCert(pki.resolve("ca.crt").toString())
          .maxRetries(1).requestTimeout(Duration.ofSeconds(5)).build()) {
        assertThrows(RuntimeException.class, () -> anonymous.kv().get("tls").block(T),
            "the server requires a client certificate");
      }
    }
  }

  @Test
  void user_and_password() throws Exception {
    try (InProcessMember member = new InProcessMember()) {
      try (VetcdClient admin = VetcdClient.builder().endpoints(member.endpoint()).build()) {
        admin.auth().userAdd("root", "pw").block(T);
        admin.auth().roleAdd("root").block(T);
        admin.auth().userGrantRole("root", "root").block(T);
        admin.auth().enable().block(T);
        VetcdException empty = assertThrows(VetcdException.class, () -> admin.kv().get("k").block(T));
        assertTrue(empty.getMessage().contains("etcdserver: user name is empty"), empty.getMessage());
      }
      try (VetcdClient root = VetcdClient.builder().endpoints(member.endpoint()).user("root", "pw").build()) {
        root.kv().put("k", "v").block(T);
        assertEquals("v", root.kv().get("k").block(T).getKvs(0).getValue().toStringUtf8());
      }
      try (VetcdClient wrong = VetcdClient.builder().endpoints(member.endpoint()).user("root", "nope").build()) {
        VetcdException refused = assertThrows(VetcdException.class, () -> wrong.kv().get("k").block(T));
        assertTrue(refused.getMessage().contains("authentication failed, invalid user ID or password"),
            refused.getMessage());
      }
    }
  }
}
