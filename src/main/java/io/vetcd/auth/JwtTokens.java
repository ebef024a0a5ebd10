package io.vetcd.auth;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.PSSParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * etcd's {@code --auth-token jwt,pub-key=<file>,priv-key=<file>,sign-method=<alg>,ttl=<duration>}:
 * signed JSON Web Tokens carrying {@code username}, {@code revision} (the auth revision they were
 * issued at) and {@code exp}. Any member holding the public key verifies them, so nothing is shared
 * between members. Keys are PEM: public keys as SubjectPublicKeyInfo, private keys as PKCS#8 or
 * (RSA) PKCS#1 or (EC) SEC1. Sign methods: RS256/384/512, PS256/384/512, ES256/384/512.
 */
public final class JwtTokens implements TokenProvider {
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64_DECODE = Base64.getUrlDecoder();

  private final String signMethod;
  private final PublicKey publicKey;
  private final PrivateKey privateKey;
  private final long ttlMillis;
  private final LongSupplier wallClockMillis;
  private final String encodedHeader;

  JwtTokens(String signMethod, PublicKey publicKey, PrivateKey privateKey, long ttlMillis, LongSupplier wallClockMillis) {
    algorithm(signMethod); // refuses an unknown method
    this.signMethod = signMethod;
    this.publicKey = publicKey;
    this.privateKey = privateKey;
    this.ttlMillis = ttlMillis;
    this.wallClockMillis = wallClockMillis;
    this.encodedHeader = B64.encodeToString(("{\"alg\":\"" + signMethod + "\",\"typ\":\"JWT\"}")
        .getBytes(StandardCharsets.UTF_8));
  }

