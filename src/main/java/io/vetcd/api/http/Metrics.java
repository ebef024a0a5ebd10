package io.vetcd.api.http;

import io.vertx.core.Future;
import io.vetcd.api.Calls;
import io.vetcd.pb.StatusRequest;
import io.vetcd.pb.StatusResponse;
import java.lang.management.ManagementFactory;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code /metrics} in Prometheus' text format, with etcd's metric names and help texts, for the
 * metrics the member can state truthfully: those read from a Status of the member, the health-check
 * counters of this frontend, and the process' own numbers. A metric vetcd cannot measure yet is left
 * out rather than faked.
 */
final class Metrics {
  private final Calls calls;
  private final long quotaBackendBytes;
  final AtomicLong healthSuccess = new AtomicLong();
  final AtomicLong healthFailures = new AtomicLong();

  private final io.vetcd.metrics.MemberMetrics measured;

  Metrics(Calls calls, long quotaBackendBytes, io.vetcd.metrics.MemberMetrics measured) {
    this.calls = calls;
    this.quotaBackendBytes = quotaBackendBytes;
    this.measured = measured;
  }

  /** What the member's parts measured as they worked. */
  private static void measured(Families out, io.vetcd.metrics.MemberMetrics m) {
    histogram(out, "etcd_disk_wal_fsync_duration_seconds", "The latency distributions of fsync called by WAL.",
        java.util.Map.of("", m.walFsyncSeconds));
    histogram(out, "etcd_disk_backend_commit_duration_seconds",
        "The latency distributions of commit called by backend.", java.util.Map.of("", m.backendCommitSeconds));
    histogram(out, "etcd_debugging_snap_save_total_duration_seconds",
        "The total latency distributions of save called by snapshot.", java.util.Map.of("", m.snapshotSaveSeconds));
    counter(out, "etcd_server_leader_changes_seen_total", "The number of leader changes seen.", m.leaderChanges.sum());
    java.util.Map<String, io.vetcd.metrics.Histogram> peers = new java.util.TreeMap<>();
    m.peerRoundTripSeconds().forEach((to, h) -> peers.put("To=\"" + to + "\"", h));
    if (!peers.isEmpty()) {
      histogram(out, "etcd_network_peer_round_trip_time_seconds", "Round-Trip-Time histogram between peers", peers);
    }
    labelled(out, "etcd_network_peer_sent_bytes_total", "The total number of bytes sent to peers.", "To",
        m.peerSentBytes.get());
    labelled(out, "etcd_network_peer_received_bytes_total", "The total number of bytes received from peers.", "From",
        m.peerReceivedBytes.get());
    grpcCalls(out, "grpc_server_started_total", "Total number of RPCs started on the server.", m.grpcStarted(), false);
    grpcCalls(out, "grpc_server_handled_total",
        "Total number of RPCs completed on the server, regardless of success or failure.", m.grpcHandled(), true);
    grpcCalls(out, "grpc_server_msg_received_total", "Total number of RPC stream messages received on the server.",
        m.grpcMsgReceived(), false);
    grpcCalls(out, "grpc_server_msg_sent_total", "Total number of gRPC stream messages sent by the server.",
        m.grpcMsgSent(), false);
    counter(out, "etcd_network_client_grpc_received_bytes_total", "The total number of bytes received from grpc clients.",
        m.grpcReceivedBytes.sum());
    counter(out, "etcd_network_client_grpc_sent_bytes_total", "The total number of bytes sent to grpc clients.",
        m.grpcSentBytes.sum());
    java.util.Map<java.util.List<String>, Long> clients = m.clientRequests();
    if (!clients.isEmpty()) {
      header(out, "etcd_server_client_requests_total", "The total number of client requests per client version.",
          "counter");
      java.util.TreeMap<String, Long> sorted = new java.util.TreeMap<>();
      clients.forEach((k, n) -> sorted.merge(
          "{client_api_version=\"" + k.get(1) + "\",type=\"" + k.get(0) + "\"}", n, Long::sum));
      sorted.forEach((labels, n) -> out.sample("etcd_server_client_requests_total", labels, number(n)));
    }
    gauge(out, "etcd_server_proposals_pending", "The current number of pending proposals to commit.",
        m.proposalsPending.get());
    counter(out, "etcd_server_proposals_failed_total", "The total number of failed proposals seen.",
        m.proposalsFailed.sum());
    counter(out, "etcd_server_slow_apply_total",
        "The total number of slow apply requests (likely overloaded from slow disk).", m.slowApplies.sum());
    counter(out, "etcd_server_read_indexes_failed_total", "The total number of failed read indexes seen.",
        m.readIndexesFailed.sum());
    counter(out, "etcd_server_slow_read_indexes_total",
        "The total number of pending read indexes not in sync with leader's or timed out read index requests.",
        m.slowReadIndexes.sum());
    counter(out, "etcd_debugging_lease_granted_total", "The total number of granted leases.", m.leasesGranted.sum());
    counter(out, "etcd_debugging_lease_revoked_total", "The total number of revoked leases.", m.leasesRevoked.sum());
    counter(out, "etcd_debugging_lease_renewed_total", "The number of renewed leases seen by the leader.",
        m.leasesRenewed.sum());
    counter(out, "etcd_debugging_server_lease_expired_total", "The total number of expired leases.",
        m.leasesExpired.sum());
    gauge(out, "etcd_disk_wal_write_bytes_total", "Total number of bytes written in WAL.",
        m.walBytesWritten.getAsLong());
    gauge(out, "etcd_debugging_mvcc_compact_revision", "The revision of the last compaction in store.",
        m.compactRevision.getAsLong());
    gauge(out, "etcd_debugging_mvcc_watch_stream_total", "Total number of watch streams.", m.watchStreams);
    gauge(out, "etcd_debugging_mvcc_watcher_total", "Total number of watchers.", m.watchers);
    gauge(out, "etcd_debugging_mvcc_slow_watcher_total", "Total number of unsynced slow watchers.", m.slowWatchers);
    counter(out, "etcd_debugging_mvcc_events_total", "Total number of events sent by this member.",
        m.watchEventsSent.sum());
    // vetcd queues no events for slow watchers (they catch up from history), so none are pending
    gauge(out, "etcd_debugging_mvcc_pending_events_total", "Total number of pending events to be sent.", 0);
    var store = m.storeCounts;
    if (store != null) {
      io.vetcd.mvcc.MvccStore.OpCounts ops = store.get();
      gauge(out, "etcd_debugging_mvcc_keys_total", "Total number of keys.", ops.keys());
      for (String prefix : new String[] {"etcd_mvcc_", "etcd_debugging_mvcc_"}) {
        counter(out, prefix + "range_total", "Total number of ranges seen by this member.", ops.ranges());
        counter(out, prefix + "put_total", "Total number of puts seen by this member.", ops.puts());
        counter(out, prefix + "delete_total", "Total number of deletes seen by this member.", ops.deletes());
        counter(out, prefix + "txn_total", "Total number of txns seen by this member.", ops.txns());
      }
    }
  }

