package io.vetcd.http;

import static io.vetcd.http.GatewayMember.b64;
import static io.vetcd.http.GatewayMember.unb64;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import java.util.List;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The JSON gateway's unary calls, as curl sends them, and the shape of etcd 3.4's answers: proto
 * field names, int64 as strings, bytes in base64, enums by name, zero values left out, errors as
 * {@code {"error","message","code"}} with grpc-gateway's HTTP status.
 */
@org.junit.jupiter.api.Timeout(120)
class GatewayTest {
  private static final Pattern DIGITS = Pattern.compile("[0-9]+");
  private static GatewayMember member;

  @BeforeAll
  static void start() throws Exception {
    member = new GatewayMember();
  }

  @AfterAll
  static void stop() throws Exception {
    member.close();
  }

  private static void assertHeader(JsonObject response) {
    JsonObject header = response.getJsonObject("header");
    assertNotNull(header, response.encode());
    for (String field : new String[] {"cluster_id", "member_id", "revision", "raft_term"}) {
      assertTrue(header.getValue(field) instanceof String && DIGITS.matcher(header.getString(field)).matches(),
          field + " must be a decimal string: " + header.encode());
    }
  }

  private static void assertError(HttpResponse<String> response, int status, int code, String message) {
    assertEquals(status, response.statusCode(), response.body());
    assertEquals("application/json", response.headers().firstValue("content-type").orElse(""));
    assertEquals(new JsonObject().put("error", message).put("message", message).put("code", code),
        new JsonObject(response.body()));
    // the exact byte shape of grpc-gateway's error body
    assertTrue(response.body().startsWith("{\"error\":"), response.body());
  }

