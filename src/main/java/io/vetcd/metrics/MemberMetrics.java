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
  /** etcd_server_proposals_pending: writes proposed by this member and not answered yet. */
  public final java.util.concurrent.atomic.AtomicLong proposalsPending = new java.util.concurrent.atomic.AtomicLong();
  /** etcd_server_proposals_failed_total: proposals that failed or timed out. */
  public final LongAdder proposalsFailed = new LongAdder();
  /** etcd_server_slow_apply_total: entries whose apply took longer than etcd's 100 ms warning. */
  public final LongAdder slowApplies = new LongAdder();
  /** etcd_server_read_indexes_failed_total / etcd_server_slow_read_indexes_total. */
  public final LongAdder readIndexesFailed = new LongAdder();
  public final LongAdder slowReadIndexes = new LongAdder();
  /** etcd_debugging_lease_{granted,revoked,renewed}_total, etcd_debugging_server_lease_expired_total. */
  public final LongAdder leasesGranted = new LongAdder();
  public final LongAdder leasesRevoked = new LongAdder();
  public final LongAdder leasesRenewed = new LongAdder();
  public final LongAdder leasesExpired = new LongAdder();
  /** etcd_network_client_grpc_{received,sent}_bytes_total: the size of the messages. */
  public final LongAdder grpcReceivedBytes = new LongAdder();
  public final LongAdder grpcSentBytes = new LongAdder();
  /** etcd_debugging_mvcc_{watch_stream,watcher,slow_watcher}_total: set by the watch verticle as it works. */
  public volatile long watchStreams;
  public volatile long watchers;
  public volatile long slowWatchers;
  /** etcd_debugging_mvcc_events_total: events sent to watchers. */
  public final LongAdder watchEventsSent = new LongAdder();
  /** etcd_network_peer_{sent,received}_bytes_total by member id (hex), read at scrape time. */
  public volatile java.util.function.Supplier<Map<String, Long>> peerSentBytes = Map::of;
  public volatile java.util.function.Supplier<Map<String, Long>> peerReceivedBytes = Map::of;
  /** The WAL's bytes written (etcd_disk_wal_write_bytes_total), read at scrape time. */
  public volatile java.util.function.LongSupplier walBytesWritten = () -> 0;
  /** The store's operation counts, read at scrape time (null before the store is up). */
  public volatile java.util.function.Supplier<io.vetcd.mvcc.MvccStore.OpCounts> storeCounts;
  /** The store's compaction revision (-1 when never compacted), read at scrape time. */
  public volatile java.util.function.LongSupplier compactRevision = () -> -1;
  /** grpc_server_msg_{received,sent}_total by label set (code unused). */
  private final Map<GrpcCall, LongAdder> grpcMsgReceived = new ConcurrentHashMap<>();
  private final Map<GrpcCall, LongAdder> grpcMsgSent = new ConcurrentHashMap<>();
  /** etcd_server_client_requests_total by (type, client_api_version). */
  private final Map<java.util.List<String>, LongAdder> clientRequests = new ConcurrentHashMap<>();
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
    grpcStarted(new GrpcCall(type, service, method, ""));
  }

  public void grpcStarted(GrpcCall call) {
    grpcStarted.computeIfAbsent(call, c -> new LongAdder()).increment();
  }

  public void grpcHandled(String type, String service, String method, String code) {
    grpcHandled.computeIfAbsent(new GrpcCall(type, service, method, code), c -> new LongAdder()).increment();
  }

  /** One message of a call received: its count and size. */
  public void grpcReceived(String type, String service, String method, int sizeBytes) {
    grpcReceived(new GrpcCall(type, service, method, ""), sizeBytes);
  }

  /** As above, for a method's labels made once (code unused). */
  public void grpcReceived(GrpcCall call, int sizeBytes) {
    grpcMsgReceived.computeIfAbsent(call, c -> new LongAdder()).increment();
    grpcReceivedBytes.add(sizeBytes);
  }

  /** One message of a call sent: its count and size. */
  public void grpcSent(String type, String service, String method, int sizeBytes) {
    grpcSent(new GrpcCall(type, service, method, ""), sizeBytes);
  }

  public void grpcSent(GrpcCall call, int sizeBytes) {
    grpcMsgSent.computeIfAbsent(call, c -> new LongAdder()).increment();
    grpcSentBytes.add(sizeBytes);
  }

  /** A call that named its client's API version (gRPC metadata client-api-version), as etcd counts them. */
  public void clientRequest(String type, String clientApiVersion) {
    clientRequests.computeIfAbsent(java.util.List.of(type, clientApiVersion), k -> new LongAdder()).increment();
  }

  public Map<GrpcCall, Long> grpcHandled() {
    return sums(grpcHandled);
  }

  public Map<GrpcCall, Long> grpcStarted() {
    return sums(grpcStarted);
  }

  public Map<GrpcCall, Long> grpcMsgReceived() {
    return sums(grpcMsgReceived);
  }

  public Map<GrpcCall, Long> grpcMsgSent() {
    return sums(grpcMsgSent);
  }

  /** By (type, client_api_version). */
  public Map<java.util.List<String>, Long> clientRequests() {
    return sums(clientRequests);
  }

  private static <K> Map<K, Long> sums(Map<K, LongAdder> counters) {
    Map<K, Long> out = new java.util.HashMap<>();
    counters.forEach((k, n) -> out.put(k, n.sum()));
    return out;
  }
}
