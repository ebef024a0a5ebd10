package io.vetcd.client.example;

import io.vetcd.client.GetOptions;
import io.vetcd.client.VetcdClient;
import io.vetcd.client.WatchOptions;
import io.vetcd.client.recipes.Election;
import io.vetcd.client.recipes.Lock;
import io.vetcd.client.recipes.PubSub;
import io.vetcd.client.recipes.Queue;
import io.vetcd.client.recipes.RoundRobin;
import io.vetcd.client.recipes.ServiceRegistry;
import io.vetcd.client.recipes.Session;
import io.vetcd.pb.Event;
import io.vetcd.pb.KeyValue;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * {@code scripts/example <name> [--endpoints ...]}: each example runs one scenario against a running
 * etcd or vetcd and prints what happens. Without a name, lists the names.
 */
public final class Examples {
  static final Duration T = Duration.ofSeconds(15);

  interface Example {
    void run(VetcdClient c, List<String> endpoints) throws Exception;
  }

  static final Map<String, Example> EXAMPLES = new LinkedHashMap<>();

  static {
    EXAMPLES.put("put-get", Examples::putGet);
    EXAMPLES.put("lease", Examples::lease);
    EXAMPLES.put("get-by-revision", Examples::getByRevision);
    EXAMPLES.put("delete", Examples::delete);
    EXAMPLES.put("watch", Examples::watch);
    EXAMPLES.put("txn", Examples::txn);
    EXAMPLES.put("lock", Examples::lock);
    EXAMPLES.put("election", Examples::election);
    EXAMPLES.put("registry", Examples::registry);
    EXAMPLES.put("pubsub", Examples::pubsub);
    EXAMPLES.put("queue", Examples::queue);
    EXAMPLES.put("load-balancing", Examples::loadBalancing);
  }

  public static void main(String[] args) throws Exception {
    if (args.length == 0) {
      EXAMPLES.keySet().forEach(System.out::println);
      return;
    }
    String name = args[0];
    String endpoints = System.getenv().getOrDefault("ETCDCTL_ENDPOINTS", "http://127.0.0.1:2379");
    for (int i = 1; i < args.length; i++) {
      if (args[i].equals("--endpoints") && i + 1 < args.length) endpoints = args[++i];
      else if (args[i].startsWith("--endpoints=")) endpoints = args[i].substring("--endpoints=".length());
      else {
        System.err.println("example: unknown argument " + args[i]);
        System.exit(2);
      }
    }
    Example ex = EXAMPLES.get(name);
    if (ex == null) {
      System.err.println("example: no example named " + name + "; scripts/example lists them");
      System.exit(2);
    }
    List<String> eps = List.of(endpoints.split(","));
    int status = 0;
    try (VetcdClient c = VetcdClient.builder().endpoints(eps).build()) {
      ex.run(c, eps);
    } catch (Exception e) {
      System.err.println("example " + name + " failed: " + e);
      status = 1;
    }
    System.exit(status);
  }

  static String s(KeyValue kv) {
    return kv.getKey().toStringUtf8() + " = " + kv.getValue().toStringUtf8();
  }

  static VetcdClient another(List<String> endpoints) {
    return VetcdClient.builder().endpoints(endpoints).build();
  }

  static void putGet(VetcdClient c, List<String> eps) {
    long rev = c.kv().put("example/greeting", "Hello, etcd").block(T).getHeader().getRevision();
    System.out.println("put example/greeting at revision " + rev);
    var r = c.kv().get("example/greeting").block(T);
    System.out.println("get: " + s(r.getKvs(0)) + " (version " + r.getKvs(0).getVersion() + ")");
    c.kv().put("example/fruit/apple", "red").block(T);
    c.kv().put("example/fruit/banana", "yellow").block(T);
    System.out.println("get --prefix example/fruit/:");
    c.kv().get("example/fruit/", GetOptions.options().prefix()).block(T).getKvsList()
        .forEach(kv -> System.out.println("  " + s(kv)));
  }

  static void lease(VetcdClient c, List<String> eps) throws Exception {
    var grant = c.lease().grant(2).block(T);
    System.out.printf("granted lease %x with TTL %ds%n", grant.getID(), grant.getTTL());
    c.kv().put("example/ephemeral", "I will expire", grant.getID()).block(T);
    System.out.println("put example/ephemeral with the lease: " + c.kv().get("example/ephemeral").block(T).getCount()
        + " key");
    System.out.println("waiting for the lease to expire...");
    long deadline = System.currentTimeMillis() + 10_000;
    while (c.kv().get("example/ephemeral").block(T).getCount() > 0 && System.currentTimeMillis() < deadline) {
      Thread.sleep(250);
    }
    System.out.println("after expiry: " + c.kv().get("example/ephemeral").block(T).getCount() + " key; TTL now "
        + c.lease().timeToLive(grant.getID(), false).block(T).getTTL());
  }

