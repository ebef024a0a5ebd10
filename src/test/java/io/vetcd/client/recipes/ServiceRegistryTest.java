package io.vetcd.client.recipes;

import static org.junit.jupiter.api.Assertions.*;

import io.vetcd.client.VetcdClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.Disposable;

class ServiceRegistryTest extends Servers {

  static void eventually(java.util.function.BooleanSupplier cond, String what) throws Exception {
    long deadline = System.currentTimeMillis() + 10_000;
    while (!cond.getAsBoolean() && System.currentTimeMillis() < deadline) Thread.sleep(50);
    assertTrue(cond.getAsBoolean(), what);
  }

  @ParameterizedTest
  @ValueSource(strings = {"vetcd", "etcd"})
  void registry_converges_to_the_live_set_and_round_robin_follows(String kind) throws Exception {
    VetcdClient observer = client(kind);
    ServiceRegistry registry = new ServiceRegistry(observer, "services-" + kind + "/");
    AtomicReference<Map<String, String>> live = new AtomicReference<>(Map.of());
    Disposable follow = registry.follow("api").subscribe(live::set);
    VetcdClient c1 = client(kind);
    VetcdClient c2 = client(kind);
    VetcdClient dying = VetcdClient.builder().endpoints(endpoint(kind)).build();
    var r1 = new ServiceRegistry(c1, "services-" + kind + "/").register("api", "i1", "10.0.0.1:80", 10).block(T);
    var r2 = new ServiceRegistry(c2, "services-" + kind + "/").register("api", "i2", "10.0.0.2:80", 10).block(T);
    new ServiceRegistry(dying, "services-" + kind + "/").register("api", "i3", "10.0.0.3:80", 2).block(T);
    eventually(() -> live.get().size() == 3, "three live instances: " + live.get());
    assertEquals(Map.of("i1", "10.0.0.1:80", "i2", "10.0.0.2:80", "i3", "10.0.0.3:80"),
        registry.instances("api").block(T));

    try (RoundRobin rr = new RoundRobin(registry, "api")) {
      eventually(() -> rr.addresses().size() == 3, "balancer sees three");
      List<String> picks = new ArrayList<>();
      for (int i = 0; i < 6; i++) picks.add(rr.next().orElseThrow());
      assertEquals(Set.of("10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"), Set.copyOf(picks.subList(0, 3)));
      assertEquals(picks.subList(0, 3), picks.subList(3, 6), "round robin");

      r2.close(); // deregisters at once
      eventually(() -> !live.get().containsKey("i2"), "i2 gone");
      dying.close(); // the process dies: no revoke, its 2 s lease expires
      eventually(() -> live.get().keySet().equals(Set.of("i1")), "only i1 left: " + live.get());
      eventually(() -> rr.addresses().equals(List.of("10.0.0.1:80")), "balancer follows");
      assertEquals("10.0.0.1:80", rr.next().orElseThrow());
    }
    r1.close();
    eventually(() -> live.get().isEmpty(), "none left");
    follow.dispose();
  }
}
