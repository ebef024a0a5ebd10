package io.vetcd.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.vertx.core.json.JsonObject;
import io.vetcd.client.GetOptions;
import io.vetcd.client.InProcessMember;
import io.vetcd.client.VetcdClient;
import io.vetcd.pb.PutRequest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The load generator against an in-process member: counts, percentiles and error accounting, no timings. */
@Timeout(60)
class LoadGeneratorTest {
  static InProcessMember member;
  static VetcdClient client;

  @BeforeAll
  static void start() throws Exception {
    member = new InProcessMember();
    client = VetcdClient.builder().endpoints(member.endpoint()).build();
  }

  @AfterAll
  static void stop() throws Exception {
    if (client != null) client.close();
    if (member != null) member.close();
  }

  static BenchOptions options(String... args) {
    String[] all = new String[args.length + 3];
    System.arraycopy(args, 0, all, 0, args.length);
    all[args.length] = "--endpoints";
    all[args.length + 1] = member.endpoint();
    all[args.length + 2] = "--no-progress";
    return BenchOptions.parse(all);
  }

  long revision() {
    return client.kv().get("any").block().getHeader().getRevision();
  }

  /** Keys of {@code from}'s length in [from, to) (tests share the member; their keys differ in length). */
  long countKeys(String from, String to) {
    return client.kv().get(from, GetOptions.options().rangeEnd(to).keysOnly()).block().getKvsList().stream()
        .filter(kv -> kv.getKey().size() == from.length()).count();
  }

  @Test
  void put_sends_exactly_total_requests_plus_warmup_and_each_makes_one_revision() throws Exception {
    long before = revision();
    RunResult r = Bench.run(options("put", "--total", "120", "--warmup", "7", "--clients", "8", "--conns", "3",
        "--key-size", "6", "--val-size", "32", "--key-space-size", "120", "--sequential-keys"));
    assertEquals(120, r.expected);
    assertEquals(120, r.succeeded);
    assertEquals(0, r.failed);
    assertEquals(Map.of(), r.errorCounts);
    assertEquals(120, r.latency().getTotalCount());
    assertEquals(before + 127, revision());
    // sequential keys 000000..000119, 6 bytes each, values of 32 bytes
    assertEquals(120, countKeys("000000", "000120"));
    assertEquals(32, client.kv().get("000119").block().getKvs(0).getValue().size());
  }

  @Test
  void reports_ordered_percentiles_that_agree_with_the_histogram() throws Exception {
    RunResult r = Bench.run(options("range", "--consistency", "s", "--total", "200", "--clients", "4",
        "--key-space-size", "10"));
    assertEquals(200, r.succeeded);
    JsonObject latency = r.toJson().getJsonObject("latency_ms").getJsonObject("range");
    assertEquals(200L, latency.getLong("count"));
    double[] ordered = {latency.getDouble("min"), latency.getDouble("p50"), latency.getDouble("p90"),
        latency.getDouble("p99"), latency.getDouble("p99_9"), latency.getDouble("max")};
    for (int i = 1; i < ordered.length; i++) {
      assertTrue(ordered[i - 1] <= ordered[i], "percentiles out of order: " + latency);
    }
    assertTrue(ordered[0] > 0, "a request cannot take no time: " + latency);
    String text = r.toText();
    assertTrue(text.contains("Requests/sec:") && text.contains("p99.9:") && text.contains("200 of 200 succeeded"), text);
  }

  @Test
  void percentiles_of_a_known_distribution() {
    var h = LoadGenerator.newLatencyHistogram();
    for (long ms = 1; ms <= 1000; ms++) h.recordValue(ms * 1_000_000);
    RunResult r = new RunResult("synthetic", "requests", 1000, 1000, 0, Map.of(), 2_000_000_000L,
        new java.util.LinkedHashMap<>(Map.of("put", h)));
    JsonObject json = r.toJson();
    assertEquals(500.0, json.getDouble("throughput_per_second"));
    JsonObject latency = json.getJsonObject("latency_ms").getJsonObject("put");
    // HdrHistogram with 3 significant digits: within 0.1 %
    assertEquals(500, latency.getDouble("p50"), 0.5);
    assertEquals(900, latency.getDouble("p90"), 0.9);
    assertEquals(990, latency.getDouble("p99"), 1.0);
    assertEquals(999, latency.getDouble("p99_9"), 1.0);
    assertEquals(1000, latency.getDouble("max"), 1.0);
  }

