package io.vetcd.api.grpc;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerOptions;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.GrpcServerResponse;
import io.vetcd.api.Calls;
import io.vetcd.bus.Addresses;
import io.vetcd.bus.RaftStatus;
import io.vetcd.bus.Watches;
import io.vetcd.errors.Errors;
import io.vetcd.errors.EtcdException;
import io.vetcd.errors.GrpcCode;
import io.vetcd.pb.*;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The etcd v3 gRPC API: validates each request as etcd does, turns it into a bus command and the
 * reply back into the response. Knows nothing of raft or storage.
 */
public final class GrpcFrontend {
  private static final Logger log = LoggerFactory.getLogger(GrpcFrontend.class);
  /** etcd's allowance above --max-request-bytes for a gRPC message (and a watch response piece). */
  public static final long GRPC_OVERHEAD_BYTES = 512 * 1024;
  private static final AtomicLong STREAM_IDS = new AtomicLong();

  private final Vertx vertx;
  private final Calls calls;
  private final GrpcServer server;
  private final io.vetcd.api.AuthGate auth;
  private final io.vetcd.metrics.MemberMetrics metrics;

  public GrpcFrontend(Vertx vertx, long localMemberId, long maxRequestBytes, int maxTxnOps, long requestTimeoutMillis) {
    this.vertx = vertx;
    this.auth = new io.vetcd.api.AuthGate(vertx);
    this.metrics = io.vetcd.metrics.MemberMetrics.of(vertx);
    this.calls = new Calls(vertx, localMemberId, maxRequestBytes, maxTxnOps, requestTimeoutMillis);
    this.server = GrpcServer.server(vertx,
        new GrpcServerOptions().setMaxMessageSize(maxRequestBytes + GRPC_OVERHEAD_BYTES));
    bindKv();
    bindWatch();
    bindLease();
    bindCluster();
    bindMaintenance();
    bindAuth();
    bindLockAndElection(new io.vetcd.api.Recipes(new io.vetcd.api.BusClient(vertx, requestTimeoutMillis)));
  }

  public GrpcServer server() {
    return server;
  }

  // ---- KV ----

  private void bindKv() {
    unary(KVGrpcService.Range, calls::range);
    unary(KVGrpcService.Put, calls::put);
    unary(KVGrpcService.DeleteRange, calls::deleteRange);
    unary(KVGrpcService.Txn, calls::txn);
    unary(KVGrpcService.Compact, calls::compact);
  }

  // ---- Watch ----