  /** Methods of etcd 3.5 that vetcd also serves but 3.4.23 has not: listed only once called. */
  private static final java.util.Set<String> NEWER_THAN_3_4 = java.util.Set.of("AuthStatus", "Downgrade");

  /**
   * Every method of etcd's six services with its gRPC type, from our descriptors: etcd's gRPC
   * metrics list each of them (and, when handled, each code) at 0 from the start.
   */
  private static final java.util.List<io.vetcd.metrics.MemberMetrics.GrpcCall> METHODS = methods();

  private static java.util.List<io.vetcd.metrics.MemberMetrics.GrpcCall> methods() {
    java.util.List<io.vetcd.metrics.MemberMetrics.GrpcCall> all = new java.util.ArrayList<>();
    for (var service : io.vetcd.pb.RpcProto.getDescriptor().getServices()) {
      for (var method : service.getMethods()) {
        if (NEWER_THAN_3_4.contains(method.getName())) {
          continue;
        }
        String type = method.isClientStreaming() && method.isServerStreaming() ? "bidi_stream"
            : method.isClientStreaming() ? "client_stream" : method.isServerStreaming() ? "server_stream" : "unary";
        all.add(new io.vetcd.metrics.MemberMetrics.GrpcCall(type, service.getFullName(), method.getName(), ""));
      }
    }
    return java.util.List.copyOf(all);
  }

