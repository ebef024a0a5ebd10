package io.vetcd.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.vetcd.client.Cmp;
import io.vetcd.client.Op;
import io.vetcd.client.VetcdClient;
import io.vetcd.linearizability.History;
import io.vetcd.linearizability.History.Cas;
import io.vetcd.linearizability.History.CasOk;
import io.vetcd.linearizability.History.CasValue;
import io.vetcd.linearizability.History.Get;
import io.vetcd.linearizability.History.GetOk;
import io.vetcd.linearizability.History.Put;
import io.vetcd.linearizability.History.PutOk;
import io.vetcd.linearizability.LinearizabilityChecker;
import io.vetcd.pb.KeyValue;
import io.vetcd.pb.RangeResponse;
import io.vetcd.pb.StatusResponse;
import io.vetcd.pb.TxnResponse;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Jepsen-style fault test on a real cluster: three vetcd members as separate JVMs on loopback,
 * several clients doing puts, linearizable reads and compare-and-set txns (on mod_revision and on
 * value) over a few keys, while a nemesis {@code kill -9}s and restarts members, pauses the leader
 * (SIGSTOP, then SIGCONT) and partitions a member from the others (through the peer transport's
 * test-only cut file, {@code -Dvetcd.test.peerCutFile}). Every operation is recorded with its call and
 * return times; writes that fail are left open (they may or may not have happened). Afterwards the
 * faults heal, every member is read, and:
 * <ul>
 *   <li>the whole history, final reads included, is linearizable (per key, with revisions), and
 *       revisions order the writes across keys;
 *   <li>every member answers the same value and mod_revision for every key, and no acknowledged write
 *       is newer than what the members hold (none was lost);
 *   <li>no member died on its own.
 * </ul>
 * {@code -Dfault.seed=N} replays the nemesis' choices (the timing of a real cluster is not replayable);
 * {@code -Dfault.seconds=S} sets the length of the faulty phase (default 35).
 */
class LinearizabilityFaultProcessTest {
  static final int CLIENTS = 6;
  static final List<String> KEYS = List.of("lin/a", "lin/b", "lin/c");
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(3);

  final List<Node> nodes = new ArrayList<>();
  Path root;

  final class Node {
    final String name;
    final int clientPort;
    final int peerPort;
    final Path dataDir;
    final Path cutFile;
    Process process;
    long id;
    boolean paused;
    boolean killedByUs;
    VetcdClient client; // this member only, no retries

    Node(String name) throws IOException {
      this.name = name;
      this.clientPort = freePort();
      this.peerPort = freePort();
      this.dataDir = root.resolve(name + ".vetcd");
      this.cutFile = root.resolve(name + ".cut");
    }

    String endpoint() {
      return "http://127.0.0.1:" + clientPort;
    }

    void start(String initialCluster) throws IOException {
      List<String> command = List.of(
          Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
          "-Dvetcd.test.peerCutFile=" + cutFile,
          "-cp", System.getProperty("java.class.path"), "io.vetcd.Vetcd",
          "--name", name, "--data-dir", dataDir.toString(),
          "--listen-client-urls", endpoint(), "--advertise-client-urls", endpoint(),
          "--listen-peer-urls", "http://127.0.0.1:" + peerPort,
          "--initial-advertise-peer-urls", "http://127.0.0.1:" + peerPort,
          "--initial-cluster-token", "lin-fault", "--initial-cluster", initialCluster);
      Files.writeString(root.resolve(name + ".log"), "\n===== start\n", StandardCharsets.UTF_8,
          java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
      process = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(root.resolve(name + ".log").toFile())).start();
      killedByUs = false;
      if (client == null) {
        client = VetcdClient.builder().endpoints(endpoint()).requestTimeout(Duration.ofSeconds(2)).maxRetries(0)
            .build();
      }
    }

    void kill9() throws InterruptedException {
      killedByUs = true;
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
      paused = false;
    }

