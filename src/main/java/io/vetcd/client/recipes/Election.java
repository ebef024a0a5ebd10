package io.vetcd.client.recipes;

import com.google.protobuf.ByteString;
import io.vetcd.client.Cmp;
import io.vetcd.client.GetOptions;
import io.vetcd.client.Keys;
import io.vetcd.client.Op;
import io.vetcd.client.VetcdClient;
import io.vetcd.client.WatchOptions;
import io.vetcd.pb.Event;
import io.vetcd.pb.KeyValue;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Leader election with etcd's algorithm, interoperable with {@code etcdctl elect <name> [proposal]}
 * and clientv3's {@code concurrency.Election}.
 *
 * <p>A candidate puts {@code <name>/<lease hex>} = its proposal on its session's lease; the oldest
 * key (lowest create revision) is the leader. {@link #campaign} waits until every older key is gone.
 * The leader changes its value with {@link #proclaim} and steps down with {@link #resign}; anyone can
 * ask for the {@link #leader} or {@link #observe} the succession of leaders and their values.
 * Leadership ends at the latest when the leader's lease expires; guard leader-only writes with
 * {@link #guard()}.
 */
public final class Election {
  private final VetcdClient client;
  private final Session session;
  private final ByteString prefix;
  private final ByteString myKey;
  private final AtomicLong leaderRev = new AtomicLong();
  private volatile boolean elected;

  public Election(Session session, String name) {
    this.client = session.client();
    this.session = session;
    this.prefix = Keys.bs(name + "/");
    this.myKey = Keys.bs(name + "/" + session.leaseHex());
  }

  /** An election to observe or query only (no session needed). */
  public static Flux<KeyValue> observe(VetcdClient client, String name) {
    return observe(client, Keys.bs(name + "/"));
  }

  public static Mono<KeyValue> leader(VetcdClient client, String name) {
    return client.kv().get(Keys.bs(name + "/"), GetOptions.options().prefix().firstCreate())
        .flatMap(r -> r.getKvsCount() == 0 ? Mono.empty() : Mono.just(r.getKvs(0)));
  }

  /** Completes when this candidate is the leader, with {@code value} proclaimed. */
  public Mono<Void> campaign(String value) {
    ByteString v = Keys.bs(value);
    return client.kv().txn()
        .when(Cmp.createRevision(myKey).eq(0))
        .then(Op.put(myKey, v, session.leaseId()))
        .otherwise(Op.get(myKey, GetOptions.options()))
        .commit()
        .flatMap(resp -> {
          Mono<Void> ready = Mono.empty();
          // re-campaigning with an existing key: only our own value changes while we wait
          if (resp.getSucceeded()) {
            leaderRev.set(resp.getHeader().getRevision());
          } else {
            KeyValue kv = resp.getResponses(0).getResponseRange().getKvs(0);
            leaderRev.set(kv.getCreateRevision());
            if (!kv.getValue().equals(v)) {
              ready = client.kv().txn().when(Cmp.createRevision(myKey).eq(kv.getCreateRevision()))
                  .then(Op.put(myKey, v, session.leaseId())).commit().then();
            }
          }
          long rev = leaderRev.get();
          return ready.then(Waits.waitDeletes(client, prefix, rev - 1))
              .then(client.kv().get(myKey, GetOptions.options()))
              .flatMap(r -> r.getKvsCount() == 0
                  ? Mono.<Void>error(new IllegalStateException("session expired during the campaign"))
                  : Mono.<Void>empty())
              .doOnSuccess(x -> elected = true)
              .doOnCancel(() -> resign().subscribe(x -> { }, e -> { }))
              .onErrorResume(e -> resign().onErrorResume(x -> Mono.empty()).then(Mono.error(e)));
        });
  }

  /** Changes the leader's value; fails with {@link NotLeaderException} unless this candidate leads. */
  public Mono<Void> proclaim(String value) {
    if (!elected) return Mono.error(new NotLeaderException());
    return client.kv().txn()
        .when(Cmp.createRevision(myKey).eq(leaderRev.get()))
        .then(Op.put(myKey, Keys.bs(value), session.leaseId()))
        .commit()
        .flatMap(r -> r.getSucceeded() ? Mono.<Void>empty() : Mono.error(new NotLeaderException()));
  }

  /** Steps down (deletes our key if it is still the one we campaigned with). */
  public Mono<Void> resign() {
    if (leaderRev.get() == 0) return Mono.empty();
    elected = false;
    return client.kv().txn().when(Cmp.createRevision(myKey).eq(leaderRev.get()))
        .then(Op.delete(myKey, Op.DeleteOptions.options())).commit()
        .doOnSuccess(r -> leaderRev.set(0)).then();
  }

  /**
   * A txn compare that holds only while we lead: our key is still the one our won campaign created
   * (never true before the campaign completed or after resigning).
   */
  public io.vetcd.pb.Compare guard() {
    return Cmp.createRevision(myKey).eq(elected ? leaderRev.get() : -1);
  }

  public Mono<KeyValue> leader() {
    return client.kv().get(prefix, GetOptions.options().prefix().firstCreate())
        .flatMap(r -> r.getKvsCount() == 0 ? Mono.empty() : Mono.just(r.getKvs(0)));
  }

  public Flux<KeyValue> observe() {
    return observe(client, prefix);
  }

  public String key() {
    return myKey.toStringUtf8();
  }

  /**
   * The leader and each of its proclamations, then the next leader, and so on (etcd's Observe):
   * read the oldest key; if none, wait for the first put under the prefix; follow that key's puts
   * until it is deleted; start over.
   */
  static Flux<KeyValue> observe(VetcdClient client, ByteString prefix) {
    Flux<KeyValue> round = Flux.defer(() -> client.kv().get(prefix, GetOptions.options().prefix().firstCreate())
        .flatMapMany(resp -> {
          Mono<KeyValue> first = resp.getKvsCount() > 0 ? Mono.just(resp.getKvs(0))
              : client.watch().watch(prefix, WatchOptions.options().prefix()
                      .startRevision(resp.getHeader().getRevision() + 1))
                  .filter(e -> e.getType() == Event.EventType.PUT).next().map(Event::getKv);
          return first.flatMapMany(kv -> Flux.concat(Mono.just(kv),
              client.watch().watch(kv.getKey(), WatchOptions.options().startRevision(kv.getModRevision() + 1))
                  .takeUntil(e -> e.getType() == Event.EventType.DELETE)
                  .filter(e -> e.getType() == Event.EventType.PUT && e.getKv().getCreateRevision()
                      == kv.getCreateRevision())
                  .map(Event::getKv)));
        }));
    return round.repeat().distinctUntilChanged(kv -> kv.getKey().toStringUtf8() + "@" + kv.getModRevision());
  }

  /** Proclaim or resign by a candidate that does not lead. */
  public static final class NotLeaderException extends RuntimeException {
    public NotLeaderException() {
      super("election: not leader");
    }
  }
}