  private static void grpcCalls(Families out, String name, String help,
      java.util.Map<io.vetcd.metrics.MemberMetrics.GrpcCall, Long> calls, boolean withCode) {
    header(out, name, help, "counter");
    java.util.TreeMap<String, Long> sorted = new java.util.TreeMap<>();
    java.util.function.BiConsumer<io.vetcd.metrics.MemberMetrics.GrpcCall, Long> add = (c, n) -> sorted.merge(
        (withCode ? "grpc_code=\"" + c.code() + "\"," : "")
        + "grpc_method=\"" + c.method() + "\",grpc_service=\"" + c.service() + "\",grpc_type=\"" + c.type() + "\"",
        n, Long::sum);
    for (io.vetcd.metrics.MemberMetrics.GrpcCall method : METHODS) {
      if (withCode) {
        for (io.vetcd.errors.GrpcCode code : io.vetcd.errors.GrpcCode.values()) {
          add.accept(new io.vetcd.metrics.MemberMetrics.GrpcCall(method.type(), method.service(), method.method(),
              code.goName()), 0L);
        }
      } else {
        add.accept(method, 0L);
      }
    }
    calls.forEach(add);
    sorted.forEach((labels, n) -> out.sample(name, "{" + labels + "}", number(n)));
  }

  /** A histogram family: per label set (e.g. {@code To="..."}, or "" for none), buckets, sum and count. */
  private static void histogram(Families out, String name, String help,
      java.util.Map<String, io.vetcd.metrics.Histogram> byLabels) {
    header(out, name, help, "histogram");
    for (var e : byLabels.entrySet()) {
      String labels = e.getKey().isEmpty() ? "" : e.getKey() + ",";
      io.vetcd.metrics.Histogram h = e.getValue();
      double[] bounds = h.upperBounds();
      long[] counts = h.cumulativeCounts();
      for (int i = 0; i < bounds.length; i++) {
        out.sample(name, name + "_bucket", "{" + labels + "le=\"" + number(bounds[i]) + "\"}", number(counts[i]));
      }
      long count = h.count();
      out.sample(name, name + "_bucket", "{" + labels + "le=\"+Inf\"}", number(count));
      String plain = e.getKey().isEmpty() ? "" : "{" + e.getKey() + "}";
      out.sample(name, name + "_sum", plain, number(h.sum()));
      out.sample(name, name + "_count", plain, number(count));
    }
  }

  Future<String> scrape() {
    return calls.status(StatusRequest.getDefaultInstance()).transform(ar -> {
      Families out = new Families();
      if (ar.succeeded()) {
        status(out, ar.result());
      }
      if (measured != null) {
        measured(out, measured);
      }
      gauge(out, "etcd_server_quota_backend_bytes", "Current backend storage quota size in bytes.", quotaBackendBytes);
      counter(out, "etcd_server_health_success", "The total number of successful health checks", healthSuccess.get());
      counter(out, "etcd_server_health_failures", "The total number of failed health checks", healthFailures.get());
      process(out);
      return Future.succeededFuture(out.text());
    });
  }

  private static void status(Families out, StatusResponse s) {
    long memberId = s.getHeader().getMemberId();
    gauge(out, "etcd_debugging_mvcc_current_revision", "The current revision of store.", s.getHeader().getRevision());
    gauge(out, "etcd_debugging_mvcc_db_total_size_in_bytes",
        "Total size of the underlying database physically allocated in bytes.", s.getDbSize());
    gauge(out, "etcd_mvcc_db_total_size_in_bytes",
        "Total size of the underlying database physically allocated in bytes.", s.getDbSize());
    gauge(out, "etcd_mvcc_db_total_size_in_use_in_bytes",
        "Total size of the underlying database logically in use in bytes.", s.getDbSizeInUse());
    gauge(out, "etcd_server_has_leader", "Whether or not a leader exists. 1 is existence, 0 is not.",
        s.getLeader() != 0 ? 1 : 0);
    header(out, "etcd_server_id", "Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID.",
        "gauge");
    out.sample("etcd_server_id", "{server_id=\"" + Long.toHexString(memberId) + "\"}", "1");
    gauge(out, "etcd_server_is_leader", "Whether or not this member is a leader. 1 if is, 0 otherwise.",
        s.getLeader() != 0 && s.getLeader() == memberId ? 1 : 0);
    gauge(out, "etcd_server_is_learner", "Whether or not this member is a learner. 1 if is, 0 otherwise.",
        s.getIsLearner() ? 1 : 0);
    gauge(out, "etcd_server_proposals_applied_total", "The total number of consensus proposals applied.",
        s.getRaftAppliedIndex());
    gauge(out, "etcd_server_proposals_committed_total", "The total number of consensus proposals committed.",
        s.getRaftIndex());
    header(out, "etcd_server_version", "Which version is running. 1 for 'server_version' label with current version.",
        "gauge");
    out.sample("etcd_server_version", "{server_version=\"" + s.getVersion() + "\"}", "1");
    String[] version = s.getVersion().split("\\.");
    if (version.length >= 2) {
      header(out, "etcd_cluster_version",
          "Which version is running. 1 for 'cluster_version' label with current cluster version", "gauge");
      out.sample("etcd_cluster_version", "{cluster_version=\"" + version[0] + "." + version[1] + "\"}", "1");
    }
  }

