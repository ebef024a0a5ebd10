package io.vetcd.api.http;

import com.google.protobuf.Message;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.ServerWebSocket;
import io.vetcd.api.AuthGate;
import io.vetcd.api.BusClient;
import io.vetcd.api.Calls;
import io.vetcd.api.Recipes;
import io.vetcd.auth.AuthInfo;
import io.vetcd.errors.EtcdException;
import io.vetcd.errors.GrpcCode;
import io.vetcd.pb.*;
import io.vetcd.pb.election.CampaignRequest;
import io.vetcd.pb.election.LeaderRequest;
import io.vetcd.pb.election.ProclaimRequest;
import io.vetcd.pb.election.ResignRequest;
import io.vetcd.pb.lock.LockRequest;
import io.vetcd.pb.lock.UnlockRequest;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * etcd 3.4's HTTP/JSON gateway: every {@code POST /v3/...} (and {@code /v3beta/...}) path of its
 * grpc-gateway, each turned into the same call the gRPC frontend makes. Streaming calls answer
 * newline-separated {@code {"result":...}} objects, over a chunked answer or a WebSocket.
 */
final class Gateway {
  private static final Logger log = LoggerFactory.getLogger(Gateway.class);
  /** Answers larger than this are printed to JSON on a worker thread (a few ms of printing). */
  private static final int PRINT_ON_WORKER_BYTES = 256 * 1024;
  /** Bytes queued for a slow client before its watch stream is reported blocked. */
  static final int WRITE_QUEUE_BYTES = 256 * 1024;
  private static final String[] PREFIXES = {"/v3/", "/v3beta/"};

  private sealed interface Route permits Unary, Stream, Unimplemented {}

  private record Unary(Supplier<Message.Builder> request, Function<Message, Future<? extends Message>> call)
      implements Route {}

  /** Opens a stream for a request (its headers: the auth token) with its sink and input. */
  interface StreamOpener {
    GatewayStream open(HttpServerRequest request, GatewayStream.Sink sink, GatewayStream.Input input);
  }

  private record Stream(StreamOpener open) implements Route {}

  private record Unimplemented(String service, String method) implements Route {}

  private final Map<String, Route> routes = new HashMap<>();
  private final Vertx vertx;
  private final AuthGate auth;
  private final long maxMessageBytes;
  private final int maxBodyBytes;