  @Test
  void counts_failures_by_status_and_message_and_keeps_going() throws Exception {
    BenchOptions o = options("put", "--clients", "5");
    try (Connections c = new Connections(o)) {
      ByteString value = ByteString.copyFromUtf8("v");
      RunResult r = LoadGenerator.run("half-bad", c, 5, 100, 0, false, List.of("put"), (cl, seq) ->
          cl.kv().put(PutRequest.newBuilder().setKey(seq % 2 == 0 ? ByteString.copyFromUtf8("ok/" + seq) : ByteString.EMPTY)
              .setValue(value).build()));
      assertEquals(50, r.succeeded);
      assertEquals(50, r.failed);
      assertEquals(Map.of("INVALID_ARGUMENT: etcdserver: key is not provided", 50L), r.errorCounts);
      assertEquals(50, r.latency().getTotalCount());
      assertEquals(50L, r.toJson().getJsonObject("errors").getLong("INVALID_ARGUMENT: etcdserver: key is not provided"));
    }
    assertEquals(50, client.kv().get("ok/", GetOptions.options().prefix().countOnly()).block().getCount());
  }

  @Test
  void an_operation_that_throws_is_counted_as_a_failure() throws Exception {
    try (Connections c = new Connections(options("put"))) {
      RunResult r = LoadGenerator.run("throws", c, 3, 10, 0, false, List.of("put"), (cl, seq) -> {
        throw new IllegalStateException("boom");
      });
      assertEquals(0, r.succeeded);
      assertEquals(Map.of("IllegalStateException: boom", 10L), r.errorCounts);
    }
  }

  @Test
  void an_operation_that_never_answers_fails_at_the_deadline_and_a_late_answer_is_not_counted() throws Exception {
    // deadline = request timeout + 2 s = 2.1 s; sequences 0 and 1 would answer at 4 s, while the loops
    // (failed at the deadline) are still busy with the others (1.2 s each, two per loop)
    java.util.concurrent.atomic.AtomicInteger cancelled = new java.util.concurrent.atomic.AtomicInteger();
    try (Connections c = new Connections(options("put", "--request-timeout-ms", "100"))) {
      RunResult r = LoadGenerator.run("stuck", c, 2, 6, 0, false, List.of("put"), (cl, seq) -> seq < 2
          ? reactor.core.publisher.Mono.delay(Duration.ofMillis(4_000)).doOnCancel(cancelled::incrementAndGet).then()
          : reactor.core.publisher.Mono.delay(Duration.ofMillis(1_200)).then());
      assertEquals(4, r.succeeded);
      assertEquals(2, r.failed);
      assertEquals(Map.of("no answer within the load generator's deadline", 2L), r.errorCounts);
      assertEquals(4, r.latency().getTotalCount());
      assertEquals(2, cancelled.get(), "the calls given up on are cancelled");
    }
  }

  @Test
  void txn_put_makes_one_revision_per_txn_with_txn_ops_keys() throws Exception {
    long before = revision();
    RunResult r = Bench.run(options("txn-put", "--total", "30", "--clients", "3", "--txn-ops", "3",
        "--key-size", "5", "--key-space-size", "90", "--sequential-keys"));
    assertEquals(30, r.succeeded);
    assertEquals(before + 30, revision());
    assertEquals(90, countKeys("00000", "00090"));
  }

