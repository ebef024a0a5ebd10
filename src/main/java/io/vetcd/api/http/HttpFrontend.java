package io.vetcd.api.http;

import com.google.protobuf.ByteString;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vetcd.api.BusClient;
import io.vetcd.api.Calls;
import io.vetcd.api.Recipes;
import io.vetcd.pb.AlarmMember;
import io.vetcd.pb.AlarmType;
import io.vetcd.pb.RangeRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The plain-HTTP side of the client port (everything that is not gRPC): etcd's JSON gateway under
 * {@code /v3/} and {@code /v3beta/} (with WebSocket streams), {@code /health}, {@code /livez},
 * {@code /readyz}, {@code /version} and {@code /metrics}.
 */
public final class HttpFrontend {
  private final Vertx vertx;
  private final String serverVersion;
  private final Calls calls;
  private final Gateway gateway;
  private final Metrics metrics;

  public HttpFrontend(Vertx vertx, String serverVersion, long localMemberId, long maxRequestBytes, int maxTxnOps,
      long quotaBackendBytes, long requestTimeoutMillis) {
    this.vertx = vertx;
    this.serverVersion = serverVersion;
    this.calls = new Calls(vertx, localMemberId, maxRequestBytes, maxTxnOps, requestTimeoutMillis);
    this.gateway = new Gateway(vertx, calls, new Recipes(new BusClient(vertx, requestTimeoutMillis)), maxRequestBytes);
    this.metrics = new Metrics(calls, quotaBackendBytes, io.vetcd.metrics.MemberMetrics.of(vertx));
  }

  /** A --listen-metrics-urls listener, as etcd's: /metrics and /health, and 404 for the rest. */
  public void handleMetricsListener(HttpServerRequest request) {
    if (request.path().equals("/metrics") || request.path().equals("/health")) {
      handle(request);
    } else {
      text(request, 404, "404 page not found\n");
    }
  }

  public void handle(HttpServerRequest request) {
    HttpServerResponse response = request.response();
    // etcd answers every client-port request with permissive CORS headers (--cors defaults to *).
    response.putHeader("Access-Control-Allow-Origin", "*")
        .putHeader("Access-Control-Allow-Methods", "POST, GET, OPTIONS, PUT, DELETE")
        .putHeader("Access-Control-Allow-Headers", "accept, content-type, authorization");
    if (request.version() != io.vertx.core.http.HttpVersion.HTTP_2) {
      // HTTP/2 header names stay lower case; on HTTP/1.x the head is written as Go writes it
      boolean health = request.path().equals("/health");
      response.headersEndHandler(v -> GoHeaders.reorder(response, health && response.getStatusCode() == 200));
    }
    if (request.method() == HttpMethod.OPTIONS) {
      response.setStatusCode(200).end();
      return;
    }
    String path = request.path();
    String clean = cleanPath(path);
    if (!clean.equals(path)) {
      redirect(request, clean + (request.query() == null ? "" : "?" + request.query()));
      return;
    }
    if (Gateway.isGatewayPath(path)) {
      gateway.handle(request);
      return;
    }
    switch (path) {
      case "/version" -> {
        if (getOnly(request)) {
          response.setStatusCode(200).putHeader("Content-Type", "application/json")
              .end("{\"etcdserver\":\"" + serverVersion + "\",\"etcdcluster\":\"" + clusterVersion() + "\"}");
        }
      }
      case "/health" -> {
        if (getOnly(request)) {
          health(request);
        }
      }
      case "/livez", "/readyz" -> {
        if (getOnly(request)) {
          probe(request, path.substring(1));
        }
      }
      case "/metrics" -> metrics.scrape().onComplete(ar -> {
        if (ar.succeeded()) {
          // chunked, as Go's Prometheus handler writes it
          response.setStatusCode(200).setChunked(true).putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
              .end(ar.result());
        } else {
          text(request, 500, "An error has occurred while serving metrics:\n\n" + ar.cause().getMessage() + "\n");
        }
      });
      default -> text(request, 404, "404 page not found\n");
    }
  }

  /** etcd's cluster version: the server version's major.minor with patch 0. */
  private String clusterVersion() {
    String[] parts = serverVersion.split("\\.");
    return parts.length >= 2 ? parts[0] + "." + parts[1] + ".0" : serverVersion;
  }

  // ---- health ----

  /** etcd 3.4's /health waits this long for its entry to commit. */
  static final long HEALTH_COMMIT_TIMEOUT_MILLIS = 1000;

  /**
   * {@code /health} as etcd 3.4.23: unhealthy when an alarm is raised (except those named by
   * {@code ?exclude=}), when the member knows no leader, or when an entry proposed to raft is not
   * applied within a second. Every call takes a raft index, as etcd's (a v2 quorum GET) does;
   * {@code ?serializable=true} (etcd 3.5's) is ignored, as 3.4.23 ignores it.
   */
  private void health(HttpServerRequest request) {
    Set<String> excluded = request.params().getAll("exclude").stream().collect(Collectors.toSet());
    alarms().compose(alarms -> {
      for (AlarmMember alarm : alarms) {
        if (alarm.getAlarm() != AlarmType.NONE && !excluded.contains(alarm.getAlarm().name())) {
          return Future.failedFuture("alarm " + alarm.getAlarm().name() + " is raised");
        }
      }
      if (io.vetcd.bus.RaftStatus.leader(vertx) == 0) {
        return Future.failedFuture("no leader");
      }
      return committed();
    }).onComplete(ar -> {
      HttpServerResponse response = request.response();
      if (ar.succeeded()) {
        metrics.healthSuccess.incrementAndGet();
        // Go sniffs the content type of the JSON as plain text.
        response.setStatusCode(200).putHeader("Content-Type", "text/plain; charset=utf-8").end("{\"health\":\"true\"}");
      } else {
        metrics.healthFailures.incrementAndGet();
        text(request, 503, "{\"health\":\"false\"}\n");
      }
    });
  }

