package io.vetcd.http;

import static io.vetcd.http.GatewayMember.b64;
import static io.vetcd.http.GatewayMember.unb64;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.WebSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

/**
 * Watch over a WebSocket on {@code /v3/watch}, with the JDK's WebSocket client: each text frame sent
 * is one watch request, each frame received one {@code {"result":...}}.
 */
@Timeout(120)
class WebSocketWatchTest {
  private static GatewayMember member;

  @BeforeAll
  static void start() throws Exception {
    member = new GatewayMember();
  }

  @AfterAll
  static void stop() throws Exception {
    member.close();
  }

  /** The JDK's WebSocket client; received messages queue up. */
  private static final class Socket implements WebSocket.Listener {
    final BlockingQueue<String> messages = new LinkedBlockingQueue<>();
    private final StringBuilder partial = new StringBuilder();
    WebSocket ws;

    Socket() throws Exception {
      this.ws = member.http.newWebSocketBuilder()
          .buildAsync(URI.create("ws://127.0.0.1:" + member.clientPort + "/v3/watch"), this).get(10, TimeUnit.SECONDS);
    }

    @Override
    public void onOpen(WebSocket webSocket) {
      webSocket.request(Long.MAX_VALUE);
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        messages.add(partial.toString());
        partial.setLength(0);
      }
      return null;
    }

    void send(String json) throws Exception {
      ws.sendText(json, true).get(10, TimeUnit.SECONDS);
    }

    JsonObject next() throws InterruptedException {
      String message = messages.poll(20, TimeUnit.SECONDS);
      assertNotNull(message, "no frame within 20 s");
      assertTrue(message.startsWith("{\"result\":{"), message);
      return new JsonObject(message).getJsonObject("result");
    }

    void close() {
      ws.sendClose(WebSocket.NORMAL_CLOSURE, "").orTimeout(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void two_watches_on_one_socket_then_progress_and_cancel() throws Exception {
    Socket socket = new Socket();
    try {
      socket.send("{\"create_request\":{\"key\":\"" + b64("sock/a") + "\"}}");
      JsonObject createdA = socket.next();
      assertEquals(true, createdA.getBoolean("created"));
      String idA = createdA.getString("watch_id", "0");
      socket.send("{\"createRequest\":{\"key\":\"" + b64("sock/b") + "\",\"prevKv\":true}}");
      JsonObject createdB = socket.next();
      assertEquals(true, createdB.getBoolean("created"));
      String idB = createdB.getString("watch_id", "0");
      assertFalse(idA.equals(idB), "two watches, two ids");

      member.call("/v3/kv/put", "{\"key\":\"" + b64("sock/a") + "\",\"value\":\"" + b64("1") + "\"}");
      member.call("/v3/kv/put", "{\"key\":\"" + b64("sock/b") + "\",\"value\":\"" + b64("2") + "\"}");
      member.call("/v3/kv/put", "{\"key\":\"" + b64("sock/b") + "\",\"value\":\"" + b64("3") + "\"}");

      JsonObject a = socket.next();
      assertEquals(idA, a.getString("watch_id", "0"));
      assertEquals("1", unb64(a.getJsonArray("events").getJsonObject(0).getJsonObject("kv").getString("value")));
      JsonObject b1 = socket.next();
      assertEquals(idB, b1.getString("watch_id", "0"));
      JsonObject b2 = socket.next();
      JsonObject event = b2.getJsonArray("events").getJsonObject(0);
      assertEquals("3", unb64(event.getJsonObject("kv").getString("value")));
      assertEquals("2", unb64(event.getJsonObject("prev_kv").getString("value")));

      socket.send("{\"progress_request\":{}}");
      JsonObject progress = socket.next();
      assertFalse(progress.containsKey("events"), progress.encode());
      assertEquals(b2.getJsonObject("header").getString("revision"), progress.getJsonObject("header").getString("revision"));

      socket.send("{\"cancel_request\":{\"watch_id\":\"" + idA + "\"}}");
      JsonObject canceled = socket.next();
      assertEquals(true, canceled.getBoolean("canceled"));
      assertEquals(idA, canceled.getString("watch_id", "0"));

      member.call("/v3/kv/put", "{\"key\":\"" + b64("sock/a") + "\",\"value\":\"" + b64("4") + "\"}");
      member.call("/v3/kv/put", "{\"key\":\"" + b64("sock/b") + "\",\"value\":\"" + b64("5") + "\"}");
      JsonObject after = socket.next();
      assertEquals(idB, after.getString("watch_id", "0"), "the canceled watch sends nothing more: " + after.encode());
      assertNull(socket.messages.poll(300, TimeUnit.MILLISECONDS));
    } finally {
      socket.close();
    }
  }

  @Test
  void a_slow_reader_is_blocked_then_caught_up_in_order_without_loss() throws Exception {
    Logger streams = (Logger) LoggerFactory.getLogger("io.vetcd.api.http.GatewayStream");
    ListAppender<ILoggingEvent> log = new ListAppender<>();
    log.start();
    streams.addAppender(log);
    Level level = streams.getLevel();
    streams.setLevel(Level.DEBUG);
    try (RawWebSocket socket = new RawWebSocket(member.clientPort, "/v3/watch")) {
      socket.sendText("{\"create_request\":{\"key\":\"" + b64("slow/") + "\",\"range_end\":\"" + b64("slow0") + "\"}}");
      assertEquals(true, new JsonObject(socket.readText()).getJsonObject("result").getBoolean("created"));
      // The client stops reading: the socket fills, the stream is reported blocked, and the watch
      // verticle stops sending. Far more than the socket buffers and write queue hold goes by.
      int puts = 150;
      String value = b64("v".repeat(100_000));
      long firstRevision = 0;
      for (int i = 0; i < puts; i++) {
        JsonObject put = member.call("/v3/kv/put", "{\"key\":\"" + b64("slow/" + (i % 10)) + "\",\"value\":\"" + value + "\"}");
        if (i == 0) {
          firstRevision = Long.parseLong(put.getJsonObject("header").getString("revision"));
        }
      }
      assertTrue(log.list.stream().anyMatch(e -> e.getFormattedMessage().contains("blocked")),
          "the stream must have been reported blocked");
      List<Long> revisions = new ArrayList<>();
      while (revisions.size() < puts) {
        String message = socket.readText();
        assertNotNull(message, "closed before every revision arrived");
        JsonArray events = new JsonObject(message).getJsonObject("result").getJsonArray("events");
        assertNotNull(events, message);
        for (Object e : events) {
          JsonObject kv = ((JsonObject) e).getJsonObject("kv");
          revisions.add(Long.parseLong(kv.getString("mod_revision")));
          assertEquals(100_000, unb64(kv.getString("value")).length());
        }
      }
      for (int i = 0; i < puts; i++) {
        assertEquals(firstRevision + i, revisions.get(i), "revisions in order, none lost or repeated");
      }
      assertEquals(puts, revisions.size());
      assertTrue(log.list.stream().anyMatch(e -> e.getFormattedMessage().contains("drained")));
    } finally {
      streams.setLevel(level);
      streams.detachAppender(log);
    }
  }

  @Test
  void a_malformed_first_frame_is_answered_with_the_error_and_the_socket_closes() throws Exception {
    Socket socket = new Socket();
    socket.send("{\"create_request\":{\"key\":\"!!\"}}");
    String message = socket.messages.poll(10, TimeUnit.SECONDS);
    assertNotNull(message);
    JsonObject error = new JsonObject(message);
    assertEquals(2, error.getInteger("code"));
    assertEquals(error.getString("error"), error.getString("message"));
  }
}
