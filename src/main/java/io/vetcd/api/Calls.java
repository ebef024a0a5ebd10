package io.vetcd.api;

import com.google.protobuf.Message;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vetcd.bus.Addresses;
import io.vetcd.bus.Commands;
import io.vetcd.errors.Errors;
import io.vetcd.errors.EtcdException;
import io.vetcd.errors.GrpcCode;
import io.vetcd.lease.Lessor;
import io.vetcd.mvcc.RequestValidator;
import io.vetcd.pb.AlarmRequest;
import io.vetcd.pb.AlarmResponse;
import io.vetcd.pb.AuthenticateRequest;
import io.vetcd.pb.AuthenticateResponse;
import io.vetcd.pb.CompactionRequest;
import io.vetcd.pb.CompactionResponse;
import io.vetcd.pb.DefragmentRequest;
import io.vetcd.pb.DefragmentResponse;
import io.vetcd.pb.DeleteRangeRequest;
import io.vetcd.pb.DeleteRangeResponse;
import io.vetcd.pb.HashKVRequest;
import io.vetcd.pb.HashKVResponse;
import io.vetcd.pb.HashRequest;
import io.vetcd.pb.HashResponse;
import io.vetcd.pb.LeaseGrantRequest;
import io.vetcd.pb.LeaseGrantResponse;
import io.vetcd.pb.LeaseKeepAliveRequest;
import io.vetcd.pb.LeaseKeepAliveResponse;
import io.vetcd.pb.LeaseLeasesRequest;
import io.vetcd.pb.LeaseLeasesResponse;
import io.vetcd.pb.LeaseRevokeRequest;
import io.vetcd.pb.LeaseRevokeResponse;
import io.vetcd.pb.LeaseTimeToLiveRequest;
import io.vetcd.pb.LeaseTimeToLiveResponse;
import io.vetcd.pb.MemberListRequest;
import io.vetcd.pb.MemberListResponse;
import io.vetcd.pb.PutRequest;
import io.vetcd.pb.PutResponse;
import io.vetcd.pb.RangeRequest;
import io.vetcd.pb.RangeResponse;
import io.vetcd.pb.StatusRequest;
import io.vetcd.pb.StatusResponse;
import io.vetcd.pb.TxnRequest;
import io.vetcd.pb.TxnResponse;
import io.vetcd.pb.internal.InternalRequest;
import java.util.function.Supplier;

/**
 * The unary etcd RPCs as bus commands, validated as etcd validates them: one place shared by the
 * gRPC frontend and the HTTP/JSON gateway. Every failure is an {@link EtcdException} (a failed
 * future, never a throw).
 */
public final class Calls {
  private final Vertx vertx;
  private final long maxRequestBytes;
  private final int maxTxnOps;
  private final DeliveryOptions delivery;
  private final AuthGate auth;

  public Calls(Vertx vertx, long maxRequestBytes, int maxTxnOps, long requestTimeoutMillis, AuthGate auth) {
    this.auth = auth;
    this.vertx = vertx;
    this.maxRequestBytes = maxRequestBytes;
    this.maxTxnOps = maxTxnOps;
    this.delivery = new DeliveryOptions().setSendTimeout(requestTimeoutMillis + 2_000);
  }

  // ---- KV ----

  public Future<RangeResponse> range(RangeRequest r) {
    return checked(() -> {
      RequestValidator.checkRange(r);
      return read(r, !r.getSerializable());
    });
  }

  public Future<PutResponse> put(PutRequest r) {
    return checked(() -> {
      RequestValidator.checkPut(r);
      return write(InternalRequest.newBuilder().setPut(r).build());
    });
  }

  public Future<DeleteRangeResponse> deleteRange(DeleteRangeRequest r) {
    return checked(() -> {
      RequestValidator.checkDeleteRange(r);
      return write(InternalRequest.newBuilder().setDeleteRange(r).build());
    });
  }

  public Future<TxnResponse> txn(TxnRequest r) {
    return checked(() -> {
      RequestValidator.checkTxn(r, maxTxnOps);
      return write(InternalRequest.newBuilder().setTxn(r).build());
    });
  }

  public Future<CompactionResponse> compact(CompactionRequest r) {
    return write(InternalRequest.newBuilder().setCompaction(r).build());
  }

  // ---- Lease ----

  public Future<LeaseGrantResponse> leaseGrant(LeaseGrantRequest r) {
    return checked(() -> {
      if (r.getTTL() > Lessor.TTL_SECONDS_MAX) {
        throw Errors.LEASE_TTL_TOO_LARGE;
      }
      if (r.getID() < 0) {
        throw new EtcdException(GrpcCode.INVALID_ARGUMENT, "etcdserver: lease ID must be positive");
      }
      return write(InternalRequest.newBuilder().setLeaseGrant(r).build());
    });
  }