  /** From the flag's value, e.g. {@code jwt,pub-key=app.rsa.pub,priv-key=app.rsa,sign-method=RS256,ttl=10m}. */
  public static JwtTokens fromFlag(String flag, LongSupplier wallClockMillis) {
    Map<String, String> options = new LinkedHashMap<>();
    String[] parts = flag.split(",");
    if (!parts[0].equals("jwt")) {
      throw new IllegalArgumentException("not a jwt token option: " + flag);
    }
    for (int i = 1; i < parts.length; i++) {
      int eq = parts[i].indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("invalid auth token option " + parts[i]);
      }
      String key = parts[i].substring(0, eq);
      if (!java.util.List.of("pub-key", "priv-key", "sign-method", "ttl").contains(key)) {
        throw new IllegalArgumentException("unknown token option: " + key);
      }
      options.put(key, parts[i].substring(eq + 1));
    }
    String method = options.get("sign-method");
    if (method == null || options.get("pub-key") == null) {
      throw new IllegalArgumentException("jwt auth tokens need sign-method and pub-key (and priv-key to sign)");
    }
    try {
      String family = method.startsWith("ES") ? "EC" : "RSA";
      PublicKey pub = publicKey(Files.readString(Path.of(options.get("pub-key"))), family);
      PrivateKey priv = options.get("priv-key") == null ? null
          : privateKey(Files.readString(Path.of(options.get("priv-key"))), family);
      long ttl = options.get("ttl") == null ? 5 * 60_000 : durationMillis(options.get("ttl"));
      return new JwtTokens(method, pub, priv, ttl, wallClockMillis);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot load the jwt keys: " + e.getMessage(), e);
    }
  }

  @Override
  public String newPrefix() {
    return "";
  }

  @Override
  public String issue(String prefix, long raftIndex, String username, long authRevision) {
    if (privateKey == null) {
      // A verify-only member cannot issue tokens (etcd: the private key is needed to sign).
      throw AuthErrors.INVALID_AUTH_TOKEN;
    }
    long exp = (wallClockMillis.getAsLong() + ttlMillis) / 1000;
    String claims = "{\"exp\":" + exp + ",\"revision\":" + authRevision + ",\"username\":" + jsonString(username) + "}";
    String signingInput = encodedHeader + "." + B64.encodeToString(claims.getBytes(StandardCharsets.UTF_8));
    try {
      Signature signer = signature();
      signer.initSign(privateKey);
      signer.update(signingInput.getBytes(StandardCharsets.US_ASCII));
      return signingInput + "." + B64.encodeToString(signer.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign a jwt token", e);
    }
  }

  @Override
  public Optional<AuthInfo> info(String token, long currentAuthRevision) {
    String[] parts = token.split("\\.", -1);
    if (parts.length != 3) {
      return Optional.empty();
    }
    try {
      io.vertx.core.json.JsonObject header = new io.vertx.core.json.JsonObject(
          new String(B64_DECODE.decode(parts[0]), StandardCharsets.UTF_8));
      if (!signMethod.equals(header.getString("alg"))) {
        return Optional.empty();
      }
      Signature verifier = signature();
      verifier.initVerify(publicKey);
      verifier.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
      if (!verifier.verify(B64_DECODE.decode(parts[2]))) {
        return Optional.empty();
      }
      io.vertx.core.json.JsonObject claims = new io.vertx.core.json.JsonObject(
          new String(B64_DECODE.decode(parts[1]), StandardCharsets.UTF_8));
      Number exp = claims.getNumber("exp");
      String username = claims.getString("username");
      Number revision = claims.getNumber("revision");
      if (exp == null || username == null || revision == null || exp.longValue() * 1000 <= wallClockMillis.getAsLong()) {
        return Optional.empty();
      }
      return Optional.of(new AuthInfo(username, revision.longValue()));
    } catch (RuntimeException | GeneralSecurityException malformed) {
      return Optional.empty();
    }
  }

  @Override
  public void invalidateUser(String username) {
    // Signed tokens cannot be recalled: the auth revision they carry makes them stale instead.
  }

  @Override
  public void clear() {
  }

  private Signature signature() throws GeneralSecurityException {
    String algorithm = algorithm(signMethod);
    Signature s = Signature.getInstance(algorithm);
    if (algorithm.equals("RSASSA-PSS")) {
      int bits = Integer.parseInt(signMethod.substring(2));
      String hash = "SHA-" + bits;
      s.setParameter(new PSSParameterSpec(hash, "MGF1", new MGF1ParameterSpec(hash), bits / 8, 1));
    }
    return s;
  }

  private static String algorithm(String signMethod) {
    return switch (signMethod) {
      case "RS256" -> "SHA256withRSA";
      case "RS384" -> "SHA384withRSA";
      case "RS512" -> "SHA512withRSA";
      case "PS256", "PS384", "PS512" -> "RSASSA-PSS";
      case "ES256" -> "SHA256withECDSAinP1363Format";
      case "ES384" -> "SHA384withECDSAinP1363Format";
      case "ES512" -> "SHA512withECDSAinP1363Format";
      default -> throw new IllegalArgumentException("unsupported jwt sign-method " + signMethod);
    };
  }

  private static String jsonString(String s) {
    return io.vertx.core.json.Json.encode(s);
  }

  /** Go's duration syntax as etcd's ttl option takes it: 10m, 300s, 1h30m, 500ms. */
  static long durationMillis(String text) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h)").matcher(text);
    double total = 0;
    int end = 0;
    while (m.find() && m.start() == end) {
      double n = Double.parseDouble(m.group(1));
      total += switch (m.group(2)) {
        case "ms" -> n;
        case "s" -> n * 1000;
        case "m" -> n * 60_000;
        default -> n * 3_600_000;
      };
      end = m.end();
    }
    if (end != text.length() || end == 0) {
      throw new IllegalArgumentException("invalid ttl " + text);
    }
    return (long) total;
  }

  static PublicKey publicKey(String pem, String family) throws GeneralSecurityException {
    byte[] der = pemBody(pem, "PUBLIC KEY");
    return KeyFactory.getInstance(family).generatePublic(new X509EncodedKeySpec(der));
  }

  static PrivateKey privateKey(String pem, String family) throws GeneralSecurityException {
    byte[] der;
    if (pem.contains("BEGIN RSA PRIVATE KEY")) {
      der = pkcs8(new byte[] {0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00},
          pemBody(pem, "RSA PRIVATE KEY"));
    } else if (pem.contains("BEGIN EC PRIVATE KEY")) {
      byte[] sec1 = pemBody(pem, "EC PRIVATE KEY");
      byte[] ecPublicKeyOid = {0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01};
      byte[] curve = sec1CurveOid(sec1);
      byte[] algorithm = new byte[ecPublicKeyOid.length + curve.length];
      System.arraycopy(ecPublicKeyOid, 0, algorithm, 0, ecPublicKeyOid.length);
      System.arraycopy(curve, 0, algorithm, ecPublicKeyOid.length, curve.length);
      der = pkcs8(algorithm, sec1);
    } else {
      der = pemBody(pem, "PRIVATE KEY");
    }
    return KeyFactory.getInstance(family).generatePrivate(new PKCS8EncodedKeySpec(der));
  }

  private static byte[] pemBody(String pem, String label) throws GeneralSecurityException {
    String begin = "-----BEGIN " + label + "-----";
    int start = pem.indexOf(begin);
    int end = pem.indexOf("-----END " + label + "-----");
    if (start < 0 || end < 0) {
      throw new GeneralSecurityException("no " + label + " in PEM");
    }
    return Base64.getMimeDecoder().decode(pem.substring(start + begin.length(), end));
  }

  /** PKCS#8 PrivateKeyInfo: SEQUENCE { INTEGER 0, SEQUENCE { algorithm }, OCTET STRING key }. */
  private static byte[] pkcs8(byte[] algorithmContent, byte[] key) {
    byte[] version = {0x02, 0x01, 0x00};
    byte[] algorithm = der(0x30, algorithmContent);
    byte[] octets = der(0x04, key);
    byte[] body = new byte[version.length + algorithm.length + octets.length];
    System.arraycopy(version, 0, body, 0, version.length);
    System.arraycopy(algorithm, 0, body, version.length, algorithm.length);
    System.arraycopy(octets, 0, body, version.length + algorithm.length, octets.length);
    return der(0x30, body);
  }

  private static byte[] der(int tag, byte[] content) {
    byte[] length;
    if (content.length < 128) {
      length = new byte[] {(byte) content.length};
    } else {
      byte[] n = BigInteger.valueOf(content.length).toByteArray();
      int skip = n[0] == 0 ? 1 : 0;
      length = new byte[n.length - skip + 1];
      length[0] = (byte) (0x80 | (n.length - skip));
      System.arraycopy(n, skip, length, 1, n.length - skip);
    }
    byte[] out = new byte[1 + length.length + content.length];
    out[0] = (byte) tag;
    System.arraycopy(length, 0, out, 1, length.length);
    System.arraycopy(content, 0, out, 1 + length.length, content.length);
    return out;
  }

  /** The named curve's OID (tag and length included) from a SEC1 ECPrivateKey's [0] parameters. */
  private static byte[] sec1CurveOid(byte[] sec1) throws GeneralSecurityException {
    // ECPrivateKey ::= SEQUENCE { version INTEGER, privateKey OCTET STRING, [0] parameters, [1] publicKey }
    int[] at = {0};
    header(sec1, at, 0x30);
    skip(sec1, at, 0x02);
    skip(sec1, at, 0x04);
    header(sec1, at, 0xa0);
    int start = at[0];
    int length = header(sec1, at, 0x06);
    byte[] oid = new byte[at[0] - start + length];
    System.arraycopy(sec1, start, oid, 0, oid.length);
    return oid;
  }

  /** Reads a DER tag and length at {@code at[0]}, moving past them; returns the content length. */
  private static int header(byte[] der, int[] at, int expectedTag) throws GeneralSecurityException {
    if (at[0] + 2 > der.length || (der[at[0]] & 0xff) != expectedTag) {
      throw new GeneralSecurityException("malformed EC private key");
    }
    int length = der[at[0] + 1] & 0xff;
    at[0] += 2;
    if (length >= 0x80) {
      int bytes = length & 0x7f;
      length = 0;
      for (int i = 0; i < bytes; i++) {
        length = (length << 8) | (der[at[0]++] & 0xff);
      }
    }
    return length;
  }

  private static void skip(byte[] der, int[] at, int expectedTag) throws GeneralSecurityException {
    int length = header(der, at, expectedTag); // before the +=, which would read at[0] first
    at[0] += length;
  }
}
