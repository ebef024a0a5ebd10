package io.vetcd.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A throwaway CA with a server certificate for 127.0.0.1/localhost and a client certificate, made with openssl. */
final class TestPki {
  private TestPki() {}

  static String run(Path dir, String... command) throws Exception {
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    return p.exitValue() + ":" + out;
  }

  /** ca.crt, server.crt/server.key (usable as client certificate too) and client.crt/client.key (CN root). */
  static Path create() throws Exception {
    Path pki = Files.createTempDirectory("vetcd-pki");
    Files.writeString(pki.resolve("san.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
        + "extendedKeyUsage=serverAuth,clientAuth\n");
    for (String[] cmd : List.of(
        new String[] {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
            "-days", "2", "-subj", "/CN=vetcd-test-ca"},
        new String[] {"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
            "-subj", "/CN=vetcd-server"},
        new String[] {"openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "san.cnf"},
        new String[] {"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "client.key", "-out", "client.csr",
            "-subj", "/CN=root"},
        new String[] {"openssl", "x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "client.crt", "-days", "2"})) {
      String result = run(pki, cmd);
      assertTrue(result.startsWith("0:"), result);
    }
    return pki;
  }
}
