package io.vetcd.http;

import static io.vetcd.http.GatewayMember.b64;
import static io.vetcd.http.GatewayMember.unb64;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The gateway's streaming calls over a chunked POST: newline-separated {@code {"result":...}} objects. */
@org.junit.jupiter.api.Timeout(120)
class GatewayStreamTest {
  private static GatewayMember member;

  @BeforeAll
  static void start() throws Exception {
    member = new GatewayMember();
  }

  @AfterAll
  static void stop() throws Exception {
    member.close();
  }

  /** An open streaming answer, read line by line on a thread of its own. */
  private static final class Lines implements AutoCloseable {
    /** As etcd's gateway, the answer's head goes out with its first line: wait for it on the reader thread. */
    private final CompletableFuture<HttpResponse<InputStream>> response;
    final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final Thread reader;

    Lines(String path, String body) {
      response = member.http.sendAsync(HttpRequest.newBuilder(member.uri(path))
          .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofInputStream());
      reader = new Thread(() -> {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(response.join().body(),
            StandardCharsets.UTF_8))) {
          for (String line = in.readLine(); line != null; line = in.readLine()) {
            lines.add(line);
          }
          lines.add("<EOF>");
        } catch (Exception e) {
          lines.add("<closed>");
        }
      }, "stream-reader");
      reader.setDaemon(true);
      reader.start();
    }

    JsonObject next() throws InterruptedException {
      String line = lines.poll(15, TimeUnit.SECONDS);
      assertNotNull(line, "no line within 15 s");
      return new JsonObject(line);
    }

    String nextRaw() throws InterruptedException {
      String line = lines.poll(15, TimeUnit.SECONDS);
      assertNotNull(line, "no line within 15 s");
      return line;
    }

    HttpResponse<InputStream> response() throws Exception {
      return response.get(15, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws Exception {
      response.cancel(true);
      if (response.isDone() && !response.isCompletedExceptionally()) {
        response.join().body().close();
      }
    }
  }

  @Test
  void watch_stream_sends_created_then_events_of_each_revision() throws Exception {
    // two create requests in one body: both watches live on the one stream
    String body = "{\"create_request\":{\"key\":\"" + b64("ws/a") + "\",\"prev_kv\":true}}\n"
        + "{\"createRequest\":{\"key\":\"" + b64("ws/b") + "\",\"watchId\":\"7\",\"filters\":[\"NOPUT\"]}}";
    try (Lines watch = new Lines("/v3/watch", body)) {
      assertEquals(200, watch.response().statusCode());
      assertEquals("application/json", watch.response().headers().firstValue("content-type").orElse(""));
      JsonObject created = watch.next().getJsonObject("result");
      assertEquals(true, created.getBoolean("created"));
      assertFalse(created.containsKey("watch_id"), "watch id 0 is a zero value: " + created.encode());
      JsonObject created7 = watch.next().getJsonObject("result");
      assertEquals("7", created7.getString("watch_id"));

      member.call("/v3/kv/put", "{\"key\":\"" + b64("ws/a") + "\",\"value\":\"" + b64("1") + "\"}");
      member.call("/v3/kv/put", "{\"key\":\"" + b64("ws/a") + "\",\"value\":\"" + b64("2") + "\"}");
      member.call("/v3/kv/put", "{\"key\":\"" + b64("ws/b") + "\",\"value\":\"" + b64("x") + "\"}");
      member.call("/v3/kv/deleterange", "{\"key\":\"" + b64("ws/b") + "\"}");

      String first = watch.nextRaw();
      assertTrue(first.startsWith("{\"result\":{\"header\":{\"cluster_id\":\""), first);
      JsonObject put1 = new JsonObject(first).getJsonObject("result");
      JsonObject event = put1.getJsonArray("events").getJsonObject(0);
      assertFalse(event.containsKey("type"), "PUT is the zero enum value: " + event.encode());
      assertEquals("1", unb64(event.getJsonObject("kv").getString("value")));
      assertEquals("1", event.getJsonObject("kv").getString("version"));

      JsonObject put2 = watch.next().getJsonObject("result").getJsonArray("events").getJsonObject(0);
      assertEquals("1", unb64(put2.getJsonObject("prev_kv").getString("value")));

      JsonObject delete = watch.next().getJsonObject("result");
      assertEquals("7", delete.getString("watch_id"));
      JsonObject deleteEvent = delete.getJsonArray("events").getJsonObject(0);
      assertEquals("DELETE", deleteEvent.getString("type"));
      assertEquals(List.of("key", "mod_revision"), List.copyOf(deleteEvent.getJsonObject("kv").fieldNames()));
    }
  }

  @Test
  void watch_from_a_compacted_revision_is_canceled_with_the_compact_revision() throws Exception {
    JsonObject put = member.call("/v3/kv/put", "{\"key\":\"" + b64("wc") + "\",\"value\":\"" + b64("1") + "\"}");
    long rev = Long.parseLong(put.getJsonObject("header").getString("revision"));
    member.call("/v3/kv/put", "{\"key\":\"" + b64("wc") + "\",\"value\":\"" + b64("2") + "\"}");
    member.call("/v3/kv/compaction", "{\"revision\":" + (rev + 1) + "}");
    try (Lines watch = new Lines("/v3/watch", "{\"create_request\":{\"key\":\"" + b64("wc") + "\",\"start_revision\":"
        + rev + "}}")) {
      assertEquals(true, watch.next().getJsonObject("result").getBoolean("created"));
      JsonObject canceled = watch.next().getJsonObject("result");
      assertEquals(true, canceled.getBoolean("canceled"), canceled.encode());
      assertEquals("" + (rev + 1), canceled.getString("compact_revision"));
    }
  }

  @Test
  void malformed_first_watch_request_fails_the_call() throws Exception {
    HttpResponse<String> response = member.post("/v3/watch", "{\"create_request\":{\"key\":");
    assertEquals(500, response.statusCode());
    JsonObject error = new JsonObject(response.body());
    assertEquals(2, error.getInteger("code"));
    assertEquals(error.getString("error"), error.getString("message"));
  }

  @Test
  void keepalive_stream_answers_each_request_then_ends() throws Exception {
    String id = member.call("/v3/lease/grant", "{\"TTL\":30}").getString("ID");
    try (Lines keepAlive = new Lines("/v3/lease/keepalive", "{\"ID\":\"" + id + "\"}\n{\"ID\":" + id + "}{\"ID\":123}")) {
      JsonObject first = keepAlive.next().getJsonObject("result");
      assertEquals(id, first.getString("ID"));
      assertEquals("30", first.getString("TTL"));
      assertNotNull(first.getJsonObject("header"));
      assertEquals(id, keepAlive.next().getJsonObject("result").getString("ID"));
      JsonObject unknown = keepAlive.next().getJsonObject("result");
      assertEquals("123", unknown.getString("ID"));
      assertFalse(unknown.containsKey("TTL"), "an unknown lease answers TTL 0, left out: " + unknown.encode());
      assertEquals("<EOF>", keepAlive.lines.poll(15, TimeUnit.SECONDS), "the stream ends with the requests");
    }
  }

  @Test
  void election_observe_streams_the_leader() throws Exception {
    String lease = member.call("/v3/lease/grant", "{\"TTL\":60}").getString("ID");
    try (Lines observe = new Lines("/v3/election/observe", "{\"name\":\"" + b64("obs") + "\"}")) {
      member.call("/v3/election/campaign", "{\"name\":\"" + b64("obs") + "\",\"lease\":\"" + lease + "\",\"value\":\""
          + b64("v1") + "\"}");
      JsonObject leader = observe.next().getJsonObject("result");
      assertEquals("v1", unb64(leader.getJsonObject("kv").getString("value")));
    }
  }

  @Test
  void streams_are_served_under_v3beta_too() throws Exception {
    try (Lines watch = new Lines("/v3beta/watch", "{\"create_request\":{\"key\":\"" + b64("beta/w") + "\"}}")) {
      assertEquals(true, watch.next().getJsonObject("result").getBoolean("created"));
    }
  }
}