    void signal(String sig) throws IOException, InterruptedException {
      new ProcessBuilder("kill", "-" + sig, Long.toString(process.pid())).inheritIO().start().waitFor();
      paused = sig.equals("STOP");
    }

    /** Cuts peer traffic with these members (empty: heals). */
    void cut(List<Node> others) throws IOException {
      Path tmp = root.resolve(name + ".cut.tmp");
      Files.writeString(tmp, others.stream().map(n -> Long.toHexString(n.id)).collect(Collectors.joining(",")));
      Files.move(tmp, cutFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    StatusResponse status() {
      if (paused || !process.isAlive()) {
        return null;
      }
      try {
        return client.maintenance().status().block(Duration.ofSeconds(3));
      } catch (RuntimeException e) {
        return null;
      }
    }
  }

  @AfterEach
  void tearDown() throws Exception {
    for (Node n : nodes) {
      if (n.process != null && n.process.isAlive()) {
        if (n.paused) {
          n.signal("CONT");
        }
        n.kill9();
      }
      if (n.client != null) {
        n.client.close();
      }
    }
    if (root != null && !Boolean.getBoolean("fault.keep")) {
      try (var files = Files.walk(root)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  @Test
  void histories_stay_linearizable_and_no_acknowledged_write_is_lost_under_kills_pauses_and_partitions()
      throws Exception {
    long seed = Long.getLong("fault.seed", System.nanoTime() % 100_000);
    int seconds = Integer.getInteger("fault.seconds", 35);
    System.out.println("LinearizabilityFaultProcessTest: nemesis seed " + seed + " (-Dfault.seed=" + seed + ")");
    root = Files.createTempDirectory("vetcd-lin-fault");
    for (int i = 1; i <= 3; i++) {
      nodes.add(new Node("f" + i));
    }
    String initialCluster = nodes.stream().map(n -> n.name + "=http://127.0.0.1:" + n.peerPort)
        .collect(Collectors.joining(","));
    for (Node n : nodes) {
      n.start(initialCluster);
    }
    awaitHealthy(90_000);
    for (Node n : nodes) {
      n.id = n.status().getHeader().getMemberId();
    }

    History history = new History();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger values = new AtomicInteger();
    List<Thread> workers = new ArrayList<>();
    List<VetcdClient> clients = new ArrayList<>();
    for (int c = 0; c < CLIENTS; c++) {
      List<String> endpoints = new ArrayList<>();
      for (int i = 0; i < nodes.size(); i++) {
        endpoints.add(nodes.get((c + i) % nodes.size()).endpoint());
      }
      VetcdClient client = VetcdClient.builder().endpoints(endpoints).requestTimeout(REQUEST_TIMEOUT).maxRetries(6)
          .build();
      clients.add(client);
      int clientId = c;
      Random random = new Random(seed * 31 + c);
      Thread t = new Thread(() -> work(clientId, client, random, history, values, stop), "lin-client-" + c);
      t.setDaemon(true);
      workers.add(t);
    }
    workers.forEach(Thread::start);

    List<String> faults = new ArrayList<>();
    try {
      nemesis(new Random(seed), Duration.ofSeconds(seconds), initialCluster, faults);
    } finally {
      heal(initialCluster);
    }
    stop.set(true);
    for (Thread t : workers) {
      t.join(REQUEST_TIMEOUT.toMillis() * 8);
    }
    clients.forEach(VetcdClient::close);

    // Final reads: every member, every key (recorded, so the checker sees them too).
    awaitHealthy(60_000);
    Map<String, Map<String, GetOk>> finalReads = new HashMap<>();
    for (Node n : nodes) {
      for (String key : KEYS) {
        GetOk read = null;
        for (int attempt = 0; attempt < 20 && read == null; attempt++) {
          History.Call call = history.invoke(100 + nodes.indexOf(n), new Get(key));
          try {
            read = getOk(n.client.kv().get(key).block(Duration.ofSeconds(5)));
            call.ok(read);
          } catch (RuntimeException e) {
            call.failed();
            Thread.sleep(250);
          }
        }
        assertTrue(read != null, "no final read of " + key + " on " + n.name);
        finalReads.computeIfAbsent(key, k -> new HashMap<>()).put(n.name, read);
      }
    }

    List<History.Op> ops = history.operations();
    long acknowledged = ops.stream().filter(o -> !o.open() && !(o.input() instanceof Get)).count();
    long open = ops.stream().filter(History.Op::open).count();
    System.out.printf("LinearizabilityFaultProcessTest: %d operations (%d acknowledged writes, %d open); faults: %s%n",
        ops.size(), acknowledged, open, faults);
    assertTrue(acknowledged > 50, "too few acknowledged writes to mean anything: " + acknowledged);

    for (Node n : nodes) {
      assertTrue(n.process.isAlive(), n.name + " died on its own; log in " + root.resolve(n.name + ".log"));
    }
    for (String key : KEYS) {
      Map<String, GetOk> byMember = finalReads.get(key);
      assertEquals(1, byMember.values().stream().distinct().count(), "members disagree on " + key + ": " + byMember);
      GetOk agreed = byMember.values().iterator().next();
      for (History.Op op : ops) {
        long rev = op.output() instanceof PutOk p ? p.revision()
            : op.output() instanceof CasOk c && c.succeeded() ? c.revision() : -1;
        if (op.input().key().equals(key) && rev > agreed.modRevision()) {
          fail("acknowledged write lost: " + op + " is newer than what every member holds: " + agreed);
        }
      }
    }
    LinearizabilityChecker.Result result = LinearizabilityChecker.check(ops);
    System.out.print(result);
    assertEquals(LinearizabilityChecker.Verdict.OK, result.verdict(),
        () -> "seed " + seed + ", logs in " + root + " (-Dfault.keep=true keeps them)\n" + result);
  }

  /** One client: puts, linearizable gets and compare-and-sets with unique values until stopped. */
  static void work(int clientId, VetcdClient client, Random random, History history, AtomicInteger values,
      AtomicBoolean stop) {
    Map<String, Long> lastRevision = new HashMap<>();
    Map<String, String> lastValue = new HashMap<>();
    while (!stop.get()) {
      String key = KEYS.get(random.nextInt(KEYS.size()));
      String value = "c" + clientId + "-" + values.incrementAndGet();
      int dice = random.nextInt(100);
      if (dice < 40) {
        History.Call call = history.invoke(clientId, new Get(key));
        try {
          GetOk r = getOk(client.kv().get(key).block());
          call.ok(r);
          lastRevision.put(key, r.modRevision());
          lastValue.put(key, r.value());
        } catch (RuntimeException e) {
          call.failed(); // a read has no effect
        }
      } else if (dice < 65) {
        History.Call call = history.invoke(clientId, new Put(key, value));
        try {
          long rev = client.kv().put(key, value).block().getHeader().getRevision();
          call.ok(new PutOk(rev));
          lastRevision.put(key, rev);
          lastValue.put(key, value);
        } catch (RuntimeException e) {
          call.unknown();
          lastRevision.remove(key);
        }
      } else if (dice < 90) {
        long expected = lastRevision.getOrDefault(key, 0L);
        History.Call call = history.invoke(clientId, new Cas(key, expected, value));
        try {
          TxnResponse r = client.kv().txn().when(Cmp.modRevision(key).eq(expected))
              .then(Op.put(key, value)).otherwise(Op.get(key)).commit().block();
          CasOk out = casOk(r);
          call.ok(out);
          lastRevision.put(key, out.succeeded() ? out.revision() : out.modRevision());
          lastValue.put(key, out.succeeded() ? value : out.value());
        } catch (RuntimeException e) {
          call.unknown();
          lastRevision.remove(key);
        }
      } else {
        String expected = lastValue.get(key);
        if (expected == null) {
          continue;
        }
        History.Call call = history.invoke(clientId, new CasValue(key, expected, value));
        try {
          TxnResponse r = client.kv().txn().when(Cmp.value(key).eq(expected))
              .then(Op.put(key, value)).otherwise(Op.get(key)).commit().block();
          CasOk out = casOk(r);
          call.ok(out);
          lastRevision.put(key, out.succeeded() ? out.revision() : out.modRevision());
          lastValue.put(key, out.succeeded() ? value : out.value());
        } catch (RuntimeException e) {
          call.unknown();
          lastValue.remove(key);
        }
      }
    }
  }

  static GetOk getOk(RangeResponse r) {
    if (r.getKvsCount() == 0) {
      return new GetOk(null, 0);
    }
    KeyValue kv = r.getKvs(0);
    return new GetOk(kv.getValue().toStringUtf8(), kv.getModRevision());
  }

  static CasOk casOk(TxnResponse r) {
    long rev = r.getHeader().getRevision();
    if (r.getSucceeded()) {
      return CasOk.success(rev);
    }
    GetOk read = getOk(r.getResponses(0).getResponseRange());
    return CasOk.failure(rev, read.value(), read.modRevision());
  }

  // ------------------------------------------------------------------ the nemesis

  void nemesis(Random random, Duration length, String initialCluster, List<String> faults) throws Exception {
    long end = System.nanoTime() + length.toNanos();
    Thread.sleep(2000); // some history before the first fault
    while (System.nanoTime() < end) {
      Node leader = leader();
      Node victim = random.nextBoolean() && leader != null ? leader : nodes.get(random.nextInt(nodes.size()));
      List<Node> others = nodes.stream().filter(n -> n != victim).toList();
      int kind = random.nextInt(3);
      long faultMillis = 2000 + random.nextInt(2500);
      switch (kind) {
        case 0 -> {
          faults.add("kill " + victim.name + (victim == leader ? " (leader)" : ""));
          victim.kill9();
          Thread.sleep(faultMillis);
          victim.start(initialCluster);
        }
        case 1 -> {
          faults.add("pause " + victim.name + (victim == leader ? " (leader)" : ""));
          victim.signal("STOP");
          Thread.sleep(faultMillis);
          victim.signal("CONT");
        }
        default -> {
          faults.add("partition " + victim.name + (victim == leader ? " (leader)" : ""));
          victim.cut(others);
          for (Node o : others) {
            o.cut(List.of(victim));
          }
          Thread.sleep(faultMillis);
          for (Node n : nodes) {
            n.cut(List.of());
          }
        }
      }
      // Let the cluster recover before the next fault (a fault on a half-recovered cluster may leave
      // no quorum for long, which tests little more).
      awaitHealthy(30_000);
      Thread.sleep(1000 + random.nextInt(1500));
    }
  }

  /** Undoes every fault: continue paused members, heal partitions, restart killed members. */
  void heal(String initialCluster) throws Exception {
    for (Node n : nodes) {
      if (n.paused) {
        n.signal("CONT");
      }
      n.cut(List.of());
      if (!n.process.isAlive() && n.killedByUs) {
        n.start(initialCluster);
      }
    }
  }

  /** The member every member names as leader, if they all agree; null otherwise. */
  Node leader() {
    long leader = -1;
    for (Node n : nodes) {
      StatusResponse s = n.status();
      if (s == null || s.getLeader() == 0 || (leader != -1 && s.getLeader() != leader)) {
        return null;
      }
      leader = s.getLeader();
    }
    for (Node n : nodes) {
      if (n.id == leader) {
        return n;
      }
    }
    return nodes.get(0).id == 0 ? nodes.get(0) : null; // ids not known yet: any answer will do
  }

  void awaitHealthy(long timeoutMillis) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    while (System.nanoTime() < deadline) {
      if (leader() != null) {
        return;
      }
      for (Node n : nodes) {
        assertTrue(n.process.isAlive() || n.killedByUs,
            n.name + " exited on its own; log in " + root.resolve(n.name + ".log"));
      }
      Thread.sleep(200);
    }
    fail("the cluster did not recover in " + timeoutMillis + " ms; logs in " + root);
  }

  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
