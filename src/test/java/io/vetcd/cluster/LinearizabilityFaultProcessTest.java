package io.vetcd.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.vertx.core.Vertx;
import io.vertx.grpc.common.GrpcStatus;
import io.vetcd.client.Cmp;
import io.vetcd.client.GetOptions;
import io.vetcd.client.Op;
import io.vetcd.client.VetcdClient;
import io.vetcd.client.VetcdException;
import io.vetcd.client.WatchOptions;
import io.vetcd.linearizability.History;
import io.vetcd.linearizability.History.Cas;
import io.vetcd.linearizability.History.CasOk;
import io.vetcd.linearizability.History.CasValue;
import io.vetcd.linearizability.History.Delete;
import io.vetcd.linearizability.History.DeleteOk;
import io.vetcd.linearizability.History.Get;
import io.vetcd.linearizability.History.GetOk;
import io.vetcd.linearizability.History.Put;
import io.vetcd.linearizability.History.PutOk;
import io.vetcd.linearizability.LinearizabilityChecker;
import io.vetcd.linearizability.WatchGuarantees;
import io.vetcd.pb.DeleteRangeResponse;
import io.vetcd.pb.Event;
import io.vetcd.pb.KeyValue;
import io.vetcd.pb.RangeResponse;
import io.vetcd.pb.StatusResponse;
import io.vetcd.pb.TxnResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;

/**
 * Jepsen-style fault test on a real cluster: three vetcd members as separate JVMs on loopback,
 * several clients doing puts, deletes, linearizable reads and compare-and-set txns (on mod_revision
 * and on value) over a few keys, a client granting leases, putting keys under them and revoking them,
 * and several watchers on the key prefix, while a nemesis {@code kill -9}s and restarts members, pauses
 * the leader (SIGSTOP, then SIGCONT) and partitions a member from the others (through the peer
 * transport's test-only cut file, {@code -Dvetcd.test.peerCutFile}). Every operation is recorded with
 * its call and return times; writes that fail are left open (they may or may not have happened).
 * Afterwards the faults heal, every lease is revoked, every member is read, and:
 * <ul>
 *   <li>the whole history, final reads included, is linearizable (per key, with revisions), and
 *       revisions order the writes across keys;
 *   <li>every member answers the same value and mod_revision for every key, and no acknowledged write
 *       is newer than what the members hold (none was lost);
 *   <li>leases: a revoked lease's keys disappear in one revision, a put under a revoked lease fails
 *       with {@code etcdserver: requested lease not found}, and no member keeps a key of a revoked lease;
 *   <li>watches: every member replays the same history of the prefix (a watch from revision 1), which
 *       holds every acknowledged write and every value read; and each watcher of the run (raw streams
 *       bound to one member, resuming after kills, restarts and on purpose, asking for progress; and the
 *       Java client's failover watch) got what etcd's watch guarantees promise: ordered, unique,
 *       reliable, atomic, resumable, bookmarkable ({@link WatchGuarantees});
 *   <li>no member died on its own.
 * </ul>
 * {@code -Dfault.seed=N} replays the nemesis' and the clients' choices (the timing of a real cluster is
 * not replayable); {@code -Dfault.seconds=S} sets the length of the faulty phase (default 35).
 */
class LinearizabilityFaultProcessTest {
  static final int CLIENTS = 6;
  static final String PREFIX = "lin/";
  static final List<String> KEYS = List.of("lin/a", "lin/b", "lin/c");
  static final String LEASE_PREFIX = "lin/lease/";
  static final long LEASE_TTL_SECONDS = 600; // no lease expires during the run: only revokes remove keys
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(3);
  /** A client call that takes longer is left open (the client's own timeouts should end it long before). */
  static final Duration OP_TIMEOUT = Duration.ofSeconds(60);

  final List<Node> nodes = new ArrayList<>();
  Path root;
  static final long T0 = System.nanoTime();
  /** What each client thread is waiting for, and since when (printed if it does not stop). */
  static final Map<String, String> CALLS = new java.util.concurrent.ConcurrentHashMap<>();
  Vertx watchVertx;
  VetcdClient watchClient;

