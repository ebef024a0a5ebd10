package io.vetcd.server;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vetcd.bus.Addresses;
import io.vetcd.bus.Raft;
import io.vetcd.bus.RaftStatus;
import io.vetcd.peer.PeerRequestException;
import io.vetcd.peer.PeerTransport;
import io.vetcd.raft.ConfChange;
import io.vetcd.raft.Entry;
import io.vetcd.raft.EntryType;
import io.vetcd.raft.ProposalDroppedException;
import io.vetcd.raft.RaftNode;
import io.vetcd.raft.ReadState;
import io.vetcd.raft.Ready;
import io.vetcd.raft.Role;
import io.vetcd.wal.Wal;
import io.vetcd.wal.WalEntry;
import io.vetcd.wal.WalHardState;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives the pure raft node: ticks it, feeds it proposals and read-index requests, and handles its
 * Ready output — entries and hard state to the WAL (fsync on a worker thread), committed entries to
 * the apply verticle, read states back to the waiting reads.
 *
 * <p>Group commit: while one fsync runs, new proposals and inbound peer messages are only queued;
 * when it finishes they all enter the raft node together and the next Ready persists them with a
 * single fsync. Peer messages of a Ready go out only once its entries and hard state are durable.
 *
 * <p>Without a known leader, proposals and read-index requests wait (up to an election timeout or
 * two) for one to be elected rather than failing at once. A read-index request lost with a leader
 * change is asked again of the new leader.
 */
