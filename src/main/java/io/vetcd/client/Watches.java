package io.vetcd.client;

import com.google.protobuf.ByteString;
import io.vertx.core.Context;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.client.GrpcClientResponse;
import io.vertx.grpc.common.GrpcStatus;
import io.vetcd.pb.Event;
import io.vetcd.pb.WatchGrpcClient;
import io.vetcd.pb.WatchRequest;
import io.vetcd.pb.WatchResponse;
import java.util.ArrayDeque;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;

/**
 * Watches as {@link Flux}es of events.
 *
 * <p>Each subscription opens its own gRPC watch stream. The stream is read only as fast as the
 * subscriber asks ({@code fetch} per Reactor demand); at most one server response's events plus the
 * publishOn prefetch are buffered, and HTTP/2 flow control holds back the rest on the server.
 *
 * <p>When the stream breaks (member killed or restarted, connection lost, member lost its leader),
 * the watch reopens on the next endpoint from the revision after the last one it received, so the
 * subscriber sees every event exactly once and in order. If that revision was compacted meanwhile,
 * the Flux fails with a {@link VetcdException} carrying the compact revision. A watch retries
 * forever while there is demand and the client is open; cancel the subscription to stop it.
 */
public final class Watches {
  private static final int PREFETCH = 32;
  private final VetcdClient client;
  private final Set<WatchStream> active = ConcurrentHashMap.newKeySet();

  Watches(VetcdClient client) {
    this.client = client;
  }

  public Flux<Event> watch(String key) {
    return watch(Keys.bs(key), WatchOptions.options());
  }

  public Flux<Event> watch(String key, WatchOptions options) {
    return watch(Keys.bs(key), options);
  }

  public Flux<Event> watch(ByteString key, WatchOptions options) {
    return Flux.<Event>create(sink -> new WatchStream(key, options, sink).start())
        .publishOn(client.scheduler, PREFETCH);
  }

  void closeAll() {
    for (WatchStream w : active) w.closeFromClient();
  }

  private final class WatchStream {
    private final ByteString key;
    private final WatchOptions options;
    private final FluxSink<Event> sink;
    private final Context ctx;
    private final ArrayDeque<Event> buffer = new ArrayDeque<>();
    private long nextRev;
    private long demand;
    private boolean awaiting;
    private boolean done;
    private int failures;
    private int ep;
    private GrpcClientRequest<WatchRequest, WatchResponse> req;
    private GrpcClientResponse<WatchRequest, WatchResponse> resp;
    private long generation;

    WatchStream(ByteString key, WatchOptions options, FluxSink<Event> sink) {
      this.key = key;
      this.options = options;
      this.sink = sink;
      this.nextRev = options.startRevision();
      this.ctx = client.vertx.getOrCreateContext();
    }

    void start() {
      active.add(this);
      sink.onRequest(n -> ctx.runOnContext(v -> {
        demand = demand + n < 0 ? Long.MAX_VALUE : demand + n;
        pump();
      }));
      sink.onDispose(() -> ctx.runOnContext(v -> stop()));
      ctx.runOnContext(v -> connect());
    }

    private void connect() {
      if (done) return;
      if (client.isClosed()) {
        finish(null);
        return;
      }
      long gen = ++generation;
      ep = client.currentIndex();
      int myEp = ep;
      client.openStream(myEp, WatchGrpcClient.Watch).onComplete(ar -> {
        if (gen != generation || done) {
          if (ar.succeeded()) ar.result().cancel();
          return;
        }
        if (ar.failed()) {
          broken(gen, ar.cause());
          return;
        }
        req = ar.result();
        req.exceptionHandler(e -> broken(gen, e));
        req.write(WatchRequest.newBuilder().setCreateRequest(options.toRequest(key, nextRev)).build());
        req.response().onComplete(rar -> {
          if (gen != generation || done) return;
          if (rar.failed()) {
            broken(gen, rar.cause());
            return;
          }
          GrpcClientResponse<WatchRequest, WatchResponse> r = rar.result();
          r.pause();
          resp = r;
          awaiting = false;
          r.handler(m -> onMessage(gen, m));
          r.exceptionHandler(e -> broken(gen, VetcdClient.statusOf(r, e)));
          r.endHandler(x -> broken(gen, VetcdClient.statusOf(r,
              new VetcdClient.TransportException(GrpcStatus.UNAVAILABLE, "watch stream ended", null))));
          pump();
        });
      });
    }

    private void onMessage(long gen, WatchResponse r) {
      if (gen != generation || done) return;
      awaiting = false;
      if (r.getCreated()) {
        failures = 0;
        if (nextRev == 0) nextRev = r.getHeader().getRevision() + 1;
      }
      if (r.getCanceled()) {
        if (r.getCompactRevision() > 0) {
          finish(new VetcdException(GrpcStatus.OUT_OF_RANGE,
              "etcdserver: mvcc: required revision has been compacted", false, r.getCompactRevision(), null));
        } else if (r.getCancelReason().contains("no leader")) {
          broken(gen, new VetcdException(GrpcStatus.UNAVAILABLE, r.getCancelReason()));
        } else {
          finish(new VetcdException(GrpcStatus.CANCELLED,
              r.getCancelReason().isEmpty() ? "watch canceled by the server" : r.getCancelReason()));
        }
        return;
      }
      if (r.getEventsCount() > 0) {
        long last = nextRev - 1;
        for (Event e : r.getEventsList()) {
          long rev = e.getKv().getModRevision();
          if (rev < nextRev) continue; // already delivered before a reconnect
          buffer.add(e);
          last = Math.max(last, rev);
        }
        if (!r.getFragment()) nextRev = Math.max(nextRev, last + 1);
      } else if (!r.getCreated() && r.getHeader().getRevision() >= nextRev) {
        // progress notification: every event up to this revision was sent
        nextRev = r.getHeader().getRevision() + 1;
      }
      pump();
    }

    private void pump() {
      while (demand > 0 && !buffer.isEmpty() && !done) {
        demand--;
        sink.next(buffer.poll());
      }
      if (!done && demand > 0 && buffer.isEmpty() && resp != null && !awaiting) {
        awaiting = true;
        resp.fetch(1);
      }
    }

    private void broken(long gen, Throwable cause) {
      if (gen != generation || done) return;
      VetcdException ex = VetcdClient.toVetcd(cause);
      cancelStream();
      if (!VetcdClient.isEndpointProblem(ex) && !(ex.status() == GrpcStatus.OK)
          && ex.status() != GrpcStatus.CANCELLED && ex.status() != GrpcStatus.UNKNOWN) {
        finish(ex);
        return;
      }
      if (ex.status() == GrpcStatus.UNAUTHENTICATED) client.invalidateToken();
      client.rotate(ep);
      long delay = client.backoffMillis(failures++);
      long g = ++generation;
      client.vertx.setTimer(delay, id -> {
        if (g == generation) connect();
      });
    }

    private void cancelStream() {
      GrpcClientRequest<WatchRequest, WatchResponse> r = req;
      req = null;
      resp = null;
      awaiting = false;
      if (r != null) {
        try {
          r.cancel();
        } catch (RuntimeException ignored) {
          // already gone
        }
      }
    }

    private void stop() {
      if (done) return;
      done = true;
      generation++;
      active.remove(this);
      cancelStream();
    }

    private void finish(Throwable error) {
      if (done) return;
      stop();
      if (error == null) sink.complete();
      else sink.error(error);
    }

    void closeFromClient() {
      ctx.runOnContext(v -> finish(null));
    }
  }
}
