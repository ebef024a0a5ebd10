package io.vetcd.metrics;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The numbers the member's parts measure as they work (WAL fsyncs, store commits, peer round trips,
 * leader changes, gRPC calls), for {@code /metrics} with etcd's names and buckets. One per member;
 * shared through the member's Vert.x instance, written from any thread.
 */
public final class MemberMetrics implements io.vertx.core.shareddata.Shareable {
  private static final String MAP = "vetcd.metrics";

  /** etcd_disk_wal_fsync_duration_seconds: ExponentialBuckets(0.001, 2, 14), as etcd. */
  public final Histogram walFsyncSeconds = new Histogram(Histogram.exponentialBuckets(0.001, 2, 14));
  /** etcd_disk_backend_commit_duration_seconds: ExponentialBuckets(0.001, 2, 14), as etcd. */
  public final Histogram backendCommitSeconds = new Histogram(Histogram.exponentialBuckets(0.001, 2, 14));
  /** etcd_debugging_snap_save_total_duration_seconds: ExponentialBuckets(0.001, 2, 14). */
  public final Histogram snapshotSaveSeconds = new Histogram(Histogram.exponentialBuckets(0.001, 2, 14));
  /** etcd_server_leader_changes_seen_total. */
  public final LongAdder leaderChanges = new LongAdder();
  /** etcd_network_peer_round_trip_time_seconds by member id (hex): ExponentialBuckets(0.0001, 2, 14). */
  private final Map<String, Histogram> peerRoundTripSeconds = new ConcurrentHashMap<>();
  /** grpc_server_handled_total by its label set. */
  private final Map<GrpcCall, LongAdder> grpcHandled = new ConcurrentHashMap<>();
  /** grpc_server_started_total by its label set (code unused). */
  private final Map<GrpcCall, LongAdder> grpcStarted = new ConcurrentHashMap<>();

  /** The labels of one gRPC method's outcome: type (unary, bidi_stream...), service, method, code name. */
  public record GrpcCall(String type, String service, String method, String code) {}

  /** The member's metrics, created with its Vert.x instance. */
  public static MemberMetrics of(io.vertx.core.Vertx vertx) {
    return vertx.sharedData().<String, MemberMetrics>getLocalMap(MAP).computeIfAbsent("member", k -> new MemberMetrics());
  }

  public void peerRoundTrip(long memberId, long nanos) {
    peerRoundTripSeconds.computeIfAbsent(Long.toHexString(memberId),
        id -> new Histogram(Histogram.exponentialBuckets(0.0001, 2, 14))).observeNanos(nanos);
  }

  public Map<String, Histogram> peerRoundTripSeconds() {
    return Map.copyOf(peerRoundTripSeconds);
  }

  public void grpcStarted(String type, String service, String method) {
    grpcStarted.computeIfAbsent(new GrpcCall(type, service, method, ""), c -> new LongAdder()).increment();
  }

  public void grpcHandled(String type, String service, String method, String code) {
    grpcHandled.computeIfAbsent(new GrpcCall(type, service, method, code), c -> new LongAdder()).increment();
  }

  public Map<GrpcCall, Long> grpcHandled() {
    Map<GrpcCall, Long> out = new java.util.HashMap<>();
    grpcHandled.forEach((call, n) -> out.put(call, n.sum()));
    return out;
  }

  public Map<GrpcCall, Long> grpcStarted() {
    Map<GrpcCall, Long> out = new java.util.HashMap<>();
    grpcStarted.forEach((call, n) -> out.put(call, n.sum()));
    return out;
  }
}
