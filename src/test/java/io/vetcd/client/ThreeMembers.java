package io.vetcd.client;

import io.vetcd.Vetcd;
import io.vetcd.server.ServerConfig;
import java.io.File;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A three-member cluster on loopback: real etcd processes or in-process vetcd members. */
public final class ThreeMembers implements AutoCloseable {
  public final boolean etcd;
  final int[] clientPorts = new int[3];
  final int[] peerPorts = new int[3];
  final Path dir;
  final Process[] processes = new Process[3];
  final Vetcd[] members = new Vetcd[3];

  public ThreeMembers(boolean etcd) throws Exception {
    this.etcd = etcd;
    this.dir = Files.createTempDirectory("vetcd-client-cluster");
    for (int i = 0; i < 3; i++) {
      clientPorts[i] = InProcessMember.freePort();
      peerPorts[i] = InProcessMember.freePort();
    }
    List<Thread> starts = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      int n = i;
      Thread t = new Thread(() -> {
        try {
          start(n);
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      t.start();
      starts.add(t);
    }
    for (Thread t : starts) t.join();
  }

  String initialCluster() {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 3; i++) sb.append(i == 0 ? "" : ",").append("m").append(i).append("=http://127.0.0.1:")
        .append(peerPorts[i]);
    return sb.toString();
  }

  public void start(int i) throws Exception {
    String client = endpoint(i);
    String peer = "http://127.0.0.1:" + peerPorts[i];
    List<String> flags = List.of("--name", "m" + i, "--data-dir", dir.resolve("m" + i).toString(),
        "--listen-client-urls", client, "--advertise-client-urls", client,
        "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", initialCluster());
    if (etcd) {
      List<String> cmd = new ArrayList<>(List.of(EtcdProcess.BIN));
      cmd.addAll(flags);
      processes[i] = new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectOutput(dir.resolve("m" + i + ".log").toFile()).start();
      long deadline = System.currentTimeMillis() + 15_000;
      while (System.currentTimeMillis() < deadline) {
        try (Socket s = new Socket("127.0.0.1", clientPorts[i])) {
          return;
        } catch (Exception notYet) {
          Thread.sleep(100);
        }
      }
    } else {
      members[i] = Vetcd.start(ServerConfig.parse(flags.toArray(String[]::new), Map.of()));
    }
  }

  /** kill -9 for etcd; an abrupt close for an in-process vetcd member. */
  public void kill(int i) throws Exception {
    if (etcd) {
      processes[i].destroyForcibly().waitFor();
    } else if (members[i] != null) {
      members[i].close();
      members[i] = null;
    }
  }

  public String endpoint(int i) {
    return "http://127.0.0.1:" + clientPorts[i];
  }

  public List<String> endpoints() {
    return List.of(endpoint(0), endpoint(1), endpoint(2));
  }

  public int indexOf(String endpoint) {
    return endpoints().indexOf(endpoint);
  }

  public static boolean etcdAvailable() {
    return new File(EtcdProcess.BIN).canExecute();
  }

  @Override
  public void close() throws Exception {
    for (int i = 0; i < 3; i++) kill(i);
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
