package io.vetcd.client;

import io.vertx.core.Context;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.common.GrpcStatus;
import io.vetcd.pb.LeaseGrantRequest;
import io.vetcd.pb.LeaseGrantResponse;
import io.vetcd.pb.LeaseGrpcClient;
import io.vetcd.pb.LeaseKeepAliveRequest;
import io.vetcd.pb.LeaseKeepAliveResponse;
import io.vetcd.pb.LeaseLeasesRequest;
import io.vetcd.pb.LeaseLeasesResponse;
import io.vetcd.pb.LeaseRevokeRequest;
import io.vetcd.pb.LeaseRevokeResponse;
import io.vetcd.pb.LeaseTimeToLiveRequest;
import io.vetcd.pb.LeaseTimeToLiveResponse;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Mono;

/** Leases. Grant and revoke are not retried after they were sent; TTL queries and keep-alives are. */
public final class Leases {
  private final VetcdClient client;
  private final Set<KeepAlive> active = ConcurrentHashMap.newKeySet();

  Leases(VetcdClient client) {
    this.client = client;
  }

  /** Grants a lease of {@code ttlSeconds} (the server may raise it to its minimum TTL). */
  public Mono<LeaseGrantResponse> grant(long ttlSeconds) {
    return grant(ttlSeconds, 0);
  }

  /** Grants a lease with a chosen id (0: the server picks one). */
  public Mono<LeaseGrantResponse> grant(long ttlSeconds, long id) {
    return client.unary(LeaseGrpcClient.LeaseGrant, LeaseGrantRequest.newBuilder().setTTL(ttlSeconds).setID(id).build(),
        false);
  }

  public Mono<LeaseRevokeResponse> revoke(long id) {
    return client.unary(LeaseGrpcClient.LeaseRevoke, LeaseRevokeRequest.newBuilder().setID(id).build(), false);
  }

  /** Remaining TTL (-1 once revoked or expired); with {@code keys}, the keys attached to it. */
  public Mono<LeaseTimeToLiveResponse> timeToLive(long id, boolean keys) {
    return client.unary(LeaseGrpcClient.LeaseTimeToLive,
        LeaseTimeToLiveRequest.newBuilder().setID(id).setKeys(keys).build(), true);
  }

  public Mono<LeaseLeasesResponse> leases() {
    return client.unary(LeaseGrpcClient.LeaseLeases, LeaseLeasesRequest.getDefaultInstance(), true);
  }

  /**
   * Keeps a lease alive while subscribed: sends a keep-alive every third of the TTL and emits each
   * answer. Moves to another endpoint when the stream breaks. Fails with {@code NOT_FOUND} once the
   * server says the lease is gone (expired or revoked). Slow subscribers see only the latest answer.
   */
  public Flux<LeaseKeepAliveResponse> keepAlive(long id) {
    return Flux.<LeaseKeepAliveResponse>create(sink -> new KeepAlive(id, sink).start(), FluxSink.OverflowStrategy.LATEST)
        .publishOn(client.scheduler, 1);
  }

  /** One keep-alive round trip. */
  public Mono<LeaseKeepAliveResponse> keepAliveOnce(long id) {
    return keepAlive(id).next();
  }

  void closeAll() {
    for (KeepAlive k : active) k.ctx.runOnContext(v -> k.finish(null));
  }

  private final class KeepAlive {
    final long id;
    final FluxSink<LeaseKeepAliveResponse> sink;
    final Context ctx;
    GrpcClientRequest<LeaseKeepAliveRequest, LeaseKeepAliveResponse> req;
    long generation;
    long timer = -1;
    int failures;
    int ep;
    long lastTtlSeconds;
    boolean done;

    KeepAlive(long id, FluxSink<LeaseKeepAliveResponse> sink) {
      this.id = id;
      this.sink = sink;
      this.ctx = client.vertx.getOrCreateContext();
    }

    void start() {
      active.add(this);
      sink.onDispose(() -> ctx.runOnContext(v -> finish(null)));
      ctx.runOnContext(v -> connect());
    }

    /**
     * Runs on this keep-alive's context: the gRPC connection's callbacks and timers come on other
     * event loops, and the state (generation, timer, stream) must change on one thread only.
     */
    void onContext(Runnable action) {
      if (io.vertx.core.Vertx.currentContext() == ctx) {
        action.run();
      } else {
        ctx.runOnContext(v -> action.run());
      }
    }

    void connect() {
      if (done) return;
      cancelTimer();
      long gen = ++generation;
      ep = client.currentIndex();
      client.openStream(ep, LeaseGrpcClient.LeaseKeepAlive).onComplete(ar -> onContext(() -> {
        if (gen != generation || done) {
          if (ar.succeeded()) ar.result().cancel();
          return;
        }
        if (ar.failed()) {
          broken(gen);
          return;
        }
        req = ar.result();
        req.exceptionHandler(e -> onContext(() -> broken(gen)));
        req.response().onComplete(rar -> onContext(() -> {
          if (gen != generation || done) return;
          if (rar.failed()) {
            broken(gen);
            return;
          }
          rar.result().handler(m -> onContext(() -> onResponse(gen, m)));
          rar.result().exceptionHandler(e -> onContext(() -> broken(gen)));
          rar.result().endHandler(x -> onContext(() -> broken(gen)));
        }));
        ping(gen);
      }));
    }

    void ping(long gen) {
      if (gen != generation || done || req == null) return;
      req.write(LeaseKeepAliveRequest.newBuilder().setID(id).build());
      // no answer within the request timeout (or a third of the TTL, so a lost member or leader
      // leaves time to renew elsewhere before the lease runs out): treat the stream as broken
      long waitMillis = client.requestTimeout.toMillis();
      if (lastTtlSeconds > 0) waitMillis = Math.min(waitMillis, lastTtlSeconds * 1000 / 3);
      cancelTimer();
      timer = client.vertx.setTimer(Math.max(1000, waitMillis), t -> onContext(() -> {
        timer = -1;
        broken(gen);
      }));
    }

    void onResponse(long gen, LeaseKeepAliveResponse r) {
      if (gen != generation || done) return;
      failures = 0;
      cancelTimer();
      if (r.getTTL() <= 0) {
        finish(new VetcdException(GrpcStatus.NOT_FOUND, "etcdserver: requested lease not found"));
        return;
      }
      lastTtlSeconds = r.getTTL();
      sink.next(r);
      long delay = Math.max(500, r.getTTL() * 1000 / 3);
      timer = client.vertx.setTimer(delay, t -> onContext(() -> {
        timer = -1;
        ping(gen);
      }));
    }

    /**
     * The stream of generation {@code gen} failed: later callbacks of that stream (its cancellation
     * fires some synchronously) are ignored, and a new stream is dialed after a backoff.
     */
    void broken(long gen) {
      if (gen != generation || done) return;
      long next = ++generation; // first: callbacks of the old stream see a stale generation
      cancelStream();
      client.rotate(ep);
      timer = client.vertx.setTimer(client.backoffMillis(failures++), t -> onContext(() -> {
        timer = -1;
        if (next == generation && !done) connect();
      }));
    }

    void cancelTimer() {
      if (timer >= 0) client.vertx.cancelTimer(timer);
      timer = -1;
    }

    void cancelStream() {
      cancelTimer();
      var r = req;
      req = null;
      if (r != null) {
        try {
          r.cancel();
        } catch (RuntimeException ignored) {
          // already gone
        }
      }
    }

    void finish(Throwable error) {
      if (done) return;
      done = true;
      generation++;
      active.remove(this);
      cancelStream();
      if (error == null) sink.complete();
      else sink.error(error);
    }
  }
}
