package io.vetcd.api.grpc;

import com.google.protobuf.Message;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerOptions;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.GrpcServerResponse;
import io.vetcd.bus.Addresses;
import io.vetcd.bus.Commands;
import io.vetcd.bus.RaftStatus;
import io.vetcd.bus.Watches;
import io.vetcd.errors.Errors;
import io.vetcd.errors.EtcdException;
import io.vetcd.errors.GrpcCode;
import io.vetcd.lease.Lessor;
import io.vetcd.mvcc.RequestValidator;
import io.vetcd.pb.*;
import io.vetcd.pb.internal.InternalRequest;
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
  /** etcd's gRPC limit above max-request-bytes, for the envelope around a request. */
  private static final long GRPC_OVERHEAD_BYTES = 512 * 1024;
  private static final AtomicLong STREAM_IDS = new AtomicLong();

  private final Vertx vertx;
  private final long maxRequestBytes;
  private final int maxTxnOps;
  private final DeliveryOptions delivery;
  private final GrpcServer server;
  private final io.vetcd.api.AuthGate auth;

  public GrpcFrontend(Vertx vertx, long maxRequestBytes, int maxTxnOps, long requestTimeoutMillis) {
    this.vertx = vertx;
    this.auth = new io.vetcd.api.AuthGate(vertx);
    this.maxRequestBytes = maxRequestBytes;
    this.maxTxnOps = maxTxnOps;
    this.delivery = new DeliveryOptions().setSendTimeout(requestTimeoutMillis + 2_000);
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
    unary(KVGrpcService.Range, r -> {
      RequestValidator.checkRange(r);
      return read(r, !r.getSerializable());
    });
    unary(KVGrpcService.Put, r -> {
      RequestValidator.checkPut(r);
      return write(InternalRequest.newBuilder().setPut(r).build());
    });
    unary(KVGrpcService.DeleteRange, r -> {
      RequestValidator.checkDeleteRange(r);
      return write(InternalRequest.newBuilder().setDeleteRange(r).build());
    });
    unary(KVGrpcService.Txn, r -> {
      RequestValidator.checkTxn(r, maxTxnOps);
      return write(InternalRequest.newBuilder().setTxn(r).build());
    });
    unary(KVGrpcService.Compact, r -> write(InternalRequest.newBuilder().setCompaction(r).build()));
  }

  // ---- Watch ----

  private void bindWatch() {
    server.callHandler(WatchGrpcService.Watch, request -> {
      if (refuseWithoutLeader(request)) {
        return;
      }
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
      MessageConsumer<WatchResponse> consumer = vertx.eventBus().localConsumer(Addresses.watchStream(streamKey),
          m -> {
            response.write(m.body());
            if (response.writeQueueFull()) {
              vertx.eventBus().send(Addresses.WATCH, new Watches.StreamBlocked(streamKey));
              response.drainHandler(v -> vertx.eventBus().send(Addresses.WATCH, new Watches.StreamDrained(streamKey)));
            }
          });
      Runnable close = new Runnable() {
        boolean closed;

        @Override
        public void run() {
          if (!closed) {
            closed = true;
            consumer.unregister();
            vertx.eventBus().send(Addresses.WATCH, new Watches.StreamClosed(streamKey));
          }
        }
      };
      // The stream is open once the consumer is registered, so no response can be lost.
      request.pause();
      consumer.completion().onComplete(ar -> {
        request.handler(frame -> {
          WatchResponse refused = frame.hasCreateRequest() ? auth.refuseWatch(caller, frame.getCreateRequest()) : null;
          if (refused != null) {
            response.write(refused);
          } else {
            vertx.eventBus().send(Addresses.WATCH, new Watches.Frame(streamKey, frame));
          }
        });
        request.endHandler(v -> {
          close.run();
          response.end();
        });
        request.exceptionHandler(e -> close.run());
        response.exceptionHandler(e -> close.run());
        request.resume();
      });
    });
  }

  // ---- Lease ----

  private void bindLease() {
    unary(LeaseGrantService(), r -> {
      if (r.getTTL() > Lessor.TTL_SECONDS_MAX) {
        throw Errors.LEASE_TTL_TOO_LARGE;
      }
      if (r.getID() < 0) {
        throw new EtcdException(GrpcCode.INVALID_ARGUMENT, "etcdserver: lease ID must be positive");
      }
      return write(InternalRequest.newBuilder().setLeaseGrant(r).build());
    });
    unary(LeaseGrpcService.LeaseRevoke, r -> write(InternalRequest.newBuilder().setLeaseRevoke(r).build()));
    unary(LeaseGrpcService.LeaseTimeToLive, r -> read(r, true));
    unary(LeaseGrpcService.LeaseLeases, r -> read(r, true));
    server.callHandler(LeaseGrpcService.LeaseKeepAlive, request -> {
      if (refuseWithoutLeader(request)) {
        return;
      }
      GrpcServerResponse<LeaseKeepAliveRequest, LeaseKeepAliveResponse> response = request.response();
      request.handler(keepAlive -> vertx.eventBus()
          .<LeaseKeepAliveResponse>request(Addresses.APPLY_KEEPALIVE, new Commands.KeepAlive(keepAlive.getID()), delivery)
          .onComplete(ar -> {
            if (ar.succeeded()) {
              response.write(ar.result().body());
            } else {
              EtcdException e = toEtcd(ar.cause());
              response.status(GrpcStatus.valueOf(e.code().number)).statusMessage(e.getMessage()).end();
            }
          }));
      request.endHandler(v -> response.end());
      request.exceptionHandler(e -> { });
    });
  }

  private static ServiceMethod<LeaseGrantRequest, LeaseGrantResponse> LeaseGrantService() {
    return LeaseGrpcService.LeaseGrant;
  }

  // ---- Cluster, Maintenance, Auth ----

  private void bindCluster() {
    unary(ClusterGrpcService.MemberList, r -> read(r, false));
  }

  private void bindMaintenance() {
    unary(MaintenanceGrpcService.Status, r -> read(r, false));
    unary(MaintenanceGrpcService.Hash, r -> read(r, false));
    unary(MaintenanceGrpcService.HashKV, r -> read(r, false));
    unary(MaintenanceGrpcService.Defragment, r -> read(r, false));
    unary(MaintenanceGrpcService.MoveLeader, r -> vertx.eventBus()
        .request(Addresses.RAFT, new io.vetcd.bus.Raft.TransferLeader(r.getTargetID()), delivery)
        .map(reply -> MoveLeaderResponse.newBuilder().build()));
    unary(MaintenanceGrpcService.Alarm, r -> r.getAction() == AlarmRequest.AlarmAction.GET ? read(r, false)
        : write(InternalRequest.newBuilder().setAlarm(r).build()));
  }

  private void bindAuth() {
    unary(AuthGrpcService.AuthStatus, r -> Future.succeededFuture(auth.status()));
    unary(AuthGrpcService.Authenticate, r -> auth.authenticate(r, this::write));
    unary(AuthGrpcService.AuthEnable, r -> write(InternalRequest.newBuilder().setAuthEnable(r).build()));
    unary(AuthGrpcService.AuthDisable, r -> write(InternalRequest.newBuilder().setAuthDisable(r).build()));
    unary(AuthGrpcService.UserAdd, r -> auth.userAdd(r).compose(this::write));
    unary(AuthGrpcService.UserGet, r -> write(InternalRequest.newBuilder().setAuthUserGet(r).build()));
    unary(AuthGrpcService.UserList, r -> write(InternalRequest.newBuilder().setAuthUserList(r).build()));
    unary(AuthGrpcService.UserDelete, r -> write(InternalRequest.newBuilder().setAuthUserDelete(r).build()));
    unary(AuthGrpcService.UserChangePassword, r -> auth.changePassword(r).compose(this::write));
    unary(AuthGrpcService.UserGrantRole, r -> write(InternalRequest.newBuilder().setAuthUserGrantRole(r).build()));
    unary(AuthGrpcService.UserRevokeRole, r -> write(InternalRequest.newBuilder().setAuthUserRevokeRole(r).build()));
    unary(AuthGrpcService.RoleAdd, r -> write(InternalRequest.newBuilder().setAuthRoleAdd(r).build()));
    unary(AuthGrpcService.RoleGet, r -> write(InternalRequest.newBuilder().setAuthRoleGet(r).build()));
    unary(AuthGrpcService.RoleList, r -> write(InternalRequest.newBuilder().setAuthRoleList(r).build()));
    unary(AuthGrpcService.RoleDelete, r -> write(InternalRequest.newBuilder().setAuthRoleDelete(r).build()));
    unary(AuthGrpcService.RoleGrantPermission, r -> write(InternalRequest.newBuilder().setAuthRoleGrantPermission(r).build()));
    unary(AuthGrpcService.RoleRevokePermission,
        r -> write(InternalRequest.newBuilder().setAuthRoleRevokePermission(r).build()));
  }

  // ---- Lock, Election ----

  private void bindLockAndElection(io.vetcd.api.Recipes recipes) {
    unary(io.vetcd.pb.lock.LockGrpcService.Lock, recipes::lock);
    unary(io.vetcd.pb.lock.LockGrpcService.Unlock, recipes::unlock);
    unary(io.vetcd.pb.election.ElectionGrpcService.Campaign, recipes::campaign);
    unary(io.vetcd.pb.election.ElectionGrpcService.Proclaim, recipes::proclaim);
    unary(io.vetcd.pb.election.ElectionGrpcService.Leader, r -> recipes.leader(r.getName()));
    unary(io.vetcd.pb.election.ElectionGrpcService.Resign, recipes::resign);
    server.callHandler(io.vetcd.pb.election.ElectionGrpcService.Observe, request -> {
      var response = request.response();
      request.handler(leaderRequest -> {
        Runnable stop = recipes.observe(leaderRequest.getName(), response::write, e -> {
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
    server.callHandler(method, request -> {
      if (refuseWithoutLeader(request)) {
        return;
      }
      request.handler(message -> {
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
          } else {
            EtcdException e = toEtcd(ar.cause());
            response.status(GrpcStatus.valueOf(e.code().number)).statusMessage(e.getMessage()).end();
          }
        });
      });
    });
  }

  /** gRPC metadata {@code hasleader=true}: fail at once when the member knows no leader, as etcd does. */
  private boolean refuseWithoutLeader(GrpcServerRequest<?, ?> request) {
    if (!"true".equals(request.headers().get("hasleader")) || RaftStatus.leader(vertx) != 0) {
      return false;
    }
    request.response().status(GrpcStatus.UNAVAILABLE).statusMessage(Errors.NO_LEADER.getMessage()).end();
    return true;
  }

  private Future<Object> write(InternalRequest request) {
    request = io.vetcd.api.AuthGate.stamp(request);
    if (request.getSerializedSize() > maxRequestBytes) {
      return Future.failedFuture(Errors.REQUEST_TOO_LARGE);
    }
    return vertx.eventBus().request(Addresses.APPLY_WRITE, new Commands.Write(request), delivery)
        .map(io.vertx.core.eventbus.Message::body);
  }

  private Future<Object> read(Message request, boolean linearizable) {
    auth.checkRead(request);
    return vertx.eventBus().request(Addresses.APPLY_READ, new Commands.Read(request, linearizable), delivery)
        .map(io.vertx.core.eventbus.Message::body);
  }

  static EtcdException toEtcd(Throwable t) {
    return io.vetcd.api.BusClient.toEtcd(t);
  }
}
