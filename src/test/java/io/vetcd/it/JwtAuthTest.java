package io.vetcd.it;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** etcd's --auth-token jwt,...: etcdctl's auth flow works with signed tokens. */
class JwtAuthTest {
  static String etcdctl(Path dir, InProcessMember member, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("etcdctl", "--endpoints=" + member.endpoint(),
        "--dial-timeout=10s", "--command-timeout=20s"));
    command.addAll(List.of(args));
    return TestPki.run(dir, command.toArray(String[]::new));
  }

  @Test
  void etcdctl_auth_flow_with_jwt_tokens() throws Exception {
    Path dir = Files.createTempDirectory("vetcd-jwt");
    assertTrue(TestPki.run(dir, "openssl", "genrsa", "-out", "app.rsa", "2048").startsWith("0:"));
    assertTrue(TestPki.run(dir, "openssl", "rsa", "-in", "app.rsa", "-pubout", "-out", "app.rsa.pub").startsWith("0:"));
    String jwt = "jwt,pub-key=" + dir.resolve("app.rsa.pub") + ",priv-key=" + dir.resolve("app.rsa")
        + ",sign-method=RS256,ttl=10m";
    try (InProcessMember member = new InProcessMember("--auth-token", jwt)) {
      assertEquals("0:User root created\n", etcdctl(dir, member, "user", "add", "root", "--new-user-password=pw"));
      String enabled = etcdctl(dir, member, "auth", "enable"); // etcdctl also logs that it grants root the root role
      assertTrue(enabled.startsWith("0:") && enabled.endsWith("Authentication Enabled\n"), enabled);
      assertEquals("0:OK\n", etcdctl(dir, member, "--user=root:pw", "put", "k", "v"));
      assertEquals("0:k\nv\n", etcdctl(dir, member, "--user=root:pw", "get", "k"));
      assertTrue(etcdctl(dir, member, "get", "k").contains("etcdserver: user name is empty"));
      assertTrue(etcdctl(dir, member, "--user=root:wrong", "get", "k")
          .contains("etcdserver: authentication failed, invalid user ID or password"));
      String token = new io.vertx.core.json.JsonObject(java.net.http.HttpClient.newHttpClient().send(
          java.net.http.HttpRequest.newBuilder(java.net.URI.create(member.endpoint() + "/v3/auth/authenticate"))
              .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"name\":\"root\",\"password\":\"pw\"}")).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString()).body()).getString("token");
      assertEquals(3, token.split("\\.").length, "a JWS compact token: " + token);
    }
  }
}
