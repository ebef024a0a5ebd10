package io.vetcd.client.recipes;

import io.vetcd.client.Keys;
import io.vetcd.client.VetcdClient;
import io.vetcd.client.WatchOptions;
import io.vetcd.pb.Event;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Publish/subscribe on topics under a prefix. A message is a put of {@code <prefix><topic>}; its
 * revision is its position in one total order over every topic. A subscriber to a topic prefix gets
 * the messages in that order, exactly once, and resumes across member failures; a subscriber that
 * stops can resume later from the revision after the last message it handled, as long as that
 * history was not compacted (then the subscription fails with the compact revision).
 */
public final class PubSub {
  private final VetcdClient client;
  private final String prefix;

  public PubSub(VetcdClient client, String prefix) {
    this.client = client;
    this.prefix = prefix;
  }

  /** A message and its revision (use {@code revision + 1} to resume after it). */
  public record Message(String topic, String payload, long revision) {}

  /** Publishes; completes with the message's revision. Not resent on an ambiguous failure. */
  public Mono<Long> publish(String topic, String payload) {
    return client.kv().put(prefix + topic, payload).map(r -> r.getHeader().getRevision());
  }

  /** Messages on every topic starting with {@code topicPrefix}, published from now on. */
  public Flux<Message> subscribe(String topicPrefix) {
    return subscribe(topicPrefix, 0);
  }

  /** Messages from revision {@code fromRevision} on (0: from now). */
  public Flux<Message> subscribe(String topicPrefix, long fromRevision) {
    return client.watch()
        .watch(Keys.bs(prefix + topicPrefix), WatchOptions.options().prefix().noDelete().startRevision(fromRevision))
        .filter(e -> e.getType() == Event.EventType.PUT)
        .map(e -> new Message(e.getKv().getKey().toStringUtf8().substring(prefix.length()),
            e.getKv().getValue().toStringUtf8(), e.getKv().getModRevision()));
  }
}
