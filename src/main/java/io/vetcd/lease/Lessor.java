package io.vetcd.lease;

import com.google.protobuf.ByteString;
import io.vetcd.errors.Errors;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * The lease table: which leases exist, their TTLs, the keys attached to them and, on the leader,
 * when each one expires. Pure: the caller passes the monotonic time in milliseconds.
 *
 * <p>Grants, revokes and key attachments are replicated (applied from the raft log on every member).
 * Deadlines are local: only the primary (the leader) tracks them; a newly promoted primary restarts
 * every lease's full TTL, extended by an election timeout, so no lease expires because of an election.
 */
public final class Lessor {
  public static final long TTL_SECONDS_MAX = 9_000_000_000L;
  /** A deadline of "never": leases do not expire on a non-primary member. */
  private static final long FOREVER = Long.MAX_VALUE;

  public static final class Lease {
    final long id;
    final long ttlSeconds;
    final Set<ByteString> keys = new LinkedHashSet<>();
    long expiryMillis = FOREVER;

    Lease(long id, long ttlSeconds) {
      this.id = id;
      this.ttlSeconds = ttlSeconds;
    }

    public long id() {
      return id;
    }

    public long ttlSeconds() {
      return ttlSeconds;
    }

    /** When it expires on the primary (on other members it does not: {@link Long#MAX_VALUE}-like). */
    public long expiryMillis() {
      return expiryMillis;
    }

    public List<ByteString> keys() {
      return List.copyOf(keys);
    }
  }

  /** Heap entry; stale entries (lease gone or deadline moved) are skipped when popped. */
  private record Deadline(long expiryMillis, long leaseId) {}

  private final long ttlSecondsMin;
  private final Map<Long, Lease> leases = new HashMap<>();
  private final Map<ByteString, Long> leaseByKey = new HashMap<>();
  private final PriorityQueue<Deadline> expiryQueue =
      new PriorityQueue<>((a, b) -> Long.compare(a.expiryMillis, b.expiryMillis));
  private boolean primary;

  public Lessor(long ttlSecondsMin) {
    this.ttlSecondsMin = ttlSecondsMin;
  }

  public long ttlSecondsMin() {
    return ttlSecondsMin;
  }

  /** The TTL a grant of {@code requested} seconds really gets (etcd raises small TTLs to the minimum). */
  public long effectiveTtl(long requestedSeconds) {
    return Math.max(requestedSeconds, ttlSecondsMin);
  }

  public boolean isPrimary() {
    return primary;
  }

  public boolean exists(long id) {
    return leases.containsKey(id);
  }

  public Lease get(long id) {
    return leases.get(id);
  }

  public Collection<Lease> all() {
    return leases.values();
  }

  /** Applies a replicated grant. */
  public Lease grant(long id, long ttlSeconds, long nowMillis) {
    if (id == 0) {
      throw new IllegalArgumentException("lease id 0 means no lease");
    }
    if (leases.containsKey(id)) {
      throw Errors.LEASE_EXIST;
    }
    if (ttlSeconds > TTL_SECONDS_MAX) {
      throw Errors.LEASE_TTL_TOO_LARGE;
    }
    Lease lease = new Lease(id, effectiveTtl(ttlSeconds));
    leases.put(id, lease);
    if (primary) {
      schedule(lease, nowMillis + lease.ttlSeconds * 1000);
    }
    return lease;
  }

  /** Applies a replicated revoke; returns the keys that were attached (to be deleted in one revision). */
  public List<ByteString> revoke(long id) {
    Lease lease = leases.remove(id);
    if (lease == null) {
      throw Errors.LEASE_NOT_FOUND;
    }
    for (ByteString key : lease.keys) {
      leaseByKey.remove(key);
    }
    return List.copyOf(lease.keys);
  }

  /** Records that {@code key} is now attached to {@code leaseId} (0 = none), detaching it from its old lease. */
  public void attach(ByteString key, long leaseId) {
    Long old = leaseByKey.remove(key);
    if (old != null) {
      Lease oldLease = leases.get(old);
      if (oldLease != null) {
        oldLease.keys.remove(key);
      }
    }
    if (leaseId != 0) {
      Lease lease = leases.get(leaseId);
      if (lease == null) {
        throw new IllegalStateException("attaching key to a missing lease " + leaseId);
      }
      lease.keys.add(key);
      leaseByKey.put(key, leaseId);
    }
  }

  public void detach(ByteString key) {
    attach(key, 0);
  }

  /** KeepAlive: restarts the lease's TTL; only the primary may renew. Returns the TTL in seconds. */
  public long renew(long id, long nowMillis) {
    Lease lease = leases.get(id);
    if (lease == null) {
      throw Errors.LEASE_NOT_FOUND;
    }
    if (primary) {
      schedule(lease, nowMillis + lease.ttlSeconds * 1000);
    }
    return lease.ttlSeconds;
  }

  /**
   * Remaining whole seconds of a lease, truncated as etcd does (a 10 s lease just granted has 9 s
   * left); the full TTL on a non-primary member.
   */
  public long remainingSeconds(long id, long nowMillis) {
    Lease lease = leases.get(id);
    if (lease == null) {
      throw Errors.LEASE_NOT_FOUND;
    }
    if (lease.expiryMillis == FOREVER) {
      return lease.ttlSeconds;
    }
    long remainingMillis = Math.max(0, lease.expiryMillis - nowMillis);
    return remainingMillis / 1000;
  }

  /** Becoming the leader: every lease gets its full TTL again plus {@code extendMillis}. */
  public void promote(long nowMillis, long extendMillis) {
    primary = true;
    expiryQueue.clear();
    for (Lease lease : leases.values()) {
      schedule(lease, nowMillis + extendMillis + lease.ttlSeconds * 1000);
    }
  }

  /** Losing leadership: deadlines are meaningless on a follower. */
  public void demote() {
    primary = false;
    expiryQueue.clear();
    for (Lease lease : leases.values()) {
      lease.expiryMillis = FOREVER;
    }
  }

  /**
   * Leases whose deadline has passed, at most {@code max}. They stay in the table until their revoke
   * is applied; their deadline is pushed back by {@code retryMillis} so one is not proposed twice at once.
   */
  public List<Long> expired(long nowMillis, int max, long retryMillis) {
    List<Long> result = new ArrayList<>();
    while (result.size() < max && !expiryQueue.isEmpty() && expiryQueue.peek().expiryMillis <= nowMillis) {
      Deadline deadline = expiryQueue.poll();
      Lease lease = leases.get(deadline.leaseId);
      if (lease == null || lease.expiryMillis != deadline.expiryMillis) {
        continue;
      }
      result.add(lease.id);
      schedule(lease, nowMillis + retryMillis);
    }
    return result;
  }

  private void schedule(Lease lease, long expiryMillis) {
    lease.expiryMillis = expiryMillis;
    expiryQueue.add(new Deadline(expiryMillis, lease.id));
    // Renewals leave stale heap entries; rebuild when they dominate so the heap stays bounded.
    if (expiryQueue.size() > 4 * leases.size() + 1024) {
      expiryQueue.clear();
      for (Lease l : leases.values()) {
        if (l.expiryMillis != FOREVER) {
          expiryQueue.add(new Deadline(l.expiryMillis, l.id));
        }
      }
    }
  }
}
