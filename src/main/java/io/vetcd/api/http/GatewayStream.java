package io.vetcd.api.http;

import com.google.protobuf.Message;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vetcd.api.BusClient;
import io.vetcd.api.Calls;
import io.vetcd.api.Recipes;
import io.vetcd.bus.Addresses;
import io.vetcd.bus.Watches;
import io.vetcd.pb.LeaseKeepAliveRequest;
import io.vetcd.pb.WatchCreateRequest;
import io.vetcd.pb.WatchRequest;
import io.vetcd.pb.WatchResponse;
import io.vetcd.pb.election.LeaderRequest;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One streaming call of the gateway (watch, lease keep-alive, election observe), independent of its
 * transport: a chunked POST answer or a WebSocket. Requests come in already parsed; every response
 * goes out as one {@code {"result":...}} line (or frame) through the {@link Sink}.
 */
abstract class GatewayStream {
  private static final Logger log = LoggerFactory.getLogger(GatewayStream.class);
  private static final AtomicLong STREAM_IDS = new AtomicLong();

  /** Where the responses go: a chunked HTTP answer or a WebSocket. */
  interface Sink {
    /** Writes one line (a POST stream appends the newline, a WebSocket sends it as one text frame). */
    void write(String line);

    boolean writeQueueFull();

    void drainHandler(Runnable handler);

    /** Ends the stream from the server side. */
    void end();
  }

  /** Flow control of the incoming requests. */
  interface Input {
    void pause();

    void resume();
  }

  protected final Sink sink;
  protected final Input input;
  private boolean closed;

  GatewayStream(Sink sink, Input input) {
    this.sink = sink;
    this.input = input;
  }

  /** A builder for the next request, to parse JSON into. */
  abstract Message.Builder newRequest();

  /** Bidirectional streams read every request of the body; server streams only the first. */
  boolean bidirectional() {
    return true;
  }

  /** Completes once responses can be received. */
  Future<Void> open() {
    return Future.succeededFuture();
  }

  abstract void onRequest(Message request);

  /** The client has sent its last request (the request body ended); the stream may go on. */
  void onInputEnd() {}

  /** The connection is gone, or the stream ended: release everything (called once). */
  final void close() {
    if (!closed) {
      closed = true;
      onClose();
    }
  }

  final boolean closed() {
    return closed;
  }

  protected void onClose() {}

  /**
   * Watch: requests go to the watch verticle as frames of one stream; its responses come back on the
   * stream's address. When the client reads too slowly (the socket's write queue is full) the stream
   * is reported blocked, so the watch verticle stops sending and later catches it up from history.
   */
  static final class Watch extends GatewayStream {
    private final Vertx vertx;
    private final Function<WatchCreateRequest, WatchResponse> refuse;
    private final String streamKey = "h" + STREAM_IDS.incrementAndGet();
    private MessageConsumer<WatchResponse> consumer;
    private boolean blocked;

    /** {@code refuse}: the answer to a create request the caller may not make, or null (auth). */
    Watch(Vertx vertx, Function<WatchCreateRequest, WatchResponse> refuse, Sink sink, Input input) {
      super(sink, input);
      this.vertx = vertx;
      this.refuse = refuse;
    }

    @Override
    Message.Builder newRequest() {
      return WatchRequest.newBuilder();
    }

    @Override
    Future<Void> open() {
      consumer = vertx.eventBus().localConsumer(Addresses.watchStream(streamKey), m -> {
        if (closed()) {
          return;
        }
        sink.write(GatewayJson.result(m.body()));
        if (!blocked && sink.writeQueueFull()) {
          blocked = true;
          log.debug("watch stream {}: the client reads too slowly, blocked", streamKey);
          vertx.eventBus().send(Addresses.WATCH, new Watches.StreamBlocked(streamKey));
          sink.drainHandler(() -> {
            blocked = false;
            log.debug("watch stream {}: drained", streamKey);
            if (!closed()) {
              vertx.eventBus().send(Addresses.WATCH, new Watches.StreamDrained(streamKey));
            }
          });
        }
      });
      return consumer.completion();
    }

    @Override
    void onRequest(Message request) {
      WatchRequest frame = (WatchRequest) request;
      WatchResponse refused = frame.hasCreateRequest() ? refuse.apply(frame.getCreateRequest()) : null;
      if (refused != null) {
        vertx.eventBus().send(Addresses.WATCH, new Watches.Refused(streamKey, refused));
      } else {
        vertx.eventBus().send(Addresses.WATCH, new Watches.Frame(streamKey, frame));
      }
    }

    @Override
    protected void onClose() {
      if (consumer != null) {
        consumer.unregister();
      }
      vertx.eventBus().send(Addresses.WATCH, new Watches.StreamClosed(streamKey));
    }
  }