  Gateway(Vertx vertx, Calls calls, Recipes recipes, long maxRequestBytes) {
    this.vertx = vertx;
    this.auth = new AuthGate(vertx);
    this.maxMessageBytes = maxRequestBytes + io.vetcd.api.grpc.GrpcFrontend.GRPC_OVERHEAD_BYTES;
    // JSON carries bytes in base64 (4/3 larger) and field names around them.
    this.maxBodyBytes = (int) Math.min(Integer.MAX_VALUE - 8, 2 * maxMessageBytes + 64 * 1024);

    unary("kv/range", RangeRequest::newBuilder, calls::range);
    unary("kv/put", PutRequest::newBuilder, calls::put);
    unary("kv/deleterange", DeleteRangeRequest::newBuilder, calls::deleteRange);
    unary("kv/txn", TxnRequest::newBuilder, calls::txn);
    unary("kv/compaction", CompactionRequest::newBuilder, calls::compact);

    stream("watch", (request, sink, input) -> {
      AuthInfo who;
      try {
        who = auth.authInfo(request.getHeader(AuthGate.AUTHORIZATION_HEADER));
      } catch (EtcdException invalidToken) {
        who = null; // as etcd: every watch of the stream is then refused
      }
      AuthInfo caller = who;
      return new GatewayStream.Watch(vertx, create -> auth.refuseWatch(caller, create), sink, input);
    });

    unary("lease/grant", LeaseGrantRequest::newBuilder, calls::leaseGrant);
    for (String prefix : List.of("lease/", "kv/lease/")) {
      unary(prefix + "revoke", LeaseRevokeRequest::newBuilder, calls::leaseRevoke);
      unary(prefix + "timetolive", LeaseTimeToLiveRequest::newBuilder, calls::leaseTimeToLive);
      unary(prefix + "leases", LeaseLeasesRequest::newBuilder, calls::leaseLeases);
    }
    stream("lease/keepalive", (request, sink, input) -> new GatewayStream.KeepAlive(calls, sink, input));

    unary("cluster/member/list", MemberListRequest::newBuilder, calls::memberList);
    unary("cluster/member/add", io.vetcd.pb.MemberAddRequest::newBuilder, calls::memberAdd);
    unary("cluster/member/remove", io.vetcd.pb.MemberRemoveRequest::newBuilder, calls::memberRemove);
    unary("cluster/member/update", io.vetcd.pb.MemberUpdateRequest::newBuilder, calls::memberUpdate);
    unary("cluster/member/promote", io.vetcd.pb.MemberPromoteRequest::newBuilder, calls::memberPromote);

    unary("maintenance/alarm", AlarmRequest::newBuilder, calls::alarm);
    unary("maintenance/status", StatusRequest::newBuilder, calls::status);
    unary("maintenance/defragment", DefragmentRequest::newBuilder, calls::defragment);
    // etcd 3.4 routes /hash to Hash: HashKV has no path of its own, /hashkv is 404 (3.5 adds it).
    unary("maintenance/hash", HashRequest::newBuilder, calls::hash);
    stream("maintenance/snapshot", (request, sink, input) -> new GatewayStream.Snapshot(calls, auth,
        request.getHeader(AuthGate.AUTHORIZATION_HEADER), sink, input));
    unary("maintenance/transfer-leadership", MoveLeaderRequest::newBuilder, calls::moveLeader);

    unary("auth/authenticate", AuthenticateRequest::newBuilder, calls::authenticate);
    unary("auth/enable", AuthEnableRequest::newBuilder, calls::authEnable);
    unary("auth/disable", AuthDisableRequest::newBuilder, calls::authDisable);
    unary("auth/user/add", AuthUserAddRequest::newBuilder, calls::userAdd);
    unary("auth/user/get", AuthUserGetRequest::newBuilder, calls::userGet);
    unary("auth/user/list", AuthUserListRequest::newBuilder, calls::userList);
    unary("auth/user/delete", AuthUserDeleteRequest::newBuilder, calls::userDelete);
    unary("auth/user/changepw", AuthUserChangePasswordRequest::newBuilder, calls::userChangePassword);
    unary("auth/user/grant", AuthUserGrantRoleRequest::newBuilder, calls::userGrantRole);
    unary("auth/user/revoke", AuthUserRevokeRoleRequest::newBuilder, calls::userRevokeRole);
    unary("auth/role/add", AuthRoleAddRequest::newBuilder, calls::roleAdd);
    unary("auth/role/get", AuthRoleGetRequest::newBuilder, calls::roleGet);
    unary("auth/role/list", AuthRoleListRequest::newBuilder, calls::roleList);
    unary("auth/role/delete", AuthRoleDeleteRequest::newBuilder, calls::roleDelete);
    unary("auth/role/grant", AuthRoleGrantPermissionRequest::newBuilder, calls::roleGrantPermission);
    unary("auth/role/revoke", AuthRoleRevokePermissionRequest::newBuilder, calls::roleRevokePermission);

    // Each call runs for its caller (unary() sets the caller scope around the handler).
    unary("lock/lock", LockRequest::newBuilder, (LockRequest r) -> recipes.forCaller().lock(r));
    unary("lock/unlock", UnlockRequest::newBuilder, (UnlockRequest r) -> recipes.forCaller().unlock(r));
    unary("election/campaign", CampaignRequest::newBuilder, (CampaignRequest r) -> recipes.forCaller().campaign(r));
    unary("election/proclaim", ProclaimRequest::newBuilder, (ProclaimRequest r) -> recipes.forCaller().proclaim(r));
    unary("election/leader", LeaderRequest::newBuilder, (LeaderRequest r) -> recipes.forCaller().leader(r.getName()));
    unary("election/resign", ResignRequest::newBuilder, (ResignRequest r) -> recipes.forCaller().resign(r));
    stream("election/observe", (request, sink, input) -> new GatewayStream.Observe(
        auth.callerScope(request.getHeader(AuthGate.AUTHORIZATION_HEADER), recipes::forCaller), sink, input));
  }

  static boolean isGatewayPath(String path) {
    return path.startsWith(PREFIXES[0]) || path.startsWith(PREFIXES[1]);
  }

