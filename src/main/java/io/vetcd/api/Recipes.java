package io.vetcd.api;

import com.google.protobuf.ByteString;
import io.vertx.core.Future;
import io.vetcd.errors.EtcdException;
import io.vetcd.errors.GrpcCode;
import io.vetcd.pb.Compare;
import io.vetcd.pb.DeleteRangeRequest;
import io.vetcd.pb.KeyValue;
import io.vetcd.pb.PutRequest;
import io.vetcd.pb.RangeRequest;
import io.vetcd.pb.RangeResponse;
import io.vetcd.pb.RequestOp;
import io.vetcd.pb.ResponseHeader;
import io.vetcd.pb.TxnRequest;
import io.vetcd.pb.TxnResponse;
import io.vetcd.pb.WatchCreateRequest;
import io.vetcd.pb.election.CampaignRequest;
import io.vetcd.pb.election.CampaignResponse;
import io.vetcd.pb.election.LeaderKey;
import io.vetcd.pb.election.LeaderResponse;
import io.vetcd.pb.election.ProclaimRequest;
import io.vetcd.pb.election.ProclaimResponse;
import io.vetcd.pb.election.ResignRequest;
import io.vetcd.pb.election.ResignResponse;
import io.vetcd.pb.lock.LockRequest;
import io.vetcd.pb.lock.LockResponse;
import io.vetcd.pb.lock.UnlockRequest;
import io.vetcd.pb.lock.UnlockResponse;
import java.util.function.Consumer;

/**
 * etcd's server-side lock and election services: the same algorithms etcd's client recipes use
 * (one key per contender, {@code <name>/<lease in hex>}, ordered by create revision; a contender
 * waits for the deletion of the key created just before its own), so they interoperate with
 * {@code etcdctl lock} and {@code etcdctl elect} on the same names.
 */
public final class Recipes {
  public static final EtcdException NOT_LEADER = new EtcdException(GrpcCode.UNKNOWN, "election: not leader");
  public static final EtcdException NO_LEADER = new EtcdException(GrpcCode.UNKNOWN, "election: no leader");
  public static final EtcdException MISSING_LEADER_KEY =
      new EtcdException(GrpcCode.UNKNOWN, "\"leader\" field must be provided");

  /** etcd's concurrency session default TTL. */
  static final long SESSION_TTL_SECONDS = 60;
  private final BusClient bus;

  public Recipes(BusClient bus) {
    this.bus = bus;
  }

  /**
   * The recipes acting for the caller of the client call being handled (see
   * {@link AuthGate#caller()}): every step is checked against its permissions.
   */
  public Recipes forCaller() {
    return new Recipes(bus.as(AuthGate.callerLater()));
  }

  // ---- lock ----

  public Future<LockResponse> lock(LockRequest request) {
    return sessionLease(request.getLease())
        .compose(lease -> lockWith(request.toBuilder().setLease(lease).build()))
        .recover(Recipes::asServerError);
  }

  private Future<LockResponse> lockWith(LockRequest request) {
    ByteString prefix = request.getName().concat(ByteString.copyFromUtf8("/"));
    ByteString myKey = keyOf(prefix, request.getLease());
    return claim(prefix, myKey, ByteString.EMPTY, request.getLease()).compose(claim ->
        waitForPredecessors(prefix, claim.revision)
            .map(header -> LockResponse.newBuilder().setHeader(header).setKey(myKey).build())
            .recover(e -> bus.delete(DeleteRangeRequest.newBuilder().setKey(myKey).build())
                .transform(ignored -> Future.failedFuture(e))));
  }

  public Future<UnlockResponse> unlock(UnlockRequest request) {
    if (request.getKey().isEmpty()) {
      return Future.failedFuture(new EtcdException(GrpcCode.UNKNOWN, "etcdserver: key is not provided"));
    }
    return bus.delete(DeleteRangeRequest.newBuilder().setKey(request.getKey()).build())
        .map(r -> UnlockResponse.newBuilder().setHeader(r.getHeader()).build())
        .recover(Recipes::asServerError);
  }

  /**
   * The lease of etcd's session: the request's, or, when it names none, a new lease with the
   * session's default TTL (60 s), which etcd's lock and election servers grant and keep alive only
   * while the call runs. The key is then named after that lease, and the lease expires after.
   */
  private Future<Long> sessionLease(long lease) {
    if (lease != 0) {
      return Future.succeededFuture(lease);
    }
    return bus.<io.vetcd.pb.LeaseGrantResponse>write(io.vetcd.pb.internal.InternalRequest.newBuilder()
        .setLeaseGrant(io.vetcd.pb.LeaseGrantRequest.newBuilder().setTTL(SESSION_TTL_SECONDS)).build())
        .map(io.vetcd.pb.LeaseGrantResponse::getID);
  }

