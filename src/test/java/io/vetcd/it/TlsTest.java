package io.vetcd.it;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** etcd's client TLS flags, checked the way an operator does: with etcdctl --cacert/--cert/--key. */
class TlsTest {
  static Path pki;

  static String run(Path dir, String... command) throws Exception {
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    return p.exitValue() + ":" + out;
  }

  @BeforeAll
  static void makeCertificates() throws Exception {
    pki = TestPki.create();
  }

  static String etcdctl(InProcessMember member, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("etcdctl", "--endpoints=https://127.0.0.1:" + member.clientPort,
        "--dial-timeout=10s", "--command-timeout=20s"));
    command.addAll(List.of(args));
    return run(pki, command.toArray(String[]::new));
  }

  @Test
  void https_with_client_certificates_required() throws Exception {
    try (InProcessMember member = new InProcessMember("--https", "--cert-file", pki.resolve("server.crt").toString(),
        "--key-file", pki.resolve("server.key").toString(), "--trusted-ca-file", pki.resolve("ca.crt").toString(),
        "--client-cert-auth")) {
      assertEquals("0:OK\n", etcdctl(member, "--cacert=ca.crt", "--cert=client.crt", "--key=client.key", "put", "k", "v"));
      assertEquals("0:k\nv\n", etcdctl(member, "--cacert=ca.crt", "--cert=client.crt", "--key=client.key", "get", "k"));
      String withoutClientCert = etcdctl(member, "--cacert=ca.crt", "get", "k");
      assertFalse(withoutClientCert.startsWith("0:"), "a client without a certificate is refused: " + withoutClientCert);
      String untrusted = etcdctl(member, "get", "k");
      assertFalse(untrusted.startsWith("0:"), "the server certificate is not trusted without --cacert: " + untrusted);
    }
  }

  @Test
  void auto_tls_serves_https_with_a_generated_certificate() throws Exception {
    try (InProcessMember member = new InProcessMember("--https", "--auto-tls")) {
      assertEquals("0:OK\n", etcdctl(member, "--insecure-skip-tls-verify", "--insecure-transport=false", "put", "a", "b"));
      assertTrue(Files.exists(member.dataDir.resolve("fixtures/client/cert.p12")));
    }
  }
}