  private void bindWatch() {
    server.callHandler(WatchGrpcService.Watch, request -> {
      if (refuseOnLearner(request) || refuseWithoutLeader(request)) {
        return;
      }
      metrics.grpcStarted("bidi_stream", "etcdserverpb.Watch", "Watch");
      countClientRequest(request, "stream");
      String streamKey = "g" + STREAM_IDS.incrementAndGet();
      io.vetcd.auth.AuthInfo who;
      try {
        who = auth.authInfo(request.headers());
      } catch (EtcdException invalidToken) {
        who = null; // as etcd: every watch of the stream is then refused
      }
      io.vetcd.auth.AuthInfo caller = who;
      GrpcServerResponse<WatchRequest, WatchResponse> response = request.response();
      response.setWriteQueueMaxSize(64);
      // Set once the client has gone: responses still in flight on the bus are then dropped.
      java.util.concurrent.atomic.AtomicBoolean gone = new java.util.concurrent.atomic.AtomicBoolean();
      // Set below: a write to a stream that is gone closes it too, so its watchers do not live on.
      java.util.concurrent.atomic.AtomicReference<Runnable> closeStream = new java.util.concurrent.atomic.AtomicReference<>();
      MessageConsumer<WatchResponse> consumer = vertx.eventBus().localConsumer(Addresses.watchStream(streamKey),
          m -> {
            if (gone.get()) {
              return;
            }
            try {
              response.write(m.body());
            } catch (IllegalStateException canceled) {
              closeStream.get().run();
              return;
            }
            metrics.grpcSent("bidi_stream", "etcdserverpb.Watch", "Watch", m.body().getSerializedSize());
            if (response.writeQueueFull()) {
              vertx.eventBus().send(Addresses.WATCH, new Watches.StreamBlocked(streamKey));
              response.drainHandler(v -> vertx.eventBus().send(Addresses.WATCH, new Watches.StreamDrained(streamKey)));
            }
          });
      Runnable close = new Runnable() {
        boolean closed;

        @Override
        public void run() {
          gone.set(true);
          if (!closed) {
            closed = true;
            consumer.unregister();
            vertx.eventBus().send(Addresses.WATCH, new Watches.StreamClosed(streamKey));
          }
        }
      };
      closeStream.set(close);
      // The stream is open once the consumer is registered, so no response can be lost.
      request.pause();
      consumer.completion().onComplete(ar -> {
        request.handler(frame -> {
          metrics.grpcReceived("bidi_stream", "etcdserverpb.Watch", "Watch", frame.getSerializedSize());
          WatchResponse refused = frame.hasCreateRequest() ? auth.refuseWatch(caller, frame.getCreateRequest()) : null;
          if (refused != null) {
            vertx.eventBus().send(Addresses.WATCH, new Watches.Refused(streamKey, refused));
          } else {
            vertx.eventBus().send(Addresses.WATCH, new Watches.Frame(streamKey, frame));
          }
        });
        request.endHandler(v -> {
          close.run();
          response.end();
        });
        request.exceptionHandler(e -> close.run());
        // a client that cancels its stream (RST_STREAM) is told here, not as an exception
        request.errorHandler(e -> close.run());
        response.exceptionHandler(e -> close.run());
        request.resume();
      });
    });
  }

  // ---- Lease ----

  private void bindLease() {
    unary(LeaseGrantService(), calls::leaseGrant);
    unary(LeaseGrpcService.LeaseRevoke, calls::leaseRevoke);
    unary(LeaseGrpcService.LeaseTimeToLive, calls::leaseTimeToLive);
    unary(LeaseGrpcService.LeaseLeases, calls::leaseLeases);
    server.callHandler(LeaseGrpcService.LeaseKeepAlive, request -> {
      if (refuseOnLearner(request) || refuseWithoutLeader(request)) {
        return;
      }
      metrics.grpcStarted("bidi_stream", "etcdserverpb.Lease", "LeaseKeepAlive");
      countClientRequest(request, "stream");
      GrpcServerResponse<LeaseKeepAliveRequest, LeaseKeepAliveResponse> response = request.response();
      request.handler(keepAlive -> {
        metrics.grpcReceived("bidi_stream", "etcdserverpb.Lease", "LeaseKeepAlive", keepAlive.getSerializedSize());
        calls.keepAlive(keepAlive).onComplete(ar -> {
            if (ar.succeeded()) {
              response.write(ar.result());
              metrics.grpcSent("bidi_stream", "etcdserverpb.Lease", "LeaseKeepAlive", ar.result().getSerializedSize());
            } else {
              EtcdException e = toEtcd(ar.cause());
              response.status(GrpcStatus.valueOf(e.code().number)).statusMessage(e.getMessage()).end();
            }
          });
      });
      request.endHandler(v -> response.end());
      request.exceptionHandler(e -> { });
    });
  }

  private static ServiceMethod<LeaseGrantRequest, LeaseGrantResponse> LeaseGrantService() {
    return LeaseGrpcService.LeaseGrant;
  }

  // ---- Cluster, Maintenance, Auth ----

  private void bindCluster() {
    unary(ClusterGrpcService.MemberList, calls::memberList);
    unary(ClusterGrpcService.MemberAdd, calls::memberAdd);
    unary(ClusterGrpcService.MemberRemove, calls::memberRemove);
    unary(ClusterGrpcService.MemberUpdate, calls::memberUpdate);
    unary(ClusterGrpcService.MemberPromote, calls::memberPromote);
  }