  /** A request under /v3/ or /v3beta/. */
  void handle(HttpServerRequest request) {
    Route route = routes.get(request.path());
    if (route == null) {
      // grpc-gateway's answer for a path it has no pattern for.
      HttpFrontend.text(request, 404, "Not Found\n");
      return;
    }
    if (route instanceof Stream stream && request.canUpgradeToWebSocket()) {
      request.toWebSocket().onSuccess(ws -> webSocket(request, ws, stream))
          .onFailure(e -> log.debug("WebSocket upgrade of {} failed: {}", request.path(), e.toString()));
      return;
    }
    if (request.method() != io.vertx.core.http.HttpMethod.POST) {
      HttpFrontend.text(request, 405, "Method Not Allowed\n");
      return;
    }
    if (route instanceof Unary unary) {
      unary(request, unary);
    } else if (route instanceof Stream stream) {
      postStream(request, stream);
    } else if (route instanceof Unimplemented u) {
      error(request.response(),
          new EtcdException(GrpcCode.UNIMPLEMENTED, "unknown method " + u.method() + " for service " + u.service()));
    }
  }

  // ---- unary ----

  private void unary(HttpServerRequest request, Unary route) {
    readBody(request).onFailure(e -> serverError(request.response(), BusClient.toEtcd(e))).onSuccess(body -> {
      Future<? extends Message> answer;
      Message parsed;
      try {
        parsed = parseMessage(body.toString(StandardCharsets.UTF_8), route.request().get());
      } catch (EtcdException e) {
        error(request.response(), e); // the gateway's own answer: no gRPC call, no trailer
        return;
      } catch (RuntimeException e) {
        log.error("gateway request {} failed", request.path(), e);
        error(request.response(), new EtcdException(GrpcCode.INTERNAL, String.valueOf(e.getMessage())));
        return;
      }
      Message message = parsed;
      try {
        if (io.vetcd.bus.RaftStatus.learner(vertx) && !Calls.servedByLearners(message)) {
          throw io.vetcd.errors.Errors.LEARNER_REFUSED; // as etcd's gateway, which calls its gRPC API
        }
        // The Authorization header names the caller, checked by the call as the gRPC token would be.
        answer = auth.callerScope(request.getHeader(AuthGate.AUTHORIZATION_HEADER), () -> route.call().apply(message));
      } catch (EtcdException e) {
        answer = Future.failedFuture(e);
      } catch (RuntimeException e) {
        log.error("gateway request {} failed", request.path(), e);
        answer = Future.failedFuture(new EtcdException(GrpcCode.INTERNAL, String.valueOf(e.getMessage())));
      }
      // JSON printing is slow and this loop also runs raft: a large answer is printed on a worker
      answer.compose(result -> result.getSerializedSize() > PRINT_ON_WORKER_BYTES
              ? vertx.executeBlocking(() -> GatewayJson.print(result), false)
              : Future.succeededFuture(GatewayJson.print(result)))
          .onComplete(ar -> {
            HttpServerResponse response = request.response();
            if (response.closed()) {
              return;
            }
            if (ar.succeeded()) {
              jsonHeaders(response).setStatusCode(200).end(ar.result());
            } else {
              serverError(response, BusClient.toEtcd(ar.cause()));
            }
          });
    });
  }

  private Message parseMessage(String json, Message.Builder builder) {
    Message message = GatewayJson.parse(json, builder).build();
    if (message.getSerializedSize() > maxMessageBytes) {
      throw new EtcdException(GrpcCode.RESOURCE_EXHAUSTED,
          "grpc: received message larger than max (" + message.getSerializedSize() + " vs. " + maxMessageBytes + ")");
    }
    return message;
  }

  private Future<Buffer> readBody(HttpServerRequest request) {
    io.vertx.core.Promise<Buffer> promise = io.vertx.core.Promise.promise();
    Buffer body = Buffer.buffer();
    request.handler(chunk -> {
      if (body.length() + chunk.length() > maxBodyBytes) {
        promise.tryFail(new EtcdException(GrpcCode.RESOURCE_EXHAUSTED,
            "grpc: received message larger than max (" + (body.length() + chunk.length()) + " vs. " + maxMessageBytes + ")"));
        return;
      }
      body.appendBuffer(chunk);
    });
    request.endHandler(v -> promise.tryComplete(body));
    request.exceptionHandler(promise::tryFail);
    return promise.future();
  }

