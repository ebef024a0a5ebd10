package io.vetcd.client.recipes;

import io.vetcd.client.VetcdClient;
import java.time.Duration;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * A lease kept alive in the background: the liveness of a lock holder, a leader, a registered
 * instance. Lost when the server says the lease is gone, or when no keep-alive answer came for a
 * whole TTL (the lease may have expired on the server by then). {@link #close()} revokes it.
 */
public final class Session implements AutoCloseable {
  private final VetcdClient client;
  private final long leaseId;
  private final long ttl;
  private final Sinks.One<Void> lost = Sinks.one();
  private final Disposable keepAlive;
  private volatile boolean alive = true;

  private Session(VetcdClient client, long leaseId, long ttl) {
    this.client = client;
    this.leaseId = leaseId;
    this.ttl = ttl;
    this.keepAlive = client.lease().keepAlive(leaseId)
        .timeout(Duration.ofSeconds(ttl))
        .subscribe(r -> { }, e -> markLost(), this::markLost);
  }

  /** Grants a lease of {@code ttlSeconds} and keeps it alive. */
  public static Mono<Session> create(VetcdClient client, long ttlSeconds) {
    return client.lease().grant(ttlSeconds).map(g -> new Session(client, g.getID(), g.getTTL()));
  }

  public long leaseId() {
    return leaseId;
  }

  /** The lease id in etcd's key format (lower-case hex), as {@code etcdctl lock/elect} use it. */
  public String leaseHex() {
    return Long.toHexString(leaseId);
  }

  public long ttl() {
    return ttl;
  }

  public VetcdClient client() {
    return client;
  }

  public boolean isAlive() {
    return alive;
  }

  /** Completes when the session is lost or closed. */
  public Mono<Void> lost() {
    return lost.asMono();
  }

  private void markLost() {
    alive = false;
    lost.tryEmitEmpty();
  }

  /** Stops the keep-alive and revokes the lease (its keys are deleted). */
  public Mono<Void> revoke() {
    keepAlive.dispose();
    markLost();
    return client.lease().revoke(leaseId).then().onErrorResume(e -> Mono.empty());
  }

  @Override
  public void close() {
    revoke().block(Duration.ofSeconds(10));
  }
}
