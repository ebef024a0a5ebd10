package io.vetcd.client.recipes;

import com.google.protobuf.ByteString;
import io.vetcd.client.Cmp;
import io.vetcd.client.GetOptions;
import io.vetcd.client.Keys;
import io.vetcd.client.Op;
import io.vetcd.client.VetcdClient;
import io.vetcd.client.VetcdException;
import io.vetcd.client.WatchOptions;
import io.vetcd.pb.Event;
import io.vetcd.pb.KeyValue;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import reactor.core.publisher.Mono;

/**
 * A distributed FIFO queue. Items are keys under {@code <prefix>/}, ordered by create revision.
 * {@link #dequeue} takes the oldest item with a txn that deletes it only if it is unchanged since it
 * was read; a consumer that loses the race tries the next one, so every item is taken exactly once.
 *
 * <p>The delete txn also writes a claim {@code <prefix>.claims/<item>} = this consumer's id, so a
 * dequeue whose answer was lost (member killed mid-call) can find out whether it took the item
 * instead of losing it or taking it twice. The claim is removed once the answer is known.
 */
public final class Queue {
  private final VetcdClient client;
  private final String prefix;
  private final String claims;
  private final String consumerId = UUID.randomUUID().toString();

  public Queue(VetcdClient client, String name) {
    this.client = client;
    this.prefix = name + "/";
    this.claims = name + ".claims/";
  }

  /** An item taken from the queue. */
  public record Item(String key, String value, long createRevision) {}

  /** Appends an item; completes with its key. */
  public Mono<String> enqueue(String value) {
    return Mono.defer(() -> {
      String key = prefix + String.format("%016x%08x", System.currentTimeMillis() * 1_000_000L + System.nanoTime()
          % 1_000_000L, ThreadLocalRandom.current().nextInt());
      return client.kv().txn().when(Cmp.createRevision(key).eq(0)).then(Op.put(key, value)).commit()
          .flatMap(r -> r.getSucceeded() ? Mono.just(key) : Mono.empty());
    }).repeatWhenEmpty(n -> n);
  }

  /** Takes the oldest item, waiting for one if the queue is empty. */
  public Mono<Item> dequeue() {
    return Mono.defer(() -> client.kv().get(Keys.bs(prefix), GetOptions.options().prefix().firstCreate())
        .flatMap(r -> {
          if (r.getKvsCount() == 0) {
            // empty: wait for the next put under the prefix, then try again
            return client.watch().watch(Keys.bs(prefix),
                    WatchOptions.options().prefix().noDelete().startRevision(r.getHeader().getRevision() + 1))
                .next().then(Mono.<Item>empty());
          }
          return take(r.getKvs(0));
        }))
        .repeatWhenEmpty(n -> n);
  }

  /** Takes this item if nobody else did; empty if we lost the race. */
  private Mono<Item> take(KeyValue kv) {
    String key = kv.getKey().toStringUtf8();
    ByteString claim = Keys.bs(claims + key.substring(prefix.length()));
    Item item = new Item(key, kv.getValue().toStringUtf8(), kv.getCreateRevision());
    return client.kv().txn()
        .when(Cmp.modRevision(kv.getKey()).eq(kv.getModRevision()))
        .then(Op.delete(kv.getKey(), Op.DeleteOptions.options()), Op.put(claim, Keys.bs(consumerId), 0))
        .commit()
        .map(r -> r.getSucceeded())
        .onErrorResume(VetcdException.class, e -> e.mayHaveBeenApplied()
            ? client.kv().get(claim, GetOptions.options()).map(c -> c.getKvsCount() > 0
                && c.getKvs(0).getValue().toStringUtf8().equals(consumerId))
            : Mono.error(e))
        .flatMap(mine -> mine
            ? client.kv().delete(claim, Op.DeleteOptions.options()).onErrorResume(e -> Mono.empty()).thenReturn(item)
            : Mono.empty());
  }
}