  /**
   * etcd's lock and election servers call the KV API through a client and return its error as a
   * plain error: the message stays, the gRPC code becomes Unknown (HTTP 500 on the gateway).
   */
  private static <T> Future<T> asServerError(Throwable e) {
    if (e instanceof EtcdException etcd && etcd.code() != GrpcCode.UNKNOWN) {
      return Future.failedFuture(new EtcdException(GrpcCode.UNKNOWN, etcd.getMessage()));
    }
    return Future.failedFuture(e);
  }

  // ---- election ----

  public Future<CampaignResponse> campaign(CampaignRequest request) {
    return sessionLease(request.getLease())
        .compose(lease -> campaignWith(request.toBuilder().setLease(lease).build()))
        .recover(Recipes::asServerError);
  }

  private Future<CampaignResponse> campaignWith(CampaignRequest request) {
    ByteString prefix = request.getName().concat(ByteString.copyFromUtf8("/"));
    ByteString myKey = keyOf(prefix, request.getLease());
    return claim(prefix, myKey, request.getValue(), request.getLease()).compose(claim -> {
      Future<Void> proclaimed = Future.succeededFuture();
      if (claim.existing != null && !claim.existing.getValue().equals(request.getValue())) {
        proclaimed = proclaim(myKey, claim.revision, request.getLease(), request.getValue()).mapEmpty();
      }
      LeaderKey leader = LeaderKey.newBuilder().setName(request.getName()).setKey(myKey).setRev(claim.revision)
          .setLease(request.getLease()).build();
      return proclaimed.compose(v -> waitForPredecessors(prefix, claim.revision))
          .map(header -> CampaignResponse.newBuilder().setHeader(header).setLeader(leader).build())
          .recover(e -> resign(leader).transform(ignored -> Future.failedFuture(e)));
    });
  }

  public Future<ProclaimResponse> proclaim(ProclaimRequest request) {
    if (!request.hasLeader()) {
      return Future.failedFuture(MISSING_LEADER_KEY);
    }
    LeaderKey leader = request.getLeader();
    return sessionLease(leader.getLease())
        .compose(lease -> proclaim(leader.getKey(), leader.getRev(), lease, request.getValue()))
        .map(header -> ProclaimResponse.newBuilder().setHeader(header).build())
        .recover(Recipes::asServerError);
  }

  public Future<LeaderResponse> leader(ByteString name) {
    ByteString prefix = name.concat(ByteString.copyFromUtf8("/"));
    return bus.range(firstCreated(prefix)).compose(r -> r.getKvsCount() == 0 ? Future.failedFuture(NO_LEADER)
        : Future.succeededFuture(LeaderResponse.newBuilder().setHeader(r.getHeader()).setKv(r.getKvs(0)).build()))
        .recover(Recipes::asServerError);
  }

  public Future<ResignResponse> resign(ResignRequest request) {
    if (!request.hasLeader()) {
      return Future.failedFuture(MISSING_LEADER_KEY);
    }
    return sessionLease(request.getLeader().getLease()) // granted (when 0) and unused, as in etcd
        .compose(lease -> resign(request.getLeader()))
        .map(header -> ResignResponse.newBuilder().setHeader(header).build())
        .recover(Recipes::asServerError);
  }

  /**
   * Follows the leader of {@code name}: the current leader's key-value, then every new value it
   * proclaims and every new leader. Returns a handle whose {@code run()} stops following.
   */
  public Runnable observe(ByteString name, Consumer<LeaderResponse> sink, Consumer<Throwable> onError) {
    ByteString prefix = name.concat(ByteString.copyFromUtf8("/"));
    Observer observer = new Observer(prefix, sink, onError);
    observer.findLeader();
    return observer::stop;
  }

  private final class Observer {
    private final ByteString prefix;
    private final Consumer<LeaderResponse> sink;
    private final Consumer<Throwable> onError;
    private BusClient.Watch watch;
    private boolean stopped;

    Observer(ByteString prefix, Consumer<LeaderResponse> sink, Consumer<Throwable> onError) {
      this.prefix = prefix;
      this.sink = sink;
      this.onError = onError;
    }

    void findLeader() {
      if (stopped) {
        return;
      }
      bus.range(firstCreated(prefix)).onFailure(this::fail).onSuccess(r -> {
        if (r.getKvsCount() == 0) {
          // No leader yet: wait for the first key to appear under the prefix.
          follow(WatchCreateRequest.newBuilder().setKey(prefix).setRangeEnd(prefixEnd(prefix))
              .setStartRevision(r.getHeader().getRevision() + 1)
              .addFilters(WatchCreateRequest.FilterType.NODELETE).build(), event -> true);
          return;
        }
        KeyValue leader = r.getKvs(0);
        sink.accept(LeaderResponse.newBuilder().setHeader(r.getHeader()).setKv(leader).build());
        follow(WatchCreateRequest.newBuilder().setKey(leader.getKey())
            .setStartRevision(r.getHeader().getRevision() + 1).build(), event -> {
              if (event.getType() == io.vetcd.pb.Event.EventType.DELETE) {
                return true;
              }
              sink.accept(LeaderResponse.newBuilder().setHeader(r.getHeader().toBuilder()
                  .setRevision(event.getKv().getModRevision())).setKv(event.getKv()).build());
              return false;
            });
      });
    }