  static void getByRevision(VetcdClient c, List<String> eps) {
    long r1 = c.kv().put("example/version", "v1").block(T).getHeader().getRevision();
    long r2 = c.kv().put("example/version", "v2").block(T).getHeader().getRevision();
    System.out.println("at revision " + r1 + ": " + s(c.kv().get("example/version",
        GetOptions.options().revision(r1)).block(T).getKvs(0)));
    System.out.println("at revision " + r2 + ": " + s(c.kv().get("example/version",
        GetOptions.options().revision(r2)).block(T).getKvs(0)));
  }

  static void delete(VetcdClient c, List<String> eps) {
    c.kv().put("example/tmp/a", "1").block(T);
    c.kv().put("example/tmp/b", "2").block(T);
    System.out.println("deleted " + c.kv().delete("example/tmp/a").block(T).getDeleted() + " key");
    System.out.println("deleted by prefix: " + c.kv().delete("example/tmp/",
        io.vetcd.client.Op.DeleteOptions.options().prefix()).block(T).getDeleted() + " key(s)");
  }

  static void watch(VetcdClient c, List<String> eps) throws Exception {
    List<String> seen = new CopyOnWriteArrayList<>();
    Disposable w = c.watch().watch("example/watched/", WatchOptions.options().prefix())
        .subscribe(e -> {
          String line = e.getType() + " " + e.getKv().getKey().toStringUtf8()
              + (e.getType() == Event.EventType.PUT ? " = " + e.getKv().getValue().toStringUtf8() : "")
              + " @" + e.getKv().getModRevision();
          System.out.println("watch: " + line);
          seen.add(line);
        });
    Thread.sleep(300);
    c.kv().put("example/watched/x", "1").block(T);
    c.kv().put("example/watched/x", "2").block(T);
    c.kv().delete("example/watched/x").block(T);
    long deadline = System.currentTimeMillis() + 5000;
    while (seen.size() < 3 && System.currentTimeMillis() < deadline) Thread.sleep(50);
    w.dispose();
    if (seen.size() < 3) throw new IllegalStateException("missed events");
  }

  static void txn(VetcdClient c, List<String> eps) {
    c.kv().put("example/account", "100").block(T);
    var r = c.kv().txn()
        .when(io.vetcd.client.Cmp.value("example/account").eq("100"))
        .then(io.vetcd.client.Op.put("example/account", "50"))
        .otherwise(io.vetcd.client.Op.get("example/account"))
        .commit().block(T);
    System.out.println("txn succeeded: " + r.getSucceeded() + "; account = "
        + c.kv().get("example/account").block(T).getKvs(0).getValue().toStringUtf8());
  }

