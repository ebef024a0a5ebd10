package io.vetcd.gatling;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.atOnceUsers;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import io.gatling.javaapi.http.HttpProtocolBuilder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The HTTP/JSON gateway under load: {@code users} closed-loop users each put {@code requests} keys
 * ({@code POST /v3/kv/put}, base64 keys and 256-byte values), then read them back
 * ({@code POST /v3/kv/range}). System properties: {@code endpoint} (default http://127.0.0.1:2379),
 * {@code users} (50), {@code requests} (100 per user and phase).
 */
public class GatewayKvSimulation extends Simulation {
  static final String ENDPOINT = System.getProperty("endpoint", "http://127.0.0.1:2379");
  static final int USERS = Integer.getInteger("users", 50);
  static final int REQUESTS_PER_USER = Integer.getInteger("requests", 100);
  static final String VALUE_BASE64 = Base64.getEncoder().encodeToString("v".repeat(256).getBytes(StandardCharsets.US_ASCII));

  static String base64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  HttpProtocolBuilder gateway = http.baseUrl(ENDPOINT)
      .contentTypeHeader("application/json")
      .acceptHeader("application/json");

  ScenarioBuilder putThenRange = scenario("gateway put then range")
      .repeat(REQUESTS_PER_USER, "i").on(
          exec(session -> session.set("key", base64("gatling/" + session.userId() + "/" + session.getInt("i"))))
              .exec(http("put").post("/v3/kv/put")
                  .body(StringBody("{\"key\":\"#{key}\",\"value\":\"" + VALUE_BASE64 + "\"}"))
                  .check(status().is(200), jsonPath("$.header.revision").exists())))
      .repeat(REQUESTS_PER_USER, "i").on(
          exec(session -> session.set("key", base64("gatling/" + session.userId() + "/" + session.getInt("i"))))
              .exec(http("range").post("/v3/kv/range")
                  .body(StringBody("{\"key\":\"#{key}\"}"))
                  .check(status().is(200), jsonPath("$.kvs[0].value").is(VALUE_BASE64))));

  {
    setUp(putThenRange.injectOpen(atOnceUsers(USERS)))
        .protocols(gateway)
        .assertions(global().failedRequests().count().is(0L));
  }
}