  // ---- streams over a chunked POST answer ----

  private void postStream(HttpServerRequest request, Stream route) {
    HttpServerResponse response = request.response();
    if (io.vetcd.bus.RaftStatus.learner(vertx)) {
      error(response, io.vetcd.errors.Errors.LEARNER_REFUSED);
      return;
    }
    response.setWriteQueueMaxSize(WRITE_QUEUE_BYTES);
    GatewayStream.Sink sink = new GatewayStream.Sink() {
      @Override
      public void write(String line) {
        if (!response.ended() && !response.closed()) {
          commit(response);
          response.write(line + "\n");
        }
      }

      @Override
      public boolean writeQueueFull() {
        return response.writeQueueFull();
      }

      @Override
      public void drainHandler(Runnable handler) {
        response.drainHandler(v -> handler.run());
      }

      @Override
      public void end() {
        if (!response.ended() && !response.closed()) {
          commit(response);
          response.end();
        }
      }
    };
    GatewayStream.Input input = new GatewayStream.Input() {
      @Override
      public void pause() {
        request.pause();
      }

      @Override
      public void resume() {
        request.resume();
      }
    };
    GatewayStream stream = route.open().open(request, sink, input);
    request.pause();
    response.closeHandler(v -> stream.close());
    response.exceptionHandler(e -> stream.close());
    stream.open().onComplete(opened -> {
      if (opened.failed()) {
        error(response, BusClient.toEtcd(opened.cause()));
        return;
      }
      Reader reader = new Reader(stream, e -> {
        // The first request is malformed: the call fails as a whole.
        if (!response.headWritten()) {
          error(response, e);
        }
      }, () -> commit(response));
      request.handler(reader::feed);
      request.endHandler(v -> reader.end());
      request.exceptionHandler(e -> stream.close());
      request.resume();
    });
  }

  private static void commit(HttpServerResponse response) {
    if (!response.headWritten() && !response.isChunked()) {
      jsonHeaders(response).setStatusCode(200).setChunked(true);
    }
  }

  // ---- streams over a WebSocket ----

  private void webSocket(HttpServerRequest request, ServerWebSocket ws, Stream route) {
    if (io.vetcd.bus.RaftStatus.learner(vertx)) {
      // as the gRPC stream behind it would: the error as the socket's only frame
      ws.writeTextMessage(GatewayJson.streamError(io.vetcd.errors.Errors.LEARNER_REFUSED)).onComplete(v -> ws.close());
      return;
    }
    ws.setWriteQueueMaxSize(WRITE_QUEUE_BYTES);
    GatewayStream.Sink sink = new GatewayStream.Sink() {
      @Override
      public void write(String line) {
        if (!ws.isClosed()) {
          ws.writeTextMessage(line);
        }
      }

      @Override
      public boolean writeQueueFull() {
        return ws.writeQueueFull();
      }

      @Override
      public void drainHandler(Runnable handler) {
        ws.drainHandler(v -> handler.run());
      }

      @Override
      public void end() {
        if (!ws.isClosed()) {
          ws.close();
        }
      }
    };
    GatewayStream.Input input = new GatewayStream.Input() {
      @Override
      public void pause() {
        ws.pause();
      }

      @Override
      public void resume() {
        ws.resume();
      }
    };
    GatewayStream stream = route.open().open(request, sink, input);
    ws.pause();
    ws.closeHandler(v -> stream.close());
    ws.exceptionHandler(e -> stream.close());
    stream.open().onComplete(opened -> {
      if (opened.failed()) {
        sink.write(GatewayJson.errorBody(BusClient.toEtcd(opened.cause())));
        sink.end();
        return;
      }
      // The frames make one request stream, as if they were the body of a POST (one object each).
      Reader reader = new Reader(stream, e -> {
        sink.write(GatewayJson.errorBody(e));
        sink.end();
      }, () -> { });
      ws.textMessageHandler(text -> reader.feed(Buffer.buffer(text).appendString("\n")));
      ws.binaryMessageHandler(reader::feed);
      ws.resume();
    });
  }

