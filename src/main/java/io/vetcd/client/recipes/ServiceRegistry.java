package io.vetcd.client.recipes;

import io.vetcd.client.GetOptions;
import io.vetcd.client.Keys;
import io.vetcd.client.VetcdClient;
import io.vetcd.client.WatchOptions;
import io.vetcd.pb.Event;
import io.vetcd.pb.KeyValue;
import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * Service registry and discovery. An instance registers as {@code <prefix><service>/<instance id>}
 * = its address, on a lease kept alive by its {@link Session}; if the instance dies its lease
 * expires and its key goes. If the registration's session is lost while the process lives (a long
 * partition), it registers again with a new lease. Clients {@link #instances discover} the live set
 * by prefix and {@link #follow} it as it changes (a snapshot per change, resuming after failures).
 */
public final class ServiceRegistry {
  private final VetcdClient client;
  private final String prefix;

  /** {@code prefix} such as {@code "services/"}. */
  public ServiceRegistry(VetcdClient client, String prefix) {
    this.client = client;
    this.prefix = prefix;
  }

  private String servicePrefix(String service) {
    return prefix + service + "/";
  }

  /** Registers an instance until the returned registration is closed. */
  public Mono<Registration> register(String service, String instanceId, String address, long ttlSeconds) {
    String key = servicePrefix(service) + instanceId;
    Mono<Session> once = Session.create(client, ttlSeconds)
        .flatMap(s -> client.kv().put(key, address, s.leaseId()).thenReturn(s)
            .onErrorResume(e -> s.revoke().then(Mono.error(e))));
    return once.map(s -> new Registration(key, once, s));
  }

  /** The live instances of a service: instance id to address. */
  public Mono<Map<String, String>> instances(String service) {
    String p = servicePrefix(service);
    return client.kv().get(p, GetOptions.options().prefix()).map(r -> {
      Map<String, String> m = new TreeMap<>();
      for (KeyValue kv : r.getKvsList()) m.put(kv.getKey().toStringUtf8().substring(p.length()), kv.getValue()
          .toStringUtf8());
      return Collections.unmodifiableMap(m);
    });
  }

  /** The live set now, then again after every change. */
  public Flux<Map<String, String>> follow(String service) {
    String p = servicePrefix(service);
    return client.kv().get(p, GetOptions.options().prefix()).flatMapMany(r -> {
      TreeMap<String, String> live = new TreeMap<>();
      for (KeyValue kv : r.getKvsList()) live.put(kv.getKey().toStringUtf8().substring(p.length()),
          kv.getValue().toStringUtf8());
      Flux<Map<String, String>> changes = client.watch()
          .watch(p, WatchOptions.options().prefix().startRevision(r.getHeader().getRevision() + 1))
          .map(e -> {
            String id = e.getKv().getKey().toStringUtf8().substring(p.length());
            if (e.getType() == Event.EventType.PUT) live.put(id, e.getKv().getValue().toStringUtf8());
            else live.remove(id);
            return Collections.unmodifiableMap(new TreeMap<>(live));
          });
      return Flux.concat(Mono.just(Collections.unmodifiableMap(new TreeMap<>(live))), changes);
    }).distinctUntilChanged();
  }

  /** A registered instance; {@link #close()} deregisters it at once. */
  public static final class Registration implements AutoCloseable {
    private final String key;
    private volatile Session session;
    private volatile boolean closed;
    private final Disposable renewal;

    Registration(String key, Mono<Session> register, Session first) {
      this.key = key;
      this.session = first;
      // when the session is lost while we are open, register again (with backoff) under a new lease
      this.renewal = Mono.defer(() -> session.lost())
          .then(Mono.defer(() -> closed ? Mono.<Session>empty() : register))
          .doOnNext(s -> {
            if (closed) s.revoke().subscribe();
            else session = s;
          })
          .retryWhen(Retry.backoff(Long.MAX_VALUE, Duration.ofMillis(200)).maxBackoff(Duration.ofSeconds(2)))
          .repeat(() -> !closed)
          .subscribe();
    }

    public String key() {
      return key;
    }

    public long leaseId() {
      return session.leaseId();
    }

    @Override
    public void close() {
      closed = true;
      renewal.dispose();
      session.close();
    }
  }
}