  public Future<LeaseRevokeResponse> leaseRevoke(LeaseRevokeRequest r) {
    return write(InternalRequest.newBuilder().setLeaseRevoke(r).build());
  }

  public Future<LeaseTimeToLiveResponse> leaseTimeToLive(LeaseTimeToLiveRequest r) {
    return read(r, true);
  }

  public Future<LeaseLeasesResponse> leaseLeases(LeaseLeasesRequest r) {
    return read(r, true);
  }

  /** One keep-alive of a LeaseKeepAlive stream (answered by the leader, not replicated). */
  public Future<LeaseKeepAliveResponse> keepAlive(LeaseKeepAliveRequest r) {
    return vertx.eventBus().<LeaseKeepAliveResponse>request(Addresses.APPLY_KEEPALIVE, new Commands.KeepAlive(r.getID()),
        delivery).map(io.vertx.core.eventbus.Message::body).recover(Calls::failed);
  }

  // ---- Cluster, Maintenance, Auth ----

  public Future<MemberListResponse> memberList(MemberListRequest r) {
    return read(r, false);
  }

  public Future<io.vetcd.pb.MemberAddResponse> memberAdd(io.vetcd.pb.MemberAddRequest r) {
    return memberChange(r);
  }

  public Future<io.vetcd.pb.MemberRemoveResponse> memberRemove(io.vetcd.pb.MemberRemoveRequest r) {
    return memberChange(r);
  }

  public Future<io.vetcd.pb.MemberUpdateResponse> memberUpdate(io.vetcd.pb.MemberUpdateRequest r) {
    return memberChange(r);
  }

  public Future<io.vetcd.pb.MemberPromoteResponse> memberPromote(io.vetcd.pb.MemberPromoteRequest r) {
    return memberChange(r);
  }

  /** A Cluster API write: a membership change through raft, answered once the leader applied it. */
  private <T> Future<T> memberChange(com.google.protobuf.Message r) {
    return vertx.eventBus().<T>request(Addresses.CLUSTER, r, delivery)
        .map(io.vertx.core.eventbus.Message::body).recover(Calls::failed);
  }

  public Future<StatusResponse> status(StatusRequest r) {
    return read(r, false);
  }

  public Future<HashResponse> hash(HashRequest r) {
    return read(r, false);
  }

  public Future<HashKVResponse> hashKv(HashKVRequest r) {
    return read(r, false);
  }

  public Future<DefragmentResponse> defragment(DefragmentRequest r) {
    return read(r, false);
  }

  public Future<AlarmResponse> alarm(AlarmRequest r) {
    return r.getAction() == AlarmRequest.AlarmAction.GET ? read(r, false)
        : write(InternalRequest.newBuilder().setAlarm(r).build());
  }

  public Future<AuthenticateResponse> authenticate(AuthenticateRequest r) {
    return auth.authenticate(r, this::write).map(response -> (AuthenticateResponse) response);
  }

  public Future<io.vetcd.pb.MoveLeaderResponse> moveLeader(io.vetcd.pb.MoveLeaderRequest r) {
    return vertx.eventBus().request(Addresses.RAFT, new io.vetcd.bus.Raft.TransferLeader(r.getTargetID()), delivery)
        .map(reply -> io.vetcd.pb.MoveLeaderResponse.newBuilder().build()).recover(Calls::failed);
  }

  public AuthGate auth() {
    return auth;
  }

  // ---- plumbing ----

  public <T> Future<T> write(InternalRequest request) {
    request = AuthGate.stamp(request);
    if (request.getSerializedSize() > maxRequestBytes) {
      return Future.failedFuture(Errors.REQUEST_TOO_LARGE);
    }
    return vertx.eventBus().<T>request(Addresses.APPLY_WRITE, new Commands.Write(request), delivery)
        .map(io.vertx.core.eventbus.Message::body).recover(Calls::failed);
  }

  public <T> Future<T> read(Message request, boolean linearizable) {
    try {
      auth.checkRead(request);
    } catch (EtcdException e) {
      return Future.failedFuture(e);
    }
    return vertx.eventBus().<T>request(Addresses.APPLY_READ, new Commands.Read(request, linearizable), delivery)
        .map(io.vertx.core.eventbus.Message::body).recover(Calls::failed);
  }

  private static <T> Future<T> checked(Supplier<Future<T>> call) {
    try {
      return call.get();
    } catch (EtcdException e) {
      return Future.failedFuture(e);
    }
  }

  private static <T> Future<T> failed(Throwable t) {
    return Future.failedFuture(BusClient.toEtcd(t));
  }
}