  /**
   * Reads the requests of one stream: each complete JSON object is parsed and handed to the stream.
   * A malformed first request fails the call; a malformed later one ends the reading (the stream
   * goes on), as etcd's gateway does. A server stream reads its first request only.
   */
  private final class Reader {
    private final GatewayStream stream;
    private final java.util.function.Consumer<EtcdException> failFirst;
    private final Runnable onFirst;
    private final JsonObjectSplitter splitter = new JsonObjectSplitter(maxBodyBytes);
    private int requests;
    private boolean done;

    Reader(GatewayStream stream, java.util.function.Consumer<EtcdException> failFirst, Runnable onFirst) {
      this.stream = stream;
      this.failFirst = failFirst;
      this.onFirst = onFirst;
    }

    void feed(Buffer chunk) {
      if (done || stream.closed()) {
        return;
      }
      for (String json : splitter.feed(chunk)) {
        accept(json);
        if (done || stream.closed()) {
          return;
        }
      }
      if (splitter.error() != null) {
        malformed(splitter.error());
      } else if (splitter.partial()) {
        // Go's decoder stops at the first bad character, before the object is complete
        String syntax = GoJsonSyntax.check(splitter.pending()).error;
        if (syntax != null && !syntax.equals("unexpected EOF")) {
          malformed(syntax);
        }
      }
    }

    void end() {
      if (done || stream.closed()) {
        return;
      }
      if (splitter.partial()) {
        String syntax = GoJsonSyntax.check(splitter.pending()).error;
        malformed(syntax != null ? syntax : "unexpected EOF");
        return;
      }
      if (requests == 0 && !stream.bidirectional()) {
        accept("{}"); // a server stream with an empty body is a call with an empty request
      }
      if (requests == 0) {
        onFirst.run();
      }
      done = true;
      stream.onInputEnd();
    }

    private void accept(String json) {
      Message request;
      try {
        request = parseMessage(json, stream.newRequest());
      } catch (EtcdException e) {
        malformed(e.getMessage());
        return;
      }
      if (requests++ == 0) {
        onFirst.run();
      }
      if (!stream.bidirectional()) {
        done = true;
      }
      stream.onRequest(request);
    }

    private void malformed(String message) {
      done = true;
      if (requests == 0) {
        // grpc-gateway: a bidirectional stream's decode error is Unknown, a server stream's InvalidArgument.
        failFirst.accept(new EtcdException(stream.bidirectional() ? GrpcCode.UNKNOWN : GrpcCode.INVALID_ARGUMENT,
            message));
        stream.close();
      } else {
        log.debug("gateway stream: malformed request, reading stopped: {}", message);
      }
    }
  }

  // ---- plumbing ----

  private <Q extends Message, R extends Message> void unary(String path, Supplier<? extends Message.Builder> request,
      Function<Q, Future<R>> call) {
    @SuppressWarnings("unchecked")
    Function<Message, Future<? extends Message>> untyped = m -> call.apply((Q) m);
    add(path, new Unary(request::get, untyped));
  }

  private void stream(String path, StreamOpener open) {
    add(path, new Stream(open));
  }

  private void unimplemented(String path, String service, String method) {
    add(path, new Unimplemented(service, method));
  }

  private void add(String path, Route route) {
    for (String prefix : PREFIXES) {
      routes.put(prefix + path, route);
    }
  }

  static HttpServerResponse jsonHeaders(HttpServerResponse response) {
    return response.putHeader("Content-Type", "application/json")
        .putHeader("Grpc-Metadata-Content-Type", "application/grpc");
  }

  /**
   * An error the gRPC server answered: etcd's gateway forwards the call's trailer metadata, so the
   * answer is chunked with a {@code Grpc-Trailer-Content-Type} trailer (shown by {@code curl -i}).
   */
  static void serverError(HttpServerResponse response, EtcdException e) {
    if (response.ended() || response.closed()) {
      return;
    }
    response.setChunked(true).putHeader("Trailer", "Grpc-Trailer-Content-Type")
        .putTrailer("Grpc-Trailer-Content-Type", "application/grpc");
    error(response, e);
  }

  static void error(HttpServerResponse response, EtcdException e) {
    if (response.ended() || response.closed()) {
      return;
    }
    response.setStatusCode(GatewayJson.httpStatus(e.code())).putHeader("Content-Type", "application/json")
        .end(GatewayJson.errorBody(e));
  }
}