  private void bindMaintenance() {
    unary(MaintenanceGrpcService.Status, calls::status);
    unary(MaintenanceGrpcService.Hash, calls::hash);
    unary(MaintenanceGrpcService.HashKV, calls::hashKv);
    unary(MaintenanceGrpcService.Defragment, calls::defragment);
    unary(MaintenanceGrpcService.MoveLeader, calls::moveLeader);
    unary(MaintenanceGrpcService.Alarm, calls::alarm);
    server.callHandler(MaintenanceGrpcService.Snapshot, request -> request.handler(snapshotRequest -> {
      if (refuseOnLearner(request)) {
        return; // a stream: etcd serves no stream on a learner
      }
      metrics.grpcStarted("server_stream", "etcdserverpb.Maintenance", "Snapshot");
      metrics.grpcReceived("server_stream", "etcdserverpb.Maintenance", "Snapshot", snapshotRequest.getSerializedSize());
      GrpcServerResponse<SnapshotRequest, SnapshotResponse> response = request.response();
      Runnable cancel = auth.callerScope(io.vetcd.api.AuthGate.token(request.headers()),
          () -> calls.snapshot(snapshotRequest, new io.vetcd.api.SnapshotStream.Sink() {
            @Override
            public void write(SnapshotResponse chunk) {
              response.write(chunk);
              metrics.grpcSent("server_stream", "etcdserverpb.Maintenance", "Snapshot", chunk.getSerializedSize());
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
              response.end();
              metrics.grpcHandled("server_stream", "etcdserverpb.Maintenance", "Snapshot", GrpcCode.OK.goName());
            }

            @Override
            public void fail(EtcdException e) {
              response.status(GrpcStatus.valueOf(e.code().number)).statusMessage(e.getMessage()).end();
              metrics.grpcHandled("server_stream", "etcdserverpb.Maintenance", "Snapshot", e.code().goName());
            }
          }));
      response.exceptionHandler(e -> cancel.run());
      request.exceptionHandler(e -> cancel.run());
    }));
  }

  private void bindAuth() {
    unary(AuthGrpcService.AuthStatus, calls::authStatus);
    unary(AuthGrpcService.Authenticate, calls::authenticate);
    unary(AuthGrpcService.AuthEnable, calls::authEnable);
    unary(AuthGrpcService.AuthDisable, calls::authDisable);
    unary(AuthGrpcService.UserAdd, calls::userAdd);
    unary(AuthGrpcService.UserGet, calls::userGet);
    unary(AuthGrpcService.UserList, calls::userList);
    unary(AuthGrpcService.UserDelete, calls::userDelete);
    unary(AuthGrpcService.UserChangePassword, calls::userChangePassword);
    unary(AuthGrpcService.UserGrantRole, calls::userGrantRole);
    unary(AuthGrpcService.UserRevokeRole, calls::userRevokeRole);
    unary(AuthGrpcService.RoleAdd, calls::roleAdd);
    unary(AuthGrpcService.RoleGet, calls::roleGet);
    unary(AuthGrpcService.RoleList, calls::roleList);
    unary(AuthGrpcService.RoleDelete, calls::roleDelete);
    unary(AuthGrpcService.RoleGrantPermission, calls::roleGrantPermission);
    unary(AuthGrpcService.RoleRevokePermission, calls::roleRevokePermission);
  }

  // ---- Lock, Election ----

  private void bindLockAndElection(io.vetcd.api.Recipes recipes) {
    // Each call runs for its caller (unary() sets the caller scope around the handler).
    unary(io.vetcd.pb.lock.LockGrpcService.Lock, r -> recipes.forCaller().lock(r));
    unary(io.vetcd.pb.lock.LockGrpcService.Unlock, r -> recipes.forCaller().unlock(r));
    unary(io.vetcd.pb.election.ElectionGrpcService.Campaign, r -> recipes.forCaller().campaign(r));
    unary(io.vetcd.pb.election.ElectionGrpcService.Proclaim, r -> recipes.forCaller().proclaim(r));
    unary(io.vetcd.pb.election.ElectionGrpcService.Leader, r -> recipes.forCaller().leader(r.getName()));
    unary(io.vetcd.pb.election.ElectionGrpcService.Resign, r -> recipes.forCaller().resign(r));
    server.callHandler(io.vetcd.pb.election.ElectionGrpcService.Observe, request -> {
      if (refuseOnLearner(request)) {
        return;
      }
      var response = request.response();
      request.handler(leaderRequest -> {
        io.vetcd.api.Recipes forCaller =
            auth.callerScope(io.vetcd.api.AuthGate.token(request.headers()), recipes::forCaller);
        Runnable stop = forCaller.observe(leaderRequest.getName(), response::write, e -> {
          EtcdException error = toEtcd(e);
          response.status(GrpcStatus.valueOf(error.code().number)).statusMessage(error.getMessage()).end();
        });
        response.exceptionHandler(e -> stop.run());
        request.exceptionHandler(e -> stop.run());
      });
    });
  }

