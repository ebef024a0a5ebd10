package io.vetcd.api;

import com.google.protobuf.Message;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vetcd.bus.Addresses;
import io.vetcd.bus.Commands;
import io.vetcd.bus.Raft;
import io.vetcd.errors.Errors;
import io.vetcd.errors.EtcdException;
import io.vetcd.errors.GrpcCode;
import io.vetcd.mvcc.RequestValidator;
import io.vetcd.pb.*;
import io.vetcd.pb.internal.InternalRequest;
import java.util.function.Supplier;

/**
 * The unary etcd RPCs as bus commands, validated and permission-checked as etcd does: one place
 * shared by the gRPC frontend and the HTTP/JSON gateway. Every failure is an {@link EtcdException}
 * (a failed future, never a throw). A frontend runs each call inside {@link AuthGate#callerScope}.
 */
public final class Calls {
  /**
   * What a learner serves, as etcd 3.4: its status and serializable reads. Every other call, and
   * every stream, fails with {@code etcdserver: rpc not supported for learner} (UNAVAILABLE).
   */
  public static boolean servedByLearners(Object request) {
    return request instanceof io.vetcd.pb.StatusRequest
        || (request instanceof io.vetcd.pb.RangeRequest r && r.getSerializable());
  }

  private final Vertx vertx;
  private final long maxRequestBytes;
  private final int maxTxnOps;
  private final DeliveryOptions delivery;
  private final AuthGate auth;
  /** The bytes of the request id etcd would put in the header of this member's raft requests. */
  private final int requestIdBytes;