  /**
   * {@code /livez} and {@code /readyz} as etcd 3.5 serves them: "ok" when every check passes; with
   * {@code ?verbose} one {@code [+]check ok} line per check; on failure 503 with the failed checks.
   * livez: the member serves a local read; readyz: no corruption alarm, local and linearizable reads.
   */
  private void probe(HttpServerRequest request, String name) {
    List<String> checks = name.equals("livez") ? List.of("serializable_read")
        : List.of("data_corruption", "serializable_read", "linearizable_read");
    List<Future<?>> results = new ArrayList<>();
    for (String check : checks) {
      results.add(switch (check) {
        case "data_corruption" -> alarms().compose(alarms -> alarms.stream().anyMatch(a -> a.getAlarm() == AlarmType.CORRUPT)
            ? Future.failedFuture("alarm activated: CORRUPT") : Future.succeededFuture());
        case "serializable_read" -> read(true);
        default -> read(false);
      });
    }
    Future.join(results).onComplete(ignored -> {
      boolean verbose = request.params().contains("verbose");
      boolean failed = results.stream().anyMatch(Future::failed);
      if (!failed && !verbose) {
        text(request, 200, "ok");
        return;
      }
      StringBuilder body = new StringBuilder();
      for (int i = 0; i < checks.size(); i++) {
        Future<?> result = results.get(i);
        body.append(result.succeeded() ? "[+]" + checks.get(i) + " ok\n"
            : "[-]" + checks.get(i) + " failed: " + result.cause().getMessage() + "\n");
      }
      if (failed) {
        text(request, 503, body.append(name).append(" check failed\n").toString());
      } else {
        text(request, 200, body.append("ok\n").toString());
      }
    });
  }

  /** An entry that changes nothing, through raft, within {@link #HEALTH_COMMIT_TIMEOUT_MILLIS}. */
  private Future<Object> committed() {
    io.vertx.core.Promise<Object> done = io.vertx.core.Promise.promise();
    long timer = vertx.setTimer(HEALTH_COMMIT_TIMEOUT_MILLIS, t -> done.tryFail("not committed within a second"));
    calls.write(io.vetcd.pb.internal.InternalRequest.newBuilder()
        .setHealthCheck(io.vetcd.pb.internal.HealthCheck.getDefaultInstance()).build()).onComplete(ar -> {
          vertx.cancelTimer(timer);
          if (ar.succeeded()) {
            done.tryComplete(ar.result());
          } else {
            done.tryFail(ar.cause());
          }
        });
    return done.future();
  }

  private Future<List<AlarmMember>> alarms() {
    return calls.localAlarms().map(r -> r.getAlarmsList());
  }

  private Future<?> read(boolean serializable) {
    return calls.range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("health")).setKeysOnly(true)
        .setLimit(1).setSerializable(serializable).build());
  }

  // ---- plumbing ----

  /** Go's ServeMux path cleaning: one slash at a time, no "." or ".." segments, a trailing slash kept. */
  public static String cleanPath(String path) {
    if (path == null || path.isEmpty()) {
      return "/";
    }
    java.util.ArrayDeque<String> segments = new java.util.ArrayDeque<>();
    for (String segment : path.split("/")) {
      if (segment.isEmpty() || segment.equals(".")) {
        continue;
      }
      if (segment.equals("..")) {
        segments.pollLast();
      } else {
        segments.addLast(segment);
      }
    }
    String clean = "/" + String.join("/", segments);
    if (path.endsWith("/") && !clean.equals("/")) {
      clean += "/";
    }
    return clean;
  }

  /** As Go's ServeMux does for a path that is not clean: 301 to the clean one (a body for GET only). */
  private static void redirect(HttpServerRequest request, String location) {
    HttpServerResponse response = request.response().setStatusCode(301).putHeader("Location", location);
    boolean get = request.method() == HttpMethod.GET;
    if (get || request.method() == HttpMethod.HEAD) {
      response.putHeader("Content-Type", "text/html; charset=utf-8");
    }
    if (get) {
      String escaped = location.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
          .replace("\"", "&#34;").replace("'", "&#39;");
      response.end("<a href=\"" + escaped + "\">Moved Permanently</a>.\n\n");
    } else {
      response.end();
    }
  }

  private static boolean getOnly(HttpServerRequest request) {
    if (request.method() == HttpMethod.GET || request.method() == HttpMethod.HEAD) {
      return true;
    }
    request.response().putHeader("Allow", "GET");
    text(request, 405, "Method Not Allowed\n");
    return false;
  }

  /** A plain-text answer, as Go's http.Error writes it. */
  static void text(HttpServerRequest request, int status, String body) {
    HttpServerResponse response = request.response();
    if (response.ended() || response.closed()) {
      return;
    }
    response.setStatusCode(status).putHeader("Content-Type", "text/plain; charset=utf-8")
        .putHeader("X-Content-Type-Options", "nosniff").end(body);
  }
}