  // ---- plumbing ----

  private <Req, Resp> void unary(ServiceMethod<Req, Resp> method, Function<Req, Future<?>> handler) {
    String service = method.serviceName().fullyQualifiedName();
    io.vetcd.metrics.MemberMetrics.GrpcCall labels =
        new io.vetcd.metrics.MemberMetrics.GrpcCall("unary", service, method.methodName(), "");
    server.callHandler(method, request -> {
      if (refuseWithoutLeader(request)) {
        return;
      }
      metrics.grpcStarted(labels);
      countClientRequest(request, "unary");
      request.handler(message -> {
        metrics.grpcReceived(labels, ((com.google.protobuf.MessageLite) message).getSerializedSize());
        if (RaftStatus.learner(vertx) && !Calls.servedByLearners(message)) {
          request.response().status(GrpcStatus.UNAVAILABLE).statusMessage(Errors.LEARNER_REFUSED.getMessage()).end();
          return;
        }
        Future<?> result;
        try {
          // The caller is known to write()/read() for the synchronous part of the handler.
          result = auth.callerScope(io.vetcd.api.AuthGate.token(request.headers()), () -> handler.apply(message));
        } catch (EtcdException e) {
          result = Future.failedFuture(e);
        } catch (RuntimeException e) {
          log.error("request {} failed", method.methodName(), e);
          result = Future.failedFuture(new EtcdException(GrpcCode.INTERNAL, String.valueOf(e.getMessage())));
        }
        result.onComplete(ar -> {
          GrpcServerResponse<Req, Resp> response = request.response();
          if (ar.succeeded()) {
            @SuppressWarnings("unchecked")
            Resp body = (Resp) ar.result();
            response.end(body);
            metrics.grpcSent(labels, ((com.google.protobuf.MessageLite) body).getSerializedSize());
            metrics.grpcHandled("unary", service, method.methodName(), GrpcCode.OK.goName());
          } else {
            EtcdException e = toEtcd(ar.cause());
            metrics.grpcHandled("unary", service, method.methodName(), e.code().goName());
            response.status(GrpcStatus.valueOf(e.code().number)).statusMessage(e.getMessage()).end();
          }
        });
      });
    });
  }

  /** etcd counts the calls whose client names its API version (etcd's clients do), by that version. */
  private void countClientRequest(GrpcServerRequest<?, ?> request, String type) {
    String version = request.headers().get("client-api-version");
    if (version != null) {
      metrics.clientRequest(type, version);
    }
  }

  private boolean refuseOnLearner(GrpcServerRequest<?, ?> request) {
    if (!RaftStatus.learner(vertx)) {
      return false;
    }
    request.response().status(GrpcStatus.UNAVAILABLE).statusMessage(Errors.LEARNER_REFUSED.getMessage()).end();
    return true;
  }

  /** gRPC metadata {@code hasleader=true}: fail at once when the member knows no leader, as etcd does. */
  private boolean refuseWithoutLeader(GrpcServerRequest<?, ?> request) {
    if (!"true".equals(request.headers().get("hasleader")) || RaftStatus.leader(vertx) != 0) {
      return false;
    }
    request.response().status(GrpcStatus.UNAVAILABLE).statusMessage(Errors.NO_LEADER.getMessage()).end();
    return true;
  }

  static EtcdException toEtcd(Throwable t) {
    return io.vetcd.api.BusClient.toEtcd(t);
  }
}
