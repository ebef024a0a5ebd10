package io.vetcd.client.recipes;

import com.google.protobuf.ByteString;
import io.vetcd.client.Cmp;
import io.vetcd.client.GetOptions;
import io.vetcd.client.Keys;
import io.vetcd.client.Op;
import io.vetcd.client.VetcdClient;
import io.vetcd.pb.Compare;
import io.vetcd.pb.TxnResponse;
import reactor.core.publisher.Mono;

/**
 * A distributed lock with etcd's algorithm, interoperable with {@code etcdctl lock <name>} and
 * clientv3's {@code concurrency.Mutex}.
 *
 * <p>Each waiter creates one key {@code <name>/<lease id in hex>} attached to its session's lease.
 * Keys are ordered by create revision: the oldest key holds the lock; every other waiter watches
 * only its predecessor (the newest key older than its own) until it is deleted, so a release wakes
 * exactly one waiter. The create revision of the holder's key is the lock's <b>fencing token</b>:
 * it grows with every new holder.
 *
 * <p>What it guarantees: inside etcd, at most one session whose lease is alive holds the lock. What
 * it does not: if the holder's lease expires (a long GC pause, a partition, a crash), etcd deletes
 * its key and the next waiter gets the lock while the old holder may still believe it holds it. So
 * protect the resource with the fencing token: in etcd, guard writes with {@link Held#guard()}
 * (a txn compare that fails once the lock changed hands); elsewhere, make the resource reject
 * tokens lower than the highest it has seen.
 */
public final class Lock {
  private final Session session;
  private final VetcdClient client;
  private final ByteString prefix;
  private final ByteString myKey;

  public Lock(Session session, String name) {
    this.session = session;
    this.client = session.client();
    this.prefix = Keys.bs(name + "/");
    this.myKey = Keys.bs(name + "/" + session.leaseHex());
  }

  /** The lock as held: its key and its fencing token (the key's create revision). */
  public record Held(String key, long revision) {
    /** A txn compare that holds only while this lock key is still the one we created. */
    public Compare guard() {
      return Cmp.createRevision(key).eq(revision);
    }
  }

  /** Waits until this session holds the lock. Canceling the wait removes our key. */
  public Mono<Held> acquire() {
    return client.kv().txn()
        .when(Cmp.createRevision(myKey).eq(0))
        .then(Op.put(myKey, ByteString.EMPTY, session.leaseId()), Op.get(prefix, GetOptions.options().prefix()
            .firstCreate()))
        .otherwise(Op.get(myKey, GetOptions.options()), Op.get(prefix, GetOptions.options().prefix().firstCreate()))
        .commit()
        .flatMap(resp -> {
          long myRev = myRevision(resp);
          var owner = resp.getResponses(1).getResponseRange();
          Held held = new Held(myKey.toStringUtf8(), myRev);
          if (owner.getKvsCount() == 0 || owner.getKvs(0).getCreateRevision() == myRev) return Mono.just(held);
          return Waits.waitDeletes(client, prefix, myRev - 1)
              .then(client.kv().get(myKey, GetOptions.options()))
              .flatMap(r -> r.getKvsCount() == 0
                  ? Mono.<Held>error(new IllegalStateException("session expired while waiting for the lock"))
                  : Mono.just(held))
              .doOnCancel(() -> release().subscribe(x -> { }, e -> { }))
              .onErrorResume(e -> release().onErrorResume(x -> Mono.empty()).then(Mono.error(e)));
        });
  }

  private static long myRevision(TxnResponse resp) {
    if (resp.getSucceeded()) return resp.getHeader().getRevision();
    return resp.getResponses(0).getResponseRange().getKvs(0).getCreateRevision();
  }

  /** Releases the lock (or gives up waiting): deletes our key. */
  public Mono<Void> release() {
    return client.kv().delete(myKey, Op.DeleteOptions.options()).then();
  }

  public String key() {
    return myKey.toStringUtf8();
  }
}
