package io.vetcd.server;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vetcd.bus.Addresses;
import io.vetcd.bus.Commands;
import io.vetcd.bus.Raft;
import io.vetcd.bus.Watches;
import io.vetcd.errors.Errors;
import io.vetcd.errors.EtcdException;
import io.vetcd.errors.GrpcCode;
import io.vetcd.lease.Lessor;
import io.vetcd.mvcc.MvccStore;
import io.vetcd.mvcc.WriteResult;
import io.vetcd.pb.AlarmRequest;
import io.vetcd.pb.AlarmResponse;
import io.vetcd.pb.AlarmMember;
import io.vetcd.pb.AlarmType;
import io.vetcd.pb.CompactionResponse;
import io.vetcd.pb.Event;
import io.vetcd.pb.HashKVRequest;
import io.vetcd.pb.HashKVResponse;
import io.vetcd.pb.HashRequest;
import io.vetcd.pb.HashResponse;
import io.vetcd.pb.LeaseGrantRequest;
import io.vetcd.pb.LeaseGrantResponse;
import io.vetcd.pb.LeaseKeepAliveResponse;
import io.vetcd.pb.LeaseLeasesRequest;
import io.vetcd.pb.LeaseLeasesResponse;
import io.vetcd.pb.LeaseRevokeResponse;
import io.vetcd.pb.LeaseStatus;
import io.vetcd.pb.LeaseTimeToLiveRequest;
import io.vetcd.pb.LeaseTimeToLiveResponse;
import io.vetcd.pb.MemberListRequest;
import io.vetcd.pb.MemberListResponse;
import io.vetcd.pb.PutRequest;
import io.vetcd.pb.RangeRequest;
import io.vetcd.pb.RequestOp;
import io.vetcd.pb.ResponseHeader;
import io.vetcd.pb.StatusRequest;
import io.vetcd.pb.StatusResponse;
import io.vetcd.pb.TxnRequest;
import io.vetcd.pb.internal.InternalRequest;
import io.vetcd.raft.Entry;
import io.vetcd.raft.EntryType;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the MVCC store and the lease table: applies committed raft entries in log order, answers
 * reads, and wakes the callers waiting for their writes. The store's memory-mapped file is a cache
 * of the applied state (the WAL and the snapshot files are what is durable), so each batch of applied
 * entries only records its consistent index beside the data, on this loop; snapshot files are
 * written on a worker thread. The client listeners share this verticle's event loop.
 */