    /** Watches until {@code restart} says the leader may have changed, then looks again. */
    private void follow(WatchCreateRequest create, java.util.function.Predicate<io.vetcd.pb.Event> restart) {
      bus.watch(create, response -> {
        if (stopped || watch == null) {
          return;
        }
        if (response.getCanceled()) {
          fail(new EtcdException(GrpcCode.CANCELLED, "etcdserver: watch canceled"));
          return;
        }
        for (io.vetcd.pb.Event event : response.getEventsList()) {
          if (restart.test(event)) {
            watch.close();
            watch = null;
            findLeader();
            return;
          }
        }
      }).onFailure(this::fail).onSuccess(w -> {
        watch = w;
        if (stopped) {
          w.close();
        }
      });
    }

    private void fail(Throwable e) {
      if (!stopped) {
        stop();
        onError.accept(e);
      }
    }

    void stop() {
      stopped = true;
      if (watch != null) {
        watch.close();
        watch = null;
      }
    }
  }

  // ---- the shared algorithm ----

  private record Claim(long revision, KeyValue existing) {}

  /** Creates {@code myKey} under the lease unless it exists; its create revision orders the contenders. */
  private Future<Claim> claim(ByteString prefix, ByteString myKey, ByteString value, long lease) {
    TxnRequest txn = TxnRequest.newBuilder()
        .addCompare(Compare.newBuilder().setKey(myKey).setTarget(Compare.CompareTarget.CREATE)
            .setResult(Compare.CompareResult.EQUAL).setCreateRevision(0))
        .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(myKey).setValue(value)
            .setLease(lease)))
        .addFailure(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(myKey)))
        .build();
    return bus.txn(txn).map(r -> {
      if (r.getSucceeded()) {
        return new Claim(r.getHeader().getRevision(), null);
      }
      KeyValue existing = r.getResponses(0).getResponseRange().getKvs(0);
      return new Claim(existing.getCreateRevision(), existing);
    });
  }

  /** Waits until no key under the prefix was created before {@code myRevision}. */
  private Future<ResponseHeader> waitForPredecessors(ByteString prefix, long myRevision) {
    RangeRequest lastBefore = RangeRequest.newBuilder().setKey(prefix).setRangeEnd(prefixEnd(prefix))
        .setMaxCreateRevision(myRevision - 1).setSortTarget(RangeRequest.SortTarget.CREATE)
        .setSortOrder(RangeRequest.SortOrder.DESCEND).setLimit(1).build();
    return bus.range(lastBefore).compose(r -> {
      if (r.getKvsCount() == 0) {
        return Future.succeededFuture(r.getHeader());
      }
      return bus.waitDelete(r.getKvs(0).getKey(), r.getHeader().getRevision())
          .compose(v -> waitForPredecessors(prefix, myRevision));
    });
  }

  private Future<ResponseHeader> proclaim(ByteString key, long revision, long lease, ByteString value) {
    TxnRequest txn = TxnRequest.newBuilder()
        .addCompare(Compare.newBuilder().setKey(key).setTarget(Compare.CompareTarget.CREATE)
            .setResult(Compare.CompareResult.EQUAL).setCreateRevision(revision))
        .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(key).setValue(value)
            .setLease(lease)))
        .build();
    return bus.txn(txn).compose(r -> r.getSucceeded() ? Future.succeededFuture(r.getHeader())
        : Future.failedFuture(NOT_LEADER));
  }

  private Future<ResponseHeader> resign(LeaderKey leader) {
    TxnRequest txn = TxnRequest.newBuilder()
        .addCompare(Compare.newBuilder().setKey(leader.getKey()).setTarget(Compare.CompareTarget.CREATE)
            .setResult(Compare.CompareResult.EQUAL).setCreateRevision(leader.getRev()))
        .addSuccess(RequestOp.newBuilder().setRequestDeleteRange(DeleteRangeRequest.newBuilder().setKey(leader.getKey())))
        .build();
    return bus.txn(txn).map(TxnResponse::getHeader);
  }

  private static RangeRequest firstCreated(ByteString prefix) {
    return RangeRequest.newBuilder().setKey(prefix).setRangeEnd(prefixEnd(prefix))
        .setSortTarget(RangeRequest.SortTarget.CREATE).setSortOrder(RangeRequest.SortOrder.ASCEND).setLimit(1).build();
  }

  private static ByteString keyOf(ByteString prefix, long lease) {
    return prefix.concat(ByteString.copyFromUtf8(Long.toHexString(lease)));
  }

  /** The end of the range of every key starting with {@code prefix} (etcd's prefix rule). */
  static ByteString prefixEnd(ByteString prefix) {
    byte[] end = prefix.toByteArray();
    for (int i = end.length - 1; i >= 0; i--) {
      if (end[i] != (byte) 0xff) {
        end[i]++;
        return ByteString.copyFrom(end, 0, i + 1);
      }
    }
    return ByteString.copyFrom(new byte[] {0});
  }
}