  static void lock(VetcdClient c, List<String> eps) throws Exception {
    List<CompletableFuture<Void>> workers = new ArrayList<>();
    for (int w = 1; w <= 3; w++) {
      int id = w;
      workers.add(CompletableFuture.runAsync(() -> {
        try (VetcdClient mine = another(eps); Session s = Session.create(mine, 10).block(T)) {
          Lock lock = new Lock(s, "example-lock");
          Lock.Held held = lock.acquire().block(T);
          System.out.println("worker " + id + " holds example-lock (key " + held.key() + ", fencing token "
              + held.revision() + ")");
          Thread.sleep(300);
          System.out.println("worker " + id + " releases");
          lock.release().block(T);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }));
    }
    CompletableFuture.allOf(workers.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
  }

  static void election(VetcdClient c, List<String> eps) throws Exception {
    Disposable obs = Election.observe(c, "example-election")
        .subscribe(kv -> System.out.println("observer: leader is " + kv.getValue().toStringUtf8()));
    try (VetcdClient c1 = another(eps); VetcdClient c2 = another(eps);
        Session s1 = Session.create(c1, 10).block(T); Session s2 = Session.create(c2, 10).block(T)) {
      Election e1 = new Election(s1, "example-election");
      Election e2 = new Election(s2, "example-election");
      e1.campaign("node-1").block(T);
      System.out.println("node-1 campaigned and leads");
      Mono<Void> second = e2.campaign("node-2").cache();
      second.subscribe();
      Thread.sleep(300);
      e1.proclaim("node-1 (proclaimed)").block(T);
      Thread.sleep(300);
      System.out.println("node-1 resigns");
      e1.resign().block(T);
      second.block(T);
      System.out.println("node-2 leads");
      Thread.sleep(300);
      e2.resign().block(T);
    } finally {
      obs.dispose();
    }
  }

  static void registry(VetcdClient c, List<String> eps) throws Exception {
    ServiceRegistry registry = new ServiceRegistry(c, "example-services/");
    Disposable follow = registry.follow("web").subscribe(live -> System.out.println("live set: " + live));
    Thread.sleep(300);
    try (VetcdClient c1 = another(eps); VetcdClient c2 = another(eps)) {
      var r1 = new ServiceRegistry(c1, "example-services/").register("web", "web-1", "10.0.0.1:8080", 5).block(T);
      var r2 = new ServiceRegistry(c2, "example-services/").register("web", "web-2", "10.0.0.2:8080", 5).block(T);
      Thread.sleep(500);
      System.out.println("discovered: " + registry.instances("web").block(T));
      System.out.println("web-2 stops");
      r2.close();
      Thread.sleep(500);
      r1.close();
      Thread.sleep(300);
    } finally {
      follow.dispose();
    }
  }

  static void pubsub(VetcdClient c, List<String> eps) throws Exception {
    PubSub bus = new PubSub(c, "example-topics/");
    List<PubSub.Message> got = new CopyOnWriteArrayList<>();
    Disposable sub = bus.subscribe("news/").subscribe(m -> {
      System.out.println("subscriber: " + m.topic() + ": " + m.payload() + " (revision " + m.revision() + ")");
      got.add(m);
    });
    Thread.sleep(300);
    bus.publish("news/world", "hello world").block(T);
    bus.publish("weather/today", "sunny (not news)").block(T);
    bus.publish("news/tech", "vetcd speaks etcd").block(T);
    long deadline = System.currentTimeMillis() + 5000;
    while (got.size() < 2 && System.currentTimeMillis() < deadline) Thread.sleep(50);
    sub.dispose();
    long resumeFrom = got.get(0).revision() + 1;
    System.out.println("a subscriber that stopped after the first message resumes from revision " + resumeFrom + ":");
    bus.subscribe("news/", resumeFrom).take(1)
        .doOnNext(m -> System.out.println("resumed: " + m.topic() + ": " + m.payload())).blockLast(T);
  }

  static void queue(VetcdClient c, List<String> eps) throws Exception {
    Queue q = new Queue(c, "example-queue");
    for (int i = 1; i <= 6; i++) q.enqueue("job-" + i).block(T);
    System.out.println("enqueued job-1 .. job-6");
    List<String> taken = Collections.synchronizedList(new ArrayList<>());
    List<CompletableFuture<Void>> workers = new ArrayList<>();
    for (int w = 1; w <= 3; w++) {
      int id = w;
      workers.add(CompletableFuture.runAsync(() -> {
        try (VetcdClient mine = another(eps)) {
          Queue wq = new Queue(mine, "example-queue");
          for (int i = 0; i < 2; i++) {
            Queue.Item item = wq.dequeue().block(T);
            System.out.println("worker " + id + " took " + item.value());
            taken.add(item.value());
          }
        }
      }));
    }
    CompletableFuture.allOf(workers.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    System.out.println("taken " + taken.size() + " items, " + taken.stream().distinct().count() + " distinct");
  }

  static void loadBalancing(VetcdClient c, List<String> eps) throws Exception {
    try (VetcdClient c1 = another(eps); VetcdClient c2 = another(eps); VetcdClient c3 = another(eps)) {
      var regs = List.of(
          new ServiceRegistry(c1, "example-lb/").register("api", "a", "10.0.1.1:9000", 5).block(T),
          new ServiceRegistry(c2, "example-lb/").register("api", "b", "10.0.1.2:9000", 5).block(T),
          new ServiceRegistry(c3, "example-lb/").register("api", "c", "10.0.1.3:9000", 5).block(T));
      try (RoundRobin rr = new RoundRobin(new ServiceRegistry(c, "example-lb/"), "api")) {
        Thread.sleep(500);
        for (int i = 0; i < 6; i++) System.out.println("request " + i + " -> " + rr.next().orElse("(none)"));
        System.out.println("instance b stops");
        regs.get(1).close();
        Thread.sleep(500);
        for (int i = 6; i < 10; i++) System.out.println("request " + i + " -> " + rr.next().orElse("(none)"));
      } finally {
        regs.get(0).close();
        regs.get(2).close();
      }
    }
  }
}