  @Test
  void txn_mixed_splits_reads_and_writes() throws Exception {
    RunResult r = Bench.run(options("txn-mixed", "--total", "100", "--clients", "4", "--rw-ratio", "3",
        "--key-space-size", "5"));
    assertEquals(100, r.succeeded);
    long reads = r.latenciesNanos.get("read").getTotalCount();
    long writes = r.latenciesNanos.get("write").getTotalCount();
    assertEquals(100, reads + writes);
    assertEquals(100, r.latenciesNanos.get("all").getTotalCount());
    long expectedReads = 0;
    for (long seq = 0; seq < 100; seq++) if (Workloads.unitInterval(seq) < 0.75) expectedReads++;
    assertEquals(expectedReads, reads);
  }

  @Test
  void watch_delivers_every_put_to_every_watcher() throws Exception {
    RunResult r = Bench.run(options("watch", "--watchers", "6", "--conns", "2", "--total", "25", "--clients", "3",
        "--val-size", "16"));
    assertEquals("events", r.unit);
    assertEquals(150, r.expected);
    assertEquals(150, r.succeeded);
    assertEquals(0, r.failed, () -> r.errorCounts.toString());
    assertEquals(150, r.latenciesNanos.get("delivery").getTotalCount());
    assertEquals(25, r.latenciesNanos.get("put").getTotalCount());
  }

  @Test
  void watch_latency_counts_deliveries_at_a_steady_rate() throws Exception {
    RunResult r = Bench.run(options("watch-latency", "--watchers", "3", "--total", "10", "--put-rate", "200"));
    assertEquals(30, r.succeeded);
    assertEquals(0, r.failed, () -> r.errorCounts.toString());
  }

  @Test
  void lease_keepalive_renews_granted_leases_and_revokes_them_afterwards() throws Exception {
    int leasesBefore = client.lease().leases().block().getLeasesCount();
    RunResult r = Bench.run(options("lease-keepalive", "--leases", "4", "--clients", "2", "--total", "12"));
    assertEquals(12, r.succeeded);
    assertEquals(0, r.failed, () -> r.errorCounts.toString());
    assertEquals(leasesBefore, client.lease().leases().block().getLeasesCount());
  }

  @Test
  void target_leader_picks_the_single_member() throws Exception {
    BenchOptions o = options("put", "--target-leader");
    try (Connections c = new Connections(o)) {
      assertEquals(List.of(member.endpoint()), c.endpoints);
    }
  }

  @Test
  void an_unreachable_endpoint_fails_the_run_before_measuring() throws Exception {
    BenchOptions o = BenchOptions.parse("put", "--endpoints", "http://127.0.0.1:" + InProcessMember.freePort(),
        "--request-timeout-ms", "2000", "--no-progress");
    assertThrows(RuntimeException.class, () -> Bench.run(o));
  }

  @Test
  void parses_etcd_benchmark_flags() {
    BenchOptions o = BenchOptions.parse("range", "--endpoints=a:1,b:2", "--conns", "10", "--clients=100", "--total", "5",
        "--key-size", "8", "--val-size", "256", "--key-space-size", "1000", "--sequential-keys", "--consistency", "s",
        "--target-leader", "--json");
    assertEquals(List.of("a:1", "b:2"), o.endpoints);
    assertEquals(10, o.connections);
    assertEquals(100, o.clients);
    assertEquals(256, o.valueSizeBytes);
    assertTrue(o.sequentialKeys && o.targetLeader && o.json);
    assertEquals("s", o.consistency);
    assertEquals(Duration.ofSeconds(10), o.requestTimeout);
    var e = assertThrows(IllegalArgumentException.class, () -> BenchOptions.parse("put", "--bogus", "1"));
    assertEquals("flag provided but not defined: --bogus", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> BenchOptions.parse("get"));
    assertThrows(IllegalArgumentException.class, () -> BenchOptions.parse("range", "--consistency", "x"));
  }

  @Test
  void keys_have_the_requested_size_and_are_distinct_within_the_key_space() {
    KeySource keys = new KeySource("p/", 4, 10_000, true);
    assertEquals(ByteString.copyFromUtf8("p/0042"), keys.key(42));
    assertEquals(ByteString.copyFromUtf8("p/9999"), keys.keyFor(19_999));
    assertEquals(256, KeySource.value(256).size());
  }
}
