package io.vetcd.gatling;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.asLongAs;
import static io.gatling.javaapi.core.CoreDsl.atOnceUsers;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.nothingFor;
import static io.gatling.javaapi.core.CoreDsl.regex;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;
import static io.gatling.javaapi.http.HttpDsl.ws;

import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Session;
import io.gatling.javaapi.core.Simulation;
import io.gatling.javaapi.http.HttpProtocolBuilder;
import io.gatling.http.action.ws.WsInboundMessage;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * WebSocket watch fan-out: {@code watchers} WebSockets on {@code /v3/watch} each create a watch on
 * one prefix ({@code {"create_request":{...}}}, checked for {@code "created":true}); after they are
 * in place, {@code publishers} users put {@code puts} keys under the prefix through the gateway. Each
 * watcher counts the events it receives and fails if it has not seen every put within
 * {@code timeoutSeconds}. Gatling reports the create and put latencies; the simulation prints the
 * events delivered. System properties: {@code endpoint}, {@code watchers} (100), {@code publishers}
 * (4), {@code puts} (500), {@code timeoutSeconds} (60).
 */
public class WebSocketWatchSimulation extends Simulation {
  static final String ENDPOINT = GatewayKvSimulation.ENDPOINT;
  static final int WATCHERS = Integer.getInteger("watchers", 100);
  static final int PUBLISHERS = Integer.getInteger("publishers", 4);
  static final int PUTS = Integer.getInteger("puts", 500);
  static final int TIMEOUT_SECONDS = Integer.getInteger("timeoutSeconds", 60);
  static final String PREFIX = "gatling-watch/" + Long.toHexString(System.nanoTime()) + "/";
  static final AtomicLong DELIVERED = new AtomicLong();

  HttpProtocolBuilder gateway = http.baseUrl(ENDPOINT)
      .wsBaseUrl(ENDPOINT.replaceFirst("^http", "ws"))
      // keep the frames no check matched (the events) for processUnmatchedMessages to count
      .wsUnmatchedInboundMessageBufferSize(PUTS + 16)
      .contentTypeHeader("application/json");

  static String createRequest() {
    String key = GatewayKvSimulation.base64(PREFIX);
    byte[] end = PREFIX.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    end[end.length - 1]++;
    String rangeEnd = java.util.Base64.getEncoder().encodeToString(end);
    return "{\"create_request\":{\"key\":\"" + key + "\",\"range_end\":\"" + rangeEnd + "\"}}";
  }

  /** Counts the events in the frames that arrived since the last look (each frame may carry several). */
  static Session countEvents(List<WsInboundMessage> messages, Session session) {
    long events = 0;
    for (WsInboundMessage m : messages) {
      if (m instanceof WsInboundMessage.Text text) {
        String s = text.message();
        for (int at = s.indexOf("\"kv\""); at >= 0; at = s.indexOf("\"kv\"", at + 1)) events++;
      }
    }
    DELIVERED.addAndGet(events);
    return session.set("events", session.getLong("events") + events);
  }

  ScenarioBuilder watcher = scenario("websocket watcher")
      .exec(session -> session.set("events", 0L).set("deadline", System.nanoTime() + Duration.ofSeconds(TIMEOUT_SECONDS).toNanos()))
      .exec(ws("connect").connect("/v3/watch"))
      .exec(ws("create watch").sendText(createRequest())
          .await(10).on(ws.checkTextMessage("created").check(regex("\"created\":true"))))
      .exec(asLongAs(session -> session.getLong("events") < PUTS && System.nanoTime() < session.getLong("deadline")).on(
          exec(ws.processUnmatchedMessages(WebSocketWatchSimulation::countEvents)).pause(Duration.ofMillis(100))))
      .exec(ws.processUnmatchedMessages(WebSocketWatchSimulation::countEvents))
      .exec(session -> session.getLong("events") >= PUTS ? session : session.markAsFailed())
      .exec(ws("close").close());

  ScenarioBuilder publisher = scenario("gateway publisher")
      .repeat(Math.max(1, PUTS / PUBLISHERS), "i").on(
          exec(session -> session.set("key", GatewayKvSimulation.base64(PREFIX + session.userId() + "/" + session.getInt("i"))))
              .exec(http("put").post("/v3/kv/put")
                  .body(StringBody("{\"key\":\"#{key}\",\"value\":\"" + GatewayKvSimulation.VALUE_BASE64 + "\"}"))
                  .check(status().is(200))));

  {
    if (PUTS % PUBLISHERS != 0) throw new IllegalArgumentException("puts must be a multiple of publishers");
    setUp(
        watcher.injectOpen(atOnceUsers(WATCHERS)),
        // the watches are created within the first seconds; the puts start after them
        publisher.injectOpen(nothingFor(Duration.ofSeconds(3)), atOnceUsers(PUBLISHERS)))
        .protocols(gateway)
        .assertions(global().failedRequests().count().is(0L));
  }

  @Override
  public void after() {
    long expected = (long) WATCHERS * PUTS;
    System.out.println("watch events delivered: " + DELIVERED.get() + " of " + expected
        + (DELIVERED.get() < expected ? " (MISSING " + (expected - DELIVERED.get()) + ")" : ""));
  }
}
