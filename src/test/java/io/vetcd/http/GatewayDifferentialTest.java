package io.vetcd.http;

import static io.vetcd.http.GatewayMember.b64;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vetcd.e2e.Member;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The same gateway requests, as curl would send them, to a fresh real etcd 3.4 and a fresh vetcd:
 * status codes and bodies must be identical byte for byte once the member's ids and raft term are
 * normalized (field names, field order, int64 strings, base64, enums, omitted zero values, errors).
 */
@Timeout(180)
class GatewayDifferentialTest {
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  /** A request; {@code authorization}: the Authorization header, {@code "TOKEN"} for the last token received. */
  private record Call(String method, String path, String body, String authorization) {}

  private static Call post(String path, String body) {
    return new Call("POST", path, body, null);
  }

  private static Call post(String path, String body, String authorization) {
    return new Call("POST", path, body, authorization);
  }

  private static Call get(String path) {
    return new Call("GET", path, null, null);
  }

  private static String k(String s) {
    return b64(s);
  }

  private static List<Call> script() {
    List<Call> calls = new ArrayList<>();
    calls.add(post("/v3/kv/range", "{\"key\":\"" + k("a") + "\"}"));
    calls.add(post("/v3/kv/put", "{\"key\":\"" + k("a") + "\",\"value\":\"" + k("1") + "\"}"));
    calls.add(post("/v3/kv/put", "{\"key\":\"" + k("a") + "\",\"value\":\"" + k("2") + "\",\"prevKv\":true}"));
    calls.add(post("/v3/kv/put", "{\"key\":\"" + k("b") + "\",\"value\":\"" + k("<&>") + "\",\"prev_kv\":true}"));
    calls.add(post("/v3/kv/put", "{\"key\":\"" + k("c") + "\",\"value\":\"\"}"));
    calls.add(post("/v3/kv/range", "{\"key\":\"" + k("a") + "\",\"range_end\":\"" + k("z") + "\"}"));
    calls.add(post("/v3/kv/range", "{\"key\":\"AA==\",\"range_end\":\"AA==\",\"sort_order\":\"DESCEND\","
        + "\"sort_target\":\"MOD\",\"limit\":2}"));
    calls.add(post("/v3/kv/range", "{\"key\":\"AA==\",\"range_end\":\"AA==\",\"count_only\":true}"));
    calls.add(post("/v3/kv/range", "{\"key\":\"AA==\",\"rangeEnd\":\"AA==\",\"keysOnly\":true,\"bogus\":1}"));
    calls.add(post("/v3beta/kv/range", "{\"key\":\"" + k("b") + "\"}"));
    calls.add(post("/v3/kv/txn", "{\"compare\":[{\"key\":\"" + k("a") + "\",\"result\":\"EQUAL\",\"target\":\"VALUE\","
        + "\"value\":\"" + k("2") + "\"}],\"success\":[{\"request_range\":{\"key\":\"" + k("a") + "\"}},"
        + "{\"requestPut\":{\"key\":\"" + k("d") + "\",\"value\":\"" + k("4") + "\"}}],"
        + "\"failure\":[{\"request_delete_range\":{\"key\":\"" + k("a") + "\"}}]}"));
    calls.add(post("/v3/kv/txn", "{\"compare\":[{\"key\":\"" + k("a") + "\",\"result\":\"GREATER\",\"target\":\"VERSION\","
        + "\"version\":\"5\"}],\"failure\":[{\"request_delete_range\":{\"key\":\"" + k("d") + "\",\"prev_kv\":true}}]}"));
    calls.add(post("/v3/kv/txn", "{\"compare\":[{\"key\":\"" + k("zz") + "\",\"target\":\"CREATE\",\"create_revision\":0}]}"));
    calls.add(post("/v3/kv/deleterange", "{\"key\":\"" + k("b") + "\",\"prev_kv\":true}"));
    calls.add(post("/v3/kv/deleterange", "{\"key\":\"" + k("nothing") + "\"}"));
    calls.add(post("/v3/kv/compaction", "{\"revision\":\"3\"}"));
    calls.add(post("/v3/kv/compaction", "{\"revision\":3}"));
    calls.add(post("/v3/kv/compaction", "{\"revision\":100}"));
    calls.add(post("/v3/kv/range", "{\"key\":\"" + k("a") + "\",\"revision\":2}"));
    calls.add(post("/v3/kv/range", "{}"));
    calls.add(post("/v3/kv/range", "{\"key\":\"" + k("a") + "\",\"sort_order\":\"NOPE\"}"));
    calls.add(post("/v3/kv/put", "{\"value\":\"" + k("x") + "\"}"));
    calls.add(post("/v3/kv/put", "{\"key\":\"" + k("a") + "\",\"ignore_value\":true,\"value\":\"" + k("x") + "\"}"));
    calls.add(post("/v3/lease/grant", "{\"TTL\":60,\"ID\":1000}"));
    calls.add(post("/v3/lease/grant", "{\"TTL\":\"60\",\"ID\":\"1000\"}"));
    calls.add(post("/v3/kv/put", "{\"key\":\"" + k("leased") + "\",\"value\":\"" + k("v") + "\",\"lease\":\"1000\"}"));
    calls.add(post("/v3/lease/leases", "{}"));
    calls.add(post("/v3/kv/lease/leases", "{}"));
    calls.add(post("/v3/lease/revoke", "{\"ID\":1000}"));
    calls.add(post("/v3/kv/lease/revoke", "{\"ID\":1000}"));
    calls.add(post("/v3/lease/timetolive", "{\"ID\":1000}"));
    calls.add(post("/v3/kv/range", "{\"key\":\"" + k("leased") + "\"}"));
    calls.add(post("/v3/kv/nope", "{}"));
    // malformed bodies: Go's JSON decoder's words
    for (String body : List.of("{bad", "xyz", "{\"key\":}", "{\"key\":\"YQ==\"", "null", "[]", "\"s\"", "123", "tru",
        "{\"a\":-}", "{\"a\":1.}", "{\"a\":1e}", "{\"a\":[1 2]}", "{\"a\":\"\\q\"}", "{\"a\" 1}", "{\"a\":1,}",
        "{'a':1}", "{\"key\":\"YQ==\"} {", "{\"key\":123}", "{\"key\":[\"a\"]}", "{\"key\":\"YQ==\",\"limit\":\"abc\"}",
        "{\"key\":\"YQ==\",\"limit\":1.5}", "{\"key\":\"YQ==\",\"keys_only\":\"true\"}",
        "{\"key\":\"YQ==\",\"sort_order\":true}")) {
      calls.add(post("/v3/kv/range", body));
    }
    calls.add(post("/v3/kv/txn", "{\"compare\":\"x\"}"));
    calls.add(post("/v3/watch", "{bad"));
    calls.add(post("/v3/watch", "{\"create_request\":{\"key\":\"YQ==\""));
    calls.add(post("/v3/lease/keepalive", "{\"ID\":tru"));
    calls.add(post("/v3/kv/txn", "{\"success\":[{\"request_put\":{\"key\":\"YQ==\",\"lease\":\"x\"}}]}"));
    // lock and election: KV errors come back with code Unknown; no lease means a new session lease
    calls.add(post("/v3/lock/unlock", "{}"));
    calls.add(post("/v3/lock/lock", "{\"name\":\"" + k("l") + "\",\"lease\":12345}"));
    calls.add(post("/v3/election/campaign", "{\"name\":\"" + k("e") + "\",\"lease\":12345}"));
    calls.add(post("/v3/election/proclaim", "{\"leader\":{\"name\":\"" + k("e") + "\",\"key\":\"" + k("e/x")
        + "\",\"lease\":12345}}"));
    calls.add(post("/v3/election/resign", "{\"leader\":{\"name\":\"" + k("e") + "\",\"key\":\"" + k("e/x") + "\"}}"));
    calls.add(post("/v3/election/proclaim", "{\"leader\":{\"name\":\"" + k("e") + "\",\"key\":\"" + k("e/x") + "\"}}"));
    calls.add(post("/v3/lease/leases", "{}"));
    calls.add(post("/v3/maintenance/hashkv", "{}"));
    calls.add(post("/v3/cluster/member/add", "{}"));
    calls.add(post("/v3/cluster/member/add", "{\"peerURLs\":[\"http://127.0.0.1:1/path\"]}"));
    calls.add(post("/v3/cluster/member/add", "{\"peerURLs\":[\"http://127.0.0.1\"]}"));
    calls.add(post("/v3/cluster/member/update", "{\"ID\":1,\"peerURLs\":[\"ftp://127.0.0.1:1\"]}"));
    calls.add(get("/v3/kv/range"));
    calls.add(get("/nope"));
    calls.add(get("/health"));
    calls.add(get("/health?serializable=true"));
    calls.add(get("/version"));
    return calls;
  }

