package io.vetcd.http;

import static io.vetcd.http.GatewayMember.b64;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code /metrics} scraped and parsed as Prometheus text: etcd's names, present and moving. */
@Timeout(120)
class MetricsTest {
  private static final Pattern SAMPLE =
      Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[^}]*\\})? ([-+]?[0-9.eE+-]+|NaN|[+-]Inf)");

  /** Parses the exposition format strictly: every sample line belongs to a family declared by HELP and TYPE. */
  private static Map<String, Double> scrape(GatewayMember member) throws Exception {
    HttpResponse<String> response = member.get("/metrics");
    assertEquals(200, response.statusCode());
    assertTrue(response.headers().firstValue("content-type").orElse("").startsWith("text/plain; version=0.0.4"));
    Map<String, Double> samples = new HashMap<>();
    Set<String> typed = new HashSet<>();
    String previousFamily = "";
    for (String line : response.body().split("\n")) {
      if (line.startsWith("# HELP ")) {
        String family = line.split(" ")[2];
        assertTrue(family.compareTo(previousFamily) > 0, "families sorted by name: " + family);
        previousFamily = family;
      } else if (line.startsWith("# TYPE ")) {
        String[] parts = line.split(" ");
        assertTrue(List.of("gauge", "counter", "histogram").contains(parts[3]), line);
        typed.add(parts[2]);
        if (parts[3].equals("histogram")) {
          typed.addAll(List.of(parts[2] + "_bucket", parts[2] + "_sum", parts[2] + "_count"));
        }
      } else {
        Matcher m = SAMPLE.matcher(line);
        assertTrue(m.matches(), "not a sample line: " + line);
        assertTrue(typed.contains(m.group(1)), "sample without TYPE: " + line);
        samples.put(m.group(1) + (m.group(2) == null ? "" : m.group(2)), Double.parseDouble(m.group(3)));
      }
    }
    return samples;
  }

  /** Scrapes until {@code done} holds (for up to 10 s; the caller's assertions then tell what is off). */
  private static Map<String, Double> scrapeUntil(GatewayMember member,
      java.util.function.Predicate<Map<String, Double>> done) throws Exception {
    Map<String, Double> samples = scrape(member);
    for (int i = 0; i < 200 && !done.test(samples); i++) {
      Thread.sleep(50);
      samples = scrape(member);
    }
    return samples;
  }

  /** A fresh member elects itself just after it starts listening: waits for that, as a scraper would. */
  private static Map<String, Double> scrapeOnceLed(GatewayMember member) throws Exception {
    return scrapeUntil(member, m -> Double.valueOf(1.0).equals(m.get("etcd_server_has_leader")));
  }

  @Test
  void etcd_metrics_are_present_and_move() throws Exception {
    try (GatewayMember member = new GatewayMember()) {
      Map<String, Double> before = scrapeOnceLed(member);
      for (String name : List.of("etcd_server_has_leader", "etcd_server_is_leader", "etcd_server_is_learner",
          "etcd_mvcc_db_total_size_in_bytes", "etcd_mvcc_db_total_size_in_use_in_bytes",
          "etcd_debugging_mvcc_db_total_size_in_bytes", "etcd_debugging_mvcc_current_revision",
          "etcd_server_proposals_committed_total", "etcd_server_proposals_applied_total",
          "etcd_server_quota_backend_bytes", "etcd_server_health_success", "etcd_server_health_failures",
          "process_start_time_seconds")) {
        assertNotNull(before.get(name), name + " missing from " + before.keySet());
      }
      assertEquals(1.0, before.get("etcd_server_has_leader"));
      assertEquals(1.0, before.get("etcd_server_is_leader"), before.toString());
      assertEquals(2147483648.0, before.get("etcd_server_quota_backend_bytes"));
      assertEquals(1.0, before.get("etcd_server_version{server_version=\"3.4.23\"}"));
      assertEquals(1.0, before.get("etcd_cluster_version{cluster_version=\"3.4\"}"));
      assertTrue(before.get("os_fd_used") > 0 && before.get("os_fd_limit") >= before.get("os_fd_used"));
      assertTrue(before.keySet().stream().anyMatch(k -> k.matches("etcd_server_id\\{server_id=\"[0-9a-f]+\"\\}")));

      member.call("/v3/kv/put", "{\"key\":\"" + b64("m") + "\",\"value\":\"" + b64("v") + "\"}");
      member.call("/v3/kv/put", "{\"key\":\"" + b64("m") + "\",\"value\":\"" + b64("w") + "\"}");
      assertEquals(200, member.get("/health").statusCode());
      Map<String, Double> after = scrape(member);
      assertEquals(before.get("etcd_debugging_mvcc_current_revision") + 2, after.get("etcd_debugging_mvcc_current_revision"));
      assertTrue(after.get("etcd_server_proposals_committed_total") >= before.get("etcd_server_proposals_committed_total") + 2);
      assertTrue(after.get("etcd_server_proposals_applied_total") >= before.get("etcd_server_proposals_applied_total") + 2);
      assertEquals(before.get("etcd_server_health_success") + 1, after.get("etcd_server_health_success"));

      // measured as the member works: WAL fsyncs, backend commits, gRPC calls by method and code
      assertTrue(after.get("etcd_disk_wal_fsync_duration_seconds_count")
          >= before.get("etcd_disk_wal_fsync_duration_seconds_count") + 2, after.toString());
      assertEquals(after.get("etcd_disk_wal_fsync_duration_seconds_count"),
          after.get("etcd_disk_wal_fsync_duration_seconds_bucket{le=\"+Inf\"}"));
      assertNotNull(after.get("etcd_disk_wal_fsync_duration_seconds_bucket{le=\"0.001\"}"));
      assertNotNull(after.get("etcd_disk_wal_fsync_duration_seconds_bucket{le=\"8.192\"}"));
      assertTrue(after.get("etcd_disk_backend_commit_duration_seconds_count")
          >= before.get("etcd_disk_backend_commit_duration_seconds_count") + 2);
      assertTrue(after.get("etcd_server_leader_changes_seen_total") >= 1);
      try (io.etcd.jetcd.Client grpc = io.etcd.jetcd.Client.builder()
          .endpoints("http://127.0.0.1:" + member.clientPort).build()) {
        var k = io.etcd.jetcd.ByteSequence.from("g", java.nio.charset.StandardCharsets.UTF_8);
        grpc.getKVClient().put(k, k).get(10, java.util.concurrent.TimeUnit.SECONDS);
        grpc.getKVClient().get(k).get(10, java.util.concurrent.TimeUnit.SECONDS);
        var compacted = grpc.getKVClient().get(k, io.etcd.jetcd.options.GetOption.builder().withRevision(1_000_000).build());
        assertThrows(java.util.concurrent.ExecutionException.class, () -> compacted.get(10, java.util.concurrent.TimeUnit.SECONDS));
        grpc.getMaintenanceClient().snapshot(new java.io.ByteArrayOutputStream()).get(10, java.util.concurrent.TimeUnit.SECONDS);
      }
      Map<String, Double> grpcAfter = scrape(member);
      assertEquals(1.0, grpcAfter.get("grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"Put\","
          + "grpc_service=\"etcdserverpb.KV\",grpc_type=\"unary\"}"), grpcAfter.keySet().toString());
      assertEquals(1.0, grpcAfter.get("grpc_server_handled_total{grpc_code=\"OutOfRange\",grpc_method=\"Range\","
          + "grpc_service=\"etcdserverpb.KV\",grpc_type=\"unary\"}"), grpcAfter.keySet().toString());
      assertEquals(2.0, grpcAfter.get("grpc_server_started_total{grpc_method=\"Range\","
          + "grpc_service=\"etcdserverpb.KV\",grpc_type=\"unary\"}"));
      String snapshot = "grpc_method=\"Snapshot\",grpc_service=\"etcdserverpb.Maintenance\",grpc_type=\"server_stream\"";
      assertEquals(1.0, grpcAfter.get("grpc_server_started_total{" + snapshot + "}"));
      assertEquals(1.0, grpcAfter.get("grpc_server_handled_total{grpc_code=\"OK\"," + snapshot + "}"));
      assertTrue(grpcAfter.get("grpc_server_msg_sent_total{" + snapshot + "}") >= 1);
      // as etcd's, every method of its services is listed from the start, each code of it once handled
      assertEquals(0.0, before.get("grpc_server_started_total{grpc_method=\"Compact\","
          + "grpc_service=\"etcdserverpb.KV\",grpc_type=\"unary\"}"), before.keySet().toString());
      assertEquals(0.0, before.get("grpc_server_handled_total{grpc_code=\"DataLoss\",grpc_method=\"Watch\","
          + "grpc_service=\"etcdserverpb.Watch\",grpc_type=\"bidi_stream\"}"));
      // etcd 3.4.23 lists 39 methods (its six services) times 17 codes
      assertEquals(17 * 39.0, before.keySet().stream().filter(n -> n.startsWith("grpc_server_handled_total{")).count());
    }
  }

  /** The counters etcd's dashboards chart, with the values etcd 3.4.23 shows for the same requests. */
  @Test
  void store_lease_and_grpc_counters_count_as_etcd_does() throws Exception {
    try (GatewayMember member = new GatewayMember()) {
      Map<String, Double> before = scrapeOnceLed(member);
      assertEquals(-1.0, before.get("etcd_debugging_mvcc_compact_revision"));
      assertEquals(0.0, before.get("etcd_debugging_mvcc_keys_total"));
      try (io.etcd.jetcd.Client grpc = io.etcd.jetcd.Client.builder()
          .endpoints("http://127.0.0.1:" + member.clientPort).build()) {
        var kv = grpc.getKVClient();
        java.util.function.Function<String, io.etcd.jetcd.ByteSequence> bytes =
            s -> io.etcd.jetcd.ByteSequence.from(s, java.nio.charset.StandardCharsets.UTF_8);
        kv.put(bytes.apply("a"), bytes.apply("b")).get(10, java.util.concurrent.TimeUnit.SECONDS);
        kv.get(bytes.apply("a")).get(10, java.util.concurrent.TimeUnit.SECONDS);
        kv.txn().Then(io.etcd.jetcd.op.Op.put(bytes.apply("x"), bytes.apply("y"), io.etcd.jetcd.options.PutOption.DEFAULT))
            .commit().get(10, java.util.concurrent.TimeUnit.SECONDS);
        kv.delete(bytes.apply("a")).get(10, java.util.concurrent.TimeUnit.SECONDS);
        var lease = grpc.getLeaseClient();
        long id = lease.grant(60).get(10, java.util.concurrent.TimeUnit.SECONDS).getID();
        lease.keepAliveOnce(id).get(10, java.util.concurrent.TimeUnit.SECONDS);
        lease.revoke(id).get(10, java.util.concurrent.TimeUnit.SECONDS);
      }
      Map<String, Double> after = scrape(member);
      Map<String, Double> initial = before;
      java.util.function.Function<String, Double> delta = name -> after.get(name) - initial.get(name);
      assertEquals(2.0, delta.apply("etcd_debugging_mvcc_put_total"), after.toString());
      assertEquals(1.0, delta.apply("etcd_debugging_mvcc_range_total"));
      assertEquals(1.0, delta.apply("etcd_debugging_mvcc_delete_total"));
      assertEquals(0.0, delta.apply("etcd_debugging_mvcc_txn_total"));
      assertEquals(after.get("etcd_debugging_mvcc_put_total"), after.get("etcd_mvcc_put_total"));
      assertEquals(1.0, after.get("etcd_debugging_mvcc_keys_total"));
      assertEquals(1.0, delta.apply("etcd_debugging_lease_granted_total"));
      assertEquals(1.0, delta.apply("etcd_debugging_lease_revoked_total"));
      assertEquals(0.0, after.get("etcd_server_proposals_pending"));
      assertEquals(0.0, after.get("etcd_server_proposals_failed_total"));
      assertTrue(delta.apply("etcd_disk_wal_write_bytes_total") > 0);
      assertTrue(delta.apply("etcd_network_client_grpc_received_bytes_total") > 0);
      assertTrue(delta.apply("etcd_network_client_grpc_sent_bytes_total") > 0);
      String put = "{grpc_method=\"Put\",grpc_service=\"etcdserverpb.KV\",grpc_type=\"unary\"}";
      assertEquals(1.0, after.get("grpc_server_msg_received_total" + put), after.keySet().toString());
      assertEquals(1.0, after.get("grpc_server_msg_sent_total" + put));
      String keepAlive = "{grpc_method=\"LeaseKeepAlive\",grpc_service=\"etcdserverpb.Lease\",grpc_type=\"bidi_stream\"}";
      // jetcd's keep-alive-once may send its request twice; every one received renews the live lease
      assertTrue(after.get("grpc_server_msg_received_total" + keepAlive) >= 1);
      assertEquals(after.get("grpc_server_msg_received_total" + keepAlive),
          delta.apply("etcd_debugging_lease_renewed_total"));
      assertTrue(after.get("grpc_server_msg_sent_total" + keepAlive) >= 1);
    }
  }

  /** etcd's watch gauges: streams and watchers open now, events sent; none pending or slow here. */
  @Test
  void watch_gauges_follow_the_watches() throws Exception {
    try (GatewayMember member = new GatewayMember()) {
      Map<String, Double> before = scrapeOnceLed(member);
      assertEquals(0.0, before.get("etcd_debugging_mvcc_watcher_total"));
      assertEquals(0.0, before.get("etcd_debugging_mvcc_watch_stream_total"));
      java.util.function.Function<String, io.etcd.jetcd.ByteSequence> bytes =
          s -> io.etcd.jetcd.ByteSequence.from(s, java.nio.charset.StandardCharsets.UTF_8);
      java.util.concurrent.CountDownLatch delivered = new java.util.concurrent.CountDownLatch(1);
      Map<String, Double> watching;
      try (io.etcd.jetcd.Client grpc = io.etcd.jetcd.Client.builder()
          .endpoints("http://127.0.0.1:" + member.clientPort).build();
          var w = grpc.getWatchClient().watch(bytes.apply("w"), r -> delivered.countDown());
          var x = grpc.getWatchClient().watch(bytes.apply("x"),
              io.etcd.jetcd.options.WatchOption.builder().isPrefix(true).build(), r -> { })) {
        scrapeUntil(member, m -> m.get("etcd_debugging_mvcc_watcher_total") >= 2);
        grpc.getKVClient().put(bytes.apply("w"), bytes.apply("1")).get(10, java.util.concurrent.TimeUnit.SECONDS);
        assertTrue(delivered.await(10, java.util.concurrent.TimeUnit.SECONDS));
        watching = scrape(member);
        // a watcher the client closes (jetcd cancels its stream) is gone from the member too
        w.close();
        Map<String, Double> oneClosed = scrapeUntil(member, m -> m.get("etcd_debugging_mvcc_watcher_total") <= 1);
        assertEquals(1.0, oneClosed.get("etcd_debugging_mvcc_watcher_total"));
        assertEquals(1.0, oneClosed.get("etcd_debugging_mvcc_watch_stream_total"));
      }
      assertEquals(2.0, watching.get("etcd_debugging_mvcc_watcher_total"), watching.toString());
      assertEquals(2.0, watching.get("etcd_debugging_mvcc_watch_stream_total")); // jetcd: a stream per watch
      assertEquals(1.0, watching.get("etcd_debugging_mvcc_events_total") - before.get("etcd_debugging_mvcc_events_total"));
      assertEquals(0.0, watching.get("etcd_debugging_mvcc_slow_watcher_total"));
      assertEquals(0.0, watching.get("etcd_debugging_mvcc_pending_events_total"));
      Map<String, Double> closed = scrapeUntil(member, m -> m.get("etcd_debugging_mvcc_watch_stream_total") == 0);
      assertEquals(0.0, closed.get("etcd_debugging_mvcc_watch_stream_total"));
      assertEquals(0.0, closed.get("etcd_debugging_mvcc_watcher_total"));
    }
  }

  @Test
  void health_fails_under_a_raised_alarm_unless_excluded() throws Exception {
    try (GatewayMember member = new GatewayMember("--quota-backend-bytes", "200000")) {
      String value = b64("x".repeat(10_000));
      for (int i = 0; i < 100 && member.post("/v3/kv/put", "{\"key\":\"" + b64("fill/" + (i % 5)) + "\",\"value\":\""
          + value + "\"}").statusCode() == 200; i++) {
        // fill until the quota refuses
      }
      HttpResponse<String> full = member.post("/v3/kv/put", "{\"key\":\"" + b64("x") + "\",\"value\":\"" + b64("y") + "\"}");
      assertEquals(429, full.statusCode(), full.body());
      assertEquals(8, new io.vertx.core.json.JsonObject(full.body()).getInteger("code"));
      assertTrue(member.call("/v3/maintenance/alarm", "{}").getJsonArray("alarms").encode().contains("NOSPACE"));

      HttpResponse<String> health = member.get("/health");
      assertEquals(503, health.statusCode());
      assertEquals("{\"health\":\"false\"}\n", health.body());
      assertEquals("{\"health\":\"true\"}", member.get("/health?exclude=NOSPACE").body());
      assertTrue(scrape(member).get("etcd_server_health_failures") >= 1);
    }
  }
}
