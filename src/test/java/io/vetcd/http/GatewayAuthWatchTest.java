package io.vetcd.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A watch the caller may not make, over the gateway with auth on, is answered as etcd 3.4.23 answers
 * it: created and canceled at once, with a full header and the gRPC error's text as the reason.
 */
@org.junit.jupiter.api.Timeout(120)
class GatewayAuthWatchTest {
  private static GatewayMember member;

  @BeforeAll
  static void start() throws Exception {
    member = new GatewayMember();
    assertEquals(200, member.post("/v3/auth/user/add", "{\"name\":\"root\",\"password\":\"r\"}").statusCode());
    assertEquals(200, member.post("/v3/auth/user/grant", "{\"user\":\"root\",\"role\":\"root\"}").statusCode());
    assertEquals(200, member.post("/v3/auth/enable", "{}").statusCode());
  }

  @AfterAll
  static void stop() throws Exception {
    member.close();
  }

  @Test
  void a_role_grant_without_a_permission_is_refused() throws Exception {
    String token = new JsonObject(member.post("/v3/auth/authenticate", "{\"name\":\"root\",\"password\":\"r\"}")
        .body()).getString("token");
    HttpResponse<String> added = member.http.send(HttpRequest.newBuilder(member.uri("/v3/auth/role/add"))
        .header("Authorization", token).POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"r\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, added.statusCode(), added.body());
    HttpResponse<String> grant = member.http.send(HttpRequest.newBuilder(member.uri("/v3/auth/role/grant"))
        .header("Authorization", token).POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"r\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(400, grant.statusCode(), grant.body());
    assertEquals("etcdserver: permission not given", new JsonObject(grant.body()).getString("error"));
    HttpResponse<String> role = member.http.send(HttpRequest.newBuilder(member.uri("/v3/auth/role/get"))
        .header("Authorization", token).POST(HttpRequest.BodyPublishers.ofString("{\"role\":\"r\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, role.statusCode(), role.body());
    assertTrue(!new JsonObject(role.body()).containsKey("perm"), role.body());
  }

  @Test
  void an_anonymous_watch_is_canceled_with_the_missing_user_name_and_a_header() throws Exception {
    HttpResponse<InputStream> response = member.http.sendAsync(HttpRequest.newBuilder(member.uri("/v3/watch"))
        .POST(HttpRequest.BodyPublishers.ofString("{\"create_request\":{\"key\":\"a2V5\"}}")).build(),
        HttpResponse.BodyHandlers.ofInputStream()).get(15, TimeUnit.SECONDS);
    try (BufferedReader in = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
      JsonObject result = new JsonObject(in.readLine()).getJsonObject("result");
      assertEquals("rpc error: code = InvalidArgument desc = etcdserver: user name is empty",
          result.getString("cancel_reason"), result.encode());
      assertEquals(true, result.getBoolean("canceled"));
      assertEquals(true, result.getBoolean("created"));
      assertEquals("-1", result.getString("watch_id"));
      JsonObject header = result.getJsonObject("header");
      assertTrue(header.containsKey("cluster_id") && header.containsKey("member_id")
          && header.containsKey("revision") && header.containsKey("raft_term"), header.encode());
    }
  }
}