  /** A member process the nemesis can pause and cut off, with a client bound to it alone. */
  final class Node extends MemberProcess {
    final Path cutFile;
    long id;
    boolean paused;
    boolean killedByUs;
    VetcdClient client; // this member only, no retries

    Node(String name) {
      super(name, root, "-Dvetcd.test.peerCutFile=" + root.resolve(name + ".cut"));
      this.cutFile = root.resolve(name + ".cut");
    }

    void start(String initialCluster) throws IOException {
      startInCluster("lin-fault", initialCluster);
      killedByUs = false;
      if (client == null) {
        client = VetcdClient.builder().endpoints(endpoint()).requestTimeout(Duration.ofSeconds(2)).maxRetries(0)
            .build();
      }
    }

    @Override
    void kill9() throws InterruptedException {
      killedByUs = true;
      super.kill9();
      paused = false;
    }

    void signal(String sig) throws IOException, InterruptedException {
      new ProcessBuilder("kill", "-" + sig, Long.toString(pid())).inheritIO().start().waitFor();
      paused = sig.equals("STOP");
    }

    /** Cuts peer traffic with these members (empty: heals). */
    void cut(List<Node> others) throws IOException {
      Path tmp = root.resolve(name + ".cut.tmp");
      Files.writeString(tmp, others.stream().map(n -> Long.toHexString(n.id)).collect(Collectors.joining(",")));
      Files.move(tmp, cutFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    StatusResponse status() {
      if (paused || !isAlive()) {
        return null;
      }
      try {
        return client.maintenance().status().block(Duration.ofSeconds(3));
      } catch (RuntimeException e) {
        return null;
      }
    }
  }

  /** A watcher through the project's Java client: fails over between members, resumes by itself. */
  record ClientWatcher(String name, long startRevision, List<Event> events, AtomicReference<Throwable> error,
      Disposable subscription) {
    WatchGuarantees.Stream stream() {
      return WatchGuarantees.Stream.ofEvents(name, startRevision, List.copyOf(events));
    }

    long lastRevision() {
      return events.isEmpty() ? startRevision - 1 : events.get(events.size() - 1).getKv().getModRevision();
    }
  }

  /** A put under a lease that was acknowledged. */
  record LeasePut(String key, String value, long revision) {}

  /** One lease's life in the lease client: granted, keys put under it, revoked. */
  static final class LeaseRun {
    final long id;
    final String keyPrefix;
    final List<LeasePut> puts = new CopyOnWriteArrayList<>();
    volatile long revokeRevision; // the header revision of an acknowledged revoke; 0: not known to be revoked
    volatile boolean revokeUnknown;

    LeaseRun(long id, String keyPrefix) {
      this.id = id;
      this.keyPrefix = keyPrefix;
    }

    @Override
    public String toString() {
      return "lease " + Long.toHexString(id) + " (" + keyPrefix + ", puts " + puts + ", revoked at "
          + (revokeRevision > 0 ? revokeRevision : revokeUnknown ? "unknown" : "end") + ")";
    }
  }

  @AfterEach
  void tearDown() throws Exception {
    for (Node n : nodes) {
      if (n.isAlive()) {
        if (n.paused) {
          n.signal("CONT");
        }
        n.kill9();
      }
      if (n.client != null) {
        n.client.close();
      }
    }
    if (watchClient != null) {
      watchClient.close();
    }
    if (watchVertx != null) {
      watchVertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    if (root != null && !Boolean.getBoolean("fault.keep")) {
      try (var files = Files.walk(root)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  @Test
  void histories_stay_linearizable_no_acknowledged_write_is_lost_and_watches_keep_their_guarantees_under_faults()
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
    System.out.println("LinearizabilityFaultProcessTest: members " + nodes.stream()
        .map(n -> n.name + " " + n.endpoint()).collect(Collectors.joining(", ")) + ", healthy at " + elapsed());
    Random watchRandom = new Random(seed * 17 + 5);
    watchVertx = Vertx.vertx();

    // Watchers from the start: one raw stream bound to each member (from now), and the Java client's
    // failover watch over all members (from the next revision).
    List<RawWatcher> rawWatchers = new ArrayList<>();
    for (Node n : nodes) {
      rawWatchers.add(new RawWatcher(watchVertx, "raw watcher on " + n.name, n.name, n.clientPort, PREFIX, 0,
          watchRandom.nextLong(), 600, 6000).start());
    }
    watchClient = VetcdClient.builder().endpoints(nodes.stream().map(Node::endpoint).toList())
        .requestTimeout(REQUEST_TIMEOUT).build();
    List<ClientWatcher> clientWatchers = new ArrayList<>();
    clientWatchers.add(clientWatcher(watchClient, "client watcher",
        nodes.get(0).client.kv().get(PREFIX).block(Duration.ofSeconds(5)).getHeader().getRevision() + 1));

    History history = new History();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger values = new AtomicInteger();
    List<Thread> workers = new ArrayList<>();
    List<VetcdClient> clients = new ArrayList<>();
    for (int c = 0; c < CLIENTS; c++) {
      VetcdClient client = clientFrom(c);
      clients.add(client);
      int clientId = c;
      Random random = new Random(seed * 31 + c);
      Thread t = new Thread(() -> work(clientId, client, random, history, values, stop), "lin-client-" + c);
      t.setDaemon(true);
      workers.add(t);
    }
    List<LeaseRun> leases = new CopyOnWriteArrayList<>();
    List<String> leaseViolations = new CopyOnWriteArrayList<>();
    VetcdClient leaseClient = clientFrom(CLIENTS);
    clients.add(leaseClient);
    Random leaseRandom = new Random(seed * 31 + CLIENTS);
    Thread leaseWorker = new Thread(() -> leaseWork(leaseClient, leaseRandom, values, leases, leaseViolations, stop),
        "lin-lease-client");
    leaseWorker.setDaemon(true);
    workers.add(leaseWorker);
    workers.forEach(Thread::start);

    // Watchers that start late, from revision 1 (caught up from history while writes go on).
    Node lateMember = nodes.get(watchRandom.nextInt(nodes.size()));
    Runnable lateWatchers = () -> {
      rawWatchers.add(new RawWatcher(watchVertx, "late raw watcher on " + lateMember.name, lateMember.name,
          lateMember.clientPort, PREFIX, 1, watchRandom.nextLong(), 150, 8000).start());
      clientWatchers.add(clientWatcher(watchClient, "late client watcher", 1));
    };

    List<String> faults = new ArrayList<>();
    try {
      nemesis(new Random(seed), Duration.ofSeconds(seconds), initialCluster, faults, lateWatchers);
    } finally {
      heal(initialCluster);
    }
    stop.set(true);
    for (Thread t : workers) {
      t.join(REQUEST_TIMEOUT.toMillis() * 8);
      if (t.isAlive()) {
        System.out.println("LinearizabilityFaultProcessTest: " + t.getName() + " does not stop at " + elapsed()
            + ", in " + CALLS.get(t.getName()) + ": "
            + java.util.Arrays.stream(t.getStackTrace()).map(String::valueOf).collect(Collectors.joining("\n  ")));
        // Its operations must all be recorded before the final reads: every call ends within OP_TIMEOUT.
        t.join(OP_TIMEOUT.toMillis() + 5000);
        assertTrue(!t.isAlive(), t.getName() + " still runs after " + elapsed());
      }
    }
    clients.forEach(VetcdClient::close);

    // Final reads: every member, every key (recorded, so the checker sees them too).
    awaitHealthy(60_000);
    revokeEveryLease(leases);
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
      RangeResponse leaseKeys = retry(() -> n.client.kv().get(LEASE_PREFIX, GetOptions.options().prefix())
          .block(Duration.ofSeconds(5)));
      if (leaseKeys.getCount() > 0) {
        leaseViolations.add(n.name + " still has keys of revoked leases: " + leaseKeys.getKvsList().stream()
            .map(kv -> kv.getKey().toStringUtf8()).toList());
      }
    }

    // The history of the prefix, as every member replays it from revision 1; the watchers catch up to it.
    long lastRevision = retry(() -> nodes.get(0).client.kv().get(PREFIX).block(Duration.ofSeconds(5)))
        .getHeader().getRevision();
    Map<String, List<Event>> histories = new LinkedHashMap<>();
    for (Node n : nodes) {
      histories.put(n.name, fullHistory(n, lastRevision));
    }
    awaitWatchers(rawWatchers, clientWatchers, lastRevision);
    List<WatchGuarantees.Stream> streams = new ArrayList<>();
    for (RawWatcher w : rawWatchers) {
      w.stop();
      streams.add(w.stream());
    }
    for (ClientWatcher w : clientWatchers) {
      w.subscription().dispose();
      streams.add(w.stream());
    }

    List<History.Op> ops = history.operations();
    long acknowledged = ops.stream().filter(o -> !o.open() && !(o.input() instanceof Get)).count();
    long open = ops.stream().filter(History.Op::open).count();
    long revoked = leases.stream().filter(l -> l.revokeRevision > 0).count();
    System.out.printf("LinearizabilityFaultProcessTest: %d operations (%d acknowledged writes, %d open), "
        + "%d leases (%d revokes acknowledged), history of %d events to revision %d; faults: %s%n",
        ops.size(), acknowledged, open, leases.size(), revoked, histories.get(nodes.get(0).name).size(), lastRevision,
        faults);
    for (int i = 0; i < streams.size(); i++) {
      WatchGuarantees.Stream s = streams.get(i);
      System.out.printf("  %s: %d sessions, %d events, %d progress notifications%s%n", s.name(), s.sessions().size(),
          s.events().size(), WatchGuarantees.bookmarks(s),
          i < rawWatchers.size() && rawWatchers.get(i).fatal() != null ? ", gave up: " + rawWatchers.get(i).fatal()
              : "");
    }
    assertTrue(acknowledged > 50, "too few acknowledged writes to mean anything: " + acknowledged);
    assertTrue(revoked > 2, "too few acknowledged lease revokes to mean anything: " + leases);

    for (Node n : nodes) {
      assertTrue(n.isAlive(), n.name + " died on its own; log in " + n.log);
    }
    checkMembersAgreeAndNoAcknowledgedWriteIsLost(finalReads, ops);
    LinearizabilityChecker.Result result = LinearizabilityChecker.check(ops);
    System.out.print(result);
    assertEquals(LinearizabilityChecker.Verdict.OK, result.verdict(),
        () -> "seed " + seed + ", logs in " + root + " (-Dfault.keep=true keeps them)\n" + result);

    List<Event> reference = histories.get(nodes.get(0).name);
    List<String> violations = new ArrayList<>();
    violations.addAll(checkHistories(histories, lastRevision, ops, finalReads));
    violations.addAll(leaseViolations);
    violations.addAll(checkLeases(leases, reference));
    for (RawWatcher w : rawWatchers) {
      if (w.fatal() != null) {
        violations.add(w.name + " gave up: " + w.fatal());
      }
    }
    for (ClientWatcher w : clientWatchers) {
      if (w.error().get() != null) {
        violations.add(w.name() + " failed: " + w.error().get());
      }
    }
    for (WatchGuarantees.Stream s : streams) {
      WatchGuarantees.checkAll(s, reference, lastRevision)
          .forEach((guarantee, violation) -> violations.add("watch not " + guarantee + ": " + violation));
    }
    assertTrue(violations.isEmpty(), () -> "seed " + seed + ", logs in " + root + " (-Dfault.keep=true keeps them)\n"
        + String.join("\n", violations));
  }

  VetcdClient clientFrom(int c) {
    List<String> endpoints = new ArrayList<>();
    for (int i = 0; i < nodes.size(); i++) {
      endpoints.add(nodes.get((c + i) % nodes.size()).endpoint());
    }
    return VetcdClient.builder().endpoints(endpoints).requestTimeout(REQUEST_TIMEOUT).maxRetries(6).build();
  }

  static ClientWatcher clientWatcher(VetcdClient client, String name, long startRevision) {
    List<Event> events = Collections.synchronizedList(new ArrayList<>());
    AtomicReference<Throwable> error = new AtomicReference<>();
    Disposable d = client.watch().watch(PREFIX, WatchOptions.options().prefix().startRevision(startRevision))
        .subscribe(events::add, error::set);
    return new ClientWatcher(name, startRevision, events, error, d);
  }

  // ------------------------------------------------------------------ the clients

  /** One client: puts, deletes, linearizable gets and compare-and-sets with unique values until stopped. */
  static void work(int clientId, VetcdClient client, Random random, History history, AtomicInteger values,
      AtomicBoolean stop) {
    Map<String, Long> lastRevision = new HashMap<>();
    Map<String, String> lastValue = new HashMap<>();
    while (!stop.get()) {
      String key = KEYS.get(random.nextInt(KEYS.size()));
      String value = "c" + clientId + "-" + values.incrementAndGet();
      int dice = random.nextInt(100);
      calling(dice + " " + key, client);
      if (dice < 38) {
        History.Call call = history.invoke(clientId, new Get(key));
        try {
          GetOk r = getOk(client.kv().get(key).block(OP_TIMEOUT));
          call.ok(r);
          lastRevision.put(key, r.modRevision());
          lastValue.put(key, r.value());
        } catch (RuntimeException e) {
          call.failed(); // a read has no effect
        }
      } else if (dice < 60) {
        History.Call call = history.invoke(clientId, new Put(key, value));
        try {
          long rev = client.kv().put(key, value).block(OP_TIMEOUT).getHeader().getRevision();
          call.ok(new PutOk(rev));
          lastRevision.put(key, rev);
          lastValue.put(key, value);
        } catch (RuntimeException e) {
          call.unknown();
          lastRevision.remove(key);
        }
      } else if (dice < 68) {
        History.Call call = history.invoke(clientId, new Delete(key));
        try {
          DeleteRangeResponse r = client.kv().delete(key).block(OP_TIMEOUT);
          call.ok(new DeleteOk(r.getDeleted(), r.getHeader().getRevision()));
          lastRevision.put(key, 0L);
          lastValue.remove(key);
        } catch (RuntimeException e) {
          call.unknown();
          lastRevision.remove(key);
          lastValue.remove(key);
        }
      } else if (dice < 90) {
        long expected = lastRevision.getOrDefault(key, 0L);
        History.Call call = history.invoke(clientId, new Cas(key, expected, value));
        try {
          TxnResponse r = client.kv().txn().when(Cmp.modRevision(key).eq(expected))
              .then(Op.put(key, value)).otherwise(Op.get(key)).commit().block(OP_TIMEOUT);
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
              .then(Op.put(key, value)).otherwise(Op.get(key)).commit().block(OP_TIMEOUT);
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

  /**
   * The lease client: grants a lease, puts one to three keys under it, revokes it. After an
   * acknowledged revoke its keys must be gone (a linearizable read) and a put under it must fail with
   * {@code etcdserver: requested lease not found}.
   */
  static void leaseWork(VetcdClient client, Random random, AtomicInteger values, List<LeaseRun> leases,
      List<String> violations, AtomicBoolean stop) {
    int n = 0;
    while (!stop.get()) {
      long id;
      calling("lease grant", client);
      try {
        id = client.lease().grant(LEASE_TTL_SECONDS).block(OP_TIMEOUT).getID();
      } catch (RuntimeException e) {
        sleep(100); // if it was granted, nothing uses it: it has no keys
        continue;
      }
      LeaseRun run = new LeaseRun(id, LEASE_PREFIX + (n++) + "/");
      leases.add(run);
      int keys = 1 + random.nextInt(3);
      for (int i = 0; i < keys; i++) {
        String key = run.keyPrefix + i;
        String value = "l-" + values.incrementAndGet();
        calling("lease put " + key, client);
        try {
          long rev = client.kv().put(key, value, id).block(OP_TIMEOUT).getHeader().getRevision();
          run.puts.add(new LeasePut(key, value, rev));
        } catch (RuntimeException e) {
          // may or may not have happened: the history of the prefix says
        }
      }
      sleep(random.nextInt(300));
      calling("lease revoke", client);
      try {
        run.revokeRevision = client.lease().revoke(id).block(OP_TIMEOUT).getHeader().getRevision();
      } catch (RuntimeException e) {
        run.revokeUnknown = true;
        continue;
      }
      try {
        RangeResponse left = client.kv().get(run.keyPrefix, GetOptions.options().prefix()).block(OP_TIMEOUT);
        if (left.getCount() > 0) {
          violations.add("after the acknowledged revoke of " + run + " a read still finds " + left.getKvsList());
        }
      } catch (RuntimeException e) {
        // a read that failed tells nothing
      }
      try {
        long rev = client.kv().put(run.keyPrefix + "late", "late", id).block(OP_TIMEOUT).getHeader().getRevision();
        violations.add("a put under revoked " + run + " succeeded at revision " + rev);
      } catch (RuntimeException failed) {
        if (failed instanceof VetcdException e && !e.mayHaveBeenApplied() && !isEndpointProblem(e)
            && !(e.status() == GrpcStatus.NOT_FOUND && "etcdserver: requested lease not found".equals(e.etcdMessage()))) {
          violations.add("a put under revoked " + run + " failed with " + e.status() + " '" + e.etcdMessage()
              + "', not NOT_FOUND 'etcdserver: requested lease not found'");
        }
      }
    }
  }

  private static boolean isEndpointProblem(VetcdException e) {
    return e.status() == GrpcStatus.UNAVAILABLE || e.status() == GrpcStatus.DEADLINE_EXCEEDED;
  }

  /** At the end: every lease not known to be revoked is revoked (or found gone). */
  void revokeEveryLease(List<LeaseRun> leases) throws InterruptedException {
    try (VetcdClient client = clientFrom(0)) {
      for (LeaseRun run : leases) {
        if (run.revokeRevision > 0) {
          continue;
        }
        for (int attempt = 0; ; attempt++) {
          try {
            client.lease().revoke(run.id).block(OP_TIMEOUT);
            break;
          } catch (RuntimeException e) {
            if (e instanceof VetcdException v && v.status() == GrpcStatus.NOT_FOUND) {
              break; // the revoke of the run went through
            }
            assertTrue(attempt < 20, "cannot revoke " + run + ": " + e);
            Thread.sleep(250);
          }
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

  /** Seconds since the test class loaded, for the fault timeline. */
  static String elapsed() {
    return String.format("%.1f s", (System.nanoTime() - T0) / 1e9);
  }

  static void calling(String what, VetcdClient client) {
    CALLS.put(Thread.currentThread().getName(), what + " on " + client.currentEndpoint() + " since " + elapsed());
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static <T> T retry(java.util.function.Supplier<T> call) throws InterruptedException {
    for (int attempt = 0; ; attempt++) {
      try {
        return call.get();
      } catch (RuntimeException e) {
        if (attempt >= 20) {
          throw e;
        }
        Thread.sleep(250);
      }
    }
  }

  // ------------------------------------------------------------------ watches

  /** Every event of the prefix from revision 1 to {@code lastRevision}, as a watch on member {@code n} replays it. */
  List<Event> fullHistory(Node n, long lastRevision) throws InterruptedException {
    RawWatcher w = new RawWatcher(watchVertx, "full history on " + n.name, n.name, n.clientPort, PREFIX, 1, 0, 0, 0)
        .start();
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (w.seen() < lastRevision && w.fatal() == null && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertTrue(w.seen() >= lastRevision, "a watch from revision 1 on " + n.name + " got only to revision "
          + w.seen() + " of " + lastRevision + (w.fatal() != null ? ": " + w.fatal() : ""));
      return WatchGuarantees.slice(w.stream().events(), 1, lastRevision);
    } finally {
      w.stop();
    }
  }

  /** Waits (a while) for every watcher to deliver up to {@code lastRevision}; the checks report who did not. */
  static void awaitWatchers(List<RawWatcher> raw, List<ClientWatcher> client, long lastRevision)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      boolean behind = raw.stream().anyMatch(w -> w.seen() < lastRevision && w.fatal() == null)
          || client.stream().anyMatch(w -> w.lastRevision() < lastRevision && w.error().get() == null);
      if (!behind) {
        return;
      }
      Thread.sleep(100);
    }
  }

  /**
   * The histories every member replays are the same, have an event in every revision (every write of
   * the run is under the prefix), hold every acknowledged write and every value read, and end where
   * the members' final reads are.
   */
  static List<String> checkHistories(Map<String, List<Event>> histories, long lastRevision, List<History.Op> ops,
      Map<String, Map<String, GetOk>> finalReads) {
    List<String> violations = new ArrayList<>();
    Map.Entry<String, List<Event>> first = histories.entrySet().iterator().next();
    for (Map.Entry<String, List<Event>> e : histories.entrySet()) {
      String v = WatchGuarantees.checkSameHistory(first.getKey(), first.getValue(), e.getKey(), e.getValue());
      if (v != null) {
        violations.add("members' histories differ: " + v);
      }
    }
    String gap = WatchGuarantees.checkHistoryIsContiguous(first.getValue(), lastRevision);
    if (gap != null) {
      violations.add("history of " + first.getKey() + ": " + gap);
    }
    String lost = WatchGuarantees.checkAcknowledgedWritesInHistory(ops, first.getValue());
    if (lost != null) {
      violations.add("history of " + first.getKey() + ": " + lost);
    }
    for (String key : KEYS) {
      GetOk last = new GetOk(null, 0);
      for (Event e : first.getValue()) {
        if (e.getKv().getKey().toStringUtf8().equals(key)) {
          last = e.getType() == Event.EventType.PUT ? new GetOk(e.getKv().getValue().toStringUtf8(),
              e.getKv().getModRevision()) : new GetOk(null, 0);
        }
      }
      GetOk agreed = finalReads.get(key).values().iterator().next();
      if (!agreed.equals(last)) {
        violations.add("the members hold " + key + " = " + agreed + " but the history ends with " + last);
      }
    }
    return violations;
  }

  /**
   * In the history: every acknowledged put under a lease is there with its lease; the keys of a lease
   * are all deleted in one revision (its revoke: the one the revoke answered, when it was
   * acknowledged), and nothing is put under a lease after its revoke.
   */
  static List<String> checkLeases(List<LeaseRun> leases, List<Event> history) {
    List<String> violations = new ArrayList<>();
    Map<String, Event> byRevisionAndKey = new HashMap<>();
    for (Event e : history) {
      byRevisionAndKey.put(e.getKv().getModRevision() + " " + e.getKv().getKey().toStringUtf8(), e);
    }
    for (LeaseRun run : leases) {
      for (LeasePut p : run.puts) {
        Event e = byRevisionAndKey.get(p.revision() + " " + p.key());
        if (e == null || e.getType() != Event.EventType.PUT || !e.getKv().getValue().toStringUtf8().equals(p.value())
            || e.getKv().getLease() != run.id) {
          violations.add("acknowledged put " + p + " under " + run + " is in the history as "
              + (e == null ? "nothing" : WatchGuarantees.show(e)));
        }
      }
      List<Event> puts = new ArrayList<>();
      List<Event> deletes = new ArrayList<>();
      for (Event e : history) {
        if (e.getKv().getKey().toStringUtf8().startsWith(run.keyPrefix)) {
          (e.getType() == Event.EventType.PUT ? puts : deletes).add(e);
        }
      }
      for (Event e : puts) {
        if (e.getKv().getLease() != run.id) {
          violations.add(run + ": a key is put without the lease: " + WatchGuarantees.show(e));
        }
      }
      if (puts.isEmpty()) {
        continue;
      }
      long revoked = deletes.isEmpty() ? 0 : deletes.get(0).getKv().getModRevision();
      Map<String, Boolean> live = new HashMap<>();
      puts.forEach(e -> live.put(e.getKv().getKey().toStringUtf8(), true));
      for (Event d : deletes) {
        if (d.getKv().getModRevision() != revoked) {
          violations.add(run + ": its keys are deleted in more than one revision: " + deletes.stream()
              .map(WatchGuarantees::show).toList());
          break;
        }
        live.remove(d.getKv().getKey().toStringUtf8());
      }
      if (!live.isEmpty()) {
        violations.add(run + ": keys survive the revoke: " + live.keySet());
      }
      long last = run.revokeRevision > 0 ? run.revokeRevision : revoked;
      for (Event e : puts) {
        if (e.getKv().getModRevision() > last) {
          violations.add(run + ": " + WatchGuarantees.show(e) + " comes after the revoke at revision " + last);
        }
      }
      if (run.revokeRevision > 0 && revoked != run.revokeRevision) {
        violations.add(run + ": the revoke answered revision " + run.revokeRevision + " but its keys were deleted at "
            + revoked);
      }
    }
    return violations;
  }

  static void checkMembersAgreeAndNoAcknowledgedWriteIsLost(Map<String, Map<String, GetOk>> finalReads,
      List<History.Op> ops) {
    for (String key : KEYS) {
      Map<String, GetOk> byMember = finalReads.get(key);
      assertEquals(1, byMember.values().stream().distinct().count(), "members disagree on " + key + ": " + byMember);
      GetOk agreed = byMember.values().iterator().next();
      for (History.Op op : ops) {
        long rev = op.output() instanceof PutOk p ? p.revision()
            : op.output() instanceof CasOk c && c.succeeded() ? c.revision()
            : op.output() instanceof DeleteOk d && d.deleted() > 0 ? d.revision() : -1;
        // (a key that is missing at the end was deleted after its last write: the history checks that delete)
        if (op.input().key().equals(key) && agreed.value() != null && rev > agreed.modRevision()) {
          fail("acknowledged write lost: " + op + " is newer than what every member holds: " + agreed);
        }
      }
    }
  }

  // ------------------------------------------------------------------ the nemesis

  /** Faults one after the other for {@code length}; {@code midway} runs once, a third of the way through. */
  void nemesis(Random random, Duration length, String initialCluster, List<String> faults, Runnable midway)
      throws Exception {
    long start = System.nanoTime();
    long end = start + length.toNanos();
    boolean midwayDone = false;
    Thread.sleep(2000); // some history before the first fault
    while (System.nanoTime() < end) {
      if (!midwayDone && System.nanoTime() > start + length.toNanos() / 3) {
        midwayDone = true;
        midway.run();
      }
      Node leader = leader();
      Node victim = random.nextBoolean() && leader != null ? leader : nodes.get(random.nextInt(nodes.size()));
      List<Node> others = nodes.stream().filter(n -> n != victim).toList();
      int kind = random.nextInt(3);
      long faultMillis = 2000 + random.nextInt(2500);
      switch (kind) {
        case 0 -> {
          faults.add("kill " + victim.name + (victim == leader ? " (leader)" : "") + " at " + elapsed());
          victim.kill9();
          Thread.sleep(faultMillis);
          victim.start(initialCluster);
        }
        case 1 -> {
          faults.add("pause " + victim.name + (victim == leader ? " (leader)" : "") + " at " + elapsed());
          victim.signal("STOP");
          Thread.sleep(faultMillis);
          victim.signal("CONT");
        }
        default -> {
          faults.add("partition " + victim.name + (victim == leader ? " (leader)" : "") + " at " + elapsed());
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
    if (!midwayDone) {
      midway.run();
    }
  }

  /** Undoes every fault: continue paused members, heal partitions, restart killed members. */
  void heal(String initialCluster) throws Exception {
    for (Node n : nodes) {
      if (n.paused) {
        n.signal("CONT");
      }
      n.cut(List.of());
      if (!n.isAlive() && n.killedByUs) {
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
        assertTrue(n.isAlive() || n.killedByUs, n.name + " exited on its own; log in " + n.log);
      }
      Thread.sleep(200);
    }
    fail("the cluster did not recover in " + timeoutMillis + " ms; logs in " + root);
  }
}
