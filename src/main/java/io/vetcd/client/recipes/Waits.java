package io.vetcd.client.recipes;

import com.google.protobuf.ByteString;
import io.vetcd.client.GetOptions;
import io.vetcd.client.VetcdClient;
import io.vetcd.client.WatchOptions;
import io.vetcd.pb.Event;
import reactor.core.publisher.Mono;

/** Waiting for keys to go away, as etcd's lock and election do. */
final class Waits {
  private Waits() {}

  /** Completes once no key under {@code prefix} has a create revision at or below {@code maxCreateRev}. */
  static Mono<Void> waitDeletes(VetcdClient client, ByteString prefix, long maxCreateRev) {
    return Mono.defer(() -> client.kv().get(prefix, GetOptions.options().prefix().maxCreateRevision(maxCreateRev)
            .lastCreate())
        .flatMap(resp -> {
          if (resp.getKvsCount() == 0) return Mono.<Void>empty();
          ByteString last = resp.getKvs(0).getKey();
          return waitDelete(client, last, resp.getHeader().getRevision())
              .then(waitDeletes(client, prefix, maxCreateRev));
        }));
  }

  /** Completes when {@code key} is deleted after revision {@code rev}. */
  static Mono<Void> waitDelete(VetcdClient client, ByteString key, long rev) {
    return client.watch().watch(key, WatchOptions.options().startRevision(rev + 1).noPut())
        .filter(e -> e.getType() == Event.EventType.DELETE)
        .next()
        .then();
  }
}