  private static void process(Families out) {
    var os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean sun && sun.getProcessCpuTime() >= 0) {
      header(out, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", "counter");
      out.sample("process_cpu_seconds_total", "", number(sun.getProcessCpuTime() / 1e9));
    }
    if (os instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
      gauge(out, "process_max_fds", "Maximum number of open file descriptors.", unix.getMaxFileDescriptorCount());
      gauge(out, "process_open_fds", "Number of open file descriptors.", unix.getOpenFileDescriptorCount());
      gauge(out, "os_fd_limit", "The file descriptor limit.", unix.getMaxFileDescriptorCount());
      gauge(out, "os_fd_used", "The number of used file descriptors.", unix.getOpenFileDescriptorCount());
    }
    long[] statm = statm();
    if (statm != null) {
      gauge(out, "process_resident_memory_bytes", "Resident memory size in bytes.", statm[1]);
    }
    header(out, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.", "gauge");
    out.sample("process_start_time_seconds", "", number(ManagementFactory.getRuntimeMXBean().getStartTime() / 1000.0));
    if (statm != null) {
      gauge(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.", statm[0]);
    }
  }

  /** Virtual and resident size in bytes from /proc/self/statm (Linux), or null. */
  private static long[] statm() {
    try {
      String[] fields = Files.readString(Path.of("/proc/self/statm")).trim().split("\\s+");
      long page = 4096;
      return new long[] {Long.parseLong(fields[0]) * page, Long.parseLong(fields[1]) * page};
    } catch (Exception e) {
      return null;
    }
  }

  private static void gauge(Families out, String name, String help, long value) {
    header(out, name, help, "gauge");
    out.sample(name, "", number(value));
  }

  /** A counter with one label (e.g. To="<member id>"); left out while it has no samples, as etcd's. */
  private static void labelled(Families out, String name, String help, String label,
      java.util.Map<String, Long> values) {
    if (values.isEmpty()) {
      return;
    }
    header(out, name, help, "counter");
    new java.util.TreeMap<>(values).forEach((v, n) -> out.sample(name, "{" + label + "=\"" + v + "\"}", number(n)));
  }

  private static void counter(Families out, String name, String help, long value) {
    header(out, name, help, "counter");
    out.sample(name, "", number(value));
  }

  private static void header(Families out, String name, String help, String type) {
    out.family(name).append("# HELP ").append(name).append(' ').append(help).append('\n')
        .append("# TYPE ").append(name).append(' ').append(type).append('\n');
  }

  /** Metric families by name: Prometheus' Go client writes them sorted by name. */
  private static final class Families {
    private final java.util.TreeMap<String, StringBuilder> families = new java.util.TreeMap<>();

    StringBuilder family(String name) {
      return families.computeIfAbsent(name, n -> new StringBuilder());
    }

    void sample(String name, String labels, String value) {
      sample(name, name, labels, value);
    }

    /** A sample of a family whose samples have other names (a histogram's _bucket, _sum, _count). */
    void sample(String family, String name, String labels, String value) {
      family(family).append(name).append(labels).append(' ').append(value).append('\n');
    }

    String text() {
      StringBuilder out = new StringBuilder(4096);
      families.values().forEach(out::append);
      return out.toString();
    }
  }

  /** A sample value as Prometheus' Go client writes it (strconv 'g', shortest): 20480, 2.147483648e+09. */
  static String number(double value) {
    if (value == 0) {
      return "0";
    }
    if (Double.isNaN(value)) {
      return "NaN";
    }
    if (Double.isInfinite(value)) {
      return value > 0 ? "+Inf" : "-Inf";
    }
    BigDecimal decimal = new BigDecimal(Double.toString(value)).stripTrailingZeros();
    String digits = decimal.unscaledValue().abs().toString();
    int exponent = digits.length() - 1 - decimal.scale();
    if (exponent < -4 || exponent >= 6) {
      StringBuilder e = new StringBuilder(value < 0 ? "-" : "").append(digits.charAt(0));
      if (digits.length() > 1) {
        e.append('.').append(digits, 1, digits.length());
      }
      e.append('e').append(exponent < 0 ? '-' : '+');
      int abs = Math.abs(exponent);
      return e.append(abs < 10 ? "0" : "").append(abs).toString();
    }
    return decimal.toPlainString();
  }
}
