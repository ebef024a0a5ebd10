package io.vetcd.client;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The client's API against real etcd 3.4 ({@code /usr/bin/etcd}); skipped when it is not installed. */
class EtcdClientApiTest extends ClientContract {
  EtcdProcess etcd;

  @Override
  String startServer() throws Exception {
    assumeTrue(EtcdProcess.available(), "etcd is not installed");
    etcd = new EtcdProcess();
    return etcd.endpoint();
  }

  @Override
  void stopServer() throws Exception {
    if (etcd != null) etcd.close();
  }
}
