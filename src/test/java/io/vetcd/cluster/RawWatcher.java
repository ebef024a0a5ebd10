package io.vetcd.cluster;

import com.google.protobuf.ByteString;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vetcd.linearizability.WatchGuarantees;
import io.vetcd.linearizability.WatchGuarantees.Response;
import io.vetcd.linearizability.WatchGuarantees.Session;
import io.vetcd.pb.WatchCreateRequest;
import io.vetcd.pb.WatchGrpcClient;
import io.vetcd.pb.WatchProgressRequest;
import io.vetcd.pb.WatchRequest;
import io.vetcd.pb.WatchResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A watcher on one member that records every response exactly as it came off the wire, by hand
 * (not through a client library, so nothing is deduplicated or reordered for the checker): one
 * gRPC watch stream at a time on a key prefix. When the stream breaks (the member killed, restarted,
 * or it cancels the watch) or when the watcher drops it on purpose now and then, it opens a new one
 * from the revision after the last it has everything of (its last event, or a later progress
 * notification), as etcd's clients resume. Every so often it asks for progress (a bookmark).
 * Everything runs on one Vert.x context.
 */
final class RawWatcher {
  final String name;
  final String member;
  private final SocketAddress address;
  private final String prefix;
  private final long initialStart;
  private final Random random;
  private final long progressEveryMillis;
  private final long resumeEveryMillis;
  private final Context ctx;
  private final GrpcClient grpc;

  private final List<Session> sessions = new ArrayList<>();
  private List<Response> current; // the responses of the running session, once created
  private GrpcClientRequest<WatchRequest, WatchResponse> req;
  private long seen; // every event up to this revision was received (0: none yet)
  private long generation;
  private boolean stopped;
  private int breaks;
  private String fatal;

