package io.vetcd.server;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vetcd.bus.Addresses;
import io.vetcd.bus.Commands;
import io.vetcd.pb.LeaseRevokeRequest;
import io.vetcd.pb.internal.InternalRequest;

/**
 * The lease clock: periodically asks the apply verticle which leases have run out (only the leader
 * tracks deadlines) and proposes their revocation through raft, so every member deletes the keys in
 * the same revision and watchers see the DELETE events.
 */
public final class LeaseVerticle extends VerticleBase {
  private static final long CHECK_INTERVAL_MILLIS = 500;
  /** etcd revokes at most this many leases a second; the rest wait for the next round. */
  private static final int REVOKES_PER_CHECK_MAX = 500;

  private long timerId;
  private boolean checking;

  @Override
  public Future<?> start() {
    timerId = vertx.setPeriodic(CHECK_INTERVAL_MILLIS, t -> check());
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timerId);
    return Future.succeededFuture();
  }

  private void check() {
    if (checking) {
      return;
    }
    checking = true;
    vertx.eventBus().<Commands.ExpiredLeasesResult>request(Addresses.APPLY_EXPIRED_LEASES,
        new Commands.ExpiredLeases(REVOKES_PER_CHECK_MAX)).onComplete(ar -> {
          checking = false;
          if (ar.failed()) {
            return;
          }
          for (long id : ar.result().body().leaseIds()) {
            InternalRequest revoke = InternalRequest.newBuilder()
                .setLeaseRevoke(LeaseRevokeRequest.newBuilder().setID(id)).build();
            // Failures are retried: the lease's deadline comes round again.
            vertx.eventBus().request(Addresses.APPLY_WRITE, new Commands.Write(revoke))
                .onSuccess(revoked -> io.vetcd.metrics.MemberMetrics.of(vertx).leasesExpired.increment());
          }
        });
  }
}
