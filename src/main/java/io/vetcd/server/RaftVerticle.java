package io.vetcd.server;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vetcd.bus.Addresses;
import io.vetcd.bus.Raft;
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
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives the pure raft node: ticks it, feeds it proposals and read-index requests, and handles its
 * Ready output — entries and hard state to the WAL (fsync on a worker thread), committed entries to
 * the apply verticle, read states back to the waiting reads.
 *
 * <p>Group commit: while one fsync runs, new proposals are only queued; when it finishes they all
 * enter the raft node together and the next Ready persists them with a single fsync.
 */
public final class RaftVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(RaftVerticle.class);
  private static final int QUEUED_PROPOSALS_MAX = 50_000;

  private final RaftNode node;
  private final Wal wal;
  private final long heartbeatIntervalMillis;
  private final boolean singleVoter;

  private final List<Raft.Propose> queuedProposals = new ArrayList<>();
  private final List<Raft.ReadIndex> queuedReads = new ArrayList<>();
  private int queuedTicks;
  private boolean persisting;
  private boolean readyScheduled;

  private long lastLeaderId = -1;
  private long lastTerm = -1;
  private long lastCommit = -1;
  private Role lastRole;
  private long timerId;
  private boolean stopping;
  private io.vertx.core.Promise<Void> idle;

  public RaftVerticle(RaftNode node, Wal wal, long heartbeatIntervalMillis, boolean singleVoter) {
    this.node = node;
    this.wal = wal;
    this.heartbeatIntervalMillis = heartbeatIntervalMillis;
    this.singleVoter = singleVoter;
  }

  @Override
  public Future<?> start() {
    vertx.eventBus().localConsumer(Addresses.RAFT, this::onMessage);
    timerId = vertx.setPeriodic(heartbeatIntervalMillis, t -> {
      queuedTicks++;
      pump();
    });
    if (singleVoter) {
      // A cluster of one need not wait an election timeout to elect itself.
      node.campaign();
    }
    pump();
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timerId);
    stopping = true;
    if (!persisting) {
      return Future.succeededFuture();
    }
    idle = io.vertx.core.Promise.promise();
    return idle.future();
  }

  private void onMessage(Message<Object> message) {
    Object body = message.body();
    if (body instanceof Raft.Propose propose) {
      if (queuedProposals.size() >= QUEUED_PROPOSALS_MAX) {
        vertx.eventBus().send(Addresses.APPLY_FROM_RAFT, new Raft.ProposeFailed(propose.requestId(), "too many"));
        return;
      }
      queuedProposals.add(propose);
    } else if (body instanceof Raft.ReadIndex read) {
      queuedReads.add(read);
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
    for (; queuedTicks > 0; queuedTicks--) {
      node.tick();
    }
    for (Raft.Propose propose : queuedProposals) {
      try {
        node.propose(propose.data());
      } catch (ProposalDroppedException e) {
        vertx.eventBus().send(Addresses.APPLY_FROM_RAFT, new Raft.ProposeFailed(propose.requestId(), "dropped"));
      }
    }
    queuedProposals.clear();
    for (Raft.ReadIndex read : queuedReads) {
      try {
        node.readIndex(ByteBuffer.allocate(8).putLong(read.context()).array());
      } catch (ProposalDroppedException e) {
        vertx.eventBus().send(Addresses.APPLY_FROM_RAFT, new Raft.ReadIndexFailed(read.context()));
      }
    }
    queuedReads.clear();
  }

  private void processReady() {
    if (!node.hasReady()) {
      publishState();
      return;
    }
    Ready ready = node.ready();
    persisting = true;
    List<WalEntry> walEntries = new ArrayList<>(ready.entries().size());
    for (Entry e : ready.entries()) {
      walEntries.add(new WalEntry(e.term(), e.index(), e.type().ordinal(), e.data()));
    }
    WalHardState hardState = ready.hardState() == null ? null
        : new WalHardState(ready.hardState().term(), ready.hardState().votedFor(), ready.hardState().commit());
    boolean mustSync = !walEntries.isEmpty() || hardState != null;
    Future<Void> persisted = !mustSync ? Future.succeededFuture() : vertx.executeBlocking(() -> {
      wal.append(walEntries, hardState);
      wal.sync();
      return null;
    }, true);
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
      afterPersist(ready);
    });
  }

  private void afterPersist(Ready ready) {
    if (!ready.messages().isEmpty()) {
      log.debug("dropping {} peer messages: no peer transport in a single-member cluster", ready.messages().size());
    }
    if (!ready.committedEntries().isEmpty()) {
      for (Entry e : ready.committedEntries()) {
        if (e.type() == EntryType.CONF_CHANGE) {
          node.applyConfChange(ConfChange.decode(e.data()));
        }
      }
      vertx.eventBus().send(Addresses.APPLY_FROM_RAFT, new Raft.Committed(ready.committedEntries(), node.term()));
    }
    for (ReadState rs : ready.readStates()) {
      long context = ByteBuffer.wrap(rs.requestContext()).getLong();
      vertx.eventBus().send(Addresses.APPLY_FROM_RAFT, new Raft.ReadIndexDone(context, rs.index()));
    }
    node.advance(ready);
    persisting = false;
    publishState();
    pump();
  }

  private void publishState() {
    long leaderId = node.leaderId();
    long term = node.term();
    long commit = node.commitIndex();
    Role role = node.role();
    if (leaderId == lastLeaderId && term == lastTerm && commit == lastCommit && role == lastRole) {
      return;
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
    vertx.eventBus().send(Addresses.APPLY_FROM_RAFT,
        new Raft.State(node.id(), leaderId, term, commit, role == Role.LEADER));
  }
}
