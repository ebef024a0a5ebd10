package io.vetcd.api.http;

import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vetcd.bus.Addresses;
import io.vetcd.bus.Commands;
import io.vetcd.pb.RangeRequest;
import com.google.protobuf.ByteString;

/** The plain-HTTP side of the client port: health and version (the JSON gateway comes later). */
public final class HttpFrontend {
  private final Vertx vertx;
  private final String serverVersion;

  public HttpFrontend(Vertx vertx, String serverVersion) {
    this.vertx = vertx;
    this.serverVersion = serverVersion;
  }

  public void handle(HttpServerRequest request) {
    switch (request.path()) {
      case "/version" -> json(request, 200, new JsonObject().put("etcdserver", serverVersion).put("etcdcluster", "3.4.0"));
      case "/health", "/readyz", "/livez" -> health(request);
      default -> request.response().setStatusCode(404).end("404 page not found\n");
    }
  }

  private void health(HttpServerRequest request) {
    boolean serializable = "true".equals(request.getParam("serializable"));
    // As etcd: healthy when a read of the key "health" completes (through raft unless serializable).
    RangeRequest probe = RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("health")).setSerializable(serializable).build();
    vertx.eventBus().request(Addresses.APPLY_READ, new Commands.Read(probe, !serializable),
        new DeliveryOptions().setSendTimeout(5_000)).onComplete(ar -> {
          boolean healthy = ar.succeeded();
          String path = request.path();
          if (path.equals("/health")) {
            json(request, healthy ? 200 : 503, new JsonObject().put("health", String.valueOf(healthy)));
          } else {
            request.response().setStatusCode(healthy ? 200 : 503).end(healthy ? "ok\n" : "not ok\n");
          }
        });
  }

  private static void json(HttpServerRequest request, int status, JsonObject body) {
    request.response().setStatusCode(status).putHeader("content-type", "application/json").end(body.encode());
  }
}