public final class ApplyVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(ApplyVerticle.class);
  public static final String VERSION = "3.4.23";
  private static final int PENDING_WRITES_MAX = 20_000;
  private static final int PENDING_READS_MAX = 50_000;
  /** How late past its timeout a write not applied may be failed. */
  private static final long PENDING_WRITES_SWEEP_MILLIS_MAX = 100;

  /** A write proposed to raft and not yet applied; it fails once {@code deadlineNanos} passes. */
  private record PendingWrite(Message<Commands.Write> message, long deadlineNanos) {}

  private record WaitingReads(long index, List<Message<Commands.Read>> reads) {}

  private final MvccStore store;
  private final Lessor lessor;
  private final Membership membership;
  private final long requestTimeoutMillis;
  private final long electionTimeoutMillis;
  private final long quotaBytes;
  private final io.vetcd.auth.AuthStore auth;

  /** Revisions applied in this round, for the watch verticle (sent together, in order). */
  private final List<Watches.Revision> watchBatch = new ArrayList<>();
  private static final int WATCH_BATCH_REVISIONS_MAX = 512;
  private long appliedIndex;
  private long term;
  private long leaderId;
  private long commitIndex;
  private boolean leader;

  private long nextRequestId = 1;
  /**
   * By request id, which is also the order of their deadlines (one timeout for all): expired ones
   * are at the head, and one periodic sweep fails them instead of a timer per write.
   */
  private final LinkedHashMap<Long, PendingWrite> pendingWrites = new LinkedHashMap<>();
  private io.vetcd.metrics.MemberMetrics metrics;
  /** etcd counts an apply slower than this as slow (its warnApplyDuration). */
  private static final long SLOW_APPLY_NANOS = 100_000_000L;

  private long nextReadContext = 1;
  private long readContextInFlight;
  private List<Message<Commands.Read>> readsInFlight = List.of();
  private List<Message<Commands.Read>> readsQueued = new ArrayList<>();
  private final ArrayDeque<WaitingReads> readsWaitingForApply = new ArrayDeque<>();

  /** {@link Raft.Committed} batches, and snapshot work ({@link Raft.PrepareSnapshot}, {@link Raft.InstallSnapshot}) in order. */
  private final ArrayDeque<Object> applyQueue = new ArrayDeque<>();
  private final MemberTable memberTable;
  private ClusterService cluster;
  private Snapshots snapshots;
  private long snapshotCount = Long.MAX_VALUE;
  /**
   * What an empty store reports in use, as etcd's empty bbolt file does (four 4 KiB pages: two meta
   * pages, the freelist, the root): dbSizeInUse is never 0, so it is never left out of the JSON.
   */
  static final long EMPTY_STORE_IN_USE_BYTES = 16384;
  private long lastSnapshotIndex;
  private long appliedTerm;
  private boolean attributesPublishing;
  private boolean committing;
  /**
   * Set while a worker holds the store's lock for a long time (defragment, snapshot install): reads
   * and history wait in {@link #deferredWhileLocked} instead of blocking this loop, which also runs
   * raft and serves the client connections.
   */
  private boolean storeLocked;
  private final List<Runnable> deferredWhileLocked = new ArrayList<>();
  private boolean dirty;
  /** Set when the member stops: no new commits; the composition root commits and closes the store. */
  private boolean stopping;
  private io.vertx.core.Promise<Void> idle;
  private boolean strictReconfigCheck = true;

  /** etcd's {@code --strict-reconfig-check} (default true): refuse membership changes that risk the quorum. */
  public ApplyVerticle strictReconfigCheck(boolean strict) {
    this.strictReconfigCheck = strict;
    return this;
  }

  public ApplyVerticle(MvccStore store, Lessor lessor, Membership membership, long requestTimeoutMillis,
      long electionTimeoutMillis, long quotaBytes) {
    this(store, lessor, membership, requestTimeoutMillis, electionTimeoutMillis, quotaBytes, (java.nio.file.Path) null);
  }

  /** {@code attributesFile}: no longer used (the members' attributes are kept in the store's member table). */
  public ApplyVerticle(MvccStore store, Lessor lessor, Membership membership, long requestTimeoutMillis,
      long electionTimeoutMillis, long quotaBytes, java.nio.file.Path attributesFile) {
    this(store, lessor, membership, requestTimeoutMillis, electionTimeoutMillis, quotaBytes, attributesFile,
        new io.vetcd.auth.AuthStore(store.authTable(), new io.vetcd.auth.SimpleTokens(ApplyVerticle::nowMillis, 300_000)));
  }

  /** {@code auth}: the auth store, shared with the frontends (which check reads and watches against it). */
  public ApplyVerticle(MvccStore store, Lessor lessor, Membership membership, long requestTimeoutMillis,
      long electionTimeoutMillis, long quotaBytes, java.nio.file.Path attributesFile, io.vetcd.auth.AuthStore auth) {
    this.auth = auth;
    this.quotaBytes = quotaBytes;
    this.store = store;
    this.memberTable = new MemberTable(store.clusterTable());
    if (memberTable.isEmpty()) {
      memberTable.seed(membership.clusterId(), membership.members(), List.of());
    }
    this.lessor = lessor;
    this.membership = membership;
    this.requestTimeoutMillis = requestTimeoutMillis;
    this.electionTimeoutMillis = electionTimeoutMillis;
    this.appliedIndex = store.consistentIndex();
    this.lastSnapshotIndex = appliedIndex;
    this.appliedTerm = memberTable.appliedTerm();
  }

  /**
   * Snapshots: once the applied index is {@code snapshotCount} past the last snapshot and durable,
   * the raft log and WAL are compacted (keeping a tail for slightly lagging followers); store
   * snapshots for lagging followers are written to {@code snapshots}.
   */
  public ApplyVerticle snapshots(Snapshots snapshots, long snapshotCount) {
    this.snapshots = snapshots;
    this.snapshotCount = Math.max(1, snapshotCount);
    return this;
  }

  /** The event loop context this verticle runs on (the client listeners share it). */
  public io.vertx.core.Context context() {
    return context;
  }

  @Override
  public Future<?> start() {
    metrics = io.vetcd.metrics.MemberMetrics.of(vertx);
    metrics.storeCounts = store::opCounts;
    metrics.compactRevision = store::compactRevision;
    EventBus bus = vertx.eventBus();
    bus.<Commands.Write>localConsumer(Addresses.APPLY_WRITE, this::onWrite);
    bus.<Commands.Read>localConsumer(Addresses.APPLY_READ, this::onRead);
    bus.<Commands.KeepAlive>localConsumer(Addresses.APPLY_KEEPALIVE, this::onKeepAlive);
    bus.<Commands.ExpiredLeases>localConsumer(Addresses.APPLY_EXPIRED_LEASES, this::onExpiredLeases);
    bus.<Commands.History>localConsumer(Addresses.APPLY_HISTORY, this::onHistory);
    bus.localConsumer(Addresses.APPLY_FROM_RAFT, this::onFromRaft);
    bus.localConsumer(Addresses.APPLY_DEFRAGMENT, defragment -> {
      applyQueue.add(defragment); // between applies: no write runs while the file is rewritten
      drainApplyQueue();
    });
    bus.localConsumer(Addresses.APPLY_BACKUP, backup -> {
      applyQueue.add(backup); // in log order, after the entries already committed
      drainApplyQueue();
    });
    bus.<byte[]>localConsumer(Addresses.APPLY_FORWARDED, this::onForwarded);
    cluster = new ClusterService(vertx, memberTable, membership.localMemberId(), requestTimeoutMillis, this::header,
        () -> leader, () -> leaderId).strictReconfigCheck(strictReconfigCheck);
    bus.localConsumer(Addresses.CLUSTER, cluster::onRequest);
    bus.localConsumer(CLUSTER_INFO, m -> m.reply(cluster.clusterInfo()));
    vertx.setPeriodic(Math.max(1, Math.min(PENDING_WRITES_SWEEP_MILLIS_MAX, requestTimeoutMillis / 10)),
        t -> failExpiredWrites());
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    stopping = true;
    if (!committing) {
      // The final commit (when the store closes) must carry the index of what it holds.
      store.setConsistentIndex(appliedIndex);
      return Future.succeededFuture();
    }
    idle = io.vertx.core.Promise.promise();
    return idle.future();
  }

  // ---- writes ----

  private void onWrite(Message<Commands.Write> message) {
    if (pendingWrites.size() >= PENDING_WRITES_MAX) {
      fail(message, Errors.TOO_MANY_REQUESTS);
      return;
    }
    InternalRequest incoming = message.body().request();
    if (quotaChecked(incoming) && overQuota(quotaCost(incoming))) {
      fail(message, Errors.NO_SPACE);
      return;
    }
    long requestId = nextRequestId++;
    InternalRequest request = incoming.toBuilder()
        .setMemberId(membership.localMemberId()).setRequestId(requestId).build();
    pendingWrites.put(requestId, new PendingWrite(message, System.nanoTime() + requestTimeoutMillis * 1_000_000));
    metrics.proposalsPending.set(pendingWrites.size());
    vertx.eventBus().send(Addresses.RAFT, new Raft.Propose(requestId, request.toByteArray()));
  }

  private void failExpiredWrites() {
    long now = System.nanoTime();
    var oldestFirst = pendingWrites.values().iterator();
    while (oldestFirst.hasNext()) {
      PendingWrite pending = oldestFirst.next();
      if (pending.deadlineNanos - now > 0) {
        return;
      }
      oldestFirst.remove();
      metrics.proposalsPending.set(pendingWrites.size());
      metrics.proposalsFailed.increment();
      fail(pending.message, leaderId == 0 ? Errors.DEADLINE_WITHOUT_LEADER : Errors.TIMEOUT);
    }
  }

  /**
   * etcd's quota check before a request is proposed: the bytes in use plus the request's cost reach
   * the quota. As etcd, the member that finds the quota exceeded raises the NOSPACE alarm through raft.
   */
  private boolean overQuota(long costBytes) {
    if (store.sizeInUseBytes() + costBytes < quotaBytes) {
      return false;
    }
    if (!hasAlarm(AlarmType.NOSPACE)) {
      log.warn("database space exceeded ({} bytes in use, quota {}): raising the NOSPACE alarm",
          store.sizeInUseBytes(), quotaBytes);
      vertx.eventBus().send(Addresses.APPLY_WRITE, new Commands.Write(InternalRequest.newBuilder()
          .setAlarm(AlarmRequest.newBuilder().setAction(AlarmRequest.AlarmAction.ACTIVATE)
              .setMemberID(membership.localMemberId()).setAlarm(AlarmType.NOSPACE)).build()));
    }
    return true;
  }

  private void onFromRaft(Message<Object> message) {
    Object body = message.body();
    if (body instanceof Raft.Committed committed) {
      applyQueue.add(committed);
      drainApplyQueue();
    } else if (body instanceof Raft.PrepareSnapshot || body instanceof Raft.InstallSnapshot) {
      applyQueue.add(message);
      drainApplyQueue();
    } else if (body instanceof Raft.ProposeFailed failed) {
      PendingWrite pending = pendingWrites.remove(failed.requestId());
      if (pending == null) {
        cluster.onProposeFailed(failed.requestId());
      } else {
        metrics.proposalsPending.set(pendingWrites.size());
        metrics.proposalsFailed.increment();
        fail(pending.message, failed.noLeaderInTime() ? Errors.DEADLINE_WITHOUT_LEADER : Errors.NO_LEADER);
      }
    } else if (body instanceof Raft.ReadIndexDone done) {
      onReadIndexDone(done.context(), done.index());
    } else if (body instanceof Raft.ReadIndexFailed failed) {
      metrics.readIndexesFailed.increment();
      onReadIndexFailed(failed.context(), leaderId == 0 ? Errors.NO_LEADER : Errors.TIMEOUT);
    } else if (body instanceof Raft.State state) {
      onRaftState(state);
    }
  }

  /** Where the transport asks for the cluster id and members, for a joining member. */
  static final String CLUSTER_INFO = "vetcd.cluster.info";

  /** The members as the applied log says, with the names and client URLs they published through raft. */
  private List<io.vetcd.pb.Member> members() {
    return memberTable.members();
  }

  /**
   * Once there is a leader, proposes this member's name and client URLs (retrying until applied).
   * Not persisted: every member publishes again each time it starts.
   */
  private void publishAttributes() {
    if (attributesPublishing) {
      return;
    }
    attributesPublishing = true;
    io.vetcd.pb.Member self = membership.members().stream()
        .filter(m -> m.getID() == membership.localMemberId()).findFirst().orElse(null);
    if (self == null) {
      return;
    }
    InternalRequest publish = InternalRequest.newBuilder().setMemberAttributes(io.vetcd.pb.Member.newBuilder()
        .setID(self.getID()).setName(self.getName()).addAllClientURLs(self.getClientURLsList())).build();
    vertx.eventBus().request(Addresses.APPLY_WRITE, new Commands.Write(publish)).onComplete(ar -> {
      if (ar.failed()) {
        vertx.setTimer(500, t -> {
          attributesPublishing = false;
          publishAttributes();
        });
      }
    });
  }

  private void onRaftState(Raft.State state) {
    if (state.leaderId() != 0) {
      publishAttributes();
    }
    boolean wasLeader = leader;
    term = state.term();
    leaderId = state.leaderId();
    commitIndex = state.commitIndex();
    leader = state.leader();
    if (leader && !wasLeader) {
      lessor.promote(nowMillis(), electionTimeoutMillis);
    } else if (!leader && wasLeader) {
      lessor.demote();
    }
    if (leaderId != 0) {
      retryCallsWaitingForLeader();
    }
  }

  private void drainApplyQueue() {
    if (committing || stopping) {
      return;
    }
    while (!applyQueue.isEmpty() && applyQueue.peek() instanceof Raft.Committed) {
      Raft.Committed batch = (Raft.Committed) applyQueue.poll();
      term = Math.max(term, batch.term());
      for (Entry entry : batch.entries()) {
        applyEntry(entry);
      }
    }
    flushWatchBatch();
    serveReadsWaitingForApply();
    if (!dirty && !applyQueue.isEmpty()) {
      @SuppressWarnings("unchecked")
      Message<Object> work = (Message<Object>) applyQueue.poll();
      snapshotWork(work);
      return;
    }
    if (dirty) {
      dirty = false;
      store.setConsistentIndex(appliedIndex);
      memberTable.setAppliedTerm(appliedTerm);
      long commitStartNanos = System.nanoTime();
      store.commit();
      metrics.backendCommitSeconds.observeNanos(System.nanoTime() - commitStartNanos);
      if (snapshots != null && appliedIndex - lastSnapshotIndex >= snapshotCount) {
        checkpoint();
      }
    }
  }

  /**
   * Every {@code --snapshot-count} applied entries: writes the store to a snapshot file (fsynced),
   * then lets raft drop the log before it, keeping a tail for followers that are only a little
   * behind (etcd keeps 5000 entries). The snapshot file and the WAL after it are the durable
   * state: a store that was not closed cleanly is rebuilt from them. No write runs meanwhile.
   */
  private void checkpoint() {
    committing = true;
    long index = appliedIndex;
    long snapTerm = appliedTerm;
    List<Long> voters = memberTable.voters();
    List<Long> learners = memberTable.learners();
    vertx.executeBlocking(() -> {
      long startNanos = System.nanoTime();
      Snapshots.Info written = snapshots.write(store, index, snapTerm, voters, learners);
      metrics.snapshotSaveSeconds.observeNanos(System.nanoTime() - startNanos);
      return written;
    }, false)
        .onComplete(ar -> {
          if (ar.failed()) {
            // Without a snapshot the log must stay whole; a disk that cannot take one is a member in trouble.
            log.error("cannot write the store snapshot at index {}; stopping the member", index, ar.cause());
            Runtime.getRuntime().halt(70);
          }
          lastSnapshotIndex = index;
          long keep = Math.min(5000, snapshotCount / 2);
          if (index - keep > 0) {
            vertx.eventBus().send(Addresses.RAFT, new Raft.Compact(index - keep));
          }
          afterSnapshotWork();
        });
  }

  /**
   * Snapshot work, with no write in flight and the store committed at the applied index: write a
   * store snapshot for a lagging follower, or replace the store by the leader's.
   */
  private void snapshotWork(Message<Object> work) {
    committing = true;
    if (work.body() instanceof Raft.PrepareSnapshot prepare) {
      Snapshots.Info latest = snapshots == null ? null : snapshots.latest();
      if (latest != null && latest.index() >= prepare.minIndex()) {
        work.reply(ready(latest));
        committing = false;
        drainApplyQueue();
        return;
      }
      long index = appliedIndex;
      long snapTerm = appliedTerm;
      List<Long> voters = memberTable.voters();
      List<Long> learners = memberTable.learners();
      vertx.executeBlocking(() -> snapshots.write(store, index, snapTerm, voters, learners), false)
          .onComplete(ar -> {
            if (ar.succeeded()) {
              work.reply(ready(ar.result()));
            } else {
              log.error("cannot write a store snapshot", ar.cause());
              work.fail(1, String.valueOf(ar.cause().getMessage()));
            }
            afterSnapshotWork();
          });
    } else if (work.body() instanceof Raft.InstallSnapshot install) {
      long revisionBefore = store.currentRevision();
      whileStoreLocked(() -> {
        store.replaceFrom(java.nio.file.Path.of(install.path()));
        store.commit();
        MemberTable installedMembers = new MemberTable(store.clusterTable());
        snapshots.adopt(java.nio.file.Path.of(install.path()), store.consistentIndex(), installedMembers.appliedTerm(),
            installedMembers.voters(), installedMembers.learners());
        return null;
      }, ar -> {
        if (ar.failed()) {
          log.error("cannot install the store snapshot", ar.cause());
          work.fail(1, String.valueOf(ar.cause().getMessage()));
        } else {
          installed(install.index(), revisionBefore);
          Map<Long, List<String>> peerUrls = new HashMap<>();
          for (io.vetcd.pb.Member m : memberTable.members()) {
            peerUrls.put(m.getID(), m.getPeerURLsList());
          }
          work.reply(new Raft.Installed(appliedIndex, peerUrls, memberTable.removed()));
        }
        afterSnapshotWork();
      });
    } else if (work.body() instanceof Commands.Backup) {
      backup(work);
    } else if (work.body() instanceof Commands.Defragment) {
      long startNanos = System.nanoTime();
      long before = store.sizeBytes();
      whileStoreLocked(() -> {
        store.defragment();
        return null;
      }, ar -> {
        if (ar.succeeded()) {
          log.info("defragmented the store: {} -> {} bytes in {} ms", before, store.sizeBytes(),
              (System.nanoTime() - startNanos) / 1_000_000);
          work.reply(io.vetcd.pb.DefragmentResponse.newBuilder().build()); // etcd answers {} (no header)
        } else {
          log.error("defragmentation failed", ar.cause());
          work.fail(2, String.valueOf(ar.cause().getMessage()));
        }
        afterSnapshotWork();
      });
    } else {
      committing = false;
      drainApplyQueue();
    }
  }

  /** A backup for Maintenance.Snapshot: the store as committed now, in etcd's format, on a worker. */
  private void backup(Message<Object> work) {
    if (snapshots == null) {
      work.fail(1, "snapshots are not set up on this member");
      afterSnapshotWork();
      return;
    }
    vertx.executeBlocking(() -> {
      java.nio.file.Path file = snapshots.newBackupFile();
      try {
        EtcdBackup.Written written = EtcdBackup.write(store, file);
        return new Commands.BackupWritten(file.toString(), written.sizeBytes(), written.sha256());
      } catch (java.io.IOException | RuntimeException e) {
        java.nio.file.Files.deleteIfExists(file);
        throw e;
      }
    }, false).onComplete(ar -> {
      if (ar.succeeded()) {
        work.reply(ar.result());
      } else {
        log.error("cannot write a backup", ar.cause());
        work.fail(1, String.valueOf(ar.cause().getMessage()));
      }
      afterSnapshotWork();
    });
  }

  private static Raft.SnapshotReady ready(Snapshots.Info info) {
    return new Raft.SnapshotReady(info.index(), info.term(), info.voters(), info.learners(), info.size());
  }

  private void deferWhileLocked(Message<?> message, Runnable serve) {
    if (deferredWhileLocked.size() >= PENDING_READS_MAX) {
      fail(message, Errors.TOO_MANY_REQUESTS);
    } else {
      deferredWhileLocked.add(serve);
    }
  }

  /**
   * Runs {@code work}, which holds the store's lock for long, on a worker; reads and history wait
   * meanwhile and are served once {@code done} has run (the lease table and members follow the store).
   */
  private <T> void whileStoreLocked(java.util.concurrent.Callable<T> work, io.vertx.core.Handler<io.vertx.core.AsyncResult<T>> done) {
    storeLocked = true;
    vertx.executeBlocking(work, false).onComplete(ar -> {
      storeLocked = false;
      List<Runnable> deferred = new ArrayList<>(deferredWhileLocked);
      deferredWhileLocked.clear();
      try {
        done.handle(ar);
      } finally {
        deferred.forEach(Runnable::run); // each waits again if done started more such work
      }
    });
  }

  private void afterSnapshotWork() {
    committing = false;
    if (stopping) {
      store.setConsistentIndex(appliedIndex);
      if (idle != null) {
        idle.tryComplete();
      }
      return;
    }
    drainApplyQueue();
  }

  /** The store was replaced by the leader's snapshot: the lease table, index and watchers follow it. */
  private void installed(long raftIndex, long revisionBefore) {
    long before = appliedIndex;
    appliedIndex = store.consistentIndex();
    appliedTerm = memberTable.appliedTerm();
    lastSnapshotIndex = appliedIndex;
    if (appliedIndex < raftIndex) {
      throw new IllegalStateException("installed a snapshot at " + appliedIndex + " for raft index " + raftIndex);
    }
    auth.reload();
    for (Lessor.Lease lease : new ArrayList<>(lessor.all())) {
      lessor.revoke(lease.id());
    }
    long now = nowMillis();
    for (Map.Entry<Long, Long> lease : store.leaseTable().entrySet()) {
      lessor.grant(lease.getKey(), lease.getValue(), now);
    }
    store.forEachLeasedKey((key, leaseId) -> {
      if (lessor.exists(leaseId)) {
        lessor.attach(key, leaseId);
      }
    });
    log.info("installed the store snapshot: applied index {} -> {}, revision {}", before, appliedIndex,
        store.currentRevision());
    toWatchers(new Watches.Compacted(store.compactRevision()));
    if (store.currentRevision() > revisionBefore) {
      // Watchers see a jump: they catch up from the store's history (or are told it was compacted).
      toWatchers(new Watches.Revision(store.currentRevision(), List.of(),
          store.compactRevision(), term));
    }
    serveReadsWaitingForApply();
  }

  private void applyEntry(Entry entry) {
    if (entry.index() <= appliedIndex) {
      return; // already in the store (replayed from the WAL after a restart)
    }
    if (entry.index() != appliedIndex + 1) {
      throw new IllegalStateException("apply gap: entry " + entry.index() + " after applied " + appliedIndex);
    }
    appliedIndex = entry.index();
    appliedTerm = entry.term();
    dirty = true;
    if (entry.type() == EntryType.CONF_CHANGE) {
      cluster.apply(io.vetcd.raft.ConfChange.decode(entry.data()));
      return;
    }
    if (entry.type() != EntryType.NORMAL || entry.data() == null || entry.data().length == 0) {
      return;
    }
    InternalRequest request;
    try {
      request = InternalRequest.parseFrom(entry.data());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("corrupt raft entry at index " + entry.index(), e);
    }
    Object result;
    try {
      long applyStartNanos = System.nanoTime();
      result = apply(request, entry);
      if (System.nanoTime() - applyStartNanos > SLOW_APPLY_NANOS) {
        metrics.slowApplies.increment();
      }
    } catch (EtcdException e) {
      result = e;
    } catch (RuntimeException bug) {
      // The same entry fails the same way on every member: answer it as failed and go on with the
      // entries after it (letting the exception out would skip the rest of the batch on this member only).
      log.error("applying raft entry {} failed", entry.index(), bug);
      result = new EtcdException(GrpcCode.INTERNAL, "etcdserver: failed to apply the request: " + bug.getMessage());
    }
    if (request.getMemberId() == membership.localMemberId()) {
      PendingWrite pending = pendingWrites.remove(request.getRequestId());
      if (pending != null) {
        metrics.proposalsPending.set(pendingWrites.size());
        if (result instanceof EtcdException e) {
          fail(pending.message, e);
        } else {
          pending.message.reply(result);
        }
      }
    }
  }

  private Object apply(InternalRequest request, Entry entry) {
    // As etcd's appliers: a raised alarm refuses the writes it stops before anything else is checked.
    if (hasAlarm(AlarmType.CORRUPT) && stoppedByCorruption(request)) {
      throw Errors.CORRUPT;
    }
    if (hasAlarm(AlarmType.NOSPACE) && needsSpace(request)) {
      throw Errors.NO_SPACE;
    }
    // As etcd's auth applier: a client's write is checked against the auth state at this point of the log.
    auth.checkApply(request, this::leaseKeys);
    if (io.vetcd.auth.AuthStore.handles(request)) {
      return auth.apply(request, entry.index(), header());
    }
    switch (request.getRequestCase()) {
      case PUT -> {
        WriteResult<io.vetcd.pb.PutResponse> w = store.put(request.getPut());
        published(w);
        return w.response().toBuilder().setHeader(header()).build();
      }
      case DELETE_RANGE -> {
        WriteResult<io.vetcd.pb.DeleteRangeResponse> w = store.deleteRange(request.getDeleteRange());
        published(w);
        return w.response().toBuilder().setHeader(header()).build();
      }
      case TXN -> {
        WriteResult<io.vetcd.pb.TxnResponse> w = store.txn(request.getTxn());
        published(w);
        return w.response().toBuilder().setHeader(header()).build();
      }
      case COMPACTION -> {
        store.compact(request.getCompaction().getRevision());
        toWatchers(new Watches.Compacted(store.compactRevision()));
        return CompactionResponse.newBuilder().setHeader(header()).build();
      }
      case LEASE_GRANT -> {
        return grant(request.getLeaseGrant(), entry, request.getMemberId());
      }
      case LEASE_REVOKE -> {
        long id = request.getLeaseRevoke().getID();
        List<ByteString> keys = lessor.revoke(id);
        metrics.leasesRevoked.increment();
        store.leaseTable().remove(id);
        if (!keys.isEmpty()) {
          published(store.deleteKeys(keys));
        }
        return LeaseRevokeResponse.newBuilder().setHeader(header()).build();
      }
      case ALARM -> {
        return applyAlarm(request.getAlarm());
      }
      case MEMBER_ATTRIBUTES -> {
        io.vetcd.pb.Member attributes = request.getMemberAttributes();
        io.vetcd.pb.Member known = memberTable.get(attributes.getID());
        if (known != null) {
          memberTable.put(known.toBuilder().setName(attributes.getName()).clearClientURLs()
              .addAllClientURLs(attributes.getClientURLsList()).build());
        }
        return MemberListResponse.newBuilder().setHeader(header()).addAllMembers(members()).build();
      }
      case HEALTH_CHECK -> {
        return io.vetcd.pb.RangeResponse.newBuilder().setHeader(header()).build();
      }
      default -> throw new IllegalStateException("unknown request in raft entry " + entry.index());
    }
  }

  private List<ByteString> leaseKeys(long leaseId) {
    Lessor.Lease lease = lessor.get(leaseId);
    return lease == null ? List.of() : lease.keys();
  }

  /** Writes to the data and leases: refused while the CORRUPT alarm is raised (reads are still served). */
  private static boolean stoppedByCorruption(InternalRequest request) {
    return switch (request.getRequestCase()) {
      case PUT, DELETE_RANGE, TXN, COMPACTION, LEASE_GRANT, LEASE_REVOKE -> true;
      default -> false;
    };
  }

  /** Requests that grow the store: refused while the NOSPACE alarm is raised. */
  private static boolean needsSpace(InternalRequest request) {
    return switch (request.getRequestCase()) {
      case PUT, LEASE_GRANT -> true;
      case TXN -> hasPut(request.getTxn());
      default -> false;
    };
  }

  private static boolean hasPut(TxnRequest txn) {
    for (List<RequestOp> ops : List.of(txn.getSuccessList(), txn.getFailureList())) {
      for (RequestOp op : ops) {
        if (op.hasRequestPut() || (op.hasRequestTxn() && hasPut(op.getRequestTxn()))) {
          return true;
        }
      }
    }
    return false;
  }

  /** The requests etcd checks against the quota before proposing them (a txn even without puts). */
  private static boolean quotaChecked(InternalRequest request) {
    return switch (request.getRequestCase()) {
      case PUT, LEASE_GRANT, TXN -> true;
      default -> false;
    };
  }

  /** What etcd's quota charges a request: a put 256 bytes over its key and value, a lease 64. */
  private static long quotaCost(InternalRequest request) {
    return switch (request.getRequestCase()) {
      case PUT -> putCost(request.getPut());
      case LEASE_GRANT -> 64;
      case TXN -> Math.max(putsCost(request.getTxn().getSuccessList()), putsCost(request.getTxn().getFailureList()));
      default -> 0;
    };
  }

  /** The puts of one branch (as etcd, those of nested txns are not counted). */
  private static long putsCost(List<RequestOp> ops) {
    long cost = 0;
    for (RequestOp op : ops) {
      if (op.hasRequestPut()) {
        cost += putCost(op.getRequestPut());
      }
    }
    return cost;
  }

  private static long putCost(io.vetcd.pb.PutRequest put) {
    return 256L + put.getKey().size() + put.getValue().size();
  }

  private boolean hasAlarm(AlarmType type) {
    for (int bits : store.alarmTable().values()) {
      if ((bits & (1 << type.getNumber())) != 0) {
        return true;
      }
    }
    return false;
  }

  private List<AlarmMember> alarms() {
    List<AlarmMember> alarms = new ArrayList<>();
    for (Map.Entry<Long, Integer> e : store.alarmTable().entrySet()) {
      for (AlarmType type : AlarmType.values()) {
        if (type != AlarmType.UNRECOGNIZED && type != AlarmType.NONE && (e.getValue() & (1 << type.getNumber())) != 0) {
          alarms.add(AlarmMember.newBuilder().setMemberID(e.getKey()).setAlarm(type).build());
        }
      }
    }
    return alarms;
  }

  private AlarmResponse applyAlarm(AlarmRequest request) {
    AlarmResponse.Builder response = AlarmResponse.newBuilder();
    Map<Long, Integer> table = store.alarmTable();
    int bit = 1 << request.getAlarm().getNumber();
    AlarmMember member = AlarmMember.newBuilder().setMemberID(request.getMemberID()).setAlarm(request.getAlarm()).build();
    switch (request.getAction()) {
      case ACTIVATE -> {
        if (request.getAlarm() != AlarmType.NONE) {
          int before = table.getOrDefault(request.getMemberID(), 0);
          table.put(request.getMemberID(), before | bit);
          if ((before & bit) == 0) {
            log.warn("alarm {} raised by member {}", request.getAlarm(), Long.toHexString(request.getMemberID()));
          }
          response.addAlarms(member);
        }
      }
      case DEACTIVATE -> {
        int before = table.getOrDefault(request.getMemberID(), 0);
        if ((before & bit) != 0) {
          if ((before & ~bit) == 0) {
            table.remove(request.getMemberID());
          } else {
            table.put(request.getMemberID(), before & ~bit);
          }
          log.info("alarm {} of member {} cleared", request.getAlarm(), Long.toHexString(request.getMemberID()));
          response.addAlarms(member);
        }
      }
      default -> response.addAllAlarms(alarms());
    }
    return response.build(); // etcd's Alarm answers carry no header
  }

  private LeaseGrantResponse grant(LeaseGrantRequest request, Entry entry, long proposerId) {
    long id = request.getID();
    if (id == 0) {
      // Chosen at apply time from the proposer and the entry's index, so every member picks the same id.
      id = ((proposerId & 0x7fffL) << 48) | (entry.index() & 0xffff_ffff_ffffL);
      while (id == 0 || lessor.exists(id)) {
        id = (id + 1) & Long.MAX_VALUE;
      }
    }
    Lessor.Lease lease = lessor.grant(id, request.getTTL(), nowMillis());
    metrics.leasesGranted.increment();
    store.leaseTable().put(id, lease.ttlSeconds());
    return LeaseGrantResponse.newBuilder().setHeader(header()).setID(id).setTTL(lease.ttlSeconds()).build();
  }

  /** Keeps the lease attachments in step with a write and hands its events to the watchers. */
  private void published(WriteResult<?> w) {
    if (w.events().isEmpty()) {
      return;
    }
    for (Event event : w.events()) {
      if (event.getType() == Event.EventType.PUT) {
        lessor.attach(event.getKv().getKey(), event.getKv().getLease());
      } else {
        lessor.detach(event.getKv().getKey());
      }
    }
    watchBatch.add(new Watches.Revision(w.revision(), w.events(), store.compactRevision(), term));
    if (watchBatch.size() >= WATCH_BATCH_REVISIONS_MAX) {
      flushWatchBatch();
    }
  }

  /** A message for the watch verticle, after the revisions applied before it. */
  private void toWatchers(Object message) {
    flushWatchBatch();
    vertx.eventBus().send(Addresses.WATCH, message);
  }

  /** Hands the revisions applied so far to the watchers, before anything else goes to them. */
  private void flushWatchBatch() {
    if (watchBatch.isEmpty()) {
      return;
    }
    Object message = watchBatch.size() == 1 ? watchBatch.get(0) : new Watches.Revisions(watchBatch);
    watchBatch.clear();
    vertx.eventBus().send(Addresses.WATCH, message);
  }

  // ---- reads ----

  private void onRead(Message<Commands.Read> message) {
    if (message.body().request() instanceof LeaseTimeToLiveRequest ttl && !leader) {
      // Only the leader knows the remaining TTL: ask it.
      forwardToLeader(message, FORWARD_TIME_TO_LIVE, ttl.toByteArray(), LeaseTimeToLiveResponse::parseFrom,
          () -> onRead(message));
      return;
    }
    if (message.body().request() instanceof TxnRequest && overQuota(0)) {
      fail(message, Errors.NO_SPACE); // etcd checks every txn against the quota, a read-only one too (cost 0)
      return;
    }
    if (!message.body().linearizable()) {
      serveRead(message);
      return;
    }
    if (readsQueued.size() >= PENDING_READS_MAX) {
      fail(message, Errors.TOO_MANY_REQUESTS);
      return;
    }
    readsQueued.add(message);
    requestReadIndexIfIdle();
  }

  /** One read index round serves every read queued while the previous round was in flight. */
  private void requestReadIndexIfIdle() {
    if (readContextInFlight != 0 || readsQueued.isEmpty()) {
      return;
    }
    readContextInFlight = nextReadContext++;
    readsInFlight = readsQueued;
    readsQueued = new ArrayList<>();
    long context = readContextInFlight;
    vertx.eventBus().send(Addresses.RAFT, new Raft.ReadIndex(context));
    vertx.setTimer(requestTimeoutMillis, t -> {
      if (readContextInFlight == context) {
        // etcd answers a read index that never came (no leader included) with its request timeout.
        metrics.slowReadIndexes.increment();
        onReadIndexFailed(context, Errors.TIMEOUT);
      }
    });
  }

  private void onReadIndexDone(long context, long index) {
    if (context != readContextInFlight) {
      return;
    }
    readsWaitingForApply.add(new WaitingReads(index, readsInFlight));
    readsInFlight = List.of();
    readContextInFlight = 0;
    serveReadsWaitingForApply();
    requestReadIndexIfIdle();
  }

  private void onReadIndexFailed(long context, EtcdException error) {
    if (context != readContextInFlight) {
      return;
    }
    for (Message<Commands.Read> read : readsInFlight) {
      fail(read, error);
    }
    readsInFlight = List.of();
    readContextInFlight = 0;
    requestReadIndexIfIdle();
  }

  private void serveReadsWaitingForApply() {
    while (!readsWaitingForApply.isEmpty() && readsWaitingForApply.peek().index <= appliedIndex) {
      for (Message<Commands.Read> read : readsWaitingForApply.poll().reads) {
        serveRead(read);
      }
    }
  }

  private void serveRead(Message<Commands.Read> message) {
    if (storeLocked) {
      deferWhileLocked(message, () -> serveRead(message));
      return;
    }
    try {
      message.reply(read(message.body().request()));
    } catch (EtcdException e) {
      fail(message, e);
    } catch (RuntimeException e) {
      log.error("read failed", e);
      fail(message, new EtcdException(GrpcCode.INTERNAL, String.valueOf(e.getMessage())));
    }
  }

  private Object read(com.google.protobuf.Message request) {
    if (request instanceof RangeRequest range) {
      return store.range(range).setHeader(header()).build();
    }
    if (request instanceof TxnRequest txn) {
      return store.txn(txn).response().toBuilder().setHeader(header()).build(); // read-only: changes nothing
    }
    if (request instanceof LeaseTimeToLiveRequest ttl) {
      LeaseTimeToLiveResponse.Builder response = LeaseTimeToLiveResponse.newBuilder().setHeader(header())
          .setID(ttl.getID());
      Lessor.Lease lease = lessor.get(ttl.getID());
      if (lease == null) {
        return response.setTTL(-1).build();
      }
      response.setTTL(lessor.remainingSeconds(ttl.getID(), nowMillis())).setGrantedTTL(lease.ttlSeconds());
      if (ttl.getKeys()) {
        response.addAllKeys(lease.keys());
      }
      return response.build();
    }
    if (request instanceof LeaseLeasesRequest) {
      LeaseLeasesResponse.Builder response = LeaseLeasesResponse.newBuilder().setHeader(header());
      // As etcd: the leases that expire first come first.
      lessor.all().stream()
          .sorted(java.util.Comparator.comparingLong(Lessor.Lease::expiryMillis).thenComparingLong(Lessor.Lease::id))
          .forEach(lease -> response.addLeases(LeaseStatus.newBuilder().setID(lease.id())));
      return response.build();
    }
    if (request instanceof MemberListRequest) {
      // etcd's cluster API header carries no revision.
      return MemberListResponse.newBuilder().setHeader(header().toBuilder().clearRevision())
          .addAllMembers(members()).build();
    }
    if (request instanceof StatusRequest) {
      return StatusResponse.newBuilder().setHeader(header()).setVersion(VERSION).setDbSize(store.sizeBytes())
          .setDbSizeInUse(store.sizeInUseBytes() + EMPTY_STORE_IN_USE_BYTES).setLeader(leaderId).setRaftIndex(Math.max(commitIndex, appliedIndex))
          .setRaftTerm(term).setRaftAppliedIndex(appliedIndex).addAllErrors(statusErrors())
          .setIsLearner(memberTable.learners().contains(membership.localMemberId())).build();
    }
    if (request instanceof HashKVRequest hashKv) {
      int hash = store.hashKv(hashKv.getRevision());
      return HashKVResponse.newBuilder().setHeader(header()).setHash(hash)
          .setCompactRevision(store.compactRevision()).build();
    }
    if (request instanceof HashRequest) {
      return HashResponse.newBuilder().setHeader(header()).setHash(store.hash()).build();
    }
    if (request instanceof io.vetcd.pb.DefragmentRequest) {
      return io.vetcd.pb.DefragmentResponse.newBuilder().build(); // etcd answers {} (no header)
    }
    if (request instanceof AlarmRequest) {
      return AlarmResponse.newBuilder().addAllAlarms(alarms()).build(); // no header, as etcd
    }
    throw new EtcdException(GrpcCode.UNIMPLEMENTED, "unknown read " + request.getClass().getSimpleName());
  }

  /** What etcd lists under Status errors: no leader, and every raised alarm in protobuf text form. */
  private List<String> statusErrors() {
    List<String> errors = new ArrayList<>();
    if (leaderId == 0) {
      errors.add(Errors.NO_LEADER.getMessage());
    }
    for (AlarmMember alarm : alarms()) {
      // Go's compact text of the AlarmMember, which leaves out a field at its zero value
      errors.add((alarm.getMemberID() == 0 ? "" : "memberID:" + Long.toUnsignedString(alarm.getMemberID()) + " ")
          + "alarm:" + alarm.getAlarm() + " ");
    }
    return errors;
  }

  // ---- leases ----

  private void onKeepAlive(Message<Commands.KeepAlive> message) {
    long id = message.body().leaseId();
    if (!leader) {
      // Only the leader tracks deadlines: a follower forwards the renewal to it.
      forwardToLeader(message, FORWARD_KEEP_ALIVE,
          io.vetcd.pb.LeaseKeepAliveRequest.newBuilder().setID(id).build().toByteArray(),
          LeaseKeepAliveResponse::parseFrom, () -> onKeepAlive(message));
      return;
    }
    message.reply(keepAlive(id));
  }

  private LeaseKeepAliveResponse keepAlive(long id) {
    LeaseKeepAliveResponse.Builder response = LeaseKeepAliveResponse.newBuilder().setID(id);
    try {
      response.setTTL(lessor.renew(id, nowMillis()));
      metrics.leasesRenewed.increment();
    } catch (EtcdException notFound) {
      response.setTTL(0); // etcd answers a keep-alive of an unknown lease with TTL 0
    }
    return response.setHeader(header()).build();
  }

  /** A call for the leader that came while there was none: its retry and its timeout timer. */
  private record WaitingForLeader(Runnable retry, long timerId) {}

  /** Bounded: at most {@link #WAITING_FOR_LEADER_MAX}; each leaves at its timeout or when a leader is known. */
  private final Map<Message<?>, WaitingForLeader> waitingForLeader = new java.util.LinkedHashMap<>();
  private static final int WAITING_FOR_LEADER_MAX = 10_000;

  /**
   * As etcd's LeaseRenew and LeaseTimeToLive: a call only the leader answers waits for a leader up to
   * the request timeout (an election usually ends well before), then fails with "no leader".
   */
  private void waitForLeader(Message<?> message, Runnable retry) {
    if (waitingForLeader.size() >= WAITING_FOR_LEADER_MAX) {
      fail(message, Errors.NO_LEADER);
      return;
    }
    long timerId = vertx.setTimer(requestTimeoutMillis, t -> {
      if (waitingForLeader.remove(message) != null) {
        fail(message, Errors.NO_LEADER);
      }
    });
    waitingForLeader.put(message, new WaitingForLeader(retry, timerId));
  }

  private void retryCallsWaitingForLeader() {
    if (waitingForLeader.isEmpty()) {
      return;
    }
    List<WaitingForLeader> waiting = new ArrayList<>(waitingForLeader.values());
    waitingForLeader.clear();
    for (WaitingForLeader w : waiting) {
      vertx.cancelTimer(w.timerId());
      w.retry().run();
    }
  }

  // ---- calls only the leader answers, forwarded by followers ----

  private static final byte FORWARD_KEEP_ALIVE = 1;
  private static final byte FORWARD_TIME_TO_LIVE = 2;

  private interface Parser<T> {
    T parse(byte[] bytes) throws InvalidProtocolBufferException;
  }

  private <T extends com.google.protobuf.Message> void forwardToLeader(Message<?> message, byte kind, byte[] request,
      Parser<T> parser, Runnable retryWhenLeaderKnown) {
    if (leaderId == 0) {
      waitForLeader(message, retryWhenLeaderKnown);
      return;
    }
    byte[] payload = new byte[request.length + 1];
    payload[0] = kind;
    System.arraycopy(request, 0, payload, 1, request.length);
    vertx.eventBus().<byte[]>request(Addresses.RAFT_FORWARD, new Raft.ForwardToLeader(payload)).onComplete(ar -> {
      if (ar.failed()) {
        if (ar.cause() instanceof io.vertx.core.eventbus.ReplyException r
            && r.failureType() == io.vertx.core.eventbus.ReplyFailure.RECIPIENT_FAILURE) {
          message.fail(r.failureCode(), r.getMessage());
        } else {
          fail(message, Errors.TIMEOUT);
        }
        return;
      }
      try {
        T answer = parser.parse(ar.result().body());
        // The header is this member's, as etcd's forwarding follower answers.
        com.google.protobuf.Message.Builder b = answer.toBuilder();
        b.setField(b.getDescriptorForType().findFieldByName("header"), header());
        message.reply(b.build());
      } catch (InvalidProtocolBufferException e) {
        fail(message, new EtcdException(GrpcCode.INTERNAL, "malformed answer from the leader"));
      }
    });
  }

  private void onForwarded(Message<byte[]> message) {
    if (!leader) {
      fail(message, leaderId == 0 ? Errors.NO_LEADER : Errors.NOT_LEADER);
      return;
    }
    byte[] payload = message.body();
    try {
      byte[] request = java.util.Arrays.copyOfRange(payload, 1, payload.length);
      switch (payload[0]) {
        case FORWARD_KEEP_ALIVE -> message.reply(
            keepAlive(io.vetcd.pb.LeaseKeepAliveRequest.parseFrom(request).getID()).toByteArray());
        case FORWARD_TIME_TO_LIVE -> message.reply(
            ((com.google.protobuf.Message) read(LeaseTimeToLiveRequest.parseFrom(request))).toByteArray());
        case ClusterService.FORWARD_MEMBER_CHANGE -> cluster.onForwarded(payload, message);
        default -> fail(message, new EtcdException(GrpcCode.UNIMPLEMENTED, "unknown forwarded call " + payload[0]));
      }
    } catch (InvalidProtocolBufferException | ArrayIndexOutOfBoundsException e) {
      fail(message, new EtcdException(GrpcCode.INVALID_ARGUMENT, "malformed forwarded call"));
    }
  }

  private void onExpiredLeases(Message<Commands.ExpiredLeases> message) {
    List<Long> expired = lessor.isPrimary()
        ? lessor.expired(nowMillis(), message.body().max(), electionTimeoutMillis * 2)
        : List.of();
    message.reply(new Commands.ExpiredLeasesResult(expired));
  }

  // ---- history for watchers ----

  private void onHistory(Message<Commands.History> message) {
    if (storeLocked) {
      deferWhileLocked(message, () -> onHistory(message));
      return;
    }
    Commands.History h = message.body();
    long to = Math.min(h.toRevision(), store.currentRevision());
    to = Math.min(to, h.fromRevision() + h.maxRevisions() - 1);
    try {
      List<Event> events = store.history(h.fromRevision(), to, h.maxRevisions());
      message.reply(new Commands.HistoryResult(h.fromRevision(), to, events));
    } catch (EtcdException e) {
      fail(message, e);
    }
  }

  // ---- helpers ----

  private ResponseHeader header() {
    return ResponseHeader.newBuilder().setClusterId(membership.clusterId()).setMemberId(membership.localMemberId())
        .setRevision(store.currentRevision()).setRaftTerm(term).build();
  }

  private static long nowMillis() {
    return System.nanoTime() / 1_000_000;
  }

  static void fail(Message<?> message, EtcdException e) {
    message.fail(e.code().number, e.getMessage());
  }
}