public final class RaftVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(RaftVerticle.class);
  private static final int QUEUED_PROPOSALS_MAX = 50_000;
  private static final int QUEUED_PEER_MESSAGES_MAX = 20_000;
  /** A read-index request still unanswered after this long is forgotten (the reader has timed out). */
  private static final long OUTSTANDING_READ_MILLIS_MAX = 15_000;
  private static final long FORWARD_TIMEOUT_MILLIS = 5_000;

  /** Where the peers are: the cluster id, the URLs to listen on, and each other member's peer URLs. */
  public record Peers(long clusterId, List<URI> listenUrls, Map<Long, List<String>> peerUrls, Tls tls) {
    public Peers(long clusterId, List<URI> listenUrls, Map<Long, List<String>> peerUrls) {
      this(clusterId, listenUrls, peerUrls, null);
    }
  }

  private record Held<T>(T item, long sinceMillis) {}

  private final RaftNode node;
  private final Wal wal;
  private final long heartbeatIntervalMillis;
  private final long electionTimeoutMillis;
  /**
   * How long a proposal or read waits here for a leader. etcd blocks a request until its deadline
   * while there is no leader, so the member's request timeout is the natural bound.
   */
  private long holdWithoutLeaderMillis;
  private final boolean singleVoter;
  private final Peers peers;
  private PeerTransport transport;

  private final List<Held<Raft.Propose>> queuedProposals = new ArrayList<>();
  private final List<Held<Raft.ProposeConfChange>> queuedConfChanges = new ArrayList<>();
  private Snapshots snapshots;
  private io.vetcd.metrics.MemberMetrics metrics;
  private long probeTimerId = -1;
  private Runnable onRemoved = () -> { };
  private final java.util.Set<Long> removed = new java.util.HashSet<>();
  /** Compact the raft log and the WAL up to here at the next Ready (0: nothing asked). */
  private long compactTo;
  /** SNAPSHOT messages waiting for the store snapshot being prepared. */
  private List<io.vetcd.raft.Message> snapshotsToSend;
  private final List<Held<Raft.ReadIndex>> queuedReads = new ArrayList<>();
  private final List<io.vetcd.raft.Message> queuedPeerMessages = new ArrayList<>();
  /** Read-index contexts asked of raft and not yet answered, with when they were (last) asked. */
  private final Map<Long, Long> outstandingReads = new LinkedHashMap<>();
  private long droppedPeerMessages;
  private final List<Message<Raft.TransferLeader>> pendingTransfers = new ArrayList<>();
  private final Map<Message<Raft.TransferLeader>, Long> transferTimers = new java.util.HashMap<>();
  private int queuedTicks;
  private boolean persisting;
  /** The one thread that writes and fsyncs the WAL: kept warm, and the WAL is touched by one thread only. */
  private WalThread walThread;
  /** Term and vote of the last synced hard state (a change of either must be synced before any message). */
  private long syncedTerm = -1;
  private long syncedVote = -1;
  /** Last raft index durable in the WAL (entries up to here can be applied without waiting for a sync). */
  private long stableIndex;
  private boolean readyScheduled;

  private long lastLeaderId = -1;
  private long lastTerm = -1;
  private long lastCommit = -1;
  private Role lastRole;
  private boolean lastLearner;
  private long timerId;
  private boolean stopping;
  private io.vertx.core.Promise<Void> idle;

  public RaftVerticle(RaftNode node, Wal wal, long heartbeatIntervalMillis, long electionTimeoutMillis,
      boolean singleVoter, Peers peers) {
    this.node = node;
    this.wal = wal;
    this.heartbeatIntervalMillis = heartbeatIntervalMillis;
    this.electionTimeoutMillis = electionTimeoutMillis;
    this.holdWithoutLeaderMillis = 2 * electionTimeoutMillis;
    this.singleVoter = singleVoter;
    this.peers = peers;
    this.stableIndex = node.lastIndex();
  }

  /** How long proposals and reads wait for a leader before they are dropped (default: two election timeouts). */
  public RaftVerticle holdWithoutLeader(long millis) {
    this.holdWithoutLeaderMillis = millis;
    return this;
  }

  /** Where store snapshots are written and fetched (null: this member never sends or installs one). */
  public RaftVerticle snapshots(Snapshots snapshots) {
    this.snapshots = snapshots;
    return this;
  }

  /** Members removed from the cluster (refused by the transport); {@code onRemoved} runs if this one is. */
  public RaftVerticle removed(java.util.Collection<Long> removedIds, Runnable onRemoved) {
    this.removed.addAll(removedIds);
    this.onRemoved = onRemoved;
    return this;
  }

  /** First byte of a peer request that only measures the round trip (answered with itself). */
  static final byte PROBE_REQUEST = 0x21;
  /** How often each peer's round trip is measured (etcd probes its peers every few seconds). */
  private static final long PROBE_INTERVAL_MILLIS = 5_000;

  private void probePeers() {
    io.vetcd.raft.ConfState members = node.confState();
    List<Long> everyone = new ArrayList<>(members.voters());
    everyone.addAll(members.learners());
    for (long peer : everyone) {
      if (peer == node.id()) {
        continue;
      }
      long sentNanos = System.nanoTime();
      transport.request(peer, Buffer.buffer(new byte[] {PROBE_REQUEST}), PROBE_INTERVAL_MILLIS)
          .onSuccess(reply -> metrics.peerRoundTrip(peer, System.nanoTime() - sentNanos));
    }
  }

  @Override
  public Future<?> start() {
    metrics = io.vetcd.metrics.MemberMetrics.of(vertx);
    metrics.walBytesWritten = wal::recordBytesWritten;
    walThread = new WalThread(context, "vetcd-wal-" + Long.toHexString(node.id()));
    probeTimerId = vertx.setPeriodic(PROBE_INTERVAL_MILLIS, t -> probePeers());
    RaftStatus.setLeader(vertx, 0);
    vertx.eventBus().localConsumer(Addresses.RAFT, this::onMessage);
    vertx.eventBus().<Raft.ForwardToLeader>localConsumer(Addresses.RAFT_FORWARD, this::onForward);
    transport = new PeerTransport(vertx, peers.clusterId(), node.id());
    metrics.peerSentBytes = transport::sentBytesByMember;
    metrics.peerReceivedBytes = transport::receivedBytesByMember;
    if (peers.tls() != null) {
      Tls tls = peers.tls();
      try {
        transport.tls((options, url) -> {
          try {
            return tls.apply(options, url);
          } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        }, tls.clientOptions());
      } catch (java.io.IOException e) {
        return Future.failedFuture(e);
      }
    }
    transport.messageHandler(this::onPeerMessage);
    transport.requestHandler(this::onPeerRequest);
    transport.clusterInfo(() -> vertx.eventBus().<Buffer>request(ApplyVerticle.CLUSTER_INFO, "")
        .map(Message::body));
    transport.refuse(removed::contains, () -> {
      log.warn("this member was removed from the cluster: stopping");
      onRemoved.run();
    });
    for (Map.Entry<Long, List<String>> peer : peers.peerUrls().entrySet()) {
      transport.addPeer(peer.getKey(), peer.getValue());
    }
    transport.watchCutFile(System.getProperty("vetcd.test.peerCutFile")); // test-only partitions
    timerId = vertx.setPeriodic(heartbeatIntervalMillis, t -> {
      queuedTicks++;
      pump();
    });
    if (singleVoter) {
      // A cluster of one need not wait an election timeout to elect itself.
      node.campaign();
    }
    pump();
    return transport.listen(peers.listenUrls());
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timerId);
    vertx.cancelTimer(probeTimerId);
    stopping = true;
    Future<Void> closed = transport == null ? Future.succeededFuture() : transport.close();
    if (!persisting) {
      walThread.close();
      return closed;
    }
    idle = io.vertx.core.Promise.promise();
    // the WAL thread ends after the write in flight
    return Future.all(closed, idle.future()).onComplete(v -> walThread.close());
  }

  /** Test-only fault switch: drop all peer traffic to and from these members. */
  public void cutPeers(java.util.Set<Long> memberIds) {
    context.runOnContext(v -> transport.cut(memberIds));
  }

  private void onPeerMessage(io.vetcd.raft.Message m) {
    if (queuedPeerMessages.size() >= QUEUED_PEER_MESSAGES_MAX) {
      if (droppedPeerMessages++ % 1000 == 0) {
        log.warn("inbound peer queue full: dropped {} raft messages", droppedPeerMessages);
      }
      return;
    }
    queuedPeerMessages.add(m);
    pump();
  }

  /** A follower forwards a call to the leader over the peer transport. */
  private void onForward(Message<Raft.ForwardToLeader> message) {
    long leader = node.leaderId();
    if (leader == 0) {
      message.fail(14, "etcdserver: no leader");
      return;
    }
    if (leader == node.id()) {
      // We became the leader meanwhile: answer here.
      vertx.eventBus().<byte[]>request(Addresses.APPLY_FORWARDED, message.body().payload())
          .onComplete(ar -> replyForwarded(message, ar.succeeded() ? ar.result().body() : null, ar.cause()));
      return;
    }
    transport.request(leader, Buffer.buffer(message.body().payload()), FORWARD_TIMEOUT_MILLIS)
        .onComplete(ar -> replyForwarded(message, ar.succeeded() ? ar.result().getBytes() : null, ar.cause()));
  }

  private static void replyForwarded(Message<Raft.ForwardToLeader> message, byte[] answer, Throwable failure) {
    if (failure == null) {
      message.reply(answer);
    } else if (failure instanceof PeerRequestException p) {
      if (p.code() > 0) {
        message.fail(p.code(), p.getMessage());
      } else {
        message.fail(14, "etcdserver: request timed out");
      }
    } else if (failure instanceof ReplyException r && r.failureType() == ReplyFailure.RECIPIENT_FAILURE) {
      message.fail(r.failureCode(), r.getMessage());
    } else {
      message.fail(14, "etcdserver: request timed out");
    }
  }

  /** A peer's forwarded call: answered by the local apply verticle if this member leads. */
  private Future<Buffer> onPeerRequest(Buffer payload) {
    if (payload.length() == 1 && payload.getByte(0) == PROBE_REQUEST) {
      return Future.succeededFuture(payload);
    }
    if (payload.length() == 17 && payload.getByte(0) == Snapshots.CHUNK_REQUEST && snapshots != null) {
      return vertx.executeBlocking(() -> snapshots.chunk(payload), false);
    }
    return vertx.eventBus().<byte[]>request(Addresses.APPLY_FORWARDED, payload.getBytes())
        .<Buffer>map(reply -> Buffer.buffer(reply.body()))
        .recover(e -> {
          if (e instanceof ReplyException r && r.failureType() == ReplyFailure.RECIPIENT_FAILURE) {
            return Future.failedFuture(new PeerRequestException(r.failureCode(), r.getMessage()));
          }
          return Future.failedFuture(new PeerRequestException(14, "etcdserver: request timed out"));
        });
  }

  private void onMessage(Message<Object> message) {
    Object body = message.body();
    if (body instanceof Raft.Propose propose) {
      if (queuedProposals.size() >= QUEUED_PROPOSALS_MAX) {
        vertx.eventBus().send(Addresses.APPLY_FROM_RAFT, new Raft.ProposeFailed(propose.requestId(), "too many"));
        return;
      }
      queuedProposals.add(new Held<>(propose, nowMillis()));
    } else if (body instanceof Raft.ProposeConfChange change) {
      queuedConfChanges.add(new Held<>(change, nowMillis()));
    } else if (body instanceof Raft.Compact compact) {
      compactTo = Math.max(compactTo, compact.index());
    } else if (body instanceof Raft.ActivePeers active) {
      message.reply(transport.activePeers(active.forMillis()));
      return;
    } else if (body instanceof Raft.LearnerProgress progress) {
      long[] match = node.matchIndexes(progress.memberId());
      if (match == null) {
        message.fail(9, "etcdserver: not leader");
      } else {
        message.reply(match);
      }
      return;
    } else if (body instanceof Raft.ReadIndex read) {
      queuedReads.add(new Held<>(read, nowMillis()));
    } else if (body instanceof Raft.TransferLeader transfer) {
      @SuppressWarnings("unchecked")
      Message<Raft.TransferLeader> m = (Message<Raft.TransferLeader>) (Message<?>) message;
      onTransferLeader(m, transfer.targetId());
      return;
    }
    pump();
  }

  /** Feeds queued input to the node and processes its Ready, unless an fsync is in flight. */
  private void pump() {
    if (persisting || readyScheduled || stopping) {
      return;
    }
    readyScheduled = true;
    context.runOnContext(v -> {
      readyScheduled = false;
      if (persisting) {
        return;
      }
      feedNode();
      processReady();
    });
  }

  private void feedNode() {
    long leaderBefore = node.leaderId();
    try {
      for (; queuedTicks > 0; queuedTicks--) {
        node.tick();
      }
      for (io.vetcd.raft.Message m : queuedPeerMessages) {
        if (log.isDebugEnabled()) {
          log.debug("step {}", m);
        }
        node.step(m);
      }
    } catch (IllegalStateException broken) {
      log.error("raft invariant broken; stopping the member", broken);
      Runtime.getRuntime().halt(70);
    }
    queuedPeerMessages.clear();
    long now = nowMillis();
    boolean hasLeader = node.leaderId() != 0;
    long holdMillis = holdWithoutLeaderMillis;
    for (Iterator<Held<Raft.Propose>> it = queuedProposals.iterator(); it.hasNext(); ) {
      Held<Raft.Propose> held = it.next();
      if (!hasLeader && now - held.sinceMillis() < holdMillis) {
        continue; // wait for an election to end
      }
      it.remove();
      if (!hasLeader) {
        // Its wait is over: answered as the apply verticle's own timer answers it, whichever comes first.
        vertx.eventBus().send(Addresses.APPLY_FROM_RAFT,
            new Raft.ProposeFailed(held.item().requestId(), Raft.ProposeFailed.NO_LEADER_IN_TIME));
        continue;
      }
      try {
        node.propose(held.item().data());
      } catch (ProposalDroppedException e) {
        vertx.eventBus().send(Addresses.APPLY_FROM_RAFT, new Raft.ProposeFailed(held.item().requestId(), "dropped"));
      }
    }
    for (Iterator<Held<Raft.ProposeConfChange>> it = queuedConfChanges.iterator(); it.hasNext(); ) {
      Held<Raft.ProposeConfChange> held = it.next();
      if (!hasLeader && now - held.sinceMillis() < holdMillis) {
        continue;
      }
      it.remove();
      try {
        node.proposeConfChange(ConfChange.decode(held.item().data()));
      } catch (ProposalDroppedException e) {
        vertx.eventBus().send(Addresses.APPLY_FROM_RAFT, new Raft.ProposeFailed(held.item().requestId(), "dropped"));
      }
    }
    for (Iterator<Held<Raft.ReadIndex>> it = queuedReads.iterator(); it.hasNext(); ) {
      Held<Raft.ReadIndex> held = it.next();
      if (!hasLeader && now - held.sinceMillis() < holdMillis) {
        continue;
      }
      it.remove();
      if (askReadIndex(held.item().context())) {
        outstandingReads.put(held.item().context(), now);
      }
    }
    // Read-index requests die with a leader change (or a lost message): ask the new leader again.
    boolean leaderChanged = hasLeader && node.leaderId() != leaderBefore;
    for (Iterator<Map.Entry<Long, Long>> it = outstandingReads.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<Long, Long> read = it.next();
      long age = now - read.getValue();
      if (age > OUTSTANDING_READ_MILLIS_MAX) {
        it.remove();
      } else if (hasLeader && (leaderChanged || age > electionTimeoutMillis)) {
        if (askReadIndex(read.getKey())) {
          read.setValue(now);
        } else {
          it.remove();
        }
      }
    }
  }

  /** etcd's MoveLeader: only the leader accepts it; answered once the target leads. */
  private void onTransferLeader(Message<Raft.TransferLeader> message, long target) {
    if (node.role() != Role.LEADER) {
      message.fail(9, "etcdserver: not leader");
      return;
    }
    if (target == node.id()) {
      message.reply(target);
      return;
    }
    if (!node.confState().voters().contains(target)) {
      message.fail(9, "etcdserver: bad leader transferee");
      return;
    }
    node.transferLeadership(target);
    long timer = vertx.setTimer(2 * electionTimeoutMillis + heartbeatIntervalMillis, t -> {
      if (pendingTransfers.remove(message)) {
        message.fail(4, "etcdserver: request timed out, leader transfer took too long");
      }
    });
    pendingTransfers.add(message);
    transferTimers.put(message, timer);
    pump();
  }

  private void answerTransfers(long leaderId) {
    for (Iterator<Message<Raft.TransferLeader>> it = pendingTransfers.iterator(); it.hasNext(); ) {
      Message<Raft.TransferLeader> m = it.next();
      if (m.body().targetId() == leaderId) {
        it.remove();
        Long timer = transferTimers.remove(m);
        if (timer != null) {
          vertx.cancelTimer(timer);
        }
        m.reply(leaderId);
      }
    }
  }

  private boolean askReadIndex(long context) {
    try {
      node.readIndex(ByteBuffer.allocate(8).putLong(context).array());
      return true;
    } catch (ProposalDroppedException e) {
      vertx.eventBus().send(Addresses.APPLY_FROM_RAFT, new Raft.ReadIndexFailed(context));
      return false;
    }
  }

  private void processReady() {
    io.vetcd.wal.WalSnapshotMarker marker = null;
    io.vetcd.raft.Snapshot before = node.snapshot();
    long snapIndex = before == null ? 0 : before.index();
    if (compactTo > snapIndex && compactTo <= node.appliedIndex()) {
      node.compact(compactTo, new byte[0]);
      marker = new io.vetcd.wal.WalSnapshotMarker(compactTo, node.snapshot().term());
      log.info("compacted the raft log up to index {}", compactTo);
    }
    if (!node.hasReady() && marker == null) {
      publishState();
      return;
    }
    Ready ready = node.hasReady() ? node.ready() : null;
    persisting = true;
    if (ready == null) {
      io.vetcd.wal.WalSnapshotMarker m = marker;
      walThread.submit(() -> {
        wal.saveSnapshotMarker(m);
        wal.releaseBefore(m.index() + 1);
        return null;
      }).onComplete(ar -> {
        if (ar.failed()) {
          log.error("WAL write failed; stopping the member", ar.cause());
          Runtime.getRuntime().halt(70);
        }
        persisting = false;
        if (stopping && idle != null) {
          idle.tryComplete();
        }
        pump();
      });
      return;
    }
    if (ready.snapshot() != null) {
      installSnapshot(ready);
      return;
    }
    List<WalEntry> walEntries = new ArrayList<>(ready.entries().size());
    for (Entry e : ready.entries()) {
      walEntries.add(new WalEntry(e.term(), e.index(), e.type().ordinal(), e.data()));
    }
    WalHardState hardState = ready.hardState() == null ? null
        : new WalHardState(ready.hardState().term(), ready.hardState().votedFor(), ready.hardState().commit());
    // As etcd: a hard state that only moved the commit index is written but not synced (a lost
    // commit index is learned again from the leader, or raised to the applied index on restart).
    boolean termOrVoteChanged = hardState != null
        && (hardState.term() != syncedTerm || hardState.votedFor() != syncedVote);
    boolean mustSync = !walEntries.isEmpty() || termOrVoteChanged || marker != null;
    boolean mustWrite = mustSync || hardState != null;
    // Raft thesis 10.2.1: the leader replicates in parallel with its own fsync. Safe because the
    // followers' answers are only stepped after this fsync ends, so the leader never counts its own
    // unsynced entries towards a quorum.
    boolean sentEarly = node.role() == Role.LEADER && !termOrVoteChanged;
    if (sentEarly) {
      for (io.vetcd.raft.Message msg : ready.messages()) {
        if (sendableBeforeSync(msg)) {
          transport.send(msg);
        }
      }
    }
    // Committed entries already durable here (written by an earlier Ready, and not being rewritten by
    // this one) are applied while this Ready's fsync runs; the rest wait for it. Read states do not
    // depend on this member's disk at all.
    int appliedEarly = durableCommittedPrefix(ready);
    if (appliedEarly > 0) {
      vertx.eventBus().send(Addresses.APPLY_FROM_RAFT,
          new Raft.Committed(List.copyOf(ready.committedEntries().subList(0, appliedEarly)), node.term()));
    }
    deliverReadStates(ready);
    io.vetcd.wal.WalSnapshotMarker m = marker;
    Future<Void> persisted = !mustWrite ? Future.succeededFuture() : walThread.submit(() -> {
      if (m != null) {
        wal.saveSnapshotMarker(m);
      }
      wal.append(walEntries, hardState);
      if (mustSync) {
        long syncStartNanos = System.nanoTime();
        wal.sync();
        metrics.walFsyncSeconds.observeNanos(System.nanoTime() - syncStartNanos);
      }
      if (m != null) {
        wal.releaseBefore(m.index() + 1);
      }
      return null;
    });
    persisted.onComplete(ar -> {
      if (stopping) {
        persisting = false;
        if (idle != null) {
          idle.tryComplete();
        }
        return;
      }
      if (ar.failed()) {
        log.error("WAL write failed; stopping the member", ar.cause());
        Runtime.getRuntime().halt(70);
      }
      recordDurable(ready, stableIndex);
      afterPersist(ready, sentEarly, appliedEarly);
    });
  }

  /**
   * How many of the Ready's committed entries are durable here already (written by an earlier Ready
   * and not being rewritten by this one), up to the first membership change.
   */
  private int durableCommittedPrefix(Ready ready) {
    long firstWritten = ready.entries().isEmpty() ? Long.MAX_VALUE : ready.entries().get(0).index();
    long durableIndex = Math.min(stableIndex, firstWritten - 1);
    List<Entry> committed = ready.committedEntries();
    int count = 0;
    while (count < committed.size() && committed.get(count).index() <= durableIndex
        && committed.get(count).type() != EntryType.CONF_CHANGE) {
      count++;
    }
    return count;
  }

  /**
   * The Ready's entries and hard state are on disk: its term and vote no longer need a sync (a hard
   * state written without one only moved the commit index, so its term and vote are the synced
   * ones), and its entries can be applied without waiting. {@code lastIndexIfNoEntries}: the durable
   * index when the Ready wrote no entries.
   */
  private void recordDurable(Ready ready, long lastIndexIfNoEntries) {
    if (ready.hardState() != null) {
      syncedTerm = ready.hardState().term();
      syncedVote = ready.hardState().votedFor();
    }
    List<Entry> entries = ready.entries();
    stableIndex = entries.isEmpty() ? lastIndexIfNoEntries : entries.get(entries.size() - 1).index();
  }

  private void deliverReadStates(Ready ready) {
    for (ReadState rs : ready.readStates()) {
      long context = ByteBuffer.wrap(rs.requestContext()).getLong();
      outstandingReads.remove(context);
      vertx.eventBus().send(Addresses.APPLY_FROM_RAFT, new Raft.ReadIndexDone(context, rs.index()));
    }
  }

  /** Leader messages that carry no promise about this member's disk. */
  private static boolean sendableBeforeSync(io.vetcd.raft.Message m) {
    return m.type() == io.vetcd.raft.MessageType.APPEND || m.type() == io.vetcd.raft.MessageType.HEARTBEAT;
  }

  /**
   * After the Ready is durable: its remaining messages go out and its remaining committed entries go
   * to be applied (the first {@code committedAlready} were sent before).
   */
  private void afterPersist(Ready ready, boolean sentEarly, int committedAlready) {
    for (io.vetcd.raft.Message m : ready.messages()) {
      if (sentEarly && sendableBeforeSync(m)) {
        continue;
      }
      if (log.isDebugEnabled()) {
        log.debug("send {}", m);
      }
      if (m.type() == io.vetcd.raft.MessageType.SNAPSHOT) {
        sendSnapshot(m);
      } else {
        transport.send(m);
      }
    }
    boolean removedSelf = false;
    List<Entry> committed = ready.committedEntries();
    if (committed.size() > committedAlready) {
      List<Entry> rest = committedAlready == 0 ? committed : List.copyOf(committed.subList(committedAlready, committed.size()));
      for (Entry e : rest) {
        if (e.type() == EntryType.CONF_CHANGE) {
          ConfChange cc = ConfChange.decode(e.data());
          node.applyConfChange(cc);
          removedSelf |= updatePeers(cc);
        }
      }
      vertx.eventBus().send(Addresses.APPLY_FROM_RAFT, new Raft.Committed(rest, node.term()));
    }
    node.advance(ready);
    persisting = false;
    publishState();
    pump();
    if (removedSelf) {
      log.warn("this member was removed from the cluster: stopping");
      // Let the messages of the removal go out first.
      vertx.setTimer(2 * heartbeatIntervalMillis, t -> onRemoved.run());
    }
  }

  /** Keeps the transport's peers in step with an applied membership change; true if this member went. */
  private boolean updatePeers(ConfChange cc) {
    long id = cc.nodeId();
    if (cc.type() == io.vetcd.raft.ConfChangeType.REMOVE_NODE) {
      removed.add(id);
      transport.disconnect(id);
      // Answers still on their way from the removed member (e.g. a removed leader's answer to this very
      // removal, forwarded by this member) get a moment to arrive.
      vertx.setTimer(2000, t -> transport.removePeer(id));
      return id == node.id();
    }
    io.vetcd.pb.Member member = ClusterService.memberOf(cc);
    if (member != null && id != node.id() && member.getPeerURLsCount() > 0) {
      transport.addPeer(id, member.getPeerURLsList());
    }
    return false;
  }

  /**
   * A SNAPSHOT for a lagging follower: as etcd, it carries the store as of the apply verticle's latest
   * snapshot (at or after the raft snapshot's index), described in the message's data.
   */
  private void sendSnapshot(io.vetcd.raft.Message m) {
    if (snapshots == null) {
      return;
    }
    if (snapshotsToSend != null) {
      snapshotsToSend.add(m);
      return;
    }
    snapshotsToSend = new ArrayList<>(List.of(m));
    vertx.eventBus().<Raft.SnapshotReady>request(Addresses.APPLY_FROM_RAFT, new Raft.PrepareSnapshot(m.snapshot().index()),
        new io.vertx.core.eventbus.DeliveryOptions().setSendTimeout(120_000)).onComplete(ar -> {
          List<io.vetcd.raft.Message> waiting = snapshotsToSend;
          snapshotsToSend = null;
          if (ar.failed()) {
            log.warn("cannot prepare a store snapshot: {}", ar.cause().toString());
            return;
          }
          Raft.SnapshotReady s = ar.result().body();
          byte[] data = Snapshots.describe(node.id(),
              new Snapshots.Info(s.index(), s.term(), s.voters(), s.learners(), s.size()));
          io.vetcd.raft.Snapshot snap = new io.vetcd.raft.Snapshot(s.index(), s.term(),
              new io.vetcd.raft.ConfState(s.voters(), s.learners()), data);
          java.util.Set<Long> sent = new java.util.HashSet<>();
          for (io.vetcd.raft.Message w : waiting) {
            if (sent.add(w.to())) {
              log.info("sending the store snapshot at index {} to {}", s.index(), Long.toHexString(w.to()));
              transport.send(new io.vetcd.raft.Message(w.type(), w.from(), w.to(), w.term(), w.logTerm(), w.index(),
                  w.entries(), w.commit(), w.reject(), w.rejectHint(), w.context(), snap));
            }
          }
        });
  }

  /**
   * The leader sent a snapshot (already taken by the raft node): fetch the store it describes,
   * replace the local store by it, then persist the marker and the rest of the Ready.
   */
  private void installSnapshot(Ready ready) {
    io.vetcd.raft.Snapshot snap = ready.snapshot();
    log.info("installing the leader's snapshot at index {} (term {})", snap.index(), snap.term());
    snapshots.fetch(vertx, transport, snap.data())
        .compose(path -> vertx.eventBus().<Raft.Installed>request(Addresses.APPLY_FROM_RAFT,
            new Raft.InstallSnapshot(path.toString(), snap.index()),
            new io.vertx.core.eventbus.DeliveryOptions().setSendTimeout(600_000)))
        .compose(reply -> {
          Raft.Installed installed = reply.body();
          for (Map.Entry<Long, List<String>> p : installed.peerUrls().entrySet()) {
            if (p.getKey() != node.id()) {
              transport.addPeer(p.getKey(), p.getValue());
            }
          }
          removed.addAll(installed.removed());
          List<WalEntry> walEntries = new ArrayList<>();
          for (Entry e : ready.entries()) {
            walEntries.add(new WalEntry(e.term(), e.index(), e.type().ordinal(), e.data()));
          }
          WalHardState hardState = ready.hardState() == null ? null : new WalHardState(ready.hardState().term(),
              ready.hardState().votedFor(), ready.hardState().commit());
          return walThread.submit(() -> {
            wal.saveSnapshotMarker(new io.vetcd.wal.WalSnapshotMarker(snap.index(), snap.term()));
            wal.append(walEntries, hardState);
            wal.sync();
            wal.releaseBefore(snap.index() + 1);
            return null;
          });
        })
        .onComplete(ar -> {
          if (ar.failed()) {
            // The raft node already moved to the snapshot: only a restart (from the WAL) undoes that.
            log.error("installing the snapshot failed; stopping the member (restart it to retry)", ar.cause());
            Runtime.getRuntime().halt(71);
          }
          if (stopping) {
            persisting = false;
            if (idle != null) {
              idle.tryComplete();
            }
            return;
          }
          log.info("installed the snapshot at index {}", snap.index());
          recordDurable(ready, snap.index());
          deliverReadStates(ready);
          afterPersist(ready, false, 0);
        });
  }

  private void publishState() {
    boolean learner = node.isLearner();
    if (learner != lastLearner) {
      lastLearner = learner;
      RaftStatus.setLearner(vertx, learner);
    }
    long leaderId = node.leaderId();
    long term = node.term();
    long commit = node.commitIndex();
    Role role = node.role();
    if (leaderId == lastLeaderId && term == lastTerm && commit == lastCommit && role == lastRole) {
      return;
    }
    if (leaderId != 0 && leaderId != lastLeaderId) {
      metrics.leaderChanges.increment();
    }
    if (role != lastRole || leaderId != lastLeaderId) {
      if (role == Role.LEADER) {
        log.info("{} elected leader at term {}", Long.toHexString(node.id()), term);
      } else if (leaderId != 0 && leaderId != lastLeaderId) {
        log.info("{} elected leader {} at term {}", Long.toHexString(node.id()), Long.toHexString(leaderId), term);
      } else if (leaderId == 0 && lastLeaderId > 0) {
        log.info("{} lost leader {} at term {}", Long.toHexString(node.id()), Long.toHexString(lastLeaderId), term);
      }
    }
    lastLeaderId = leaderId;
    lastTerm = term;
    lastCommit = commit;
    lastRole = role;
    RaftStatus.setLeader(vertx, leaderId);
    RaftStatus.setTerm(vertx, term);
    if (!pendingTransfers.isEmpty() && leaderId != 0) {
      answerTransfers(leaderId);
    }
    vertx.eventBus().send(Addresses.APPLY_FROM_RAFT,
        new Raft.State(node.id(), leaderId, term, commit, role == Role.LEADER));
  }

  private static long nowMillis() {
    return System.nanoTime() / 1_000_000;
  }
}