  /**
   * Lease keep-alive: one answer per request, in order; the stream ends when the client's requests
   * end and every answer is written, or at the first error. At most {@link #PENDING_MAX} requests are
   * in flight; beyond that (or while the client does not read) the requests wait unread.
   */
  static final class KeepAlive extends GatewayStream {
    private static final int PENDING_MAX = 64;
    private final Calls calls;
    private Future<Void> last = Future.succeededFuture();
    private int pending;
    private boolean paused;
    private boolean inputEnded;

    KeepAlive(Calls calls, Sink sink, Input input) {
      super(sink, input);
      this.calls = calls;
    }

    @Override
    Message.Builder newRequest() {
      return LeaseKeepAliveRequest.newBuilder();
    }

    @Override
    void onRequest(Message request) {
      pending++;
      var answer = calls.keepAlive((LeaseKeepAliveRequest) request);
      // Answers are written in request order even if they complete out of order.
      last = last.transform(ignored -> answer.transform(ar -> {
        pending--;
        if (closed()) {
          return Future.succeededFuture();
        }
        if (ar.succeeded()) {
          sink.write(GatewayJson.result(ar.result()));
        } else {
          sink.write(GatewayJson.streamError(BusClient.toEtcd(ar.cause())));
          sink.end();
          close();
          return Future.succeededFuture();
        }
        flowControl();
        return Future.succeededFuture();
      }));
      flowControl();
    }

    private void flowControl() {
      if (inputEnded && pending == 0) {
        sink.end();
        close();
        return;
      }
      boolean full = pending >= PENDING_MAX || sink.writeQueueFull();
      if (full && !paused) {
        paused = true;
        input.pause();
        if (sink.writeQueueFull()) {
          sink.drainHandler(this::flowControl);
        }
      } else if (!full && paused) {
        paused = false;
        input.resume();
      }
    }

    @Override
    void onInputEnd() {
      inputEnded = true;
      flowControl();
    }
  }

  /** Election observe: a server stream of the election's leaders, from the first request only. */
  static final class Observe extends GatewayStream {
    private final Recipes recipes;
    private Runnable stop;

    Observe(Recipes recipes, Sink sink, Input input) {
      super(sink, input);
      this.recipes = recipes;
    }

    @Override
    boolean bidirectional() {
      return false;
    }

    @Override
    Message.Builder newRequest() {
      return LeaderRequest.newBuilder();
    }

    @Override
    void onRequest(Message request) {
      stop = recipes.observe(((LeaderRequest) request).getName(), response -> {
        if (!closed()) {
          sink.write(GatewayJson.result(response));
        }
      }, error -> {
        if (!closed()) {
          sink.write(GatewayJson.streamError(BusClient.toEtcd(error)));
          sink.end();
          close();
        }
      });
    }

    @Override
    protected void onClose() {
      if (stop != null) {
        stop.run();
      }
    }
  }

  /**
   * Maintenance.Snapshot: a server stream of the store's backup in chunks, one
   * {@code {"result":{"remaining_bytes":…,"blob":…}}} line each, read from the file only as fast as
   * the client takes them.
   */
  static final class Snapshot extends GatewayStream {
    private final Calls calls;
    private final io.vetcd.api.AuthGate auth;
    private final String token;
    private Runnable cancel;

    Snapshot(Calls calls, io.vetcd.api.AuthGate auth, String token, Sink sink, Input input) {
      super(sink, input);
      this.calls = calls;
      this.auth = auth;
      this.token = token;
    }

    @Override
    boolean bidirectional() {
      return false;
    }

    @Override
    Message.Builder newRequest() {
      return io.vetcd.pb.SnapshotRequest.newBuilder();
    }

    @Override
    void onRequest(Message request) {
      io.vetcd.api.SnapshotStream.Sink chunks = new io.vetcd.api.SnapshotStream.Sink() {
        @Override
        public void write(io.vetcd.pb.SnapshotResponse chunk) {
          if (!closed()) {
            sink.write(GatewayJson.result(chunk));
          }
        }

        @Override
        public boolean writeQueueFull() {
          return sink.writeQueueFull();
        }

        @Override
        public void drainHandler(Runnable handler) {
          sink.drainHandler(handler);
        }

        @Override
        public void end() {
          sink.end();
          close();
        }

        @Override
        public void fail(io.vetcd.errors.EtcdException e) {
          if (!closed()) {
            sink.write(GatewayJson.streamError(e));
            sink.end();
            close();
          }
        }
      };
      try {
        cancel = auth.callerScope(token, () -> calls.snapshot((io.vetcd.pb.SnapshotRequest) request, chunks));
      } catch (io.vetcd.errors.EtcdException e) {
        chunks.fail(e);
      }
    }

    @Override
    protected void onClose() {
      if (cancel != null) {
        cancel.run();
      }
    }
  }
}