  private static final java.util.Map<String, String> TOKENS = new java.util.concurrent.ConcurrentHashMap<>();

  private static String run(String base, Call call) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + call.path())).timeout(Duration.ofSeconds(20));
    request = call.method().equals("GET") ? request.GET()
        : request.POST(HttpRequest.BodyPublishers.ofString(call.body()));
    if (call.authorization() != null) {
      request.header("Authorization", call.authorization().equals("TOKEN") ? TOKENS.get(base) : call.authorization());
    }
    HttpResponse<String> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    java.util.regex.Matcher token = java.util.regex.Pattern.compile("\"token\":\"([^\"]+)\"").matcher(response.body());
    if (token.find()) {
      TOKENS.put(base, token.group(1));
    }
    String type = response.headers().firstValue("content-type").orElse("");
    return response.statusCode() + " " + type + " " + normalize(response.body());
  }

  /** The member's identity and term differ between any two clusters, and so do auth tokens. */
  static String normalize(String body) {
    return body.replaceAll("\"(cluster_id|member_id|raft_term)\":\"[0-9]+\"", "\"$1\":\"N\"")
        .replaceAll("\"token\":\"[^\"]+\"", "\"token\":\"T\"")
        .replaceAll("\"ID\":\"[0-9]{10,}\"", "\"ID\":\"GENERATED\"");
  }

  /** etcd's auth walkthrough over the gateway: the token travels in the Authorization header. */
  private static List<Call> authScript() {
    List<Call> calls = new ArrayList<>();
    calls.add(post("/v3/auth/authenticate", "{\"name\":\"root\",\"password\":\"pw\"}"));
    calls.add(post("/v3/auth/enable", "{}"));
    calls.add(post("/v3/auth/role/add", "{\"name\":\"root\"}"));
    calls.add(post("/v3/auth/user/add", "{\"name\":\"root\",\"password\":\"pw\"}"));
    calls.add(post("/v3/auth/user/grant", "{\"user\":\"root\",\"role\":\"root\"}"));
    calls.add(post("/v3/auth/role/add", "{\"name\":\"reader\"}"));
    calls.add(post("/v3/auth/role/grant", "{\"name\":\"reader\",\"perm\":{\"permType\":\"READ\",\"key\":\""
        + k("pub/") + "\",\"range_end\":\"" + k("pub0") + "\"}}"));
    calls.add(post("/v3/auth/user/add", "{\"name\":\"alice\",\"password\":\"a\"}"));
    calls.add(post("/v3/auth/user/grant", "{\"user\":\"alice\",\"role\":\"reader\"}"));
    calls.add(post("/v3/auth/role/get", "{\"role\":\"reader\"}"));
    calls.add(post("/v3/auth/user/get", "{\"name\":\"alice\"}"));
    calls.add(post("/v3/auth/enable", "{}"));
    calls.add(post("/v3/kv/range", "{\"key\":\"" + k("pub/x") + "\"}"));
    calls.add(post("/v3/kv/range", "{\"key\":\"" + k("pub/x") + "\"}", "bogus"));
    calls.add(post("/v3/auth/authenticate", "{\"name\":\"alice\",\"password\":\"wrong\"}"));
    calls.add(post("/v3/auth/authenticate", "{\"name\":\"alice\",\"password\":\"a\"}"));
    calls.add(post("/v3/kv/range", "{\"key\":\"" + k("pub/x") + "\"}", "TOKEN"));
    calls.add(post("/v3/kv/put", "{\"key\":\"" + k("pub/x") + "\",\"value\":\"" + k("v") + "\"}", "TOKEN"));
    calls.add(post("/v3/kv/range", "{\"key\":\"" + k("secret") + "\"}", "TOKEN"));
    calls.add(post("/v3/auth/authenticate", "{\"name\":\"root\",\"password\":\"pw\"}"));
    calls.add(post("/v3/kv/put", "{\"key\":\"" + k("secret") + "\",\"value\":\"" + k("s") + "\"}", "TOKEN"));
    calls.add(post("/v3/auth/user/list", "{}", "TOKEN"));
    calls.add(post("/v3/auth/role/list", "{}", "TOKEN"));
    calls.add(post("/v3/auth/disable", "{}", "TOKEN"));
    calls.add(post("/v3/kv/range", "{\"key\":\"" + k("secret") + "\"}"));
    return calls;
  }

  @Test
  void the_auth_walkthrough_gets_the_same_answers_as_etcd() throws Exception {
    assumeTrue(Files.isExecutable(Path.of(Member.ETCD_BIN)), "real etcd is not installed");
    CompletableFuture<Member> etcdStart = CompletableFuture.supplyAsync(() -> Member.start(Member.Kind.ETCD));
    try (GatewayMember vetcd = new GatewayMember(); Member etcd = etcdStart.join()) {
      List<String> differences = new ArrayList<>();
      for (Call call : authScript()) {
        String expected = run(etcd.clientUrl(), call);
        String actual = run("http://127.0.0.1:" + vetcd.clientPort, call);
        if (!expected.equals(actual)) {
          differences.add(call.path() + " " + call.body() + " " + call.authorization() + "\n  etcd:  " + expected
              + "\n  vetcd: " + actual);
        }
      }
      assertEquals("", String.join("\n", differences));
    } finally {
      etcdStart.thenAccept(Member::close);
    }
  }

  @Test
  void the_same_requests_get_the_same_answers_as_etcd() throws Exception {
    assumeTrue(Files.isExecutable(Path.of(Member.ETCD_BIN)), "real etcd is not installed");
    CompletableFuture<Member> etcdStart = CompletableFuture.supplyAsync(() -> Member.start(Member.Kind.ETCD));
    try (GatewayMember vetcd = new GatewayMember(); Member etcd = etcdStart.join()) {
      String etcdBase = etcd.clientUrl();
      String vetcdBase = "http://127.0.0.1:" + vetcd.clientPort;
      List<String> differences = new ArrayList<>();
      for (Call call : script()) {
        String expected = run(etcdBase, call);
        String actual = run(vetcdBase, call);
        if (!expected.equals(actual)) {
          differences.add(call.method() + " " + call.path() + " " + call.body() + "\n  etcd:  " + expected
              + "\n  vetcd: " + actual);
        }
      }
      // A watch over a chunked POST: the created answer, then the events of two puts (one with prev_kv).
      String watch = "{\"create_request\":{\"key\":\"" + k("w") + "\",\"prev_kv\":true}}";
      List<Call> puts = List.of(post("/v3/kv/put", "{\"key\":\"" + k("w") + "\",\"value\":\"" + k("1") + "\"}"),
          post("/v3/kv/put", "{\"key\":\"" + k("w") + "\",\"value\":\"" + k("2") + "\",\"lease\":0}"));
      List<String> etcdLines = watchLines(etcdBase, watch, puts);
      List<String> vetcdLines = watchLines(vetcdBase, watch, puts);
      for (int i = 0; i < etcdLines.size(); i++) {
        if (!etcdLines.get(i).equals(vetcdLines.get(i))) {
          differences.add("watch line " + i + "\n  etcd:  " + etcdLines.get(i) + "\n  vetcd: " + vetcdLines.get(i));
        }
      }
      assertEquals("", String.join("\n", differences));
    } finally {
      etcdStart.thenAccept(Member::close);
    }
  }

  /**
   * The raw HTTP/1.1 answer as {@code curl -i} shows it: status line, header names and values in
   * Go's order and case (Date and lengths masked), and the trailer of an error the server answered.
   */
  private static String rawHead(int port, String method, String path, String body) throws Exception {
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      byte[] content = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
      String request = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUser-Agent: curl/7.88.1\r\n"
          + "Accept: */*\r\nConnection: close\r\n"
          + (body == null ? "" : "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " + content.length + "\r\n")
          + "\r\n";
      socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().write(content);
      // Go resets a closed connection whose request body it did not read: keep what arrived before
      java.io.ByteArrayOutputStream received = new java.io.ByteArrayOutputStream();
      byte[] buffer = new byte[8192];
      try {
        for (int n = socket.getInputStream().read(buffer); n >= 0; n = socket.getInputStream().read(buffer)) {
          received.write(buffer, 0, n);
        }
      } catch (java.net.SocketException reset) {
        if (received.size() == 0) {
          throw reset;
        }
      }
      String raw = received.toString(StandardCharsets.UTF_8);
      int end = raw.indexOf("\r\n\r\n");
      String head = end < 0 ? raw : raw.substring(0, end);
      String trailer = "";
      int last = raw.lastIndexOf("\r\n0\r\n");
      if (head.contains("Transfer-Encoding: chunked") && last > 0) {
        trailer = raw.substring(last + 5).strip();
      }
      return (head + "\n--\n" + trailer).replaceAll("Date: [^\r\n]+", "Date: D")
          .replaceAll("Content-Length: \\d+", "Content-Length: N");
    }
  }

  @Test
  void answers_have_the_same_http_head_as_etcd() throws Exception {
    assumeTrue(Files.isExecutable(Path.of(Member.ETCD_BIN)), "real etcd is not installed");
    CompletableFuture<Member> etcdStart = CompletableFuture.supplyAsync(() -> Member.start(Member.Kind.ETCD));
    try (GatewayMember vetcd = new GatewayMember(); Member etcd = etcdStart.join()) {
      List<String[]> calls = List.of(
          new String[] {"POST", "/v3/kv/range", "{\"key\":\"" + k("a") + "\"}"},
          new String[] {"POST", "/v3/kv/put", "{\"key\":\"\"}"},
          new String[] {"POST", "/v3/kv/range", "{\"key\":\"" + k("a") + "\",\"revision\":1000}"},
          new String[] {"POST", "/v3/kv/range", "{\"key\":\"" + k("a") + "\",\"sort_order\":\"NOPE\"}"},
          new String[] {"POST", "/v3/kv/nope", "{}"},
          new String[] {"OPTIONS", "/v3/kv/range", null},
          new String[] {"GET", "/health", null},
          new String[] {"POST", "/health", ""},
          new String[] {"GET", "/version", null},
          new String[] {"GET", "/metrics", null},
          new String[] {"GET", "/nope", null});
      List<String> differences = new ArrayList<>();
      for (String[] call : calls) {
        String expected = rawHead(etcd.clientPort(), call[0], call[1], call[2]);
        String actual = rawHead(vetcd.clientPort, call[0], call[1], call[2]);
        if (!expected.equals(actual)) {
          differences.add(String.join(" ", call[0], call[1], String.valueOf(call[2])) + "\n  etcd:  " + expected
              + "\n  vetcd: " + actual);
        }
      }
      assertEquals("", String.join("\n", differences));
    } finally {
      etcdStart.thenAccept(Member::close);
    }
  }

  private static List<String> watchLines(String base, String body, List<Call> writes) throws Exception {
    HttpResponse<InputStream> response = HTTP.sendAsync(HttpRequest.newBuilder(URI.create(base + "/v3/watch"))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofInputStream())
        .get(20, TimeUnit.SECONDS);
    BlockingQueue<String> queue = new LinkedBlockingQueue<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
        for (String line = in.readLine(); line != null; line = in.readLine()) {
          queue.add(normalize(line));
        }
      } catch (Exception e) {
        // closed by the test
      }
    });
    reader.setDaemon(true);
    reader.start();
    List<String> lines = new ArrayList<>();
    lines.add(String.valueOf(queue.poll(10, TimeUnit.SECONDS)));
    for (Call write : writes) {
      run(base, write);
    }
    for (int i = 0; i < writes.size(); i++) {
      lines.add(String.valueOf(queue.poll(10, TimeUnit.SECONDS)));
    }
    response.body().close();
    return lines;
  }
}
