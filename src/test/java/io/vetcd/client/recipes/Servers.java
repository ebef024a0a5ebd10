package io.vetcd.client.recipes;

import io.vetcd.client.EtcdProcess;
import io.vetcd.client.InProcessMember;
import io.vetcd.client.VetcdClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/** Recipe tests run against an in-process vetcd member and a real etcd 3.4, both started once per class. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class Servers {
  static final Duration T = Duration.ofSeconds(15);
  InProcessMember vetcd;
  EtcdProcess etcd;
  final List<VetcdClient> clients = new ArrayList<>();

  @BeforeAll
  void startServers() throws Exception {
    vetcd = new InProcessMember();
    if (EtcdProcess.available()) etcd = new EtcdProcess();
  }

  @AfterAll
  void stopServers() throws Exception {
    for (VetcdClient c : clients) c.close();
    if (etcd != null) etcd.close();
    vetcd.close();
  }

  String endpoint(String kind) {
    if (kind.equals("etcd")) {
      Assumptions.assumeTrue(etcd != null, "etcd is not installed");
      return etcd.endpoint();
    }
    return vetcd.endpoint();
  }

  synchronized VetcdClient client(String kind) {
    VetcdClient c = VetcdClient.builder().endpoints(endpoint(kind)).build();
    clients.add(c);
    return c;
  }
}
