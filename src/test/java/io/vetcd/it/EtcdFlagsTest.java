package io.vetcd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Base64;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A member started with the etcd flags of a kubeadm control plane: the metrics listener serves
 * /metrics and /health (and nothing else), watches asking for progress get it at the given interval,
 * and etcd's tuning flags are taken.
 */
class EtcdFlagsTest {
  final HttpClient http = HttpClient.newHttpClient();

  @Test
  void a_kubeadm_style_member_serves_metrics_on_its_own_url_and_notifies_watch_progress() throws Exception {
    int metricsPort = InProcessMember.freePort();
    String metrics = "http://127.0.0.1:" + metricsPort;
    try (InProcessMember member = new InProcessMember("--listen-metrics-urls", metrics,
        "--experimental-initial-corrupt-check=true", "--experimental-watch-progress-notify-interval=1s",
        "--snapshot-count=10000", "--max-snapshots", "3", "--grpc-keepalive-min-time=5s")) {
      HttpResponse<String> scrape = get(metrics + "/metrics");
      assertEquals(200, scrape.statusCode());
      assertTrue(scrape.body().contains("etcd_server_has_leader 1"), scrape.body());
      HttpResponse<String> health = get(metrics + "/health");
      assertEquals(200, health.statusCode());
      assertEquals("true", new JsonObject(health.body()).getString("health"));
      assertEquals(404, get(metrics + "/version").statusCode());

      // A watch that asked for progress notifications gets one (an empty response) within a few seconds.
      String key = Base64.getEncoder().encodeToString("progress/k".getBytes());
      CompletableFuture<HttpResponse<Stream<String>>> watch = http.sendAsync(HttpRequest.newBuilder(
              URI.create(member.endpoint() + "/v3/watch"))
          .POST(HttpRequest.BodyPublishers.ofString("{\"create_request\":{\"key\":\"" + key + "\",\"progress_notify\":true}}"))
          .build(), HttpResponse.BodyHandlers.ofLines());
      Iterator<String> lines = watch.get(10, TimeUnit.SECONDS).body().filter(l -> !l.isBlank()).iterator();
      JsonObject created = new JsonObject(lines.next()).getJsonObject("result");
      assertTrue(created.getBoolean("created"), created.encode());
      CompletableFuture<JsonObject> progress = CompletableFuture.supplyAsync(
          () -> new JsonObject(lines.next()).getJsonObject("result"));
      JsonObject notify = progress.get(15, TimeUnit.SECONDS);
      assertTrue(!notify.containsKey("events") && !notify.containsKey("created"), notify.encode());
      assertTrue(notify.getJsonObject("header").containsKey("revision"), notify.encode());
      watch.cancel(true);
    }
  }

  HttpResponse<String> get(String url) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