  /** A large answer (printed on a worker thread) comes back whole and in etcd's shape. */
  /** curl sends 'Expect: 100-continue' before a body over 1 MB and waits for the interim answer, as etcd gives it. */
  @Test
  void a_client_that_expects_100_continue_gets_it_before_sending_the_body() throws Exception {
    String body = "{\"key\":\"" + b64("expect/continue") + "\",\"value\":\"" + b64("v") + "\"}";
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", member.clientPort)) {
      socket.setSoTimeout(10_000);
      var out = socket.getOutputStream();
      out.write(("POST /v3/kv/put HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
          + "Content-Length: " + body.length() + "\r\nExpect: 100-continue\r\n\r\n")
          .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      out.flush();
      var in = new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream(),
          java.nio.charset.StandardCharsets.US_ASCII));
      assertEquals("HTTP/1.1 100 Continue", in.readLine(), "the interim answer, before any body was sent");
      assertEquals("", in.readLine());
      out.write(body.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      out.flush();
      assertEquals("HTTP/1.1 200 OK", in.readLine());
    }
  }

  /** A body too large to read whole is refused as etcd's gateway refuses it: a failed gRPC call, trailer and all. */
  @Test
  void a_body_far_over_the_request_limit_is_refused_with_the_grpc_error() throws Exception {
    String body = "{\"key\":\"" + b64("huge") + "\",\"value\":\""
        + java.util.Base64.getEncoder().encodeToString(new byte[5_000_000]) + "\"}";
    HttpResponse<String> refused = member.post("/v3/kv/put", body);
    assertEquals(429, refused.statusCode(), refused.body());
    JsonObject error = new JsonObject(refused.body());
    assertEquals(8, error.getInteger("code"));
    assertTrue(error.getString("error").matches("grpc: received message larger than max \\([0-9]+ vs\\. 2097152\\)"),
        error.getString("error"));
    assertEquals("Grpc-Trailer-Content-Type", refused.headers().firstValue("trailer").orElse(""));
    assertEquals(0, member.call("/v3/kv/range", "{\"key\":\"" + b64("huge") + "\"}").getLong("count", 0L));
  }

  @Test
  void a_large_range_answer_is_printed_whole() throws Exception {
    String value = "v".repeat(200_000);
    for (String key : new String[] {"gwbig/1", "gwbig/2"}) {
      member.call("/v3/kv/put", "{\"key\":\"" + b64(key) + "\",\"value\":\"" + b64(value) + "\"}");
    }
    JsonObject range = member.call("/v3/kv/range", "{\"key\":\"" + b64("gwbig/") + "\",\"range_end\":\""
        + b64("gwbig0") + "\"}");
    assertHeader(range);
    assertEquals("2", range.getString("count"));
    assertEquals(value, unb64(range.getJsonArray("kvs").getJsonObject(0).getString("value")));
    assertEquals(b64("gwbig/2"), range.getJsonArray("kvs").getJsonObject(1).getString("key"));
    assertEquals(value, unb64(range.getJsonArray("kvs").getJsonObject(1).getString("value")));
  }

  @Test
  void range_put_txn_delete_have_etcds_shape() throws Exception {
    JsonObject empty = member.call("/v3/kv/range", "{\"key\":\"" + b64("gw/none") + "\"}");
    assertHeader(empty);
    assertEquals(1, empty.size(), "an empty range has only a header (no kvs, no count): " + empty.encode());

    JsonObject put = member.call("/v3/kv/put", "{\"key\":\"" + b64("gw/a") + "\",\"value\":\"" + b64("1") + "\"}");
    assertHeader(put);
    long rev = Long.parseLong(put.getJsonObject("header").getString("revision"));

    // camelCase field names are accepted; prev_kv printed with proto names.
    JsonObject again = member.call("/v3/kv/put",
        "{\"key\":\"" + b64("gw/a") + "\",\"value\":\"" + b64("2") + "\",\"prevKv\":true}");
    assertEquals(new JsonObject().put("key", b64("gw/a")).put("create_revision", "" + rev)
        .put("mod_revision", "" + rev).put("version", "1").put("value", b64("1")), again.getJsonObject("prev_kv"));
    member.call("/v3/kv/put", "{\"key\":\"" + b64("gw/b") + "\",\"value\":\"" + b64("3") + "\"}");

    // enums by name or number, int64 as string or number
    HttpResponse<String> raw = member.post("/v3/kv/range", "{\"key\":\"" + b64("gw/") + "\",\"range_end\":\""
        + b64("gw0") + "\",\"sort_order\":\"DESCEND\",\"sortTarget\":\"KEY\",\"limit\":\"1\"}");
    assertEquals(200, raw.statusCode(), raw.body());
    assertTrue(raw.body().contains("\"kvs\":[{\"key\":\"" + b64("gw/b") + "\",\"create_revision\":\""), raw.body());
    assertTrue(raw.body().endsWith(",\"more\":true,\"count\":\"2\"}"), raw.body());
    JsonObject byNumber = member.call("/v3/kv/range", "{\"key\":\"" + b64("gw/") + "\",\"range_end\":\""
        + b64("gw0") + "\",\"sort_order\":2,\"limit\":1,\"keys_only\":true}");
    assertEquals(b64("gw/b"), byNumber.getJsonArray("kvs").getJsonObject(0).getString("key"));
    assertFalse(byNumber.getJsonArray("kvs").getJsonObject(0).containsKey("value"), "keys_only leaves value out");

    // unknown fields are ignored, unknown enum names are not
    assertEquals(200, member.post("/v3/kv/range", "{\"key\":\"" + b64("gw/a") + "\",\"bogus\":{\"x\":[1]}}")
        .statusCode());
    HttpResponse<String> badEnum = member.post("/v3/kv/range", "{\"key\":\"" + b64("gw/a") + "\",\"sort_order\":\"NOPE\"}");
    assertEquals(400, badEnum.statusCode());
    assertEquals(3, new JsonObject(badEnum.body()).getInteger("code"));

    JsonObject txn = member.call("/v3/kv/txn", "{\"compare\":[{\"key\":\"" + b64("gw/a")
        + "\",\"result\":\"EQUAL\",\"target\":\"VALUE\",\"value\":\"" + b64("2") + "\"}],"
        + "\"success\":[{\"request_range\":{\"key\":\"" + b64("gw/a") + "\"}},"
        + "{\"requestPut\":{\"key\":\"" + b64("gw/c") + "\",\"value\":\"" + b64("4") + "\"}}],"
        + "\"failure\":[{\"request_delete_range\":{\"key\":\"" + b64("gw/a") + "\"}}]}");
    assertHeader(txn);
    assertEquals(true, txn.getBoolean("succeeded"));
    JsonArray responses = txn.getJsonArray("responses");
    assertEquals("2", unb64(responses.getJsonObject(0).getJsonObject("response_range").getJsonArray("kvs")
        .getJsonObject(0).getString("value")));
    assertTrue(responses.getJsonObject(1).containsKey("response_put"), txn.encode());

    JsonObject failed = member.call("/v3/kv/txn", "{\"compare\":[{\"key\":\"" + b64("gw/a")
        + "\",\"target\":\"VERSION\",\"result\":\"GREATER\",\"version\":\"100\"}]}");
    assertFalse(failed.containsKey("succeeded"), "false is a zero value and left out: " + failed.encode());

    JsonObject deleted = member.call("/v3/kv/deleterange", "{\"key\":\"" + b64("gw/") + "\",\"range_end\":\""
        + b64("gw0") + "\",\"prev_kv\":true}");
    assertEquals("3", deleted.getString("deleted"));
    assertEquals(3, deleted.getJsonArray("prev_kvs").size());
  }

  @Test
  void compaction_and_its_errors() throws Exception {
    JsonObject put = member.call("/v3/kv/put", "{\"key\":\"" + b64("cmp") + "\",\"value\":\"" + b64("x") + "\"}");
    long rev = Long.parseLong(put.getJsonObject("header").getString("revision"));
    member.call("/v3/kv/put", "{\"key\":\"" + b64("cmp") + "\",\"value\":\"" + b64("y") + "\"}");
    assertHeader(member.call("/v3/kv/compaction", "{\"revision\":\"" + rev + "\"}"));
    assertError(member.post("/v3/kv/compaction", "{\"revision\":" + rev + "}"), 400, 11,
        "etcdserver: mvcc: required revision has been compacted");
    assertError(member.post("/v3/kv/range", "{\"key\":\"" + b64("cmp") + "\",\"revision\":" + (rev - 1) + "}"), 400, 11,
        "etcdserver: mvcc: required revision has been compacted");
    assertError(member.post("/v3/kv/compaction", "{\"revision\":1000000}"), 400, 11,
        "etcdserver: mvcc: required revision is a future revision");
  }

  @Test
  void errors_have_grpc_gateways_body_and_status() throws Exception {
    assertError(member.post("/v3/kv/range", "{}"), 400, 3, "etcdserver: key is not provided");
    assertError(member.post("/v3/kv/put", ""), 400, 3, "etcdserver: key is not provided");
    HttpResponse<String> malformed = member.post("/v3/kv/range", "{\"key\":\"Zm9v\"");
    assertEquals(400, malformed.statusCode());
    assertEquals(3, new JsonObject(malformed.body()).getInteger("code"));
    assertError(member.post("/v3/lease/revoke", "{\"ID\":\"12345\"}"), 404, 5, "etcdserver: requested lease not found");
    assertError(member.post("/v3/cluster/member/remove", "{\"ID\":\"12345\"}"), 404, 5,
        "etcdserver: member not found");
    assertError(member.post("/v3/auth/authenticate", "{\"name\":\"u\",\"password\":\"p\"}"), 412, 9,
        "etcdserver: authentication is not enabled");

    // bytes take Go's standard base64 only, and its error names the byte where decoding stopped
    assertError(member.post("/v3/kv/put", "{\"key\":\"!!!\",\"value\":\"aHY=\"}"), 400, 3,
        "illegal base64 data at input byte 0");
    assertError(member.post("/v3/kv/put", "{\"key\":\"a2V5\",\"value\":\"aHY\"}"), 400, 3,
        "illegal base64 data at input byte 0"); // no padding: the last quantum is cut
    assertError(member.post("/v3/kv/put", "{\"key\":\"a2V5\",\"value\":\"aGVsbG8-\"}"), 400, 3,
        "illegal base64 data at input byte 7"); // '-' is URL-safe base64, not standard
    assertError(member.post("/v3/kv/put", "{\"key\":\"a2V5\",\"value\":\"aA==aA==\"}"), 400, 3,
        "illegal base64 data at input byte 4"); // data after the padding
    assertError(member.post("/v3/kv/put", "{\"key\":\"a2V5\",\"value\":\"aA=x\"}"), 400, 3,
        "illegal base64 data at input byte 2"); // a lone '=' where "==" belongs
    assertError(member.post("/v3/kv/put", "{\"key\":\"a2V5\",\"value\":\"aGVs==\"}"), 400, 3,
        "illegal base64 data at input byte 4"); // padding where a quantum starts
    assertEquals(200, member.post("/v3/kv/put", "{\"key\":\"" + b64("gwb64/lines") + "\",\"value\":\"aGVsbA\\r\\n==\"}")
        .statusCode()); // Go skips line breaks
    assertError(member.post("/v3/kv/txn", "{\"compare\":[{\"key\":\"a2V5\",\"target\":\"VALUE\","
        + "\"value\":\"a=\"}]}"), 400, 3, "illegal base64 data at input byte 1");

    HttpResponse<String> notFound = member.post("/v3/kv/nope", "{}");
    assertEquals(404, notFound.statusCode());
    assertEquals("Not Found\n", notFound.body());
    assertEquals(404, member.get("/nope").statusCode());
    HttpResponse<String> get = member.get("/v3/kv/range");
    assertEquals(405, get.statusCode());
    assertEquals("Method Not Allowed\n", get.body());
  }

  @Test
  void v3beta_and_kv_lease_aliases() throws Exception {
    member.call("/v3beta/kv/put", "{\"key\":\"" + b64("beta") + "\",\"value\":\"" + b64("v") + "\"}");
    JsonObject got = member.call("/v3/kv/range", "{\"key\":\"" + b64("beta") + "\"}");
    assertEquals("1", got.getString("count"));
    JsonObject lease = member.call("/v3beta/lease/grant", "{\"TTL\":60}");
    String id = lease.getString("ID");
    JsonObject ttl = member.call("/v3/kv/lease/timetolive", "{\"ID\":\"" + id + "\"}");
    assertEquals(id, ttl.getString("ID"));
    assertTrue(member.call("/v3/kv/lease/leases", "{}").getJsonArray("leases").stream()
        .anyMatch(l -> id.equals(((JsonObject) l).getString("ID"))));
    assertHeader(member.call("/v3/kv/lease/revoke", "{\"ID\":\"" + id + "\"}"));
  }

  @Test
  void leases() throws Exception {
    JsonObject grant = member.call("/v3/lease/grant", "{\"TTL\":\"60\",\"ID\":\"7001\"}");
    assertHeader(grant);
    assertEquals("7001", grant.getString("ID"));
    assertEquals("60", grant.getString("TTL"));
    assertError(member.post("/v3/lease/grant", "{\"TTL\":60,\"ID\":7001}"), 412, 9, "etcdserver: lease already exists");

    member.call("/v3/kv/put", "{\"key\":\"" + b64("leased") + "\",\"value\":\"" + b64("v") + "\",\"lease\":7001}");
    JsonObject ttl = member.call("/v3/lease/timetolive", "{\"ID\":7001,\"keys\":true}");
    assertEquals("60", ttl.getString("grantedTTL"));
    assertTrue(Long.parseLong(ttl.getString("TTL")) > 50, ttl.encode());
    assertEquals(new JsonArray().add(b64("leased")), ttl.getJsonArray("keys"));

    // As etcd: any non-zero ID, negative ones too; the list comes soonest expiry first.
    assertEquals("-5", member.call("/v3/lease/grant", "{\"TTL\":30,\"ID\":-5}").getString("ID"));
    member.call("/v3/lease/grant", "{\"TTL\":90,\"ID\":7000}");
    JsonArray listed = member.call("/v3/lease/leases", "{}").getJsonArray("leases");
    assertEquals(List.of("-5", "7001", "7000"), listed.stream().map(l -> ((JsonObject) l).getString("ID")).toList());
    member.call("/v3/lease/revoke", "{\"ID\":-5}");
    member.call("/v3/lease/revoke", "{\"ID\":7000}");

    assertHeader(member.call("/v3/lease/revoke", "{\"ID\":7001}"));
    JsonObject gone = member.call("/v3/lease/timetolive", "{\"ID\":7001}");
    assertEquals("-1", gone.getString("TTL"));
    assertFalse(member.call("/v3/kv/range", "{\"key\":\"" + b64("leased") + "\"}").containsKey("kvs"));
  }

  @Test
  void cluster_and_maintenance() throws Exception {
    JsonObject members = member.call("/v3/cluster/member/list", "{}");
    JsonObject self = members.getJsonArray("members").getJsonObject(0);
    assertEquals("gw", self.getString("name"));
    assertTrue(DIGITS.matcher(self.getString("ID")).matches(), "uint64 as a decimal string: " + self.encode());
    assertEquals(new JsonArray().add("http://127.0.0.1:" + member.clientPort), self.getJsonArray("clientURLs"));
    assertEquals(1, self.getJsonArray("peerURLs").size());

    JsonObject status = member.call("/v3/maintenance/status", "{}");
    assertHeader(status);
    assertEquals("3.4.23", status.getString("version"));
    assertEquals(status.getJsonObject("header").getString("member_id"), status.getString("leader"));
    assertTrue(status.getValue("dbSize") instanceof String, status.encode());
    assertTrue(status.getValue("raftIndex") instanceof String, status.encode());

    JsonObject hash = member.call("/v3/maintenance/hash", "{}");
    assertTrue(hash.getValue("hash") instanceof Number, "uint32 is a JSON number: " + hash.encode());
    assertFalse(member.call("/v3/maintenance/alarm", "{\"action\":\"GET\"}").containsKey("alarms"));
    member.call("/v3/maintenance/defragment", "{}");
  }

  @Test
  void lock_and_election() throws Exception {
    String lease = member.call("/v3/lease/grant", "{\"TTL\":60}").getString("ID");
    JsonObject lock = member.call("/v3/lock/lock", "{\"name\":\"" + b64("gw-lock") + "\",\"lease\":\"" + lease + "\"}");
    assertTrue(unb64(lock.getString("key")).startsWith("gw-lock/"), lock.encode());
    assertHeader(member.call("/v3/lock/unlock", "{\"key\":\"" + lock.getString("key") + "\"}"));

    JsonObject campaign = member.call("/v3/election/campaign",
        "{\"name\":\"" + b64("gw-elect") + "\",\"lease\":\"" + lease + "\",\"value\":\"" + b64("me") + "\"}");
    JsonObject leader = campaign.getJsonObject("leader");
    assertEquals(b64("gw-elect"), leader.getString("name"));
    JsonObject current = member.call("/v3/election/leader", "{\"name\":\"" + b64("gw-elect") + "\"}");
    assertEquals(b64("me"), current.getJsonObject("kv").getString("value"));
    assertHeader(member.call("/v3/election/resign", new JsonObject().put("leader", leader).encode()));
    HttpResponse<String> none = member.post("/v3/election/leader", "{\"name\":\"" + b64("gw-elect") + "\"}");
    assertError(none, 500, 2, "election: no leader");
  }

  @Test
  void health_version_probes_and_cors() throws Exception {
    HttpResponse<String> health = member.get("/health");
    assertEquals(200, health.statusCode());
    assertEquals("{\"health\":\"true\"}", health.body());
    assertEquals("{\"health\":\"true\"}", member.get("/health?serializable=true").body());
    assertEquals("{\"health\":\"true\"}", member.get("/health?exclude=NOSPACE").body());
    assertEquals(405, member.post("/health", "").statusCode());
    // a path that is not clean is redirected to the clean one, as Go's ServeMux does
    HttpResponse<String> moved = member.get("//version");
    assertEquals(301, moved.statusCode());
    assertEquals("/version", moved.headers().firstValue("location").orElse(""));
    assertEquals("<a href=\"/version\">Moved Permanently</a>.\n\n", moved.body());
    HttpResponse<String> movedPost = member.post("/v3/./kv//range?x=1", "{}");
    assertEquals(301, movedPost.statusCode());
    assertEquals("/v3/kv/range?x=1", movedPost.headers().firstValue("location").orElse(""));
    assertEquals("", movedPost.body());
    assertEquals("/", io.vetcd.api.http.HttpFrontend.cleanPath("/.."));
    assertEquals("/v3/kv/range/", io.vetcd.api.http.HttpFrontend.cleanPath("/v3/x/../kv/range/"));
    // gRPC is HTTP/2 only: over HTTP/1.1 a gRPC content type still reaches the gateway, as in etcd
    HttpResponse<String> grpcTyped = member.http.send(java.net.http.HttpRequest.newBuilder(member.uri("/v3/kv/range"))
        .header("Content-Type", "application/grpc")
        .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"key\":\"YQ==\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, grpcTyped.statusCode(), grpcTyped.body());
    assertTrue(new JsonObject(grpcTyped.body()).containsKey("header"), grpcTyped.body());
    // As etcd 3.4's: each check commits an entry through raft (serializable or not), and no revision.
    JsonObject before = member.call("/v3/maintenance/status", "{}");
    member.get("/health");
    member.get("/health?serializable=true");
    JsonObject after = member.call("/v3/maintenance/status", "{}");
    assertEquals(Long.parseLong(before.getString("raftIndex")) + 2, Long.parseLong(after.getString("raftIndex")));
    assertEquals(before.getJsonObject("header").getString("revision"), after.getJsonObject("header").getString("revision"));

    HttpResponse<String> version = member.get("/version");
    assertEquals(new JsonObject().put("etcdserver", "3.4.23").put("etcdcluster", "3.4.0"),
        new JsonObject(version.body()));
    assertEquals("ok", member.get("/livez").body());
    assertEquals("ok", member.get("/readyz").body());
    assertEquals("[+]data_corruption ok\n[+]serializable_read ok\n[+]linearizable_read ok\nok\n",
        member.get("/readyz?verbose").body());

    HttpResponse<String> options = member.http.send(HttpRequest.newBuilder(member.uri("/v3/kv/range"))
            .timeout(Duration.ofSeconds(10)).method("OPTIONS", HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, options.statusCode());
    assertEquals("*", options.headers().firstValue("access-control-allow-origin").orElse(""));
    assertEquals("*", health.headers().firstValue("access-control-allow-origin").orElse(""));
  }

  @Test
  void oversized_request_is_refused_with_etcds_error() throws Exception {
    String big = b64("x".repeat(1_600_000));
    assertError(member.post("/v3/kv/put", "{\"key\":\"" + b64("big") + "\",\"value\":\"" + big + "\"}"), 400, 3,
        "etcdserver: request is too large");
  }
}
