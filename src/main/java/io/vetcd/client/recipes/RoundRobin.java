package io.vetcd.client.recipes;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

/**
 * Client-side load balancing: round robin over the live instances of a service, following the
 * registry ({@link ServiceRegistry#follow}) so that instances that die drop out and new ones join.
 */
public final class RoundRobin implements AutoCloseable {
  private final AtomicReference<List<String>> addresses = new AtomicReference<>(List.of());
  private final AtomicLong next = new AtomicLong();
  private final Disposable subscription;

  public RoundRobin(Flux<Map<String, String>> liveSet) {
    this.subscription = liveSet.subscribe(m -> addresses.set(List.copyOf(new ArrayList<>(m.values()))));
  }

  public RoundRobin(ServiceRegistry registry, String service) {
    this(registry.follow(service));
  }

  /** The next address, or empty when no instance is live. */
  public Optional<String> next() {
    List<String> a = addresses.get();
    if (a.isEmpty()) return Optional.empty();
    return Optional.of(a.get((int) Math.floorMod(next.getAndIncrement(), (long) a.size())));
  }

  /** The instances currently balanced over. */
  public List<String> addresses() {
    return addresses.get();
  }

  @Override
  public void close() {
    subscription.dispose();
  }
}