  /**
   * @param initialStart the first start revision (0: from now)
   * @param progressEveryMillis about how often to ask for progress (0: never)
   * @param resumeEveryMillis about how often to drop the stream and resume (0: never)
   */
  RawWatcher(Vertx vertx, String name, String member, int port, String prefix, long initialStart, long seed,
      long progressEveryMillis, long resumeEveryMillis) {
    this.name = name;
    this.member = member;
    this.address = SocketAddress.inetSocketAddress(port, "127.0.0.1");
    this.prefix = prefix;
    this.initialStart = initialStart;
    this.random = new Random(seed);
    this.progressEveryMillis = progressEveryMillis;
    this.resumeEveryMillis = resumeEveryMillis;
    this.ctx = vertx.getOrCreateContext();
    this.grpc = GrpcClient.client(vertx, new GrpcClientOptions(), new HttpClientOptions()
        .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false).setConnectTimeout(2000));
  }

  RawWatcher start() {
    ctx.runOnContext(v -> {
      connect();
      if (progressEveryMillis > 0) {
        scheduleProgress();
      }
      if (resumeEveryMillis > 0) {
        scheduleResume();
      }
    });
    return this;
  }

  void stop() {
    ctx.runOnContext(v -> {
      synchronized (this) {
        stopped = true;
      }
      cancelStream();
      grpc.close();
    });
  }

  /** Every event up to this revision was received. */
  synchronized long seen() {
    return seen;
  }

  /** The problem that made the watcher give up, if any. */
  synchronized String fatal() {
    return fatal;
  }

  synchronized int breaks() {
    return breaks;
  }

  /** What it received so far. */
  synchronized WatchGuarantees.Stream stream() {
    List<Session> copy = new ArrayList<>();
    for (Session s : sessions) {
      copy.add(new Session(s.member(), s.startRevision(), List.copyOf(s.responses())));
    }
    return new WatchGuarantees.Stream(name, copy);
  }

  private void connect() {
    if (isStopped()) {
      return;
    }
    long gen = ++generation;
    long start = seen() > 0 ? seen() + 1 : initialStart;
    grpc.request(address, WatchGrpcClient.Watch).onComplete(ar -> onContext(() -> {
      if (gen != generation || isStopped()) {
        if (ar.succeeded()) {
          ar.result().cancel();
        }
        return;
      }
      if (ar.failed()) {
        broken(gen);
        return;
      }
      req = ar.result();
      req.headers().set("hasleader", "true");
      req.exceptionHandler(e -> onContext(() -> broken(gen)));
      ByteString key = ByteString.copyFromUtf8(prefix);
      ByteString end = key.substring(0, key.size() - 1)
          .concat(ByteString.copyFrom(new byte[] {(byte) (key.byteAt(key.size() - 1) + 1)}));
      req.write(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder().setKey(key)
          .setRangeEnd(end).setStartRevision(start)).build());
      req.response().onComplete(rar -> onContext(() -> {
        if (gen != generation || isStopped()) {
          return;
        }
        if (rar.failed()) {
          broken(gen);
          return;
        }
        rar.result().handler(m -> onContext(() -> onMessage(gen, start, m)));
        rar.result().exceptionHandler(e -> onContext(() -> broken(gen)));
        rar.result().endHandler(v -> onContext(() -> broken(gen)));
      }));
    }));
  }

  /**
   * Runs on this watcher's context: the gRPC connection's callbacks may come on another event loop,
   * and the stream's state changes on one thread only, in the order the callbacks came.
   */
  private void onContext(Runnable action) {
    if (Vertx.currentContext() == ctx) {
      action.run();
    } else {
      ctx.runOnContext(v -> action.run());
    }
  }

  private void onMessage(long gen, long start, WatchResponse m) {
    if (gen != generation || isStopped()) {
      return;
    }
    if (m.getCreated()) {
      synchronized (this) {
        current = new ArrayList<>();
        sessions.add(new Session(member, start > 0 ? start : m.getHeader().getRevision() + 1, current));
        if (seen == 0) {
          seen = (start > 0 ? start : m.getHeader().getRevision() + 1) - 1;
        }
      }
      if (!m.getCanceled()) {
        return;
      }
    }
    if (m.getCanceled()) {
      if (m.getCompactRevision() > 0) {
        synchronized (this) {
          fatal = "canceled: compacted at " + m.getCompactRevision();
          stopped = true;
        }
        cancelStream();
        return;
      }
      broken(gen); // e.g. no leader: resume later
      return;
    }
    synchronized (this) {
      if (current == null) {
        fatal = "a response before the watch was created: " + m;
        stopped = true;
        return;
      }
      if (m.getEventsCount() > 0) {
        current.add(Response.events(m.getHeader().getRevision(), m.getEventsList()));
        if (!m.getFragment()) {
          seen = Math.max(seen, m.getEvents(m.getEventsCount() - 1).getKv().getModRevision());
        }
      } else {
        current.add(Response.progress(m.getHeader().getRevision()));
        seen = Math.max(seen, m.getHeader().getRevision());
      }
    }
  }

  private void broken(long gen) {
    if (gen != generation || isStopped()) {
      return;
    }
    synchronized (this) {
      breaks++;
    }
    cancelStream();
    long g = ++generation;
    ctx.owner().setTimer(200 + random.nextInt(300), t -> {
      if (g == generation) {
        connect();
      }
    });
  }

  private void cancelStream() {
    GrpcClientRequest<WatchRequest, WatchResponse> r = req;
    req = null;
    synchronized (this) {
      current = null;
    }
    if (r != null) {
      try {
        r.cancel();
      } catch (RuntimeException ignored) {
        // already gone
      }
    }
  }

  private void scheduleProgress() {
    ctx.owner().setTimer(progressEveryMillis / 2 + random.nextInt((int) progressEveryMillis), t -> {
      if (isStopped()) {
        return;
      }
      boolean created;
      synchronized (this) {
        created = current != null;
      }
      if (req != null && created) {
        req.write(WatchRequest.newBuilder().setProgressRequest(WatchProgressRequest.getDefaultInstance()).build());
      }
      scheduleProgress();
    });
  }

  private void scheduleResume() {
    ctx.owner().setTimer(resumeEveryMillis / 2 + random.nextInt((int) resumeEveryMillis), t -> {
      if (isStopped()) {
        return;
      }
      if (req != null) {
        cancelStream();
        generation++;
        connect();
      }
      scheduleResume();
    });
  }

  private synchronized boolean isStopped() {
    return stopped;
  }
}
