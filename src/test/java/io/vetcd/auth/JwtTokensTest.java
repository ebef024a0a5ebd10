package io.vetcd.auth;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** etcd's jwt auth tokens: signed claims verified by any member with the public key, expiring with their ttl. */
class JwtTokensTest {
  @TempDir
  Path dir;

  String openssl(String... args) throws Exception {
    List<String> cmd = new java.util.ArrayList<>(List.of("openssl"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);
    return out;
  }

  JwtTokens tokens(String options, AtomicLong clock) {
    return JwtTokens.fromFlag("jwt," + options, clock::get);
  }

  @Test
  void rs256_with_a_pkcs1_key_signs_verifies_and_expires() throws Exception {
    openssl("genrsa", "-traditional", "-out", "app.rsa", "2048");
    openssl("rsa", "-in", "app.rsa", "-pubout", "-out", "app.rsa.pub");
    assertTrue(Files.readString(dir.resolve("app.rsa")).contains("BEGIN RSA PRIVATE KEY"));
    AtomicLong clock = new AtomicLong(1_700_000_000_000L);
    JwtTokens jwt = tokens("pub-key=" + dir.resolve("app.rsa.pub") + ",priv-key=" + dir.resolve("app.rsa")
        + ",sign-method=RS256,ttl=10m", clock);
    String token = jwt.issue("", 7, "alice", 3);
    String[] parts = token.split("\\.");
    assertEquals(3, parts.length);
    assertEquals("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", new String(Base64.getUrlDecoder().decode(parts[0])));
    assertEquals("{\"exp\":1700000600,\"revision\":3,\"username\":\"alice\"}",
        new String(Base64.getUrlDecoder().decode(parts[1])));
    assertEquals(Optional.of(new AuthInfo("alice", 3)), jwt.info(token, 9), "the revision is the token's");

    // a verify-only member (public key alone) accepts it too
    JwtTokens verifier = tokens("pub-key=" + dir.resolve("app.rsa.pub") + ",sign-method=RS256", clock);
    assertEquals("alice", verifier.info(token, 3).orElseThrow().username());

    String forged = parts[0] + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(
        "{\"exp\":1700000600,\"revision\":3,\"username\":\"root\"}".getBytes()) + "." + parts[2];
    assertTrue(jwt.info(forged, 3).isEmpty(), "changed claims break the signature");
    assertTrue(jwt.info("abc.def", 3).isEmpty());
    assertTrue(jwt.info("not a token", 3).isEmpty());

    clock.addAndGet(600_000);
    assertTrue(jwt.info(token, 3).isEmpty(), "expired at exp");
  }

  @Test
  void es256_with_a_sec1_key_and_ps256_with_a_pkcs8_key() throws Exception {
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ec.key");
    openssl("ec", "-in", "ec.key", "-pubout", "-out", "ec.pub");
    assertTrue(Files.readString(dir.resolve("ec.key")).contains("BEGIN EC PRIVATE KEY"));
    AtomicLong clock = new AtomicLong(System.currentTimeMillis());
    JwtTokens es = tokens("pub-key=" + dir.resolve("ec.pub") + ",priv-key=" + dir.resolve("ec.key")
        + ",sign-method=ES256", clock);
    String token = es.issue("", 1, "bob", 5);
    assertEquals(64, Base64.getUrlDecoder().decode(token.split("\\.")[2]).length, "JWS's raw r||s signature");
    assertEquals(Optional.of(new AuthInfo("bob", 5)), es.info(token, 5));

    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "p8.key");
    openssl("pkey", "-in", "p8.key", "-pubout", "-out", "p8.pub");
    assertTrue(Files.readString(dir.resolve("p8.key")).contains("BEGIN PRIVATE KEY"));
    JwtTokens ps = tokens("pub-key=" + dir.resolve("p8.pub") + ",priv-key=" + dir.resolve("p8.key")
        + ",sign-method=PS256,ttl=1h", clock);
    assertEquals("carol", ps.info(ps.issue("", 1, "carol", 2), 2).orElseThrow().username());
    assertTrue(es.info(ps.issue("", 1, "carol", 2), 2).isEmpty(), "another method's token is refused");
  }

  @Test
  void bad_options_are_refused() {
    assertThrows(IllegalArgumentException.class, () -> JwtTokens.fromFlag("jwt,sign-method=RS256", System::currentTimeMillis));
    assertThrows(IllegalArgumentException.class, () -> JwtTokens.fromFlag("jwt,pub-key=x,sign-method=HS999",
        System::currentTimeMillis));
    assertThrows(IllegalArgumentException.class, () -> JwtTokens.fromFlag("jwt,colour=blue", System::currentTimeMillis));
    assertEquals(90_000, JwtTokens.durationMillis("1m30s"));
    assertEquals(500, JwtTokens.durationMillis("500ms"));
    assertThrows(IllegalArgumentException.class, () -> JwtTokens.durationMillis("10 minutes"));
  }
}