  public Calls(Vertx vertx, long localMemberId, long maxRequestBytes, int maxTxnOps, long requestTimeoutMillis) {
    this.vertx = vertx;
    this.requestIdBytes = etcdRequestIdBytes(localMemberId);
    this.maxRequestBytes = maxRequestBytes;
    this.maxTxnOps = maxTxnOps;
    this.delivery = new DeliveryOptions().setSendTimeout(requestTimeoutMillis + 2_000);
    this.auth = new AuthGate(vertx);
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
      if (RequestValidator.isReadOnlyTxn(r)) {
        // As etcd: a txn of ranges only is a read (linearizable unless every range is serializable), no raft entry.
        return read(r, !RequestValidator.isSerializableTxn(r));
      }
      return write(InternalRequest.newBuilder().setTxn(r).build());
    });
  }

  public Future<CompactionResponse> compact(CompactionRequest r) {
    return write(InternalRequest.newBuilder().setCompaction(r).build());
  }

  // ---- Lease ----

  public Future<LeaseGrantResponse> leaseGrant(LeaseGrantRequest r) {
    // etcd 3.4 takes any non-zero ID, negative ones too (0 asks the member to choose one). A TTL
    // over the maximum fails when applied, as etcd's lessor refuses it: the entry takes a raft index.
    return checked(() -> write(InternalRequest.newBuilder().setLeaseGrant(r).build()));
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

  /**
   * A Cluster API write: a membership change through raft, answered once the leader applied it;
   * only root may make one when auth is on (checked first, as etcd does).
   */
  private <T> Future<T> memberChange(com.google.protobuf.Message r) {
    return checked(() -> {
      auth.checkMembershipChange();
      return vertx.eventBus().<T>request(Addresses.CLUSTER, r, delivery)
          .map(io.vertx.core.eventbus.Message::body).recover(Calls::failed);
    });
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

  /** After etcd's permission check (root when auth is on), the store's file is compacted in place. */
  public Future<DefragmentResponse> defragment(DefragmentRequest r) {
    try {
      auth.checkRead(r);
    } catch (EtcdException e) {
      return Future.failedFuture(e);
    }
    return vertx.eventBus().<DefragmentResponse>request(Addresses.APPLY_DEFRAGMENT, new Commands.Defragment(),
        new DeliveryOptions().setSendTimeout(600_000)).map(io.vertx.core.eventbus.Message::body).recover(Calls::failed);
  }

  /**
   * Maintenance.Snapshot (a server stream): after etcd's permission check (root when auth is on),
   * streams a backup of the store to {@code sink}; the returned action cancels it.
   */
  public Runnable snapshot(SnapshotRequest r, SnapshotStream.Sink sink) {
    try {
      auth.checkRead(r);
    } catch (EtcdException e) {
      sink.fail(e);
      return () -> { };
    }
    return SnapshotStream.start(vertx, sink);
  }

  /** Every Alarm call goes through raft, a listing too (as etcd: it is linearizable and takes a log entry). */
  public Future<AlarmResponse> alarm(AlarmRequest r) {
    return write(InternalRequest.newBuilder().setAlarm(r).build());
  }

  /** This member's view of the alarms, without raft: for the health checks, which etcd also answers locally. */
  public Future<AlarmResponse> localAlarms() {
    return read(AlarmRequest.newBuilder().setAction(AlarmRequest.AlarmAction.GET).build(), false);
  }

  public Future<MoveLeaderResponse> moveLeader(MoveLeaderRequest r) {
    return vertx.eventBus().request(Addresses.RAFT, new Raft.TransferLeader(r.getTargetID()), delivery)
        .map(reply -> MoveLeaderResponse.newBuilder().build()).recover(Calls::failed);
  }

  // ---- Auth (the caller of a client call is known to AuthGate while its handler runs) ----

  public Future<AuthStatusResponse> authStatus(AuthStatusRequest r) {
    return Future.succeededFuture(auth.status());
  }

  public Future<AuthenticateResponse> authenticate(AuthenticateRequest r) {
    return checked(() -> auth.authenticate(r, this::write).map(o -> (AuthenticateResponse) o));
  }

  public Future<AuthEnableResponse> authEnable(AuthEnableRequest r) {
    return write(InternalRequest.newBuilder().setAuthEnable(r).build());
  }

  public Future<AuthDisableResponse> authDisable(AuthDisableRequest r) {
    return write(InternalRequest.newBuilder().setAuthDisable(r).build());
  }

  public Future<AuthUserAddResponse> userAdd(AuthUserAddRequest r) {
    return checked(() -> auth.userAdd(r).compose(this::write));
  }

  public Future<AuthUserGetResponse> userGet(AuthUserGetRequest r) {
    return write(InternalRequest.newBuilder().setAuthUserGet(r).build());
  }

  public Future<AuthUserListResponse> userList(AuthUserListRequest r) {
    return write(InternalRequest.newBuilder().setAuthUserList(r).build());
  }

  public Future<AuthUserDeleteResponse> userDelete(AuthUserDeleteRequest r) {
    return write(InternalRequest.newBuilder().setAuthUserDelete(r).build());
  }

  public Future<AuthUserChangePasswordResponse> userChangePassword(AuthUserChangePasswordRequest r) {
    return checked(() -> auth.changePassword(r).compose(this::write));
  }

  public Future<AuthUserGrantRoleResponse> userGrantRole(AuthUserGrantRoleRequest r) {
    return write(InternalRequest.newBuilder().setAuthUserGrantRole(r).build());
  }

  public Future<AuthUserRevokeRoleResponse> userRevokeRole(AuthUserRevokeRoleRequest r) {
    return write(InternalRequest.newBuilder().setAuthUserRevokeRole(r).build());
  }

  public Future<AuthRoleAddResponse> roleAdd(AuthRoleAddRequest r) {
    return write(InternalRequest.newBuilder().setAuthRoleAdd(r).build());
  }

  public Future<AuthRoleGetResponse> roleGet(AuthRoleGetRequest r) {
    return write(InternalRequest.newBuilder().setAuthRoleGet(r).build());
  }

  public Future<AuthRoleListResponse> roleList(AuthRoleListRequest r) {
    return write(InternalRequest.newBuilder().setAuthRoleList(r).build());
  }

  public Future<AuthRoleDeleteResponse> roleDelete(AuthRoleDeleteRequest r) {
    return write(InternalRequest.newBuilder().setAuthRoleDelete(r).build());
  }

  public Future<AuthRoleGrantPermissionResponse> roleGrantPermission(AuthRoleGrantPermissionRequest r) {
    return write(InternalRequest.newBuilder().setAuthRoleGrantPermission(r).build());
  }

  public Future<AuthRoleRevokePermissionResponse> roleRevokePermission(AuthRoleRevokePermissionRequest r) {
    return write(InternalRequest.newBuilder().setAuthRoleRevokePermission(r).build());
  }

  // ---- plumbing ----

  /** A write, marked with the caller of the client call being handled (the apply layer checks it). */
  public AuthGate auth() {
    return auth;
  }

  public <T> Future<T> write(InternalRequest request) {
    request = AuthGate.stamp(request);
    if (etcdRaftRequestBytes(request, requestIdBytes) > maxRequestBytes) {
      return Future.failedFuture(Errors.REQUEST_TOO_LARGE);
    }
    return vertx.eventBus().<T>request(Addresses.APPLY_WRITE, new Commands.Write(request), delivery)
        .map(io.vertx.core.eventbus.Message::body).recover(Calls::failed);
  }

  /**
   * The size etcd compares with --max-request-bytes: its raft request, which carries the request in a
   * field of the same size as ours plus a header (field 100) with a request id and, for a user, the
   * user's name and auth revision, where ours has an auth field (3).
   */
  static long etcdRaftRequestBytes(InternalRequest request, int requestIdBytes) {
    long size = request.getSerializedSize();
    int header = 1 + requestIdBytes;
    if (request.hasAuth()) {
      int auth = request.getAuth().getSerializedSize();
      size -= 1 + com.google.protobuf.CodedOutputStream.computeUInt32SizeNoTag(auth) + auth;
      header += auth; // the same two fields (one-byte tags) in etcd's header
    }
    return size + 2 + com.google.protobuf.CodedOutputStream.computeUInt32SizeNoTag(header) + header;
  }

  /**
   * etcd's request ids are the low 16 bits of the member id above a 48-bit count (the time in ms,
   * then a counter): the varint's length follows from the member id alone.
   */
  static int etcdRequestIdBytes(long memberId) {
    long sample = ((memberId & 0xffff) << 48) | (1L << 47);
    return com.google.protobuf.CodedOutputStream.computeUInt64SizeNoTag(sample);
  }

  /** A read, after the permission checks etcd makes for the caller of the client call being handled. */
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
